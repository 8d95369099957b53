"""Does the reports' summary in the platform database (reports.summary, issue 15) give the same
frames and tables as computing them from every grade (the pre-issue-15 reference)?

The generated data has the edge cases of a real province in small: two exam courses (periods
of both interleaved by date), absentees (missing grades), people graded but no longer in the
directory (no unit of their own), a late submission with nbgrader's penalty, a grade waiting for
its manual score, an untagged item, and grading flags on some submissions.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from pandas.testing import assert_frame_equal
from reference_frames import reference_levels, reference_load, reference_needs
from test_frames_reference import FRAMES, build_office

from kynangso.exams import flags
from reports import data as data_module
from reports import summary, views
from reports.data import GradebookSource, load
from reports.demo import Item, add_exam, bulk_results


def _second_course(folder) -> GradebookSource:
    """A second exam course, two periods dated between the first course's."""
    from assessments.competency import load_framework

    rng = random.Random(99)
    comps = list(load_framework().competences)
    items = [Item(f"muc-{n}", comps[(3 * n) % len(comps)], ("co_ban", "thanh_thao")[n % 2],
                  float(1 + n % 2)) for n in range(6)]
    course = folder / "thi-bo-sung"
    course.mkdir()
    gb = f"sqlite:///{course / 'gradebook.db'}"
    for p in range(2):
        due = datetime(2026, 5, 15, tzinfo=UTC) + timedelta(days=100 * p)
        add_exam(course, gb, f"ky-{p + 1}", due, items)
        scores = {f"cb{i:04d}": {it.grade_id: round(it.points * rng.random(), 1) for it in items}
                  for i in range(0, 160, 3) if rng.random() > 0.2}
        bulk_results(gb, f"ky-{p + 1}", scores, due - timedelta(hours=2))
    return GradebookSource(gb, course)


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = tmp_path_factory.mktemp("province")
    platform, sources = build_office(folder)
    sources = [*sources, _second_course(folder)]
    # Who sat an exam depends on the random office (and so on the catalogue's lessons, drawn
    # first): the flagged people are taken from those who sat it, two in the directory on
    # ky-1, one out of it on ky-2.
    exams = reference_load(platform, sources).exams  # not `load`: it would write the summary
    sat = {exam: sorted(set(exams.loc[exams["period_id"] == f"thi-nang-luc/{exam}", "username"]))
           for exam in ("ky-1", "ky-2")}
    flagged = {"ky-1": [u for u in sat["ky-1"] if u < "cb0150"][:2],
               "ky-2": [u for u in sat["ky-2"] if u >= "cb0150"][:1]}
    for exam, people in flagged.items():
        flags.record(platform, exam, {"graded": people, "failed": [], "problems": [
            {"student": p, "notebook": "bai-thi", "kind": "timeout", "fatal": False}
            for p in people]})
    return folder, platform, sources, flagged


def test_summary_frames_equal_every_grade_computation(province, monkeypatch):
    folder, platform, sources, flagged = province
    ref = reference_load(platform, sources)
    assert summary.refresh(platform, sources) == 2  # as the grading worker does
    assert summary.refresh(platform, sources) == 0  # up to date: nothing rebuilt

    # From now on the gradebooks are not read for the tables: make reading them fail.
    def no_grades(*_a, **_k):
        raise AssertionError("grades read although the summary is up to date")

    monkeypatch.setattr(data_module, "read_gradebook", no_grades)
    new = load(platform, sources)
    for name in FRAMES:
        if name != "results":
            assert_frame_equal(getattr(new, name), getattr(ref, name), obj=name)
    assert new.problems == ref.problems
    assert len(ref.periods) == 5 and list(ref.periods["course"]).count("thi-bo-sung") == 2
    assert (~ref.staff["in_directory"]).any()
    for period in [None, *ref.period_ids]:
        assert_frame_equal(new.levels(period, evidence=False),
                           reference_levels(ref, period).drop(columns="items"),
                           obj=f"levels {period}")
        assert_frame_equal(new.needs(period), reference_needs(ref, period), obj=f"needs {period}")
    ref.flags = data_module.read_flags(platform)  # the reference predates the flags
    users = set(ref.staff["username"])
    assert_frame_equal(views.trend(new, users), views.trend(ref, users))
    first = flagged["ky-1"][0]
    for person in (first, flagged["ky-2"][0], "cb0007"):  # flagged, not in the directory, plain
        assert_frame_equal(views.person_exams(new, person), views.person_exams(ref, person))
        assert_frame_equal(views.person_history(new, person), views.person_history(ref, person))
    assert views.person_exams(new, first)[views.h("review")].str.len().gt(0).any()

    # The evidence still comes from the grades, read when first asked for.
    monkeypatch.undo()
    mine = new.person_levels(first)
    full = reference_levels(ref)
    want = full[full["username"] == first][mine.columns].reset_index(drop=True)
    assert_frame_equal(mine.reset_index(drop=True), want)


