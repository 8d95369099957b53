"""The data layer of the reports: the staff directory, course progress and the nbgrader
gradebook(s), read through SQLAlchemy (read-only), returned as tidy pandas frames.

Levels are computed here from the graded items by the framework's rule (assessments.competency
`level_rule`, the same rule as `levels.competence_level`, vectorised); nothing is stored. Each
level keeps its evidence: the exam items and the date of the period it came from.

- exam periods are nbgrader assignments (`<course>/<assignment>`, dated by the due date);
- the item → competence tag comes from the exam notebooks' cell metadata (key "kynangso") in
  the course's `source/<assignment>/*.ipynb`, matched to the gradebook by nbgrader's grade_id;
- the current level of a competence is the level shown in the latest period that assessed it,
  so a person absent from a period keeps the level of the period before;
- staff are reported under their department in the directory today (a move follows the person);
- results of someone no longer in the directory are kept (history), flagged `in_directory=False`.

Works the same on SQLite and PostgreSQL: plain SELECTs, no dialect-specific SQL.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, DateTime, Integer, String, column, create_engine, select, table

from assessments.competency.framework import ITEM_LEVELS, LEVEL_IDS, Framework, load_framework
from assessments.competency.items import METADATA_KEY
from kynangso.exams import flags
from kynangso.i18n import t
from reports.requirements import Requirements, load_requirements

log = logging.getLogger(__name__)

# The platform tables the reports read (kynangso.models), as plain table clauses with the
# columns used. The models' classes import SQLAlchemy's ORM: a tenth of a second of CPU in every
# dashboard kernel that starts cold, for three SELECTs (tests/reports/test_data.py checks that
# these name the models' tables, columns and types).
DEPARTMENTS = table("departments", column("id", Integer), column("name", String))
STAFF = table("staff", column("username", String), column("code", String),
              column("full_name", String), column("position", String),
              column("department_id", Integer), column("active", Boolean))
PROGRESS_EVENTS = table("progress_events", column("username", String), column("kind", String),
                        column("course_id", String), column("lesson_id", String),
                        column("occurred_at", DateTime(timezone=True)),
                        column("judged", Boolean))

NOT_ASSESSED_RANK = -1
# Gradebook columns with few distinct values, read as categories.
CATEGORIES = ("username", "assignment", "notebook", "grade_id", "submitted_at", "submission")


@dataclass(frozen=True)
class GradebookSource:
    """One nbgrader exam course: its gradebook URL and its course folder (with source/)."""

    db_url: str
    course_dir: Path
    course: str | None = None  # label; default: the course folder's name

    @property
    def name(self) -> str:
        return self.course or Path(self.course_dir).name


@dataclass
class ReportData:
    """Every frame the dashboards and exports use (see the module docstring)."""

    staff: pd.DataFrame
    periods: pd.DataFrame
    items: pd.DataFrame
    results: pd.DataFrame
    history: pd.DataFrame
    exams: pd.DataFrame
    lessons: pd.DataFrame
    courses: pd.DataFrame
    framework: Framework
    requirements: Requirements
    catalogue: object | None = None
    problems: list[str] = field(default_factory=list)
    # Graded submissions flagged for review (username, assignment, kind): read_flags.
    flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["username", "assignment", "kind"]))
    # The last table of levels without evidence (levels_as_of) and what it was made of: the
    # overview and the needs list ask for the same one (750,000 rows for a province).
    _levels: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def period_ids(self) -> list[str]:
        return list(self.periods["period_id"])

    def levels(self, period_id: str | None = None, evidence: bool = True) -> pd.DataFrame:
        """Current levels (or as of `period_id`): one row per staff member and competence.
        `evidence=False` leaves out the `items` column (slow to build, shown only per person)."""
        return levels_as_of(self, period_id, evidence)

    def person_levels(self, username: str, period_id: str | None = None) -> pd.DataFrame:
        """`levels` rows of one person, with evidence (built for that person only)."""
        lv = levels_as_of(self, period_id, evidence=False)
        return attach_evidence(self.results, lv[lv["username"] == username])

    def needs(self, period_id: str | None = None, on: date | None = None) -> pd.DataFrame:
        return training_needs(self, period_id, on)


def _get_results(self) -> pd.DataFrame:
    """Every graded item (the evidence behind the levels): read on first use only, because
    the dashboards' tables come from the summary and a province has millions of grades."""
    value = self.__dict__["_results"]
    if callable(value):
        value = self.__dict__["_results"] = value()
    return value


def _set_results(self, value) -> None:
    self.__dict__["_results"] = value


# `ReportData(…, results, …)` takes a frame or a function that reads it.
ReportData.results = property(_get_results, _set_results)


# --- reading -------------------------------------------------------------------------------

def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """The driver's rows (tuples) → frame. (zip(*rows) took 0.4 s for 300,000 rows.)"""
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame.from_records(rows, columns=columns)


def _driver_rows(platform_url: str, query) -> list[tuple]:
    """The rows of `query` as the database driver gives them: a province's directory and
    progress are hundreds of thousands of rows, and SQLAlchemy's Row objects and its
    conversion of each value took seconds. The query's values are written into its text
    (constants of this module, never input)."""
    engine = create_engine(platform_url)
    try:
        with engine.connect() as conn:
            sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.execute(sql)
                return cursor.fetchall()
            finally:
                cursor.close()
    finally:
        engine.dispose()


def read_staff(platform_url: str) -> pd.DataFrame:
    staff, dep = STAFF.c, DEPARTMENTS.c
    rows = _driver_rows(platform_url, select(
        staff.username, staff.code, staff.full_name, staff.position,
        dep.name.label("department"), staff.active)
        .select_from(STAFF.join(DEPARTMENTS, staff.department_id == dep.id)))
    df = _frame(rows, ["username", "code", "full_name", "position", "department",
                                     "active"])
    df["active"] = df["active"].astype(bool)  # SQLite's driver gives 0 and 1
    df["in_directory"] = True
    return df


# The type pandas gives a column of Python datetimes (its unit depends on pandas' version).
_PY_STAMP = pd.Series([datetime(2026, 1, 1)]).dtype


