"""Statistics of the desk (domain README §3.7) with pandas.

On-time rate = (trước hạn + đúng hạn) / dossiers resolved in the period; overdue in progress =
dossiers not finished whose due time has passed at `now`; apologies issued; share of online and of
fully-online (toàn trình) dossiers. Per receiving unit and period (month by default).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from sandbox.filing.fullyonline import is_fully_online

FINISHED = ("da_tra", "tu_choi", "dung_xu_ly", "da_rut")
COLUMNS = ("id", "unit", "procedure", "channel", "state", "received_at", "due_at",
           "returned_at", "result_rating", "apologised", "fully_online")


def frame(views) -> pd.DataFrame:
    """One row per dossier, from DossierView snapshots."""
    rows = [{
        "id": v.id, "unit": v.receiving_unit, "procedure": v.procedure.code,
        "channel": v.channel, "state": v.state, "received_at": v.received_at,
        "due_at": v.due_at, "returned_at": v.returned_at, "result_rating": v.result_rating,
        "apologised": "apologise" in v.done_actions, "fully_online": is_fully_online(v),
    } for v in views]
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("received_at", "due_at", "returned_at"):
        df[col] = pd.to_datetime(df[col])
    return df


def summary(df: pd.DataFrame, now: datetime, by: str = "unit", period: str = "M") -> pd.DataFrame:
    """Indicators per `by` and receipt period (pandas period alias: "M" month, "Q", "Y").

    Only dossiers with a receipt time count (refused at the desk ones never got a code).
    """
    d = df[df["received_at"].notna()].copy()
    d["period"] = d["received_at"].dt.to_period(period).astype(str)
    resolved = d["state"] == "da_tra"
    d["resolved"] = resolved
    d["on_time"] = resolved & d["result_rating"].isin(["truoc_han", "dung_han"])
    d["late"] = resolved & (d["result_rating"] == "qua_han")
    d["overdue_in_progress"] = ~d["state"].isin(FINISHED) & (d["due_at"] < pd.Timestamp(now))
    d["online"] = d["channel"] == "truc_tuyen"
    g = d.groupby([by, "period"], sort=True)
    out = g.agg(
        received=("id", "size"),
        resolved=("resolved", "sum"),
        on_time=("on_time", "sum"),
        late=("late", "sum"),
        overdue_in_progress=("overdue_in_progress", "sum"),
        apologies=("apologised", "sum"),
        online=("online", "sum"),
        fully_online=("fully_online", "sum"),
    )
    out["on_time_rate"] = (out["on_time"] / out["resolved"]).where(out["resolved"] > 0)
    out["online_share"] = out["online"] / out["received"]
    out["fully_online_share"] = out["fully_online"] / out["received"]
    return out.reset_index()


def desk_summary(desk, now: datetime, period: str = "M") -> pd.DataFrame:
    """Indicators of one practice desk."""
    return summary(frame(desk.all_dossiers()), now, period=period)
