"""The demo exam course for `make run`: the real exams, simulated learners, the real grading
pipeline, clearly labelled sample data, read by the real reports layer.

Built once for the session (it grades ~80 exam notebooks with the grading engine): the
`demo_build` fixture of tests/conftest.py, which reuses what tests/hub/test_make_run.py's
background build left in the session's demo cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kynangso.settings import load_settings
from reports.data import load, sources_from_settings
from reports.demo import (
    DEMO_COURSE,
    DEMO_EXAMS,
    DEMO_PERIODS,
    _gradebook,
    build_demo_gradebook,
    demo_assignment,
    demo_learners,
    demo_quality,
    demo_releases,
    takes,
)

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = {demo_assignment(e, p) for e, p in demo_releases()}


def demo_settings(state: Path, **exams):
    return load_settings(overrides={"state_dir": str(state),
                                    "exams": {"root": str(state / "exams"), **exams}})


@pytest.fixture(scope="module")
def demo(demo_build):
    """(settings, course folder, how it was made): the demo built once per session
    (tests/conftest.py, shared with test_make_run)."""
    return demo_build


@pytest.fixture(scope="module")
def scores(demo):
    """{(assignment, learner): (score, max score)} from nbgrader's gradebook."""
    _settings, course, _ = demo
    out = {}
    with _gradebook(f"sqlite:///{course / 'gradebook.db'}", DEMO_COURSE) as gb:
        for name in ASSIGNMENTS:
            for sub in gb.assignment_submissions(name):
                out[(name, sub.student_id)] = (sub.score, sub.max_score)
    return out


@pytest.fixture(scope="module")
def report(demo):
    """What the reports read from the demo's settings."""
    settings, _course, _ = demo
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("KNS_REPORTS_GRADEBOOKS", raising=False)
        return load(*sources_from_settings(settings))


def test_demo_course_labelled_and_idempotent(demo):
    """Is the demo course named MẪU, in the state folder, and left alone when built again?"""
    settings, course, how = demo
    print(f"demo course {how}")
    assert course == settings.state_dir / "exams" / DEMO_COURSE and "MAU" in course.name
    db = course / "gradebook.db"
    before = db.stat().st_mtime_ns
    assert build_demo_gradebook(settings) == course
    assert db.stat().st_mtime_ns == before
    # Built aside and moved into place: no half-made folder is left behind.
    assert [p.name for p in settings.state_dir.iterdir() if p.name.startswith(".")] == []


def test_demo_has_every_exam_twice_with_due_dates(demo):
    """Are the real exams released under two periods each, with the periods' due dates?"""
    _settings, course, _ = demo
    with _gradebook(f"sqlite:///{course / 'gradebook.db'}", DEMO_COURSE) as gb:
        dues = {a.name: a.duedate for a in gb.assignments}
        notebooks = {a.name: [nb.name for nb in a.notebooks] for a in gb.assignments}
    assert set(dues) == ASSIGNMENTS
    due_of = dict(DEMO_PERIODS)
    for exam, period in demo_releases():
        name = demo_assignment(exam, period)
        assert dues[name] == due_of[period].replace(tzinfo=None)
        assert notebooks[name] == [exam]  # the notebook (and its Exam id) stay the exam's
        assert (course / "release" / name / f"{exam}.ipynb").exists()
    # Every exam in period 2; the e-mail exam (newer, DEMO_ONLY) not in period 1.
    assert {e for e, p in demo_releases() if p == 2} == set(DEMO_EXAMS)
    assert "thu-dien-tu" not in {e for e, p in demo_releases() if p == 1}


def test_every_present_learner_has_a_submission(scores):
    """Has every demo learner a graded submission in period 2, and the absent ones none in 1?"""
    learners = demo_learners()
    for exam, period in demo_releases():
        expected = {u for i, u in enumerate(learners)
                    if takes(exam, i) and demo_quality(i, 0, period) is not None}
        assert {u for (a, u) in scores if a == demo_assignment(exam, period)} == expected
        if period == 1:
            assert expected != set(learners)  # somebody absent
    assert {u for (a, u) in scores if a == demo_assignment("thu-dien-tu", 2)} == set(learners[::2])


def test_scores_follow_quality(scores):
    """Does the real grading give full marks to correct answers, some to partial ones and
    none to wrong or blank ones (written tasks marked likewise)?"""
    learners = demo_learners()
    seen = set()
    for (assignment, user), (score, max_score) in scores.items():
        exam, period = assignment.rsplit("-ky-", 1)
        quality = demo_quality(learners.index(user), DEMO_EXAMS.index(exam), int(period))
        seen.add(quality)
        if quality == "correct":
            assert score == max_score, (assignment, user)
        elif quality == "partial":
            assert 0 < score < max_score, (assignment, user)
        else:
            assert score == 0, (assignment, user)
    assert seen == {"correct", "partial", "wrong", "blank"}


