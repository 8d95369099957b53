"""The reports' summary of each gradebook, kept in the platform database (issue 15).

A dashboard needs levels per person, period and competence and each exam's total, not the
1.5 million grades behind them (5,000 staff x 8 periods x 40 items). Reading and grouping those
grades takes a minute on a 2-core machine, most of it SQLite joining nbgrader's tables on text
ids. So the frames computed from one gradebook (reports.data.source_frames: the same code as
before, hence the same numbers) are written once into three tables (migration 0009):

- `report_sources`: one row per gradebook, with the state it was built from (its `key`,
  reports.cache.source_key: the file's change counter, its exam notebooks, the framework, the
  code) and the small frames as JSON (periods, items, problems);
- `report_levels`: the level per username, period and competence, with the points behind it;
- `report_exams`: each exam's total per username and period.

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

import pandas as pd
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

metadata = MetaData()
sources_table = Table(
    "report_sources", metadata,
    Column("source", String(64), primary_key=True),
    Column("key", String(64), nullable=False),
    Column("frames", Text, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False),
)
levels_table = Table(
    "report_levels", metadata,
    Column("source", String(64), nullable=False), Column("seq", Integer, nullable=False),
    Column("username", String(128), nullable=False), Column("period_id", String(255), nullable=False),
    Column("competence", String(32), nullable=False), Column("level", String(32), nullable=False),
    Column("rank", Integer, nullable=False), Column("earned", Float, nullable=False),
    Column("possible", Float, nullable=False),
    PrimaryKeyConstraint("source", "seq"),
)
exams_table = Table(
    "report_exams", metadata,
    Column("source", String(64), nullable=False), Column("seq", Integer, nullable=False),
    Column("username", String(128), nullable=False), Column("period_id", String(255), nullable=False),
    Column("earned", Float, nullable=False), Column("possible", Float, nullable=False),
    Column("submitted_at", String(40)), Column("percent", Float),
    PrimaryKeyConstraint("source", "seq"),
)
LEVEL_COLUMNS = ["username", "period_id", "competence", "level", "rank", "earned", "possible"]
EXAM_COLUMNS = ["username", "period_id", "earned", "possible", "submitted_at", "percent"]
BATCH = 50_000


def source_id(src) -> str:
    """The summary's name for a gradebook: its URL, course folder and label."""
    return hashlib.sha256(repr((src.db_url, str(src.course_dir), src.name)).encode()).hexdigest()


def read(platform_url: str, src, key: str):
    """The frames of `src` (reports.data.SourceFrames) from the summary, or None when there is
    none for this state of the gradebook (or no summary tables)."""
    from reports.data import SourceFrames

    sid = source_id(src)
    engine = create_engine(platform_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(sources_table.c.key, sources_table.c.frames)
                               .where(sources_table.c.source == sid)).first()
            if row is None or row.key != key:
                return None
            levels = _rows(conn, levels_table, LEVEL_COLUMNS, sid)
            exams = _rows(conn, exams_table, EXAM_COLUMNS, sid)
    except SQLAlchemyError as exc:  # an older platform database, or not readable
        log.info("reports: no summary for %s: %s", src.db_url, exc)
        return None
    finally:
        engine.dispose()
    small = json.loads(row.frames)
    periods = pd.DataFrame(small["periods"], columns=["assignment", "duedate", "date", "course",
                                                      "title", "period_id"])
    for col in ("duedate", "date"):
        periods[col] = _stamps(periods[col])
    items = pd.DataFrame(small["items"], columns=["period_id", "notebook", "grade_id", "item_id",
                                                  "competence", "level", "points"])
    items["points"] = items["points"].astype(float)
    levels["rank"] = levels["rank"].astype(int)
    for col in ("earned", "possible"):
        levels[col] = levels[col].astype(float)
        exams[col] = exams[col].astype(float)
    exams["percent"] = exams["percent"].astype(float)
    exams["submitted_at"] = _stamps(exams["submitted_at"])
    return SourceFrames(periods, levels, exams, items, small["problems"], small.get("order", {}))


def _rows(conn, table, columns, sid) -> pd.DataFrame:
    """The summary rows of one gradebook in their order, straight from the driver's cursor
    (hundreds of thousands of rows: SQLAlchemy's Row objects would cost seconds)."""
    query = (select(*[table.c[c] for c in columns]).where(table.c.source == sid)
             .order_by(table.c.seq))
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled))
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    finally:
        cursor.close()


def _stamps(values: pd.Series) -> pd.Series:
    """ISO text (or None) back to the timestamps the frames hold."""
    stamps = values.astype(object)
    if not len(stamps):
        return stamps
    return pd.to_datetime(stamps, format="ISO8601")


def _iso(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def write(platform_url: str, src, key: str, frames) -> bool:
    """Replace the summary of `src` by `frames` (SourceFrames) built from state `key`.
    False (and a log line) when the database refuses, e.g. a reader without write access."""
    sid = source_id(src)
    periods = frames.periods
    small = {
        "periods": [[a, _iso(d), _iso(dt), c, ti, p] for a, d, dt, c, ti, p in zip(
            periods["assignment"], periods["duedate"], periods["date"], periods["course"],
            periods["title"], periods["period_id"], strict=True)],
        "items": [[str(v) for v in r[:6]] + [float(r[6])] for r in frames.items[
            ["period_id", "notebook", "grade_id", "item_id", "competence", "level", "points"]
        ].itertuples(index=False)],
        "problems": list(frames.problems),
        "order": frames.order,
    }
    lv = frames.history
    level_rows = [dict(zip(["source", "seq", *LEVEL_COLUMNS], (sid, n, str(u), str(p), str(c),
                                                              str(le), int(r), float(e), float(po)),
                           strict=True))
                  for n, (u, p, c, le, r, e, po) in enumerate(lv[LEVEL_COLUMNS].itertuples(index=False))]
    ex = frames.exams
    exam_rows = [{"source": sid, "seq": n, "username": str(u), "period_id": str(p),
                  "earned": float(e), "possible": float(po), "submitted_at": _iso(s),
                  "percent": None if pd.isna(pc) else float(pc)}
                 for n, (u, p, e, po, s, pc) in enumerate(ex[EXAM_COLUMNS].itertuples(index=False))]
    engine = create_engine(platform_url)
    try:
        with engine.begin() as conn:
            for table in (sources_table, levels_table, exams_table):
                conn.execute(delete(table).where(table.c.source == sid))
            for table, rows in ((levels_table, level_rows), (exams_table, exam_rows)):
                for i in range(0, len(rows), BATCH):
                    conn.execute(insert(table), rows[i:i + BATCH])
            conn.execute(insert(sources_table), [{
                "source": sid, "key": key, "frames": json.dumps(small, ensure_ascii=False),
                "built_at": datetime.now(UTC)}])
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