def test_stale_summary_is_not_used(province, tmp_path):
    """A summary built from an older state of a gradebook is never shown: after the gradebook
    changes, the frames are those of the new grades (and the summary is rebuilt)."""
    folder, platform, sources, _flagged = province
    summary.refresh(platform, sources)
    copy = tmp_path / "thi-bo-sung"
    shutil.copytree(sources[1].course_dir, copy)
    moved = GradebookSource(f"sqlite:///{copy / 'gradebook.db'}", copy, "thi-bo-sung")
    src = [sources[0], moved]
    assert summary.read_key(platform, moved) is None  # no summary yet for that place
    assert summary.refresh(platform, src) == 1
    old_key = summary.read_key(platform, moved)
    bulk_results(moved.db_url, "ky-2", {"cb9999": {f"muc-{n}": 1.0 for n in range(6)}},
                 datetime(2026, 8, 1, tzinfo=UTC))  # grading wrote, the summary is now stale
    new = load(platform, src)
    assert "cb9999" in set(new.history["username"].astype(str))
    assert summary.read_key(platform, moved) not in (None, old_key)  # rebuilt by the reader
    assert_frame_equal(load(platform, src).history, reference_load(platform, src).history)


def test_exam_released_but_not_yet_graded(province, tmp_path):
    """An exam course whose gradebook has the exam and no submission yet (the days between
    release and grading): does its summary read back (HR's dashboards loaded nothing at all
    while one such course was there), with the frames of the reference?"""
    folder, platform, sources, _flagged = province
    from assessments.competency import load_framework

    comp = next(iter(load_framework().competences))
    course = tmp_path / "chua-cham"
    course.mkdir()
    gb = f"sqlite:///{course / 'gradebook.db'}"
    add_exam(course, gb, "ky-moi", datetime(2026, 11, 30, tzinfo=UTC),
             [Item("muc-0", comp, "co_ban", 1.0)])
    src = [sources[0], GradebookSource(gb, course)]
    summary.refresh(platform, src)
    assert summary.read_key(platform, src[1]) is not None
    new, ref = load(platform, src), reference_load(platform, src)
    for name in ("history", "exams"):
        assert_frame_equal(getattr(new, name), getattr(ref, name), obj=name)


def test_unreadable_summary_falls_back_to_the_gradebook(province, caplog):
    """A summary row that cannot be read (damaged, or written by another version) costs the
    time of reading the gradebook, never the dashboard: the frames are the reference's and
    the operator gets a log line."""
    from sqlalchemy import create_engine, update

    folder, platform, sources, _flagged = province
    summary.refresh(platform, sources)
    engine = create_engine(platform)
    with engine.begin() as conn:
        conn.execute(update(summary.sources_table)
                     .where(summary.sources_table.c.source == summary.source_id(sources[0]))
                     .values(exams=b"not an npz file"))
    engine.dispose()
    new = load(platform, sources)
    assert_frame_equal(new.history, reference_load(platform, sources).history)
    assert "unreadable summary" in caplog.text
