"""The exam course on this machine: where it lives, who owns it, its nbgrader settings.

On an isolated hub:

    <exams root>/            the grader account's, 0700 (the hub may open it to the reports
                             account's group for the gradebook); the desk cannot enter it
        <course_id>/         the nbgrader course (source, release, submitted, gradebook.db…),
                             copied from assessments/exams on first start, then the instructors'
    <exams root>-exchange/   the share: grader:<prefix>grp-exchange 0710, so only the grader
                             account and the desk's account (its group) can enter
        exchange/            nbgrader's exchange (nbgrader makes it 0777; unreachable above)

A hub that does not isolate (one account for everything) keeps the exchange in the exams root.

Root creates these once and never walks them afterwards: every folder below a root-owned
parent is opened with O_NOFOLLOW and changed through its fd, and the course is built in a
private staging folder before it is moved in. What must happen inside the grader's tree later
(due dates, collect, grade) is done by the grading worker, which runs as the grader account.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kynangso.errors import KnsError, SettingsError
from kynangso.settings import Settings

log = logging.getLogger("kns.exams")

STRICT_PREPROCESSOR = "assessments.grading.strict.RemoveAddedCells"
ANSWER_KEYS_PREPROCESSOR = "assessments.grading.keys.AnswerKeys"
KEYS_FILE = "answer_keys.py"  # the grader's answer keys (assessments/exams/answer_keys.py)
# nbgrader's own sanitize preprocessors, in its order; ours go in between (strict grading) and
# last (the answer keys).
NBGRADER_SANITIZE = ("nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",
                     "nbgrader.preprocessors.OverwriteKernelspec",
                     "nbgrader.preprocessors.OverwriteCells", "nbgrader.preprocessors.CheckCellMetadata")


def sanitize_config(*preprocessors: str) -> str:
    """`c.Autograde.sanitize_preprocessors = [...]`, one per line."""
    return ("c.Autograde.sanitize_preprocessors = [\n"
            + "".join(f'    "{name}",\n' for name in preprocessors) + "]\n")


STRICT_CONFIG = (
    "# Strict grading of widget exams (issue 14): cells that are not in the released notebook are\n"
    "# removed before execution and the submission is flagged (assessments/grading/strict.py).\n"
    "# Put back at every start of the hub if this line is missing.\n"
    + sanitize_config(NBGRADER_SANITIZE[0], STRICT_PREPROCESSOR, *NBGRADER_SANITIZE[1:],
                      ANSWER_KEYS_PREPROCESSOR))


def answer_keys_config(keys_file) -> str:
    """The config of a course graded with the grader's answer keys and without strict grading
    (the demo results, the equivalence checks with nbgrader, the grading benchmark)."""
    return (sanitize_config(*NBGRADER_SANITIZE, ANSWER_KEYS_PREPROCESSOR)
            + f"c.AnswerKeys.keys_file = {str(keys_file)!r}\n")


# Courses made before the answer keys moved to the grader get this line (ensure_answer_keys).
ANSWER_KEYS_CONFIG = f'''\
# Answer keys of simulation tasks (issue 14): computed by the grader from the variant secret
# and this folder's answer_keys.py, written into the hidden tests (assessments/grading/keys.py).
c.Autograde.sanitize_preprocessors.append("{ANSWER_KEYS_PREPROCESSOR}")
'''

# The gradebook's database (exams.gradebook_url), read from the settings at each run: every
# nbgrader app, formgrader and `kns grade` then use the same one, and no password is written here.
GRADEBOOK_CONFIG = """\
# The gradebook's database: settings exams.gradebook_url, else gradebook.db in this folder.
from kynangso.exams.course import configured_gradebook_url  # noqa: E402
c.CourseDirectory.db_url = configured_gradebook_url(c.CourseDirectory.root)
"""


NBGRADER_CONFIG = '''\
# Written by Kỹ Năng Số at first start; instructors may edit it (it is not overwritten).
c = get_config()  # noqa: F821
c.CourseDirectory.root = {course!r}
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.Exchange.path_includes_course = False
''' + GRADEBOOK_CONFIG + '''# Submission times come from the exam desk's clock, in UTC.
c.Exchange.timezone = "UTC"
# A submission accepted after the window closed scores 0 (policy "accept_zero").
c.LateSubmissionPlugin.penalty_method = "zero"
c.Execute.timeout = 120
# Learners' code runs in a sandbox: no network, only its own notebook folder (issue 13).
c.Execute.kernel_manager_class = "assessments.grading.sandbox.SandboxKernelManager"
''' + STRICT_CONFIG + '''# Feedback never shows hidden tests (nbgrader #917, #1363) nor tracebacks of test cells.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "kynangso.exams.feedback.HideTestDetails",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# Learners' HTML (markdown answers, outputs) is sanitised in formgrader and feedback pages.
c.HTMLExporter.preprocessors = ["kynangso.exams.sanitize.LearnerHTML"]
c.ClearSolutions.code_stub = {{"python": "# Phần trả lời của Anh/Chị"}}
'''


EXCHANGE_GROUP = "exchange"  # system_accounts.service_group: the grader and the desk
VARIANT_SECRET = "variant-key"  # in the share: the grader's and the desk's, no learner's


def gradebook_url(configured: str | None, course: Path) -> str:
    """The one answer to "where is this course's nbgrader gradebook?": the setting
    `exams.gradebook_url` when given (PostgreSQL), else gradebook.db in the course folder."""
    return configured or f"sqlite:///{Path(course) / 'gradebook.db'}"


def configured_gradebook_url(course: str | os.PathLike) -> str:
    """The gradebook URL as the course's nbgrader_config.py asks for it: from the settings the
    process was started with ($KNS_SETTINGS), read at each run so that no password is written
    into the course folder."""
    from kynangso.settings import load_settings

    return gradebook_url(load_settings()["exams"]["gradebook_url"], Path(course))


@dataclass(frozen=True)
class ExamPlaces:
    root: Path
    course_id: str
    shared: bool = False  # isolated: the exchange sits in its own share, outside the root
    gradebook: str | None = None  # exams.gradebook_url (None: the SQLite file in the course)

    @property
    def course(self) -> Path:
        return self.root / self.course_id

    @property
    def share(self) -> Path:
        return self.root.with_name(f"{self.root.name}-exchange") if self.shared else self.root

    @property
    def exchange(self) -> Path:
        return self.share / "exchange"

    @property
    def gradebook_url(self) -> str:
        return gradebook_url(self.gradebook, self.course)

    @property
    def gradebook_file(self) -> Path | None:
        """The SQLite gradebook's file, None when the gradebook is a database server's."""
        return None if self.gradebook else self.course / "gradebook.db"


# The state folder is private to the hub's account (0700), so on an isolated hub the grader
# account's folder lives where it can reach it.
ISOLATED_DEFAULT_ROOT = Path("/var/lib/kynangso/exams")


def places(settings: Settings, isolated: bool) -> ExamPlaces:
    exams = settings["exams"]
    if exams.get("root"):
        root = Path(exams["root"]).expanduser().resolve()
    else:
        root = ISOLATED_DEFAULT_ROOT if isolated else settings.state_dir / "exams"
    return ExamPlaces(root, exams["course_id"], shared=isolated, gradebook=exams.get("gradebook_url"))


def protect_source(source: Path) -> None:
    """The checkout's exam folder holds hidden tests and answer keys: on an isolated hub no
    learner account may enter it (git keeps no folder modes, so this changes nothing tracked)."""
    mode = source.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(source, mode & 0o700)
        log.warning("exam source %s was open to other accounts (%o): now 0700", source, mode)


def git_dirs(checkout: Path) -> list[Path]:
    """The git folders that hold the checkout's objects: `.git`, or for a worktree (`.git` is a
    file) its own git folder and the main checkout's, where the objects live."""
    dot = checkout / ".git"
    if not dot.is_file():
        return [dot]
    gitdir = Path(dot.read_text().split("gitdir:", 1)[-1].strip())
    gitdir = gitdir if gitdir.is_absolute() else checkout / gitdir
    common = gitdir / "commondir"
    if not common.is_file():
        return [gitdir]
    return [gitdir, (gitdir / common.read_text().strip()).resolve()]


