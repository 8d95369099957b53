"""The reports' frames as reports/data.py computed them before issue 15 (commit 7355eb2):
every grade read into pandas, levels and evidence for everyone. Kept only as the reference
the faster code is compared with (test_frames_reference.py); not used by the platform.
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, select

from assessments.competency.framework import LEVEL_IDS, Framework, load_framework
from kynangso.i18n import t
from reports.data import (
    CATEGORIES,
    NOT_ASSESSED_RANK,
    GradebookSource,
    ReportData,
    apply_level_rule,
    exam_names,
    gradebook_exists,
    period_label,
    read_item_tags,
    read_progress,
    read_staff,
    recommend,
)
from reports.requirements import Requirements, load_requirements

log = logging.getLogger(__name__)


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


def _num(s: pd.Series) -> pd.Series:
    """2.0 → "2", 2.5 → "2,5" (Vietnamese decimal comma), vectorised."""
    v = s.to_numpy(dtype=float)
    whole = np.round(v) == v
    parts = np.char.replace(np.round(v, 2).astype(str), ".", ",")
    out = np.where(whole, np.round(v).astype(np.int64).astype(str), parts)
    return pd.Series(out, index=s.index, dtype=object)


def reference_load(platform_url: str, gradebooks: list[GradebookSource], framework: Framework | None = None,
         requirements: Requirements | None = None, catalogue=None) -> ReportData:
    """Read every source and compute the frames. Read-only: nothing is written anywhere."""
    fw = framework or load_framework()
    req = requirements or load_requirements()
    if catalogue is None:
        from courses.catalogue import load_catalogue

        catalogue = load_catalogue()
    problems: list[str] = []
    staff = read_staff(platform_url)

    period_frames, result_frames = [], []
    for src in gradebooks:
        if not gradebook_exists(src):
            # A course nothing has been graded in yet (a fresh install): no results, not an
            # error. SQLite would try to create the file, which the service may not write.
            log.info("reports: no gradebook yet at %s; skipped", src.db_url)
            continue
        p, r = read_gradebook(src, problems)
        period_frames.append(p)
        result_frames.append(r)
    periods = (pd.concat(period_frames, ignore_index=True) if period_frames else
               pd.DataFrame(columns=["assignment", "duedate", "date", "course", "title",
                                     "period_id"]))
    periods = periods[periods["date"].notna()].sort_values(["date", "period_id"]).reset_index(drop=True)
    periods["order"] = range(len(periods))
    periods["label"] = [period_label(title, a, d) for title, a, d in
                        zip(periods["title"], periods["assignment"], periods["date"], strict=True)]
    periods = periods[["period_id", "course", "assignment", "date", "label", "order"]]
    results = (pd.concat(result_frames, ignore_index=True) if result_frames else
               pd.DataFrame(columns=["username", "notebook", "grade_id", "possible", "submitted_at",
                                     "earned", "competence", "level", "item_id", "item_title",
                                     "period_id"]))
    results = results[results["period_id"].isin(periods["period_id"])].reset_index(drop=True)
    # Repeated names as categories: a fraction of the memory of a million Python strings.
    for col in ("username", "competence", "level", "period_id", "item_id", "item_title",
                "notebook", "grade_id"):
        results[col] = results[col].astype(str).astype("category")

    # Someone graded but no longer in the directory: keep their history.
    former = sorted(set(results["username"]) - set(staff["username"]))
    if former:
        staff = pd.concat([staff, pd.DataFrame({
            "username": former, "code": "", "full_name": former, "position": "",
            "department": t("reports.former_department"), "active": False, "in_directory": False,
        })], ignore_index=True)

    items = (results[["period_id", "notebook", "grade_id", "item_id", "competence", "level",
                      "possible"]].drop_duplicates(["period_id", "notebook", "grade_id"])
             .rename(columns={"possible": "points"}).reset_index(drop=True))
    history = compute_history(results, fw)
    exams = (results.groupby(["username", "period_id"], as_index=False)
             .agg(earned=("earned", "sum"), possible=("possible", "sum"),
                  submitted_at=("submitted_at", "max")))
    exams["percent"] = (100 * exams["earned"] / exams["possible"].where(exams["possible"] > 0)).round(1)

    lessons = read_progress(platform_url)
    courses = course_completion(staff, lessons, catalogue)
    return ReportData(staff, periods, items, results, history, exams, lessons, courses, fw, req,
                      catalogue, problems)


def course_completion(staff: pd.DataFrame, lessons: pd.DataFrame, catalogue) -> pd.DataFrame:
    """Per staff member and course: lessons done, lessons in the course, completed or not."""
    rows = []
    done = lessons.groupby(["username", "course_id"])["lesson_id"].apply(set).to_dict()
    for course in catalogue.courses:
        ids = {lesson.id for lesson in course.lessons}
        for user in staff["username"]:
            n = len(done.get((user, course.id), set()) & ids)
            rows.append((user, course.id, course.title, n, len(ids), n == len(ids)))
    return pd.DataFrame(rows, columns=["username", "course_id", "course_title", "lessons_done",
                                       "lessons_total", "completed"])


def reference_levels(data: ReportData, period_id: str | None = None) -> pd.DataFrame:
    """The level of every competence for everyone, from the latest period (up to `period_id`)
    that assessed it; not-assessed rows have level None and rank -1.

    Rows: every staff member active in the directory, and anyone else with results.
    """
    hist = data.history
    if period_id is not None:
        order = data.periods.set_index("period_id")["order"]
        hist = hist[hist["period_id"].astype(str).map(order) <= order[period_id]]
    order = data.periods.set_index("period_id")["order"]
    hist = hist.assign(_order=hist["period_id"].astype(str).map(order)).sort_values("_order")
    latest = hist.drop_duplicates(["username", "competence"], keep="last").drop(columns="_order")
    dates = data.periods.set_index("period_id")["date"]
    latest = latest.assign(date=latest["period_id"].map(dates))
    latest = attach_evidence(data.results, latest)

    people = data.staff[data.staff["active"] | data.staff["username"].isin(latest["username"])]
    comps = list(data.framework.competences)
    grid = pd.MultiIndex.from_product([people["username"], comps],
                                      names=["username", "competence"]).to_frame(index=False)
    out = grid.merge(latest, on=["username", "competence"], how="left")
    out["rank"] = out["rank"].fillna(NOT_ASSESSED_RANK).astype(int)
    out["level"] = out["level"].astype(object).where(out["level"].notna(), None)
    out["level_name"] = out["level"].map(data.framework.level_name)
    out = out.merge(data.staff, on="username", how="left")
    return out


def reference_needs(data: ReportData, period_id: str | None = None, on: date | None = None
                   ) -> pd.DataFrame:
    """Who is below the level their position requires, per competence, with courses to take.

    Only staff active in the directory are listed (HR acts on people who work here today).
    """
    lv = reference_levels(data, period_id)
    lv = lv[lv["active"] & lv["in_directory"]]
    req_cache: dict[str, dict[str, str]] = {}
    required = []
    for pos, comp in zip(lv["position"], lv["competence"], strict=True):
        if pos not in req_cache:
            req_cache[pos] = data.requirements.for_position(pos, on)
        required.append(req_cache[pos].get(comp))
    lv = lv.assign(required=required)
    lv = lv[lv["required"].notna()].copy()
    lv["required_rank"] = lv["required"].map(LEVEL_IDS.index)
    lv = lv[lv["rank"] < lv["required_rank"]].copy()
    lv["required_name"] = lv["required"].map(data.framework.level_name)
    done = set(zip(data.lessons["username"], data.lessons["course_id"], data.lessons["lesson_id"],
                   strict=True))
    lv["recommended"] = [recommend(data, u, c, done) for u, c in
                         zip(lv["username"], lv["competence"], strict=True)]
    lv["competence_name"] = lv["competence"].map(
        lambda c: data.framework.competence(c).name)
    cols = ["department", "competence", "competence_name", "username", "full_name", "position",
            "level_name", "required_name", "rank", "required_rank", "period_id", "recommended"]
    return lv[cols].sort_values(["department", "competence", "full_name"]).reset_index(drop=True)