def test_written_tasks_are_marked(demo):
    """Is no grade of the demo left waiting for a manual mark?"""
    _settings, course, _ = demo
    with _gradebook(f"sqlite:///{course / 'gradebook.db'}", DEMO_COURSE) as gb:
        for name in ASSIGNMENTS:
            for sub in gb.assignment_submissions(name):
                assert not sub.needs_manual_grade, (name, sub.student_id)


def test_reports_read_the_demo(report):
    """Do the reports find the demo from the settings and compute varied levels from it:
    the strong learner above the weak one, a training need for the weak Văn thư?"""
    assert set(report.periods["assignment"]) == ASSIGNMENTS
    assert report.problems == []
    levels = report.levels()
    assessed = levels[levels["level"].notna()]
    assert set(assessed["username"]) == set(demo_learners())
    assert assessed["level"].nunique() >= 3
    rank = assessed.groupby("username")["rank"].sum()
    assert rank["hocvien01"] > rank["hocvien04"]  # always correct vs mostly wrong
    assert "Văn thư" in set(report.needs()["position"])


def test_hr_sees_the_email_competences_of_whoever_took_the_email_exam(report, scores):
    """Does a learner graded on thu-dien-tu get a level in each competence of area TD from
    that exam, with its items as evidence, shown on the HR profile page and in the overview,
    while someone who did not take it has none there (and their profile still opens)?"""
    from reports.dashboard import Overview, Profile

    took = sorted(u for (a, u) in scores if a == demo_assignment("thu-dien-tu", 2))
    td = [c for c in report.framework.competences if c.startswith("TD.")]
    assert td == ["TD.1", "TD.2", "TD.3", "TD.4"]
    mine = report.person_levels(took[0]).set_index("competence").loc[td]
    assert mine["level"].notna().all(), mine
    assert set(mine["period_id"]) == {f"{DEMO_COURSE}/{demo_assignment('thu-dien-tu', 2)}"}
    assert "Thực hành nhận biết thư lừa đảo" in mine.loc["TD.1", "items"]
    others = sorted(set(demo_learners()) - set(took))
    assert others and report.person_levels(others[0]).set_index(
        "competence").loc[td, "level"].isna().all()

    view = Profile(report, "VP")
    view.person.value = took[0]
    body = view.body.value
    for c in td:
        assert c in body and report.framework.competence(c).name in body
    assert report.framework.level_name(mine.loc["TD.1", "level"]) in body
    assert "thư điện tử công vụ và an toàn thông tin – kỳ 2" in body
    assert "TD.1" in Overview(report, "VP").body.value
    view.person.value = "giangvien01"  # no exam at all: the page opens, empty
    assert "TD.1" in view.body.value


def test_demo_learners_improve_in_period_2(report):
    """Is the average exam result of period 2 above that of period 1?"""
    e = report.exams.merge(report.periods[["period_id", "assignment"]], on="period_id")
    first = e[e["assignment"].str.endswith("-ky-1")]["percent"].mean()
    second = e[e["assignment"].str.endswith("-ky-2")]["percent"].mean()
    assert second > first


def test_sources_found_once_in_live_and_demo_roots(tmp_path, monkeypatch):
    """Are gradebooks found in the live exam root and in the state folder's exams (the demo),
    each once when both are the same folder, and never a course being built?"""
    monkeypatch.delenv("KNS_REPORTS_GRADEBOOKS", raising=False)
    monkeypatch.delenv("KNS_STATE_DIR", raising=False)
    state = tmp_path / "state"
    for folder in ("kiem-tra-nang-luc", DEMO_COURSE, ".kiem-tra-MAU-x1"):
        (state / "exams" / folder).mkdir(parents=True)
        (state / "exams" / folder / "gradebook.db").touch()
    live = tmp_path / "live"
    (live / "khoa-khac").mkdir(parents=True)
    (live / "khoa-khac" / "gradebook.db").touch()

    _, same = sources_from_settings(demo_settings(state))
    assert sorted(s.name for s in same) == [DEMO_COURSE, "kiem-tra-nang-luc"]
    _, both = sources_from_settings(demo_settings(state, root=str(live)))
    assert sorted(s.name for s in both) == ["khoa-khac", DEMO_COURSE, "kiem-tra-nang-luc"]


def test_missing_exam_source_is_explained(tmp_path, monkeypatch):
    """Without the exam course to copy, is the operator told where it was looked for?"""
    from kynangso.errors import KnsError

    monkeypatch.delenv("KNS_STATE_DIR", raising=False)

    with pytest.raises(KnsError) as err:
        build_demo_gradebook(demo_settings(tmp_path / "state"), exams_source=tmp_path / "none")
    assert str(tmp_path / "none") in err.value.user_message
    assert not (tmp_path / "state" / "exams" / DEMO_COURSE).exists()