def read_progress(platform_url: str) -> pd.DataFrame:
    """Completed lessons: username, course_id, lesson_id, completed_at (first completion).

    Only completions the progress service derived from its own verdicts (`judged`): rows that
    kernels reported before it judged answers are not counted."""
    ev = PROGRESS_EVENTS.c
    occurred = ev.occurred_at
    rows = _driver_rows(platform_url, select(ev.username, ev.course_id, ev.lesson_id, occurred)
                        .where(ev.kind == "lesson_completed", ev.judged.is_(True)))
    df = _frame(rows, ["username", "course_id", "lesson_id", "completed_at"])
    if len(df) and isinstance(rows[0][3], str):  # SQLite: the text SQLAlchemy wrote
        try:  # in one pass; SQLAlchemy parsed each value apart
            stamps = pd.to_datetime(df["completed_at"], format="%Y-%m-%d %H:%M:%S.%f")
            df["completed_at"] = stamps.astype(_PY_STAMP)
        except (ValueError, TypeError):  # written some other way: SQLAlchemy's reading
            from sqlalchemy.dialects import sqlite

            parse = occurred.type.dialect_impl(sqlite.dialect()).result_processor(
                sqlite.dialect(), None)
            df["completed_at"] = [parse(v) for v in df["completed_at"].to_numpy(dtype=object)]
    return (df.sort_values("completed_at")
            .drop_duplicates(["username", "course_id", "lesson_id"]).reset_index(drop=True))


def read_item_tags(course_dir: Path, problems: list[str]) -> dict[tuple[str, str, str], dict]:
    """{(assignment, notebook, grade_id): kynangso tag} from source/<assignment>/*.ipynb."""
    tags: dict[tuple[str, str, str], dict] = {}
    for nb_path in sorted(Path(course_dir).glob("source/*/*.ipynb")):
        try:
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("reports: unreadable exam notebook %s: %s", nb_path, exc)
            problems.append(t("reports.problem.unreadable_notebook", path=nb_path.name))
            continue
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {})
            grade_id = (meta.get("nbgrader") or {}).get("grade_id")
            tag = meta.get(METADATA_KEY)
            if grade_id and isinstance(tag, dict):
                tags[(nb_path.parent.name, nb_path.stem, grade_id)] = tag
    return tags


_QUESTION_NUMBER = re.compile(r"^(Câu \d+)")
_PERIOD_NUMBER = re.compile(r"(?:^|-)ky-(\d+)$")
ITEM_TITLE_MAX = 80


def exam_names(course_dir: Path) -> dict[str, tuple[str | None, dict[str, str]]]:
    """{assignment: (exam title, {item_id: "Câu 3: <question>"})} from the exam notebooks.

    The names live where the instructor wrote them: the exam's title is the notebook's first
    markdown heading (or the `bai.header(title, …)` call); an item's number and question are
    the arguments of its widget call (`bai.single_choice("<item>", title="Câu 1 (1 điểm)",
    prompt="…")`); a simulation task has no question text, so its kind is named from the
    catalogue. An item without any of these is numbered in exam order ("Câu 4").
    """
    out: dict[str, tuple[str | None, dict[str, str]]] = {}
    for nb_path in sorted(Path(course_dir).glob("source/*/*.ipynb")):
        try:
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # read_item_tags reports it
        title, items = out.get(nb_path.parent.name, (None, {}))
        calls: dict[str, tuple[str, dict[str, str]]] = {}
        graded: list[str] = []
        for cell in nb.get("cells", []):
            source = "".join(cell.get("source", ""))
            tag = cell.get("metadata", {}).get(METADATA_KEY)
            if isinstance(tag, dict) and tag.get("item_id"):
                graded.append(str(tag["item_id"]))
            if cell.get("cell_type") == "markdown" and title is None:
                head = next((ln[2:].strip() for ln in source.splitlines() if ln.startswith("# ")), None)
                title = head or None
            elif cell.get("cell_type") == "code":
                for method, args, kwargs in _calls(source):
                    if method == "header" and args and title is None:
                        title = args[0]
                    elif args:
                        calls.setdefault(args[0], (method, kwargs))
        for n, item_id in enumerate(dict.fromkeys(graded), start=1):
            method, kwargs = calls.get(item_id, ("", {}))
            m = _QUESTION_NUMBER.match(kwargs.get("title", ""))
            head = m.group(1) if m else t("reports.item_number", n=n)
            what = kwargs.get("prompt") or (t(f"reports.task.{method}")
                                            if method.startswith("task_") else "")
            items[item_id] = f"{head}: {_shorten(what, ITEM_TITLE_MAX - len(head) - 2)}" if what else head
        out[nb_path.parent.name] = (title, items)
    return out