def _open_to_others(path: Path) -> bool:
    """Whether an account that neither owns nor shares a non-root group with each folder can
    walk down to `path` (search permission on every folder from / to `path` itself)."""
    for part in [*reversed(path.parents), path]:
        mode, gid = os.stat(part).st_mode, os.stat(part).st_gid
        if not (mode & 0o001 or (gid != 0 and mode & 0o010)):
            return False
    return True


def refuse_readable_sources(checkout: Path, sources: list[Path]) -> None:
    """Isolated hub: no learner account may reach the exams' hidden tests and answer keys,
    neither in the exam folders nor in the checkout's git objects (`git show HEAD:...`). Git
    keeps no folder modes and the hub does not change an operator's repository: refuse to
    start, and say how to close it."""
    found = [p for p in [*git_dirs(checkout), *sources] if p.exists() and _open_to_others(p.resolve())]
    if not found:
        return
    paths = " ".join(str(p) for p in found)
    detail = (f"refusing to start in isolated mode: other accounts can read the exams' answer keys "
              f"in {paths} (checkout {checkout}). Close them: `chmod go-rwx {paths}` (or "
              f"`chmod 0700 {checkout}`), or install the exam course from a private copy "
              f"(exams.course_source) and keep the checkout off this machine or closed. "
              f"See docs/operations.md, 'Exam sources'.")
    log.error("%s", detail)
    raise SettingsError("exams.source_readable", log_detail=detail, paths=paths, checkout=str(checkout))


