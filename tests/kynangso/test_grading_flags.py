"""Grading flags in the platform database: what the worker records from `kns grade`'s report."""

from kynangso.exams import flags


def report(graded, failed=(), problems=()):
    return {"graded": list(graded), "failed": list(failed), "problems": list(problems)}


def problem(student, kind, fatal=False, notebook="exam", detail=""):
    return {"student": student, "notebook": notebook, "kind": kind, "fatal": fatal, "detail": detail}


def test_flags_of_graded_learners_are_stored_and_fatal_ones_are_not(db_url):
    stored = flags.record(db_url, "van-ban", report(
        ["hv1", "hv2"], ["hv3"],
        [problem("hv1", "added_cells", detail="«g._score = …»"), problem("hv1", "timeout"),
         problem("hv3", "corrupt", fatal=True)]))
    assert stored == 2
    assert [(f["username"], f["kind"]) for f in flags.of(db_url)] == [
        ("hv1", "added_cells"), ("hv1", "timeout")]
    assert flags.of(db_url, "hv2") == []


def test_regrading_a_learner_replaces_their_flags_only(db_url):
    flags.record(db_url, "van-ban", report(["hv1", "hv2"], problems=[
        problem("hv1", "added_cells"), problem("hv2", "edited_cell")]))
    flags.record(db_url, "van-ban", report(["hv1"]))  # hv1 regraded, clean this time
    flags.record(db_url, "tong-hop", report(["hv1"], problems=[problem("hv1", "timeout")]))
    assert [(f["exam"], f["username"], f["kind"]) for f in flags.of(db_url)] == [
        ("van-ban", "hv2", "edited_cell"), ("tong-hop", "hv1", "timeout")]