def _calls(source: str):
    """(method, [str args], {str kwargs}) of each `obj.method("…", key="…")` call in `source`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            kwargs = {k.arg: k.value.value for k in node.keywords
                      if k.arg and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)}
            yield node.func.attr, args, kwargs


def _shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: max(n - 1, 1)].rstrip() + "…"


def period_label(title: str | None, assignment: str, when) -> str:
    """"<exam title> – kỳ 2 (30/09/2026)": the exam's name, the period's number, its date."""
    day = f"{pd.Timestamp(when):%d/%m/%Y}"
    title = title or t("reports.period.untitled")
    m = _PERIOD_NUMBER.search(assignment)
    if m:
        return t("reports.period.numbered", title=title, n=int(m.group(1)), date=day)
    return t("reports.period.dated", title=title, date=day)


def read_gradebook(source: GradebookSource, problems: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(periods, results) of one gradebook. Grades still waiting for a manual score are left out."""
    from nbgrader.api import (
        Assignment,
        Grade,
        GradeCell,
        Notebook,
        SubmittedAssignment,
        SubmittedNotebook,
    )

    query = (
        select(SubmittedAssignment.student_id, Assignment.name, Notebook.name, GradeCell.name,
               Grade.auto_score, Grade.manual_score, Grade.extra_credit, Grade.needs_manual_grade,
               GradeCell.max_score, SubmittedAssignment.timestamp, SubmittedNotebook.id,
               SubmittedNotebook.late_submission_penalty)
        .select_from(Grade)
        .join(GradeCell, Grade.cell_id == GradeCell.id)
        .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
    )
    columns = ["username", "assignment", "notebook", "grade_id", "auto", "manual", "extra",
               "needs_manual", "possible", "submitted_at", "submission", "penalty"]
    engine = create_engine(source.db_url)
    try:
        with engine.connect() as conn:
            arows = conn.execute(select(Assignment.name, Assignment.duedate)).all()
            # A million grades or more: the driver's cursor directly, in chunks, each chunk's
            # repeated names turned into categories at once (far less time and memory than
            # SQLAlchemy rows). The query has no parameters.
            cursor = conn.connection.dbapi_connection.cursor()
            cursor.execute(str(query.compile(dialect=engine.dialect)))
            chunks = []
            while batch := cursor.fetchmany(200_000):
                chunk = pd.DataFrame.from_records(batch, columns=columns)
                for col in CATEGORIES:
                    chunk[col] = chunk[col].astype("category")
                chunks.append(chunk)
            cursor.close()
    finally:
        engine.dispose()
    if chunks:
        res = pd.concat(chunks, ignore_index=True)
        for col in CATEGORIES:
            res[col] = pd.Categorical(res[col].astype(object)) if len(chunks) > 1 else res[col]
    else:
        res = pd.DataFrame(columns=columns)
    # SQLite gives timestamps as text, PostgreSQL as datetimes: one type for both.
    stamps = res["submitted_at"].astype(object)
    res["submitted_at"] = pd.to_datetime(stamps, format="ISO8601") if len(res) else stamps
    res["needs_manual"] = res["needs_manual"].astype(bool)
    for col in ("auto", "manual", "extra", "possible", "penalty"):
        res[col] = pd.to_numeric(res[col]).astype(float)
    # nbgrader's Grade.score: the manual score wins over the automatic one, plus extra credit.
    pending = res["needs_manual"] & res["manual"].isna()
    base = res["manual"].where(res["manual"].notna(), res["auto"]).fillna(0.0)
    score = base + res["extra"].fillna(0.0)
    res["earned"] = np.minimum(score.clip(lower=0.0), res["possible"]) * net_share(res, score)
    res = res[~pending].drop(columns=["auto", "manual", "extra", "needs_manual", "submission",
                                      "penalty"])

    tags = read_item_tags(source.course_dir, problems)
    names = exam_names(source.course_dir)

    def item_title(a, item_id):
        return names.get(a, (None, {}))[1].get(item_id) or item_id

    tag_frame = pd.DataFrame(
        [(a, nb, gid, tag.get("competence"), tag.get("level"), tag.get("item_id", gid),
          item_title(a, tag.get("item_id", gid)))
         for (a, nb, gid), tag in tags.items()],
        columns=["assignment", "notebook", "grade_id", "competence", "level", "item_id",
                 "item_title"])
    res = res.merge(tag_frame, on=["assignment", "notebook", "grade_id"], how="left")
    untagged = res[res["competence"].isna()][["assignment", "notebook", "grade_id"]].drop_duplicates()
    for a, nb, gid in untagged.itertuples(index=False):
        log.warning("reports: %s/%s/%s has no competence tag; left out", a, nb, gid)
        problems.append(t("reports.problem.untagged", exam=a, item=gid))
    res = res[res["competence"].notna()].copy()

    course = source.name
    periods = pd.DataFrame(arows, columns=["assignment", "duedate"])
    last = res.groupby("assignment")["submitted_at"].max()
    periods["date"] = [
        (d if pd.notna(d) else last.get(a)) for a, d in zip(periods["assignment"], periods["duedate"],
                                                             strict=True)
    ]
    periods["course"] = course
    periods["title"] = [names.get(a, (None, {}))[0] for a in periods["assignment"]]
    periods["period_id"] = course + "/" + periods["assignment"]
    res["period_id"] = course + "/" + res["assignment"]
    return periods, res.drop(columns=["assignment"])