def _check_reachable(folder: Path) -> None:
    # The grader account must be able to walk down to its own folder.
    for parent in folder.parents:
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            raise SettingsError("exams.root_unreachable", folder=str(folder), parent=str(parent))


def _owned_dir(parent_fd: int, name: str, uid: int, gid: int, mode: int) -> None:
    """Folder `name` in parent_fd, created if missing, never through a link; set to
    uid:gid and `mode` through its own fd."""
    try:
        os.mkdir(name, 0o700, dir_fd=parent_fd)
    except FileExistsError:
        pass
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _accounts(settings: Settings, root: Path) -> tuple[tuple[int, int], int]:
    """The grader's and the desk's accounts (isolated hub): ((grader uid, gid), exchange gid).

    Both are in the exchange group; both reach the platform database and the services'
    settings through the group the hub gives database services."""
    from kynangso.exams import SERVICE_NAME
    from kynangso.hub.system_accounts import (
        ensure_group,
        ensure_subordinate_id,
        ensure_system_account,
        service_account,
        service_group,
    )

    share_group = service_group(settings, EXCHANGE_GROUP)
    groups = (share_group, service_group(settings, "platformdb"))
    grader = ensure_system_account(settings["exams"]["grader_account"], root, groups)
    ensure_subordinate_id(settings["exams"]["grader_account"])
    ensure_system_account(service_account(settings, SERVICE_NAME), "/nonexistent", groups)
    return grader, ensure_group(share_group)


