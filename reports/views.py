"""The tables the dashboards and exports show, with Vietnamese headers (one function per table).

Every chart has one of these tables behind it, so the numbers are always available as a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assessments.competency.framework import LEVEL_IDS
from kynangso.i18n import catalogue, t
from reports.data import NOT_ASSESSED_RANK, ReportData
from reports.numbers import number


def h(key: str) -> str:
    return t(f"reports.col.{key}")


def competence_label(data: ReportData, code: str) -> str:
    """"KS.2 – Ký số văn bản điện tử": the code HR knows from the framework, with its name."""
    try:
        return f"{code} – {data.framework.competence(code).name}"
    except KeyError:
        return str(code)


def level_names(data: ReportData) -> list[str]:
    return [data.framework.level(lv).name for lv in LEVEL_IDS] + [data.framework.level_name(None)]


def distribution(data: ReportData, levels: pd.DataFrame) -> pd.DataFrame:
    """Number of people at each level, per competence."""
    names = level_names(data)
    counts = pd.crosstab(levels["competence"], levels["level_name"]).reindex(
        index=list(data.framework.competences), columns=names, fill_value=0)
    counts.insert(0, h("competence_name"), [data.framework.competence(c).name for c in counts.index])
    counts.index.name = h("competence")
    counts.columns.name = None
    return counts.reset_index()


def heatmap(data: ReportData, levels: pd.DataFrame) -> pd.DataFrame:
    """Mean level (0 Chưa đạt … 3 Nâng cao) of the assessed people, competence × department.

    One row per competence (its code and name fit in a row label, not in a column header),
    one column per department.
    """
    assessed = levels[levels["rank"] > NOT_ASSESSED_RANK]
    table = assessed.pivot_table(index="competence", columns="department", values="rank",
                                 aggfunc="mean", observed=True).round(2)
    table = table.reindex(index=list(data.framework.competences))
    table.index = [competence_label(data, c) for c in table.index]
    table.index.name = h("competence_name")
    table.columns.name = None
    return table.reset_index()


def completion(data: ReportData, staff: pd.DataFrame) -> pd.DataFrame:
    """Share of the people (in the filter) who completed each course, per department."""
    c = data.courses.merge(staff[["username", "department"]], on="username")
    if c.empty:
        return pd.DataFrame(columns=[h("department"), h("course"), h("people"), h("completed"),
                                     h("completion_rate")])
    g = c.groupby(["department", "course_title"], sort=True).agg(
        people=("username", "nunique"), done=("completed", "sum")).reset_index()
    g["rate"] = (100 * g["done"] / g["people"]).round(1)
    return g.rename(columns={"department": h("department"), "course_title": h("course"),
                             "people": h("people"), "done": h("completed"),
                             "rate": h("completion_rate")})


def trend(data: ReportData, usernames: set[str]) -> pd.DataFrame:
    """Per exam period: people assessed, mean level, share at Cơ bản or above."""
    hist = data.history
    # In one pass over the levels, with numpy (a mask per period went over a province's levels
    # once for each period). The ranks are small integers, so the sums are exact and the means
    # the same as each period's own.
    keep = hist["username"].isin(usernames).to_numpy()
    n = len(data.periods)
    at = pd.Categorical(hist["period_id"][keep], categories=list(data.periods["period_id"])).codes
    users = pd.factorize(hist["username"][keep])[0]
    rank = hist["rank"].to_numpy(dtype=float)[keep]
    shown = at >= 0
    rows_per = np.bincount(at[shown], minlength=n)
    rank_sum = np.bincount(at[shown], weights=rank[shown], minlength=n)
    basic = np.bincount(at[shown], weights=rank[shown] >= 1, minlength=n)
    seen = np.zeros((n, max(users.max(initial=-1) + 1, 1)), dtype=bool)
    seen[at[shown & (users >= 0)], users[shown & (users >= 0)]] = True
    people_per = seen.sum(axis=1)
    rows = []
    for i, p in enumerate(data.periods.itertuples()):
        people = int(people_per[i])
        rows.append({
            h("period"): p.label,
            h("people_assessed"): people,
            h("mean_level"): round(float(rank_sum[i] / rows_per[i]), 2) if people else None,
            h("share_basic"): round(100 * float(basic[i] / rows_per[i]), 1) if people else None,
        })
    return pd.DataFrame(rows, columns=[h("period"), h("people_assessed"), h("mean_level"),
                                       h("share_basic")])


def needs(data: ReportData, frame: pd.DataFrame) -> pd.DataFrame:
    """The training-needs list HR acts on."""
    out = frame[["department", "competence", "competence_name", "full_name", "position",
                 "level_name", "required_name", "recommended"]]
    return out.rename(columns={
        "department": h("department"), "competence": h("competence"),
        "competence_name": h("competence_name"), "full_name": h("full_name"),
        "position": h("position"), "level_name": h("level"), "required_name": h("required"),
        "recommended": h("recommended")})


def needs_summary(data: ReportData, frame: pd.DataFrame) -> pd.DataFrame:
    """Number of people below the required level, department × competence (code and name)."""
    if frame.empty:
        return pd.DataFrame(columns=[h("department"), h("competence_name"), h("people")])
    g = frame.groupby(["department", "competence"]).size().rename(h("people")).reset_index()
    g["competence"] = g["competence"].map(lambda c: competence_label(data, c))
    return g.rename(columns={"department": h("department"), "competence": h("competence_name")})


def person_levels(data: ReportData, levels: pd.DataFrame, username: str) -> pd.DataFrame:
    lv = levels[levels["username"] == username]
    req = {}
    if len(lv):
        req = data.requirements.for_position(str(lv.iloc[0]["position"] or ""))
    rows = []
    for r in lv.itertuples():
        rows.append({
            h("competence"): r.competence,
            h("competence_name"): data.framework.competence(r.competence).name,
            h("level"): r.level_name,
            h("required"): data.framework.level(req[r.competence]).name if r.competence in req else "",
            h("period"): _label(data, r.period_id),
            h("evidence"): r.items if isinstance(r.items, str) else "",
        })
    return pd.DataFrame(rows)


def person_history(data: ReportData, username: str) -> pd.DataFrame:
    """Level per competence (rows) and exam period (columns)."""
    hist = data.history[data.history["username"] == username]
    if hist.empty:
        return pd.DataFrame(columns=[h("competence_name")])
    hist = hist.assign(period=hist["period_id"].map(lambda p: _label(data, p)),
                       name=hist["level"].map(data.framework.level_name))
    order = [_label(data, p) for p in data.period_ids if p in set(hist["period_id"])]
    table = hist.pivot(index="competence", columns="period", values="name").reindex(columns=order)
    table = table.fillna("")
    table.index = [competence_label(data, c) for c in table.index]
    table.index.name = h("competence_name")
    table.columns.name = None
    return table.reset_index()


def person_courses(data: ReportData, username: str) -> pd.DataFrame:
    c = data.courses[data.courses["username"] == username]
    return pd.DataFrame({
        h("course"): c["course_title"],
        h("lessons_done"): c["lessons_done"].astype(str) + "/" + c["lessons_total"].astype(str),
        h("status"): c["completed"].map({True: t("reports.completed_yes"),
                                         False: t("reports.completed_no")}),
    })


def person_exams(data: ReportData, username: str) -> pd.DataFrame:
    e = data.exams[data.exams["username"] == username]
    return pd.DataFrame({
        h("period"): e["period_id"].map(lambda p: _label(data, p)),
        # astype(str): mapped over no rows (a person who took no exam) the columns stay float.
        h("score"): e["earned"].map(number).astype(str) + "/"
        + e["possible"].map(number).astype(str),
        h("percent"): e["percent"],
        h("review"): e["period_id"].map(lambda p: _review(data, username, p)),
    })


def _review(data: ReportData, username: str, period_id) -> str:
    """Why this exam of this person was flagged by grading, or "" (a period is course/exam)."""
    assignment = str(period_id).rsplit("/", 1)[-1]
    f = data.flags
    kinds = f[(f["username"] == username) & (f["assignment"] == assignment)]["kind"]
    known = catalogue()
    return "; ".join(t(f"reports.flag.{k}" if f"reports.flag.{k}" in known else "reports.flag.other")
                     for k in sorted(set(kinds)))


def person_recommendations(data: ReportData, needs_frame: pd.DataFrame, username: str
                           ) -> pd.DataFrame:
    n = needs_frame[needs_frame["username"] == username]
    return pd.DataFrame({
        h("competence"): n["competence"], h("competence_name"): n["competence_name"],
        h("level"): n["level_name"], h("required"): n["required_name"],
        h("recommended"): n["recommended"],
    })


def _label(data: ReportData, period_id) -> str:
    if not isinstance(period_id, str):
        return ""
    labels = dict(zip(data.periods["period_id"], data.periods["label"], strict=True))
    return labels.get(period_id, period_id)
