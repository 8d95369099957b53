"""The exam course on this machine: where it lives, who owns it, its nbgrader settings.

    <exams root>/            0700, owned by the grader account (learners cannot enter)
        <course_id>/         the nbgrader course (source, release, submitted, gradebook.db…),
                             copied from assessments/exams on first start, then the instructors'
        exchange/            nbgrader's exchange (made 0777 by nbgrader; unreachable above)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kynangso.errors import SettingsError
from kynangso.settings import Settings

log = logging.getLogger("kns.exams")

NBGRADER_CONFIG = '''\
# Written by Kỹ Năng Số at first start; instructors may edit it (it is not overwritten).
c = get_config()  # noqa: F821
c.CourseDirectory.root = {course!r}
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.Exchange.path_includes_course = False
# Submission times come from the exam desk's clock, in UTC.
c.Exchange.timezone = "UTC"
# A submission accepted after the window closed scores 0 (policy "accept_zero").
c.LateSubmissionPlugin.penalty_method = "zero"
c.Execute.timeout = 120
# Learners' code runs in a sandbox: no network, only its own notebook folder (issue 13).
c.Execute.kernel_manager_class = "assessments.grading.sandbox.SandboxKernelManager"
# Feedback never shows hidden tests (nbgrader #917, #1363) nor tracebacks of test cells.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "kynangso.exams.feedback.HideTestDetails",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.ClearSolutions.code_stub = {{"python": "# Phần trả lời của Anh/Chị"}}
'''


@dataclass(frozen=True)
class ExamPlaces:
    root: Path
    course_id: str

    @property
    def course(self) -> Path:
        return self.root / self.course_id

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.course / 'gradebook.db'}"


# The state folder is private to the hub's account (0700), so on an isolated hub the grader
# account's folder lives where it can reach it.
ISOLATED_DEFAULT_ROOT = Path("/var/lib/kynangso/exams")


def places(settings: Settings, isolated: bool) -> ExamPlaces:
    exams = settings["exams"]
    if exams.get("root"):
        root = Path(exams["root"]).expanduser().resolve()
    else:
        root = ISOLATED_DEFAULT_ROOT if isolated else settings.state_dir / "exams"
    return ExamPlaces(root, exams["course_id"])


def protect_source(source: Path) -> None:
    """The checkout's exam folder holds hidden tests and answer keys: on an isolated hub no
    learner account may enter it (git keeps no folder modes, so this changes nothing tracked)."""
    mode = source.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(source, mode & 0o700)
        log.warning("exam source %s was open to other accounts (%o): now 0700", source, mode)


def grader_owner(settings: Settings, isolated: bool) -> tuple[int, int] | None:
    """uid/gid of the grader account on an isolated hub, None otherwise."""
    if not isolated:
        return None
    try:
        entry = pwd.getpwnam(settings["exams"]["grader_account"])
    except KeyError:  # the hub has not run yet: nothing of the course exists to own
        return None
    return entry.pw_uid, entry.pw_gid


def ensure_grader_account(name: str, home: Path) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", str(home), "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(name)
        log.info("created grader account %s", name)
    return entry.pw_uid, entry.pw_gid


def _check_reachable(folder: Path) -> None:
    # The grader account must be able to walk down to its own folder.
    for parent in folder.parents:
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            raise SettingsError("exams.root_unreachable", folder=str(folder), parent=str(parent))


def prepare(settings: Settings, isolated: bool, default_source: Path) -> ExamPlaces:
    """Create the exam root, the grader account and the course on first start (idempotent).

    `default_source` is the checkout's `assessments/exams` (never installed: see pyproject)."""
    where = places(settings, isolated)
    src = Path(settings["exams"].get("course_source") or default_source)
    if isolated and src.is_dir():
        protect_source(src)
    owner = None
    if isolated:
        _check_reachable(where.root)
        owner = ensure_grader_account(settings["exams"]["grader_account"], where.root)
    where.root.mkdir(parents=True, exist_ok=True)
    os.chmod(where.root, 0o700)
    if not where.course.exists():
        staging = where.root / f".{where.course_id}.new"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(src, staging, ignore=shutil.ignore_patterns(
            "__pycache__", "*.py", "release", "submitted", "autograded", "feedback", "gradebook.db"))
        (staging / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(
            course=str(where.course), course_id=where.course_id, exchange=str(where.exchange)))
        os.rename(staging, where.course)
        log.info("exam course installed in %s from %s", where.course, src)
    if not where.exchange.exists():
        # Formgrader shows its Release and Collect buttons only once the exchange exists, and
        # only a release creates it: made here so the first release can be done on its page.
        # nbgrader's own mode (the exam root above is 0700).
        where.exchange.mkdir()
        os.chmod(where.exchange, 0o777)
    if owner:
        for path in [where.root, *where.root.rglob("*")]:
            if path.lstat().st_uid != owner[0]:
                os.chown(path, *owner, follow_symlinks=False)
    return where


def set_duedate(where: ExamPlaces, exam: str, due: dt.datetime,
                owner: tuple[int, int] | None) -> None:
    """Write the exam's due date (= window close) into the gradebook, for late penalties."""
    from nbgrader.api import Gradebook

    existed = (where.course / "gradebook.db").exists()
    with Gradebook(where.gradebook_url, course_id=where.course_id) as gb:
        gb.update_or_create_assignment(exam, duedate=due.astimezone(dt.UTC).replace(tzinfo=None))
    if owner and not existed:
        os.chown(where.course / "gradebook.db", *owner)