def prepare(settings: Settings, isolated: bool, default_source: Path) -> ExamPlaces:
    """Create the exam root, the accounts and the course on first start (idempotent).

    `default_source` is the checkout's `assessments/exams` (never installed: see pyproject).
    Root creates what is missing and walks nothing the grader account owns."""
    where = places(settings, isolated)
    src = Path(settings["exams"].get("course_source") or default_source)
    if isolated and src.is_dir():
        protect_source(src)
    if isolated:
        refuse_readable_sources(default_source.parents[1], [default_source, src])
    owner, share_gid = (os.getuid(), os.getgid()), os.getgid()
    if isolated:
        _check_reachable(where.root)
        owner, share_gid = _accounts(settings, where.root)
    where.root.parent.mkdir(parents=True, exist_ok=True)
    parent = os.open(where.root.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if not os.path.lexists(where.root):
            _owned_dir(parent, where.root.name, *owner, 0o700)
        if isolated:  # the share, re-set at every start through its fd (a link is refused)
            _owned_dir(parent, where.share.name, owner[0], share_gid, 0o710)
    finally:
        os.close(parent)
    keys = (src / KEYS_FILE).read_bytes() if (src / KEYS_FILE).is_file() else None
    if not os.path.lexists(where.course):
        _install_course(where, src, owner)
    elif isolated:
        as_account(owner, _move_legacy_exchange, where)
        as_account(owner, ensure_strict_grading, where)
        as_account(owner, ensure_answer_keys, where, keys)
        as_account(owner, ensure_gradebook_config, where)
    else:
        ensure_strict_grading(where)
        ensure_answer_keys(where, keys)
        ensure_gradebook_config(where)
    share = os.open(where.share, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if not os.path.lexists(where.exchange):
            # Formgrader shows its Release and Collect buttons only once the exchange exists,
            # and only a release creates it: made here so that the first release can be done
            # on its page. nbgrader's own mode (the share above is closed to learners).
            _owned_dir(share, "exchange", *owner, 0o777)
        _variant_secret(share, owner[0], share_gid, isolated)
    finally:
        os.close(share)
    return where


def _variant_secret(share: int, uid: int, gid: int, isolated: bool) -> None:
    """The course's variant secret (assessments.questions.identity), made once: the grader
    and the desk read it (isolated: grader:<exchange group> 0640 in the share, which learners
    cannot enter), learners never. Never in release/ nor in nbgrader's exchange."""
    import secrets

    try:
        fd = os.open(VARIANT_SECRET, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600, dir_fd=share)
    except FileExistsError:
        return
    try:
        os.write(fd, secrets.token_hex(32).encode("ascii"))
        if isolated:
            os.fchown(fd, uid, gid)
            os.fchmod(fd, 0o640)
    finally:
        os.close(fd)
    log.info("variant secret of the exam course created")


def variant_secret_path(where: ExamPlaces) -> Path:
    return where.share / VARIANT_SECRET


def ensure_answer_keys(where: ExamPlaces, keys: bytes | None) -> None:
    """As the course's owner: the course's config runs the answer-keys preprocessor, and its
    answer_keys.py is the checkout's (0600: only the grader reads it)."""
    config = where.course / "nbgrader_config.py"
    if os.path.isfile(config) and not os.path.islink(config):
        text = config.read_text(encoding="utf-8")
        if ANSWER_KEYS_PREPROCESSOR not in text:
            with open(config, "a", encoding="utf-8") as fh:
                fh.write(("" if text.endswith("\n") else "\n") + ANSWER_KEYS_CONFIG)
            log.warning("answer keys computed by the grader: added to %s", config)
    if keys is None:
        return
    target = where.course / KEYS_FILE
    if os.path.islink(target) or (target.is_file() and target.read_bytes() == keys):
        return
    tmp = target.with_name(f".{KEYS_FILE}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(keys)
    os.replace(tmp, target)


def as_account(owner: tuple[int, int], action, *args) -> bool:
    """Run `action(*args)` in a child that has dropped to uid/gid `owner` (for changes inside
    a tree that account owns: root never walks it). A failure is logged and returns False (the
    hub starts anyway)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(owner[1])
            os.setuid(owner[0])
            action(*args)
            code = 0
        except BaseException:  # noqa: BLE001 - reported by the exit code, logged here
            log.exception("%s failed", action.__name__)
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        log.error("%s did not complete (see above)", action.__name__)
        return False
    return True


def _move_legacy_exchange(where: ExamPlaces) -> None:
    """As the grader: an install from before the share kept nbgrader's exchange inside the
    exam root; move it to the share and point the course's nbgrader_config.py at it."""
    old = where.root / "exchange"
    if not os.path.isdir(old) or os.path.islink(old) or os.path.lexists(where.exchange):
        return
    os.rename(old, where.exchange)
    config = where.course / "nbgrader_config.py"
    if os.path.isfile(config) and not os.path.islink(config):
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace(repr(str(old)), repr(str(where.exchange))), encoding="utf-8")
    log.warning("exam exchange moved from %s to %s (the desk's share)", old, where.exchange)


def ensure_gradebook_config(where: ExamPlaces) -> None:
    """As the course's owner: a course made before exams.gradebook_url (or whose config lost
    it) gets the gradebook line appended to its nbgrader_config.py."""
    config = where.course / "nbgrader_config.py"
    if not os.path.isfile(config) or os.path.islink(config):
        return
    text = config.read_text(encoding="utf-8")
    if "configured_gradebook_url" in text:
        return
    with open(config, "a", encoding="utf-8") as fh:
        fh.write(("" if text.endswith("\n") else "\n") + GRADEBOOK_CONFIG)
    log.warning("gradebook URL from the settings added to %s", config)


def ensure_strict_grading(where: ExamPlaces) -> None:
    """As the course's owner: a course installed before strict grading (or whose config lost
    it) gets the strict sanitize preprocessors appended to its nbgrader_config.py."""
    config = where.course / "nbgrader_config.py"
    if not os.path.isfile(config) or os.path.islink(config):
        return
    text = config.read_text(encoding="utf-8")
    if STRICT_PREPROCESSOR in text:
        return
    with open(config, "a", encoding="utf-8") as fh:
        fh.write(("" if text.endswith("\n") else "\n") + STRICT_CONFIG)
    log.warning("strict grading of widget exams added to %s", config)


def _install_course(where: ExamPlaces, src: Path, owner: tuple[int, int]) -> None:
    """Copy the course into a private staging folder beside the root (root's parent is root's
    own), hand it to the grader, then move it in whole."""
    staging = Path(tempfile.mkdtemp(prefix=f".{where.course_id}.", dir=where.root.parent)) / "course"
    try:
        shutil.copytree(src, staging, symlinks=True, ignore=shutil.ignore_patterns(
            "__pycache__", "*.py", "release", "submitted", "autograded", "feedback", "gradebook.db"))
        if (src / KEYS_FILE).is_file():  # the grader's answer keys: the one .py file it needs
            shutil.copyfile(src / KEYS_FILE, staging / KEYS_FILE)
            os.chmod(staging / KEYS_FILE, 0o600)
        (staging / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(
            course=str(where.course), course_id=where.course_id, exchange=str(where.exchange)))
        for folder, dirs, files in os.walk(staging):  # root's private copy: nothing to follow
            for name in [*dirs, *files]:
                os.chown(os.path.join(folder, name), *owner, follow_symlinks=False)
        os.chown(staging, *owner)
        os.chmod(staging, 0o700)
        os.rename(staging, where.course)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    log.info("exam course installed in %s from %s", where.course, src)


def set_duedate(where: ExamPlaces, exam: str, due: dt.datetime,
                own: dict[str, dt.datetime] | None = None) -> None:
    """Write the exam's due date (the latest window close, which formgrader shows) into the
    gradebook, and each learner's own due date (`own`: from the desk's record of their
    window, kynangso.exams.windows.lateness) as an extension of their submission, which may be
    negative. nbgrader's late penalty reads the learner's own due date, so one group's window
    never decides another group's lateness. A submission not yet in the gradebook is created
    once it has been collected (autograde keeps the extension), never before.

    Run by the grading worker as the grader account. A gradebook that is not a regular file
    (a link planted in the course folder) is refused rather than followed."""
    from nbgrader.api import Gradebook, MissingEntry

    path = where.gradebook_file
    try:
        info = os.lstat(path) if path is not None else None
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        log.error("gradebook %s is not a regular file: due date of %s not written", path, exam)
        raise KnsError("exams.gradebook_not_file", exam=exam)

    def naive(when: dt.datetime) -> dt.datetime:  # the gradebook keeps naive UTC
        return when.astimezone(dt.UTC).replace(tzinfo=None)

    with Gradebook(where.gradebook_url, course_id=where.course_id) as gb:
        gb.update_or_create_assignment(exam, duedate=naive(due))
        for student, when in sorted((own or {}).items()):
            extension = naive(when) - naive(due)
            try:
                gb.find_submission(exam, student)
            except MissingEntry:
                if not (where.course / "submitted" / student / exam).is_dir():
                    continue  # not collected: autograde will not create it either
                gb.update_or_create_student(student)
            gb.update_or_create_submission(exam, student, extension=extension)
            log.info("due date of %s for %s: %s (extension %s)", exam, student,
                     naive(when).isoformat(), extension)
