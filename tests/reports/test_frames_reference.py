"""Are the reports' frames after the speed work (issue 15) identical to the reference, the
computation of before (tests/reports/reference_frames.py), on a generated office?

The office has what a province's data has in small: many people and departments, three periods,
absentees, a person deleted from the directory, a late submission with nbgrader's penalty, a
written task still waiting for its manual grade, an item without a competence tag, lessons done.
Each frame is compared computed fresh, written to the frame cache, and read back from it; and
again after a grade changes in the gradebook (the cache must not serve the old frame).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from reference_frames import reference_levels, reference_load, reference_needs
from sqlalchemy import create_engine, insert, select, update

from courses.catalogue import load_catalogue
from kynangso.db import upgrade
from kynangso.models import Department, ProgressEvent, Staff
from reports import downloads, views
from reports.data import GradebookSource, load
from reports.demo import Item, _gradebook, add_exam, bulk_results

STAFF, PERIODS = 150, 3
LEVELS = ("co_ban", "thanh_thao", "nang_cao")
POSITIONS = ("Chuyên viên", "Văn thư", "Công chức một cửa", "Trưởng phòng", "Kế toán")
FRAMES = ("staff", "periods", "items", "results", "history", "exams", "lessons", "courses")


def build_office(folder):
    from assessments.competency import load_framework

    rng = random.Random(15)
    platform = f"sqlite:///{folder / 'kns.sqlite'}"
    upgrade(platform)
    eng = create_engine(platform)
    now = datetime(2026, 10, 1, tzinfo=UTC)
    with eng.begin() as conn:
        conn.execute(insert(Department.__table__),
                     [{"id": i + 1, "name": f"Đơn vị {i + 1:02d}", "created_at": now} for i in range(7)])
        conn.execute(insert(Staff.__table__), [
            {"code": f"CB{i:04d}", "username": f"cb{i:04d}", "full_name": f"Cán bộ {i:04d}",
             "position": POSITIONS[i % len(POSITIONS)], "department_id": i % 7 + 1, "email": None,
             "role": "hocvien", "active": i % 23 != 0, "created_at": now, "updated_at": now}
            for i in range(STAFF)])  # cb0150..: graded, but not in the directory
        lessons = [(c.id, lesson.id) for c in load_catalogue().courses for lesson in c.lessons]
        events = []
        for i in range(STAFF):
            for n, (course, lesson) in enumerate(rng.sample(lessons, rng.randint(0, len(lessons)))):
                events.append({"event_id": f"e{i}-{n}", "username": f"cb{i:04d}",
                               "kind": "lesson_completed", "course_id": course, "lesson_id": lesson,
                               "occurred_at": now - timedelta(minutes=n), "received_at": now,
                               "judged": True})
        conn.execute(insert(ProgressEvent.__table__), events)
    eng.dispose()

    comps = list(load_framework().competences)
    items = [Item(f"cau-{n:02d}", comps[n % len(comps)], LEVELS[n % 3], float(1 + n % 3))
             for n in range(14)]
    course = folder / "thi-nang-luc"
    course.mkdir()
    gb = f"sqlite:///{course / 'gradebook.db'}"
    for p in range(PERIODS):
        due = datetime(2026, 3, 31, tzinfo=UTC) + timedelta(days=120 * p)
        add_exam(course, gb, f"ky-{p + 1}", due, items)
        graded = [it.grade_id for it in items]
        if p == 0:
            # An item with no competence tag in the exam notebook: reported as a problem, left out.
            with _gradebook(gb) as g:
                g.add_grade_cell("khong-gan-the", "bai-thi", "ky-1", max_score=1, cell_type="code")
            graded.append("khong-gan-the")
        scores = {f"cb{i:04d}": {gid: round((1 + n % 3) * min(1.0, rng.random() * 1.3), 1)
                                 for n, gid in enumerate(graded)}
                  for i in range(STAFF + 3) if rng.random() > 0.1}
        bulk_results(gb, f"ky-{p + 1}", scores, due - timedelta(days=1))
    with _gradebook(gb) as g:
        sub = g.find_submission_notebook("bai-thi", "ky-2", next(iter(_graded(g, "ky-2"))))
        sub.late_submission_penalty = 3.0  # late: nbgrader's penalty on this notebook
        pending = g.find_grade("cau-01", "bai-thi", "ky-3", next(iter(_graded(g, "ky-3"))))
        pending.needs_manual_grade = True  # a written task still waiting for the instructor
        pending.manual_score = None
        g.db.commit()
    return platform, [GradebookSource(gb, course)]


def _graded(g, assignment):
    return sorted(s.student_id for s in g.assignment_submissions(assignment))


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    folder = tmp_path_factory.mktemp("office")
    return folder, *build_office(folder)


def assert_same(new, ref):
    for name in FRAMES:
        assert_frame_equal(getattr(new, name), getattr(ref, name), obj=name)
    assert new.problems == ref.problems
    for period in [None, *ref.period_ids]:
        assert_frame_equal(new.levels(period), reference_levels(ref, period), obj=f"levels {period}")
        assert_frame_equal(new.needs(period), reference_needs(ref, period), obj=f"needs {period}")
        full = reference_levels(ref, period)
        for person in ("cb0001", "cb0007", "cb0151"):
            mine = new.person_levels(person, period)
            want = full[full["username"] == person][mine.columns]
            assert_frame_equal(mine.reset_index(drop=True), want.reset_index(drop=True),
                               obj=f"person levels {person} {period}")
        # The overview's tables, built from levels without evidence.
        tables = downloads.overview_tables(new, period=period)
        staff = downloads.overview_staff(ref)
        lv = full[full["username"].isin(staff["username"])]
        assert_frame_equal(tables[list(tables)[0]], views.distribution(ref, lv))
        assert_frame_equal(tables[list(tables)[1]], views.heatmap(ref, lv))


def test_frames_identical_to_reference_fresh_and_cached(office, tmp_path):
    """Fresh, written to the cache, read back from it: every frame equals the reference."""
    _folder, platform, sources = office
    ref = reference_load(platform, sources)
    assert len(ref.results) > 5000 and ref.problems  # the office has what it should
    assert (ref.staff["in_directory"] == False).any()  # noqa: E712
    cache = tmp_path / "cache"
    assert_same(load(platform, sources), ref)
    assert_same(load(platform, sources, cache_dir=cache), ref)  # computed, then written
    assert len(list(cache.glob("*.pickle"))) == 1
    assert_same(load(platform, sources, cache_dir=cache), ref)  # read back


def test_cache_follows_the_gradebook(office, tmp_path):
    """After a grade changes, does a load through the cache give the new frames?"""
    _folder, platform, sources = office
    cache = tmp_path / "cache"
    before = load(platform, sources, cache_dir=cache)
    # Grades are read when first used (the summary serves the tables): read them now.
    earned_before = before.results["earned"].sum()
    engine = create_engine(sources[0].db_url)
    from nbgrader.api import Grade

    with engine.begin() as conn:
        gid = conn.scalar(select(Grade.id).where(Grade.auto_score > 0).limit(1))
        conn.execute(update(Grade).where(Grade.id == gid).values(auto_score=0.0))
    engine.dispose()
    after = load(platform, sources, cache_dir=cache)
    assert after.results["earned"].sum() < earned_before
    assert after.history["earned"].sum() < before.history["earned"].sum()  # summary rebuilt
    assert_same(after, reference_load(platform, sources))
    assert len(list(cache.glob("*.pickle"))) == 2


def test_cache_refuses_a_folder_others_may_write(office, tmp_path):
    """A cache folder others could write (pickles run code when read) is not used."""
    _folder, platform, sources = office
    cache = tmp_path / "open"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    data = load(platform, sources, cache_dir=cache)
    assert not list(cache.glob("*.pickle"))
    assert isinstance(data.results, pd.DataFrame) and len(data.results)