def gradebook_exists(source: GradebookSource) -> bool:
    """False only for an SQLite gradebook whose file is not there (yet)."""
    from sqlalchemy.engine import make_url

    url = make_url(source.db_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return True
    return Path(url.database).exists()


def net_share(res: pd.DataFrame, score: pd.Series) -> pd.Series:
    """Per grade row, the share of its notebook's score that counts after the late penalty.

    nbgrader records a late submission's penalty per submitted notebook
    (`SubmittedNotebook.late_submission_penalty`; method "zero": penalty = the notebook's
    score). The evidence is the net result: each item's points scaled by
    (score − penalty) / score of its notebook (nbgrader's `SubmittedNotebook.score`, the sum
    of `Grade.score`), 0 when that score is 0, 1 without a penalty.
    """
    has_penalty = res["penalty"].notna() & (res["penalty"] > 0)
    if not has_penalty.any():
        return pd.Series(1.0, index=res.index)
    totals = score.groupby(res["submission"], observed=True, sort=False).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(totals > 0, (totals - res["penalty"].fillna(0.0)) / totals, 0.0)
    return pd.Series(np.where(has_penalty, np.clip(share, 0.0, 1.0), 1.0), index=res.index)


# --- the level rule, vectorised --------------------------------------------------------------

def apply_level_rule(sums: pd.DataFrame, framework: Framework) -> pd.Series:
    """Level id per row of `sums` (columns earned_<lv>, possible_<lv> for each item level).

    Exactly `levels.competence_level`: levels in ascending order; a level with fewer than
    `min_points` on offer is skipped; one judged below its threshold stops the climb.
    """
    rule = framework.rule
    result = np.full(len(sums), "chua_dat", dtype=object)
    blocked = np.zeros(len(sums), dtype=bool)
    for lv in ITEM_LEVELS:
        possible = sums.get(f"possible_{lv}", pd.Series(0.0, index=sums.index)).fillna(0.0).to_numpy()
        earned = sums.get(f"earned_{lv}", pd.Series(0.0, index=sums.index)).fillna(0.0).to_numpy()
        judged = possible >= max(rule.min_points.get(lv, 0), 1e-9)
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = judged & (earned / np.where(judged, possible, 1.0) >= rule.thresholds[lv])
        result = np.where(~blocked & ok, lv, result)
        blocked |= judged & ~ok
    return pd.Series(result, index=sums.index)


def compute_history(results: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Level per (username, period, competence), with the points behind it.

    The list of items (the evidence in words) is added only where it is shown, by
    `attach_evidence`, because joining strings for every row of the history is the slow part.
    """
    cols = ["username", "period_id", "competence", "level", "rank", "earned", "possible"]
    if results.empty:
        return pd.DataFrame(columns=cols)
    keys = ["username", "period_id", "competence"]
    by_level = results.groupby(keys + ["level"], sort=False)[["earned", "possible"]].sum()
    wide = by_level.unstack("level")
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    wide["level"] = apply_level_rule(wide, framework)
    wide["rank"] = wide["level"].map(LEVEL_IDS.index).astype(int)
    wide["earned"] = wide.filter(like="earned_").sum(axis=1)
    wide["possible"] = wide.filter(like="possible_").sum(axis=1)
    return wide[cols]


def attach_evidence(results: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (username, period_id, competence) with an `items` column, e.g.
    "Câu 1: … (2/2), Câu 3: … (4/5)": the items behind each level, by name, in exam order."""
    keys = ["username", "period_id", "competence"]
    wanted = frame[keys].dropna().drop_duplicates()
    if wanted.empty or results.empty:
        return frame.assign(items=None)
    ev = results.merge(wanted, on=keys, how="inner")
    ev = ev.assign(**{k: ev[k].astype(str) for k in keys}).sort_values(keys, kind="stable")
    text = (ev["item_title"].astype(str) + " (" + _num(ev["earned"]) + "/" + _num(ev["possible"]) + "), ")
    text = text.to_numpy(dtype=object)
    codes = ev.groupby(keys, sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    joined = np.add.reduceat(text, starts) if len(text) else text
    firsts = ev.iloc[starts][keys].assign(items=[j[:-2] for j in joined])
    return frame.merge(firsts, on=keys, how="left")


def _evidence_keys(results_empty: bool, frame: pd.DataFrame, unique: bool = False
                   ) -> pd.DataFrame:
    """`frame` as `attach_evidence` returns it (same key columns, same types), without the
    `items` column: for the tables that count levels and show no evidence. `unique`: each
    (username, period, competence) is there once (then the merge only turns the keys into
    text, done here directly: a merge on three text columns of 750,000 rows took a second)."""
    keys = ["username", "period_id", "competence"]
    if unique and len(frame) and not results_empty:
        return frame.assign(**{k: frame[k].astype(str) for k in keys})
    wanted = frame[keys].dropna().drop_duplicates()
    if wanted.empty or results_empty:
        return frame
    return frame.merge(wanted.assign(**{k: wanted[k].astype(str) for k in keys}), on=keys,
                       how="left")


def _num(s: pd.Series) -> pd.Series:
    """2.0 → "2", 2.5 → "2,5" (Vietnamese decimal comma), vectorised."""
    v = s.to_numpy(dtype=float)
    whole = np.round(v) == v
    parts = np.char.replace(np.round(v, 2).astype(str), ".", ",")
    out = np.where(whole, np.round(v).astype(np.int64).astype(str), parts)
    return pd.Series(out, index=s.index, dtype=object)


# --- loading everything --------------------------------------------------------------------

def load(platform_url: str, gradebooks: list[GradebookSource], framework: Framework | None = None,
         requirements: Requirements | None = None, catalogue=None,
         cache_dir: Path | None = None) -> ReportData:
    """Read every source and compute the frames. Read-only: nothing is written to the sources.

    With `cache_dir` (reports.cache), the frames computed from the gradebooks are kept there and
    reused while the gradebooks and their exam notebooks are unchanged (see `gradebook_frames`).
    """
    fw = framework or load_framework()
    req = requirements or load_requirements()
    if catalogue is None:
        from courses.catalogue import load_catalogue

        catalogue = load_catalogue()
    problems: list[str] = []
    staff = read_staff(platform_url)

    periods, results, items, history, exams = summary_frames(platform_url, gradebooks, fw,
                                                              problems, cache_dir)

    # Someone graded but no longer in the directory: keep their history.
    # (As Python objects: iterating a pandas string column yields one element at a time.)
    graded = (exams["username"].cat.categories if _tidy_categories(exams["username"])
              else exams["username"].astype(str))
    former = sorted(set(graded.to_numpy(dtype=object)) - set(staff["username"].to_numpy(dtype=object)))
    if former:
        staff = pd.concat([staff, pd.DataFrame({
            "username": former, "code": "", "full_name": former, "position": "",
            "department": t("reports.former_department"), "active": False, "in_directory": False,
        })], ignore_index=True)

    lessons = read_progress(platform_url)
    courses = course_completion(staff, lessons, catalogue)
    return ReportData(staff, periods, items, results, history, exams, lessons, courses, fw, req,
                      catalogue, problems, read_flags(platform_url))


def read_flags(platform_url: str) -> pd.DataFrame:
    """The grading worker's flags (kynangso.exams.flags): one row per learner, exam and kind.
    The worker writes them from the report of a grading run it made, never from a learner."""
    rows = _driver_rows(platform_url, flags.query(columns=("username", "exam", "kind")))
    return pd.DataFrame([tuple(r) for r in rows], columns=["username", "assignment", "kind"]
                        ).drop_duplicates()


RESULT_CATEGORIES = ("username", "competence", "level", "period_id", "item_id", "item_title",
                     "notebook", "grade_id")
RESULT_COLUMNS = ["username", "notebook", "grade_id", "possible", "submitted_at", "earned",
                  "competence", "level", "item_id", "item_title", "period_id"]


@dataclass
class SourceFrames:
    """What the dashboards need from one gradebook: its periods (not yet ordered among all
    gradebooks), levels per period (`history`), exam totals, items, and its problems. Small
    enough to keep in the platform database (reports.summary)."""

    periods: pd.DataFrame
    history: pd.DataFrame
    exams: pd.DataFrame
    items: pd.DataFrame
    problems: list[str]
    # Usernames, periods and competences in the order the grades first name them: the order
    # of `history` when several gradebooks are put together (see `assemble`).
    order: dict = field(default_factory=dict)


HISTORY_KEYS = ("username", "period_id", "competence")


def summary_frames(platform_url: str, gradebooks: list[GradebookSource], fw: Framework,
                   problems: list[str], cache_dir: Path | None = None):
    """(periods, results, items, history, exams): each gradebook's frames from its summary in
    the platform database (reports.summary) when it is up to date, else read from the
    gradebook (and the summary written, where this account may). `results` is then a function
    that reads every grade when first asked (through the frame cache, `gradebook_frames`)."""
    from reports import cache, summary

    parts, fresh, own_problems = [], [], []
    all_key = cache.source_key(gradebooks, fw) if cache_dir else None
    for src in gradebooks:
        if not gradebook_exists(src):
            # A course nothing has been graded in yet (a fresh install): no results, not an
            # error. SQLite would try to create the file, which the service may not write.
            log.info("reports: no gradebook yet at %s; skipped", src.db_url)
            continue
        key = cache.source_key([src], fw)
        part = summary.read(platform_url, src, key) if key else None
        if part is None:
            part, res = _read_source(src, fw)
            fresh.append(res)
            # Kept only if nothing changed while reading (a grading run in between).
            if key and cache.source_key([src], fw) == key:
                summary.write(platform_url, src, key, part)
        own_problems.extend(part.problems)
        parts.append(part)
    problems.extend(own_problems)
    periods, items, history, exams = assemble(parts)
    if len(fresh) == len(parts):  # every grade was read just now: keep them
        results = (pd.concat(fresh, ignore_index=True) if fresh else
                   pd.DataFrame(columns=RESULT_COLUMNS))
        results = _categories(results, RESULT_CATEGORIES)
        if all_key and cache.source_key(gradebooks, fw) == all_key:  # for the evidence later
            cache.write(cache_dir, all_key, ((periods, results, items, history, exams),
                                             own_problems))
    else:
        def results():
            return gradebook_frames(gradebooks, fw, [], cache_dir)[1]
    return periods, results, items, history, exams


def gradebook_frames(gradebooks: list[GradebookSource], fw: Framework, problems: list[str],
                     cache_dir: Path | None = None):
    """(periods, results, items, history, exams) of every gradebook, every grade read.

    Reading and grouping 1.5 million grades takes seconds (issue 15), so with `cache_dir` the
    frames are kept on disk under a key that changes whenever a gradebook, an exam notebook,
    the framework or this code changes (reports.cache.source_key), and a dashboard kernel that
    starts later reads them back in a fraction of a second. A source without such a key (a
    server database) is always read. `load` needs this only for the evidence (`results`).
    """
    from reports import cache

    key = cache.source_key(gradebooks, fw) if cache_dir else None
    if key:
        hit = cache.read(cache_dir, key)
        if hit is not None:
            frames, saved_problems = hit
            problems.extend(saved_problems)
            return frames
    own_problems: list[str] = []
    frames = _compute_gradebook_frames(gradebooks, fw, own_problems)
    problems.extend(own_problems)
    # Written only if nothing changed while reading (a grading run in between).
    if key and cache.source_key(gradebooks, fw) == key:
        cache.write(cache_dir, key, (frames, own_problems))
    return frames


def _compute_gradebook_frames(gradebooks: list[GradebookSource], fw: Framework,
                              problems: list[str]):
    parts, result_frames = [], []
    for src in gradebooks:
        if not gradebook_exists(src):
            log.info("reports: no gradebook yet at %s; skipped", src.db_url)
            continue
        part, res = _read_source(src, fw)
        problems.extend(part.problems)
        parts.append(part)
        result_frames.append(res)
    periods, items, history, exams = assemble(parts)
    results = (pd.concat(result_frames, ignore_index=True) if result_frames else
               pd.DataFrame(columns=RESULT_COLUMNS))
    results = _categories(results, RESULT_CATEGORIES)
    return periods, results, items, history, exams


def source_frames(src: GradebookSource, fw: Framework) -> SourceFrames:
    """The frames of one gradebook (what reports.summary keeps)."""
    return _read_source(src, fw)[0]


def _read_source(src: GradebookSource, fw: Framework) -> tuple[SourceFrames, pd.DataFrame]:
    problems: list[str] = []
    periods, results = read_gradebook(src, problems)
    dated = periods[periods["date"].notna()]
    results = results[results["period_id"].isin(dated["period_id"])].reset_index(drop=True)
    # Repeated names as categories: a fraction of the memory of a million Python strings.
    results = _categories(results, RESULT_CATEGORIES)
    items = (results[["period_id", "notebook", "grade_id", "item_id", "competence", "level",
                      "possible"]].drop_duplicates(["period_id", "notebook", "grade_id"])
             .rename(columns={"possible": "points"}).reset_index(drop=True))
    history = compute_history(results, fw)
    exams = (results.groupby(["username", "period_id"], as_index=False)
             .agg(earned=("earned", "sum"), possible=("possible", "sum"),
                  submitted_at=("submitted_at", "max")))
    exams["percent"] = (100 * exams["earned"] / exams["possible"].where(exams["possible"] > 0)).round(1)
    order = {k: [str(v) for v in results[k].unique()] for k in HISTORY_KEYS}
    return SourceFrames(periods, history, exams, items, problems, order), results


_STR_CATEGORIES = pd.Series(["a"]).astype(str).astype("category").cat.categories.dtype


def _categories(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """`columns` as categories over the sorted names present. A column that is already so (the
    summary's) is kept: turning millions of rows into strings and back takes seconds."""
    frame = frame.copy(deep=False)  # columns are replaced, never changed in place
    for col in columns:
        if not _tidy_categories(frame[col]):
            frame[col] = frame[col].astype(str).astype("category")
    return frame


def _tidy_categories(s: pd.Series) -> bool:
    if not isinstance(s.dtype, pd.CategoricalDtype) or not len(s):
        return False
    cats, codes = s.cat.categories, s.cat.codes.to_numpy()
    return (cats.dtype == _STR_CATEGORIES and cats.is_monotonic_increasing and codes.min() >= 0
            and bool((np.bincount(codes, minlength=len(cats)) > 0).all()))


def assemble(parts: list[SourceFrames]):
    """(periods, items, history, exams) of all gradebooks from each one's frames: periods
    ordered by date among all, names as categories over all."""
    periods = (pd.concat([p.periods for p in parts], ignore_index=True) if parts else
               pd.DataFrame(columns=["assignment", "duedate", "date", "course", "title",
                                     "period_id"]))
    periods = periods[periods["date"].notna()].sort_values(["date", "period_id"]).reset_index(drop=True)
    periods["order"] = range(len(periods))
    periods["label"] = [period_label(title, a, d) for title, a, d in
                        zip(periods["title"], periods["assignment"], periods["date"], strict=True)]
    periods = periods[["period_id", "course", "assignment", "date", "label", "order"]]

    def joined(name, columns, categories):
        frames = [getattr(p, name) for p in parts if len(getattr(p, name))]
        if not frames:
            return pd.DataFrame(columns=columns) if name != "items" else \
                _categories(pd.DataFrame(columns=columns), categories)
        return _categories(pd.concat(frames, ignore_index=True)[columns], categories)

    items = joined("items", ["period_id", "notebook", "grade_id", "item_id", "competence",
                             "level", "points"],
                   ("period_id", "notebook", "grade_id", "item_id", "competence", "level"))
    history = joined("history", ["username", "period_id", "competence", "level", "rank",
                                 "earned", "possible"], ("username", "period_id", "competence"))
    exams = joined("exams", ["username", "period_id", "earned", "possible", "submitted_at",
                             "percent"], ("username", "period_id"))
    if len(parts) > 1 and len(history):
        # As if grouped over all grades at once: by each name's first appearance among them.
        ranks = [history[k].astype(str).map({v: n for n, v in enumerate(dict.fromkeys(
            v for p in parts for v in p.order.get(k, [])))}) for k in HISTORY_KEYS]
        at = pd.DataFrame({str(n): r for n, r in enumerate(ranks)})
        history = history.iloc[at.sort_values(list(at.columns), kind="stable").index]
        history = history.reset_index(drop=True)
    if len(parts) > 1 and len(exams):  # each gradebook's are sorted; sort them all together
        exams = exams.sort_values(["username", "period_id"], kind="stable").reset_index(drop=True)
    return periods, items, history, exams


def course_completion(staff: pd.DataFrame, lessons: pd.DataFrame, catalogue) -> pd.DataFrame:
    """Per staff member and course: lessons done, lessons in the course, completed or not."""
    columns = ["username", "course_id", "course_title", "lessons_done", "lessons_total",
               "completed"]
    users = staff["username"].reset_index(drop=True)
    # Names as integer codes once, then each course counted with numpy (a province has
    # hundreds of thousands of lessons done: comparing their text per course took seconds).
    user_codes, user_names = pd.factorize(users)
    who = pd.Index(user_names).get_indexer(lessons["username"])
    course_codes, course_names = pd.factorize(lessons["course_id"])
    lesson_codes, lesson_names = pd.factorize(lessons["lesson_id"])
    course_names, lesson_names = pd.Index(course_names), pd.Index(lesson_names)
    frames = []
    for course in catalogue.courses:
        ids = {lesson.id for lesson in course.lessons}
        # `lessons` holds each (person, course, lesson) once: count those of this course.
        code = course_names.get_indexer([course.id])[0]
        known = lesson_names.get_indexer(list(ids))
        mine = ((course_codes == code) & (code >= 0) & (who >= 0)
                & np.isin(lesson_codes, known[known >= 0]))
        counts = np.append(np.bincount(who[mine], minlength=len(user_names)), 0)
        done = pd.Series(counts[user_codes], dtype="int64")  # code -1 (no name): the 0 appended
        frames.append(pd.DataFrame({"username": users, "course_id": course.id,
                                    "course_title": course.title, "lessons_done": done,
                                    "lessons_total": len(ids), "completed": done == len(ids)}))
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


# --- derived views -------------------------------------------------------------------------

def levels_as_of(data: ReportData, period_id: str | None = None, evidence: bool = True
                 ) -> pd.DataFrame:
    """The level of every competence for everyone, from the latest period (up to `period_id`)
    that assessed it; not-assessed rows have level None and rank -1. With `evidence`, an
    `items` column lists the items behind each level (`attach_evidence`).

    Rows: every staff member active in the directory, and anyone else with results.
    """
    made_of = (period_id, data.history, data.staff, data.periods, data.framework)
    last = data._levels.get("made_of") if not evidence else None
    if last is not None and last[0] == period_id and all(
            a is b for a, b in zip(last[1:], made_of[1:], strict=True)):
        return data._levels["frame"].copy(deep=False)  # a copy on write: the caller's own
    out = _levels_as_of(data, period_id, evidence)
    if not evidence:
        data._levels.update(made_of=made_of, frame=out)
        return out.copy(deep=False)
    return out


def _levels_as_of(data: ReportData, period_id: str | None, evidence: bool) -> pd.DataFrame:
    hist = data.history
    order = data.periods.set_index("period_id")["order"]
    at = _period_order(hist["period_id"], order)
    upto = None if period_id is None else order[period_id]
    rows = _latest_rows(hist, at, upto)
    if rows is None:  # the names are not codes (or a pair twice in a period): pandas' way
        if upto is not None:
            keep = at <= upto
            hist, at = hist[keep], at[keep]
        hist = hist.assign(_order=at).sort_values("_order")
        latest = hist.drop_duplicates(["username", "competence"], keep="last").drop(columns="_order")
    else:
        latest = hist.iloc[rows]
    dates = data.periods.set_index("period_id")["date"]
    latest = latest.assign(date=latest["period_id"].map(dates))
    # Without evidence, the grades are not needed (there are results iff there is history).
    latest = (attach_evidence(data.results, latest) if evidence
              else _evidence_keys(data.history.empty, latest, rows is not None))

    staff = data.staff
    comps = list(data.framework.competences)
    if rows is not None and len(latest) and staff["username"].is_unique:
        return _levels_grid(data, hist[["username", "competence"]].iloc[rows], latest, comps)
    people = staff[staff["active"] | staff["username"].isin(latest["username"])]
    grid = pd.MultiIndex.from_product([people["username"], comps],
                                      names=["username", "competence"]).to_frame(index=False)
    out = grid.merge(latest, on=["username", "competence"], how="left")
    out["rank"] = out["rank"].fillna(NOT_ASSESSED_RANK).astype(int)
    out["level"] = out["level"].astype(object).where(out["level"].notna(), None)
    out["level_name"] = out["level"].map(_memo(data.framework.level_name))
    out = out.merge(staff, on="username", how="left")
    return out


def _latest_rows(hist: pd.DataFrame, at: np.ndarray, upto) -> np.ndarray | None:
    """Positions in `hist` of each (username, competence)'s row of the latest period up to the
    order `upto` (None: all; `at`: the period's order per row), in `hist`'s order; None when
    that cannot be told from the codes.

    A province has millions of levels per period: sorting them and dropping duplicates on
    two columns took seconds; this is a maximum per pair over integer codes."""
    users, comps = hist["username"], hist["competence"]
    if (not len(hist) or not isinstance(users.dtype, pd.CategoricalDtype)
            or not isinstance(comps.dtype, pd.CategoricalDtype)
            or (upto is None and np.isnan(at).any())):
        return None
    n_comps = len(comps.cat.categories)
    n_pairs = len(users.cat.categories) * n_comps
    # 32-bit where it fits: these arrays have millions of rows.
    kind = np.int32 if n_pairs < 2**31 else np.int64
    u = users.cat.codes.to_numpy().astype(kind)
    c = comps.cat.codes.to_numpy().astype(kind)
    if u.min() < 0 or c.min() < 0:
        return None
    pair = u * kind(n_comps) + c
    # Orders are 0, 1, ...: -1 for the rows of later periods (never the latest).
    when = (at if upto is None else np.where(at <= upto, at, -1)).astype(np.int32)
    best = np.full(n_pairs, -1, dtype=np.int32)
    np.maximum.at(best, pair, when)
    rows = np.flatnonzero((when == best[pair]) & (when >= 0))
    if len(rows) != np.count_nonzero(best >= 0):  # a pair assessed twice in one period
        return None
    return rows


def _levels_grid(data: ReportData, chosen: pd.DataFrame, latest: pd.DataFrame, comps: list[str]
                 ) -> pd.DataFrame:
    """What the grid of people x competences merged with `latest` and then with the staff
    gives, built by taking rows: `chosen` is the history rows behind `latest`, row for row.
    Merging 750,000 rows on text keys twice took seconds; the columns and types are the
    merges' (a missing level is taken as the merge fills it: NaN, an int column as float)."""
    staff = data.staff
    users = chosen["username"].cat.categories
    u_codes = chosen["username"].cat.codes.to_numpy().astype(np.int64)
    c_codes = chosen["competence"].cat.codes.to_numpy().astype(np.int64)
    n_comps = len(chosen["competence"].cat.categories)
    staff_codes = users.get_indexer(staff["username"])
    assessed = np.zeros(len(users), dtype=bool)
    assessed[u_codes] = True
    people = np.flatnonzero(staff["active"].to_numpy(dtype=bool)
                            | ((staff_codes >= 0) & assessed[staff_codes]))
    comp_codes = chosen["competence"].cat.categories.get_indexer(pd.Index(comps))
    # Row of `latest` per (person, competence) of the grid, person by person; -1: none.
    slot = np.full(len(users) * n_comps, -1, dtype=np.int64)
    slot[u_codes * n_comps + c_codes] = np.arange(len(latest))
    gu = np.repeat(staff_codes[people], len(comps))
    gc = np.tile(comp_codes, len(people))
    found = (gu >= 0) & (gc >= 0)
    take = np.where(found, slot[np.where(found, gu * n_comps + gc, 0)], -1)

    who = np.repeat(people, len(comps))
    out = {"username": staff["username"].array.take(who),
           "competence": pd.Index(comps).array.take(np.tile(np.arange(len(comps)), len(people)))}
    for col in latest.columns.drop(["username", "competence"]):
        values = latest[col]
        if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
            out[col] = values.array.take(take, allow_fill=True)
        else:
            out[col] = pd.api.extensions.take(values.to_numpy(), take, allow_fill=True)
    out = pd.DataFrame(out)
    out["rank"] = out["rank"].fillna(NOT_ASSESSED_RANK).astype(int)
    out["level"] = out["level"].astype(object).where(out["level"].notna(), None)
    # The name of each level once, not once per row.
    codes, uniques = pd.factorize(latest["level"])
    names = np.array([data.framework.level_name(v) for v in uniques]
                     + [data.framework.level_name(None)], dtype=object)
    out["level_name"] = pd.Series(names[np.where(take >= 0, codes[take], len(uniques))],
                                  index=out.index)
    for col in staff.columns.drop("username"):
        out[col] = staff[col].array.take(who) if isinstance(
            staff[col].dtype, pd.api.extensions.ExtensionDtype) else staff[col].to_numpy()[who]
    return out


def _period_order(periods: pd.Series, order: pd.Series) -> np.ndarray:
    """The order of each row's period: looked up once per period, not once per row (a
    province's history has millions of rows and a handful of periods)."""
    if isinstance(periods.dtype, pd.CategoricalDtype):
        per_category = periods.cat.categories.astype(str).map(order).to_numpy(dtype=float)
        codes = periods.cat.codes.to_numpy()
        return np.where(codes >= 0, per_category[codes], np.nan)
    return periods.astype(str).map(order).to_numpy(dtype=float)


def _memo(fn):
    """`fn` remembering its answers: a Series of 100,000 rows holds a handful of levels, and
    the framework looks each one up by scanning its list."""
    seen: dict = {}

    def cached(value):
        try:
            return seen[value]
        except KeyError:
            seen[value] = fn(value)
            return seen[value]
        except TypeError:  # unhashable: ask every time
            return fn(value)
    return cached


def training_needs(data: ReportData, period_id: str | None = None, on: date | None = None
                   ) -> pd.DataFrame:
    """Who is below the level their position requires, per competence, with courses to take.

    Only staff active in the directory are listed (HR acts on people who work here today).
    """
    lv = levels_as_of(data, period_id, evidence=False)  # the list shows no evidence
    here = (lv["active"] & lv["in_directory"]).to_numpy(dtype=bool)
    # The required level of each (position, competence) once, then taken per row: a province
    # has 750,000 rows and a handful of positions. Only the rows below it are then copied.
    pos_codes, positions = pd.factorize(lv["position"].to_numpy(dtype=object)[here],
                                        use_na_sentinel=False)
    comp_codes, comps = pd.factorize(lv["competence"].to_numpy(dtype=object)[here],
                                     use_na_sentinel=False)
    none = -1  # no level required
    table = np.full((len(positions), len(comps)), none, dtype=np.int64)
    for n, pos in enumerate(positions):
        req = data.requirements.for_position(pos, on)
        table[n] = [none if req.get(comp) is None else LEVEL_IDS.index(req[comp]) for comp in comps]
    required = table[pos_codes, comp_codes]
    below = (required != none) & (lv["rank"].to_numpy()[here] < required)
    cols = ["department", "competence", "competence_name", "username", "full_name", "position",
            "level_name", "required_name", "rank", "required_rank", "period_id", "recommended"]
    if not below.any():  # nobody: the empty list with the column types it always had
        ids = np.array([None, *LEVEL_IDS], dtype=object)[required + 1]
        lv = lv[here].assign(required=list(ids))
        lv = lv[lv["required"].notna()].copy()
        lv["required_rank"] = lv["required"].map(LEVEL_IDS.index)
        lv = lv[lv["rank"] < lv["required_rank"]].copy()
        lv["required_name"] = lv["required"].map(data.framework.level_name)
        lv["recommended"] = []
        lv["competence_name"] = lv["competence"].map(lambda c: data.framework.competence(c).name)
        return lv[cols].reset_index(drop=True)
    lv = lv.iloc[np.flatnonzero(here)[below]].copy()
    lv["required_rank"] = required[below]
    # Names looked up once per level and competence (then a C call per row, not Python's).
    lv["required_name"] = pd.Series(np.array([data.framework.level_name(lid) for lid in LEVEL_IDS],
                                             dtype=object)[required[below]], index=lv.index)
    lv["recommended"] = _recommendations(data, lv["username"].to_numpy(dtype=object),
                                         lv["competence"].to_numpy(dtype=object))
    lv["competence_name"] = lv["competence"].map(
        {c: data.framework.competence(c).name for c in comps}.get)
    return lv[cols].sort_values(["department", "competence", "full_name"]).reset_index(drop=True)


def _recommendations(data: ReportData, users: np.ndarray, comps: np.ndarray) -> list[str]:
    """`recommend` for each (user, competence), computed once per competence and set of its
    lessons done: a province's 120,000 needs, one by one, took a second."""
    if data.catalogue is None:
        return [""] * len(users)
    out = np.empty(len(users), dtype=object)
    teaching = _teaching(data)
    lessons = data.lessons
    who_codes, who = pd.factorize(lessons["username"])
    mine = pd.Index(who).get_indexer(pd.Index(users, dtype=object))  # -1: no lesson done
    course_codes, course_names = pd.factorize(lessons["course_id"])
    lesson_codes, lesson_names = pd.factorize(lessons["lesson_id"])
    course_names, lesson_names = pd.Index(course_names), pd.Index(lesson_names)
    comp_codes, comp_names = pd.factorize(comps)
    for n, comp in enumerate(comp_names):
        rows = np.flatnonzero(comp_codes == n)
        taught = teaching.get(comp, [])
        done = np.zeros((len(rows), len(taught)), dtype=bool)
        for j, (course_id, lesson_id, _label) in enumerate(taught):
            c = course_names.get_indexer([course_id])[0]
            les = lesson_names.get_indexer([lesson_id])[0]
            did = np.zeros(len(who) + 1, dtype=bool)  # the last: "no lesson done" (code -1)
            if c >= 0 and les >= 0:
                did[who_codes[(course_codes == c) & (lesson_codes == les)
                              & (who_codes >= 0)]] = True
            done[:, j] = did[mine[rows]]
        sets, which = np.unique(done, axis=0, return_inverse=True)
        texts = np.array([_recommendation(taught, flags) for flags in sets] or [""], dtype=object)
        out[rows] = texts[which.reshape(-1)]
    return list(out)


def _teaching(data: ReportData) -> dict[str, list[tuple[str, str, str]]]:
    """{competence: [(course id, lesson id, label)]} in catalogue order (once per list, not
    once per person)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for course in (data.catalogue.courses if data.catalogue is not None else []):
        for lesson in course.lessons:
            for competence in dict.fromkeys(lesson.competences):
                out.setdefault(competence, []).append(
                    (course.id, lesson.id, f"{course.title} › {lesson.title}"))
    return out


def recommend(data: ReportData, username: str, competence: str, done: set | None = None,
              teaching: dict | None = None) -> str:
    """Lessons of the catalogue that teach `competence`, those not yet completed first."""
    if data.catalogue is None:
        return ""
    done = done if done is not None else set()
    teaching = teaching if teaching is not None else _teaching(data)
    taught = teaching.get(competence, [])
    return _recommendation(taught, [(username, c, lesson) in done for c, lesson, _ in taught])


def _recommendation(taught: list[tuple[str, str, str]], done) -> str:
    """The text of `recommend`: `taught` (course, lesson, label), `done` a flag for each."""
    todo = [label for (_c, _l, label), d in zip(taught, done, strict=True) if not d]
    again = [label for (_c, _l, label), d in zip(taught, done, strict=True) if d]
    if not todo and again:
        return t("reports.recommend_again", lessons="; ".join(again))
    return "; ".join(todo)


def filter_staff(frame: pd.DataFrame, department: str | None = None,
                 position: str | None = None) -> pd.DataFrame:
    """Rows of `frame` (with department/position columns) for the chosen filters (None = all)."""
    if department:
        frame = frame[frame["department"] == department]
    if position:
        frame = frame[frame["position"] == position]
    return frame


def period_date(value) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    return value


# --- where the sources are -----------------------------------------------------------------

def sources_from_settings(settings) -> tuple[str, list[GradebookSource]]:
    """(platform database URL, exam gradebooks) for the running platform.

    Gradebooks: `$KNS_REPORTS_GRADEBOOKS` (JSON list of {"db_url", "course_dir"}) if set, else
    the exam course's gradebook on a database server (`exams.gradebook_url`), and every
    `<course>/gradebook.db` (the course folder beside it) in the live exam root
    (`kynangso.exams.course.places`) and in `<state_dir>/exams` (the demo course), each once.
    A root this account cannot read gives nothing.
    """
    import os

    from kynangso.exams.course import places
    from kynangso.settings import isolation_enabled

    raw = os.environ.get("KNS_REPORTS_GRADEBOOKS")
    if raw:
        items = json.loads(raw)
        return settings.database_url, [GradebookSource(i["db_url"], Path(i["course_dir"]),
                                                       i.get("course")) for i in items]
    exams = places(settings, isolation_enabled(settings, os.geteuid() == 0))
    live = exams.root
    server = [] if exams.gradebook_file else [GradebookSource(exams.gradebook_url, exams.course)]
    found: dict[Path, Path] = {}
    for root in (live, settings.state_dir / "exams"):
        try:
            paths = sorted(Path(root).glob("*/gradebook.db"))
        except OSError as exc:
            log.warning("reports: exam root %s not readable: %s", root, exc)
            continue
        for path in paths:
            if path.parent.name.startswith("."):  # a course being built (reports.demo)
                continue
            found.setdefault(path.resolve(), path)
    return settings.database_url, server + [GradebookSource(f"sqlite:///{p}", p.parent)
                                            for p in found.values()]
