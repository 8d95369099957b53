"""The reports' summary of each gradebook, kept in the platform database (issue 15).

A dashboard needs levels per person, period and competence and each exam's total, not the
1.5 million grades behind them (5,000 staff x 8 periods x 40 items). Reading and grouping those
grades takes a minute on a 2-core machine, most of it SQLite joining nbgrader's tables on text
ids. So the frames computed from one gradebook (reports.data.source_frames: the same code as
before, hence the same numbers) are written once into the platform database (migration 0009):

- one row per gradebook in `report_sources`, with the state it was built from (its `key`,
  reports.cache.source_key: the file's change counter, its exam notebooks, the framework, the
  code), the small frames as JSON (periods, items, problems, the names), and two packed tables
  (numpy arrays one after the other, no pickle: `_blob`): the level per username, period and
  competence with the points behind it, and each exam's total per username and period. Names
  are codes into the JSON's lists. As SQL rows, 570,000 levels took 3 s to read (a Python object per value); packed,
  milliseconds.

Who writes it: the grading worker, right after a grading run changed the gradebook
(`refresh`), and otherwise the first reader that finds it stale, if the database lets it. A
reader uses a summary only if its key is the gradebook's current key, so it never shows older
numbers than the gradebook holds; a gradebook without a key (a database server) is read
directly every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from assessments.competency.framework import LEVEL_IDS

log = logging.getLogger(__name__)

metadata = MetaData()
sources_table = Table(
    "report_sources", metadata,
    Column("source", String(64), primary_key=True),
    Column("key", String(64), nullable=False),
    Column("frames", Text, nullable=False),
    Column("levels", LargeBinary, nullable=False),
    Column("exams", LargeBinary, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False),
)


def source_id(src) -> str:
    """The summary's name for a gradebook: its URL, course folder and label."""
    return hashlib.sha256(repr((src.db_url, str(src.course_dir), src.name)).encode()).hexdigest()


def read(platform_url: str, src, key: str):
    """The frames of `src` (reports.data.SourceFrames) from the summary, or None when there is
    none for this state of the gradebook (or no summary table, or it cannot be read)."""
    engine = create_engine(platform_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(sources_table.c.key, sources_table.c.frames,
                                      sources_table.c.levels, sources_table.c.exams)
                               .where(sources_table.c.source == source_id(src))).first()
    except SQLAlchemyError as exc:  # an older platform database, or not readable
        log.info("reports: no summary for %s: %s", src.db_url, exc)
        return None
    finally:
        engine.dispose()
    if row is None or row.key != key:
        return None
    try:
        return _frames(row)
    except (ValueError, KeyError, OSError) as exc:  # written by an older version, or damaged
        log.warning("reports: unreadable summary of %s (%s); reading its gradebook", src.db_url, exc)
        return None


def _frames(row):
    from reports.data import SourceFrames

    small = json.loads(row.frames)
    periods = pd.DataFrame(small["periods"], columns=["assignment", "duedate", "date", "course",
                                                      "title", "period_id"])
    for col in ("duedate", "date"):
        stamps = periods[col].astype(object)
        periods[col] = pd.to_datetime(stamps, format="ISO8601") if len(stamps) else stamps
    items = pd.DataFrame(small["items"], columns=["period_id", "notebook", "grade_id", "item_id",
                                                  "competence", "level", "points"])
    items["points"] = items["points"].astype(float)
    order = small["order"]
    lv, ex = _arrays(row.levels), _arrays(row.exams)
    history = pd.DataFrame({
        "username": _names(order["username"], lv["username"]),
        "period_id": _names(order["period_id"], lv["period_id"]),
        "competence": _names(order["competence"], lv["competence"]),
        # Taken from the few level names (already text): one string per row built and
        # checked by pandas took a second for a province's millions of levels.
        "level": pd.Series(LEVEL_IDS).array.take(lv["rank"].astype(np.intp)),
        "rank": lv["rank"].astype(int), "earned": lv["earned"], "possible": lv["possible"]})
    exams = pd.DataFrame({
        "username": _names(order["username"], ex["username"]),
        "period_id": _names(order["period_id"], ex["period_id"]),
        "earned": ex["earned"], "possible": ex["possible"], "submitted_at": ex["submitted_at"],
        "percent": ex["percent"]})
    return SourceFrames(periods, history, exams, items, small["problems"], order)


def _names(names: list[str], codes: np.ndarray) -> pd.Categorical:
    """Codes into `names` (first-appearance order) as a categorical over the sorted names, as
    reports.data makes them."""
    cats = sorted(names)
    where = {n: i for i, n in enumerate(cats)}
    recode = np.array([where[n] for n in names], dtype=np.int32)
    return pd.Categorical.from_codes(recode[codes], categories=pd.Index(cats, dtype=str))


# The packed tables: a JSON line naming each array (name, dtype, length, offset), then the
# arrays' bytes, each at an offset that is a multiple of 8. Read back as views of the blob,
# without a copy or a checksum pass: np.load of an .npz read 160 MB in 256 kB pieces and
# checked each member's CRC, a second of a province's 5.7 million levels.
_PACK = b"kns-arrays-1\n"


def _arrays(blob: bytes) -> dict[str, np.ndarray]:
    """The arrays of `blob` (read-only views). ValueError if it is not such a pack."""
    blob = bytes(blob)
    if not blob.startswith(_PACK):
        raise ValueError("not a packed summary table")
    end = blob.index(b"\n", len(_PACK))
    start = -(-(end + 1) // 8) * 8
    return {name: np.frombuffer(blob, dtype=np.dtype(dtype), count=count, offset=start + offset)
            for name, dtype, count, offset in json.loads(blob[len(_PACK):end])}


def _blob(**arrays) -> bytes:
    heads, parts, offset = [], [], 0
    for name, values in arrays.items():
        values = np.ascontiguousarray(values)
        if values.dtype.hasobject or values.ndim != 1:
            raise ValueError(f"{name}: only flat arrays of numbers or dates are packed")
        heads.append([name, values.dtype.str, len(values), offset])
        data = values.tobytes()
        parts.append(data + bytes(-len(data) % 8))
        offset += len(parts[-1])
    head = _PACK + json.dumps(heads).encode() + b"\n"
    return head + bytes(-len(head) % 8) + b"".join(parts)


def _stamps(col: pd.Series) -> np.ndarray:
    """datetime64 (UTC) for `_blob`: an exam with no submission yet has an empty column of
    dtype object, which is not packed (nor read back as anything but objects)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    elif col.dtype == object:
        col = pd.to_datetime(col, utc=True).dt.tz_localize(None).astype(_STAMP_DTYPE)
    return col.to_numpy()


# The unit reports.data's stamps get from nbgrader's timestamps (pandas' choice, by version).
_STAMP_DTYPE = pd.to_datetime(pd.Series(["2026-01-01 08:30:00.000000"]), format="ISO8601").dtype


def _codes(names: list[str], values: pd.Series) -> np.ndarray:
    where = {n: i for i, n in enumerate(names)}
    return values.astype(str).map(where).to_numpy(dtype=np.int32)


def _iso(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def write(platform_url: str, src, key: str, frames) -> bool:
    """Replace the summary of `src` by `frames` (SourceFrames) built from state `key`.
    False (and a log line) when the database refuses, e.g. a reader without write access."""
    sid = source_id(src)
    periods, order = frames.periods, frames.order
    small = {
        "periods": [[a, _iso(d), _iso(dt), c, ti, p] for a, d, dt, c, ti, p in zip(
            periods["assignment"], periods["duedate"], periods["date"], periods["course"],
            periods["title"], periods["period_id"], strict=True)],
        "items": [[str(v) for v in r[:6]] + [float(r[6])] for r in frames.items[
            ["period_id", "notebook", "grade_id", "item_id", "competence", "level", "points"]
        ].itertuples(index=False)],
        "problems": list(frames.problems),
        "order": order,
    }
    lv, ex = frames.history, frames.exams
    levels = _blob(username=_codes(order["username"], lv["username"]),
                   period_id=_codes(order["period_id"], lv["period_id"]),
                   competence=_codes(order["competence"], lv["competence"]),
                   rank=lv["rank"].to_numpy(dtype=np.int8),
                   earned=lv["earned"].to_numpy(dtype=float),
                   possible=lv["possible"].to_numpy(dtype=float))
    exams = _blob(username=_codes(order["username"], ex["username"]),
                  period_id=_codes(order["period_id"], ex["period_id"]),
                  earned=ex["earned"].to_numpy(dtype=float),
                  possible=ex["possible"].to_numpy(dtype=float),
                  submitted_at=_stamps(ex["submitted_at"]),
                  percent=ex["percent"].to_numpy(dtype=float))
    engine = create_engine(platform_url)
    try:
        with engine.begin() as conn:
            conn.execute(delete(sources_table).where(sources_table.c.source == sid))
            conn.execute(insert(sources_table), [{
                "source": sid, "key": key, "frames": json.dumps(small, ensure_ascii=False),
                "levels": levels, "exams": exams, "built_at": datetime.now(UTC)}])
    except SQLAlchemyError as exc:
        log.warning("reports: summary of %s not written: %s", src.db_url, exc)
        return False
    finally:
        engine.dispose()
    return True


def refresh(platform_url: str, gradebooks=None, framework=None) -> int:
    """Rebuild the summary of every gradebook whose state changed (the grading worker calls
    this after a grading run). Returns how many were rebuilt."""
    from assessments.competency.framework import load_framework
    from reports import cache
    from reports.data import gradebook_exists, source_frames

    fw = framework or load_framework()
    if gradebooks is None:
        from kynangso.settings import load_settings
        from reports.data import sources_from_settings

        platform_url, gradebooks = sources_from_settings(load_settings())
    done = 0
    for src in gradebooks:
        key = cache.source_key([src], fw)
        if key is None or not gradebook_exists(src) or read_key(platform_url, src) == key:
            continue
        frames = source_frames(src, fw)
        if cache.source_key([src], fw) == key and write(platform_url, src, key, frames):
            done += 1
    return done


def read_key(platform_url: str, src) -> str | None:
    engine = create_engine(platform_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(sources_table.c.key)
                               .where(sources_table.c.source == source_id(src)))
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
