"""Security issue 13, part 4: learner code is graded in a sandbox.

The attacker is a learner who adds a code cell to an exam submission. The platform grades it as
the exams service does (`runuser -u <grader account> -- kns grade EXAM`, in a course folder laid
out and configured by kynangso.exams.course: 0700, owned by the grader account), or with
`nbgrader autograde` under the platform's nbgrader_config. The added cell tries to:

(a) read the exam's source (hidden tests), its release and another learner's submission;
(b) write gradebook.db and another learner's submission;
(c) connect to a listener on 127.0.0.1 started by this test, and resolve a name;
(d) leave a double-forked child behind that writes a marker file after grading;
(e) read a token from the grading process's environment (JUPYTERHUB_API_TOKEN);
(f) run as the grader account's uid outside the sandbox (whatever escaped the sandbox would
    then own the course, the gradebook and the other submissions): a process the cell starts is
    watched from outside, and its uid must be one that owns nothing.

Every test fails if one attack succeeds. Real accounts, real bwrap, real nbgrader; no hub is
started: the exams service only runs these two commands as the grader account.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from kynangso.exams.course import NBGRADER_CONFIG
from kynangso.hub.system_accounts import ensure_subordinate_id, ensure_system_account

pytestmark = [pytest.mark.slow(130),
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root: real Unix accounts")]

BIN = os.path.dirname(sys.executable)
EXAM = "atk"
HIDDEN = "HIDDEN-TEST-" + secrets.token_hex(4)  # only in the exam's source (a hidden test)
VICTIM_ANSWER = "VICTIM-ANSWER-" + secrets.token_hex(4)
TOKEN = "hub-token-" + secrets.token_hex(8)
# A double-forked child sleeps this long before writing its marker; the test then waits longer,
# generously, so a loaded machine cannot make a surviving child look dead.
CHILD_SLEEP_S = 4
MARKER_WAIT_S = 12
# The attacker's cell runs `sleep UID_PROBE` (a value no other process has), watched from
# outside for its uid while it sleeps; 3 s is long against a 0.05 s watch, even when loaded.
UID_PROBE = f"3.{secrets.randbelow(10**6):06d}"


def _cell(source: str, grade_id: str, **meta):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "grade": False,
                                 "solution": False, "locked": False, **meta}
    return cell


def _source_notebook():
    cells = [
        _cell("def tong(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              "q1", solution=True),
        _cell(f"assert tong(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert tong(2, 2) == 4  # {HIDDEN}\n"
              "### END HIDDEN TESTS", "t1", grade=True, locked=True, points=1),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


ATTACK = r'''
import json, os, socket, sqlite3, subprocess, time
course = {course!r}
found = {{}}
def attempt(name, fn):
    try:
        found[name] = fn()
    except Exception as exc:
        found[name] = "FAILED " + type(exc).__name__
attempt("source", lambda: open(f"{{course}}/source/{exam}/{exam}.ipynb").read())
attempt("release", lambda: os.listdir(f"{{course}}/release/{exam}"))
attempt("victim_read", lambda: open(f"{{course}}/submitted/victim/{exam}/{exam}.ipynb").read())
attempt("listing", lambda: os.listdir(course))
def write_gradebook():
    db = sqlite3.connect(f"{{course}}/gradebook.db")
    db.execute("create table pwned (x)")
    db.commit()
    return "written"
attempt("gradebook", write_gradebook)
def write_victim():
    with open(f"{{course}}/submitted/victim/{exam}/{exam}.ipynb", "a") as fh:
        fh.write("PWNED")
    return "written"
attempt("victim_write", write_victim)
attempt("connect", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=5).close() or "connected")
attempt("resolve", lambda: socket.getaddrinfo("pypi.org", 443))
attempt("env_token", lambda: os.environ.get("JUPYTERHUB_API_TOKEN"))
def parent_env():
    return open(f"/proc/{{os.getppid()}}/environ", "rb").read().decode(errors="replace")
attempt("parent_env", parent_env)
def double_fork():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep({sleep})
            with open({marker!r}, "w") as fh:
                fh.write("survived")
        os._exit(0)
    return "forked"
attempt("fork", double_fork)
attempt("host_uid_probe", lambda: subprocess.run(["sleep", {probe!r}]).returncode)
found["uid"] = os.getuid()
print("ATTACK " + json.dumps(found, default=str))
'''


class Listener:
    """A TCP listener on 127.0.0.1 counting the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def setup(tmp_path):
    """A grader account owning an exam course laid out as the platform lays it out, with an
    honest learner's submission and the attacker's."""
    tag = f"knsg{secrets.token_hex(2)}"
    grader = f"{tag}-grader"
    root = Path(f"/tmp/{tag}-exams")  # not under pytest's 0700 folder: the grader must reach it
    ensure_system_account(grader, root)
    ensure_subordinate_id(grader)  # as kynangso.exams.course gives the platform's grader
    pw = pwd.getpwnam(grader)
    out = Path(f"/tmp/{tag}-out")  # where the surviving child would write: the grader's own
    listener = Listener()
    try:
        root.mkdir(mode=0o700)
        out.mkdir(mode=0o700)
        course = root / "kiem-tra"
        (course / "source" / EXAM).mkdir(parents=True)
        (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(
            course=str(course), course_id="kiem-tra", exchange=str(root / "exchange")), encoding="utf-8")
        nbformat.write(_source_notebook(), course / "source" / EXAM / f"{EXAM}.ipynb")
        for path in (root, out):
            subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", str(path)], check=True)
        env = _env(root)
        _as(grader, [f"{BIN}/nbgrader", "generate_assignment", EXAM], course, env, check=True)
        release = nbformat.read(course / "release" / EXAM / f"{EXAM}.ipynb", as_version=4)
        marker = out / "marker"

        def submission(student: str, extra: str | None) -> None:
            nb = nbformat.from_dict(json.loads(json.dumps(release)))
            nb.cells[0].source = f"def tong(a, b):\n    return a + b  # {VICTIM_ANSWER if student == 'victim' else ''}"
            if extra:
                nb.cells.insert(1, nbformat.v4.new_code_cell(extra))
            folder = course / "submitted" / student / EXAM
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{EXAM}.ipynb")
            (folder / "timestamp.txt").write_text("2026-03-02 08:30:00.000000 UTC", encoding="utf-8")

        # "attacker" sorts before "victim": graded first, while the victim's copy waits.
        submission("attacker", ATTACK.format(course=str(course), exam=EXAM, port=listener.port,
                                             sleep=CHILD_SLEEP_S, marker=str(marker), probe=UID_PROBE))
        submission("victim", None)
        subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", str(root)], check=True)
        yield {"grader": grader, "uid": pw.pw_uid, "course": course, "root": root, "marker": marker,
               "listener": listener, "victim": _sha(course / "submitted" / "victim" / EXAM / f"{EXAM}.ipynb")}
    finally:
        listener.close()
        subprocess.run(["pkill", "-KILL", "-u", grader], check=False)
        subprocess.run(["userdel", grader], check=False)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


def _env(root: Path) -> dict[str, str]:
    """The exams service's environment for grading, plus a token that must not reach a kernel."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(HOME=str(root), PATH=f"{BIN}:/usr/sbin:/usr/bin:/bin", LANG="C.UTF-8",
               JUPYTERHUB_API_TOKEN=TOKEN)
    return env


def _as(user: str | None, cmd: list[str], cwd: Path, env: dict[str, str],
        check: bool = False) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", user, "--"] if user else []
    # Generous: a loaded machine, a kernel start per notebook.
    done = subprocess.run([*prefix, *cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done


def _probe_uids() -> set[int]:
    """The real uids of the processes running `sleep UID_PROBE` (the attacker's cell) now."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", UID_PROBE.encode()]:
                status = Path(f"/proc/{pid}/status").read_text()
                found.add(int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]))
        except (OSError, StopIteration):
            pass
    return found


def _grade(s: dict, user: str | None, cmd: list[str]) -> None:
    """Runs the grading command as `user`, watching (f) the uid of the attacker's probe."""
    prefix = ["runuser", "-u", user, "--"] if user else []
    proc = subprocess.Popen([*prefix, *cmd], cwd=s["course"], env=_env(s["root"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    deadline = time.monotonic() + 600  # generous: a loaded machine, a kernel start per notebook
    while proc.poll() is None and time.monotonic() < deadline:
        seen |= _probe_uids()
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    s["probe_uids"] = seen


def _attack_report(course: Path) -> dict:
    nb = nbformat.read(course / "autograded" / "attacker" / EXAM / f"{EXAM}.ipynb", as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if text.startswith("ATTACK "):
                return json.loads(text[len("ATTACK "):])
    raise AssertionError("the attacker's cell printed nothing: was the submission graded?")


def _check(s: dict, graded_by: str) -> None:
    course = s["course"]
    found = _attack_report(course)
    failures = []
    leaked = json.dumps(found)
    if HIDDEN in leaked:
        failures.append("(a) read the exam source's hidden test")
    if not str(found.get("release", "")).startswith("FAILED"):
        failures.append(f"(a) listed the release: {found.get('release')}")
    if VICTIM_ANSWER in leaked:
        failures.append("(a) read another learner's submission")
    # The sandbox shows the folders leading to the learner's own copy, nothing beside them.
    listing = found.get("listing", "")
    if not str(listing).startswith("FAILED") and set(listing) - {"autograded"}:
        failures.append(f"(a) listed the course folder: {listing}")
    # (b) is judged on the real files: inside the sandbox the folders leading to the learner's
    # copy lie in a private tmpfs, where a file of that name can be made and vanishes.
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        if db.execute("select name from sqlite_master where name='pwned'").fetchall():
            failures.append("(b) gradebook.db has the attacker's table")
    if _sha(course / "submitted" / "victim" / EXAM / f"{EXAM}.ipynb") != s["victim"] or \
            found.get("victim_write") == "written":
        failures.append("(b) wrote another learner's submission")
    if s["listener"].accepted or found.get("connect") == "connected":
        failures.append("(c) connected to 127.0.0.1")
    if not str(found.get("resolve", "")).startswith("FAILED"):
        failures.append("(c) resolved a name")
    if TOKEN in leaked:
        failures.append("(e) read the grading process's token")
    # (d): wait past the child's sleep (generously), then no marker and nothing of the grader's left.
    deadline = time.monotonic() + MARKER_WAIT_S
    while time.monotonic() < deadline and not s["marker"].exists():
        time.sleep(0.5)
    if s["marker"].exists():
        failures.append("(d) a double-forked child outlived grading")
    uids = s.get("probe_uids", set())
    left = subprocess.run(["pgrep", "-a", "-u", ",".join(map(str, {s["uid"], *uids}))],
                          capture_output=True, text=True).stdout
    if left.strip():
        failures.append(f"(d) processes left after grading: {left.strip()}")
    # (f): the cell's process ran as a uid with no account that owns nothing in the course
    # (what the kernel made there was given back to the grader account).
    if not uids:
        failures.append(f"(f) the attacker's probe process was never seen: was the cell run? "
                        f"({found.get('host_uid_probe')})")
    for uid in uids:
        if uid in (0, s["uid"]) or _has_account(uid):
            failures.append(f"(f) learner code ran as uid {uid} outside the sandbox "
                            f"({'the grader account' if uid == s['uid'] else 'an account'})")
        owned = [str(p) for p in s["root"].rglob("*") if p.lstat().st_uid == uid != s["uid"]]
        if owned:
            failures.append(f"(f) files left owned by the kernel's uid {uid}: {owned[:5]}")
    assert not failures, f"attacks that worked against {graded_by}: " + "; ".join(failures)


def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def _victim_score(course: Path) -> float:
    from assessments.grading.compare import snapshot

    return snapshot(f"sqlite:///{course}/gradebook.db", EXAM)["victim"]["score"]


def test_kns_grade_runs_learner_code_in_sandbox(setup):
    """Attack: a learner's added cell, graded by `kns grade` as the grader account (as the
    exams service runs it), reads the exam source / release / another submission, writes the
    gradebook and another submission, reaches the network, leaves a double-forked child and
    reads the grading process's token. Each must fail; the honest learner is still graded."""
    s = setup
    _grade(s, s["grader"], [f"{BIN}/kns", "grade", EXAM, "--course-dir", str(s["course"]), "--json"])
    _check(s, "kns grade")
    assert _victim_score(s["course"]) == 1


def test_nbgrader_autograde_with_platform_config_runs_learner_code_in_sandbox(setup):
    """Attack: the same added cell, graded by `nbgrader autograde` with the nbgrader_config the
    platform writes (as an instructor or formgrader does). Each attack must fail."""
    s = setup
    _grade(s, s["grader"], [f"{BIN}/nbgrader", "autograde", EXAM])
    _check(s, "nbgrader autograde")
    assert _victim_score(s["course"]) == 1


def test_kns_grade_as_root_drops_to_the_grader_account(setup):
    """Attack: an operator runs `kns grade` as root on the grader's course; the learner's cell
    would run as root, and root would follow paths the grader controls. kns grade must drop to
    the course owner (the grader account) first: everything it writes is the grader's, and
    the attacks still fail."""
    s = setup
    _grade(s, None, [f"{BIN}/kns", "grade", EXAM, "--course-dir", str(s["course"]), "--json"])
    owners = {p.stat().st_uid for p in (s["course"] / "autograded").rglob("*")}
    owners.add((s["course"] / "gradebook.db").stat().st_uid)
    assert owners == {s["uid"]}, f"files written as uid {owners - {s['uid']}} (root: 0), not the grader's"
    _check(s, "kns grade as root")


def test_files_beside_the_notebook_do_not_shadow_the_graders_modules(tmp_path):
    """Attack (issue 14): a submission carries `assessments/questions/grading.py` (any file the
    desk accepts) beside the notebook, so that the hidden tests' `from assessments...` import
    the learner's scorer. The sandboxed kernel must not import from its working folder."""
    from nbclient import NotebookClient

    from assessments.grading.sandbox import SandboxKernelManager

    (tmp_path / "kns_shadow_probe.py").write_text("SHADOWED = True\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import importlib.util\nprint('shadowed' if importlib.util.find_spec('kns_shadow_probe') else 'clean')")])
    NotebookClient(nb, timeout=120, kernel_manager_class=SandboxKernelManager,  # generous: busy CI
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[0].outputs[0]["text"].strip() == "clean", nb.cells[0].outputs


# Run in each of two learners' kernels, forked one after the other by the same zygote.
PROBE = r'''
import ctypes, json, os, sys
me = os.path.basename(os.path.dirname(os.getcwd()))
autograded = {autograded!r}
found = {{"me": me, "pid": os.getpid()}}
def attempt(name, fn):
    try:
        found[name] = fn()
    except Exception as exc:
        found[name] = "FAILED " + type(exc).__name__
attempt("autograded", lambda: sorted(os.listdir(autograded)))
attempt("other", lambda: os.listdir(os.path.join(autograded, {other!r})))
attempt("kernels", lambda: sorted(os.listdir(os.path.dirname(os.path.dirname(sys.argv[sys.argv.index("-f") + 1])))))
attempt("procs", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
for folder in ("/tmp", "/dev/shm", os.path.expanduser("~")):
    attempt("left:" + folder, lambda: sorted(os.listdir(folder)))
    attempt("leave:" + folder, lambda: open(os.path.join(folder, "left-by-" + me), "w").close() or "ok")
with open("/proc/self/status") as fh:
    found["caps"] = {{k: v.strip() for k, v in (l.split(":", 1) for l in fh) if k.startswith("Cap")}}
libc = ctypes.CDLL(None, use_errno=True)
found["unshare_mount_ns"] = libc.unshare(0x20000)
found["mount"] = libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None)
print("PROBE " + json.dumps(found, default=str))
'''


def test_kernels_forked_in_the_sandbox_see_only_their_own_submission(setup):
    """Attack on the sandboxed kernel zygote (zygote.py): one zygote in one sandbox sees every
    autograded folder and forks a kernel per notebook. A learner's kernel, forked after another
    learner's by the same zygote (one worker), tries to list the autograded folders and the
    other learner's, the other kernels' private folders, the processes of the zygote and of
    other kernels, files left in /tmp, /dev/shm or $HOME by the previous kernel, and to keep a
    capability, unshare a mount namespace or mount. Each must fail: every kernel is pid 1 of its
    own pid namespace, in its own mount namespace, with no capability."""
    s = setup
    course = s["course"]
    autograded = str(course / "autograded")
    release = nbformat.read(course / "release" / EXAM / f"{EXAM}.ipynb", as_version=4)
    for student, other in (("kernel1", "kernel2"), ("kernel2", "kernel1")):
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        nb.cells.insert(1, nbformat.v4.new_code_cell(PROBE.format(autograded=autograded, other=other)))
        folder = course / "submitted" / student / EXAM
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{EXAM}.ipynb")
        (folder / "timestamp.txt").write_text("2026-03-02 08:30:00.000000 UTC", encoding="utf-8")
    subprocess.run(["chown", "-R", f"{s['uid']}:{s['uid']}", str(course / "submitted")], check=True)
    _as(s["grader"], [f"{BIN}/kns", "grade", EXAM, "--course-dir", str(course), "--json", "--workers", "1"],
        course, _env(s["root"]))
    for student in ("kernel1", "kernel2"):
        nb = nbformat.read(course / "autograded" / student / EXAM / f"{EXAM}.ipynb", as_version=4)
        texts = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]
        found = next((json.loads(t[len("PROBE "):]) for t in texts if t.startswith("PROBE ")), None)
        assert found is not None, f"{student}'s probe printed nothing: {texts}"
        # pid 1: forked by the sandboxed zygote into a pid namespace of its own (a kernel in a
        # sandbox of its own, the fallback, is pid 2 under bwrap).
        assert found["pid"] == 1, f"{student}'s kernel was not forked by the sandboxed zygote: {found}"
        failures = []
        if found["autograded"] != [student]:
            failures.append(f"listed the autograded folders: {found['autograded']}")
        if not str(found["other"]).startswith("FAILED"):
            failures.append(f"listed the other learner's autograded folder: {found['other']}")
        if not str(found["kernels"]).startswith("FAILED") and len(found["kernels"]) != 1:
            failures.append(f"saw other kernels' private folders: {found['kernels']}")
        if not str(found["procs"]).startswith("FAILED") and max(found["procs"]) > 50:
            failures.append(f"saw processes outside its pid namespace: {found['procs']}")
        for key, value in found.items():
            if key.startswith("left:") and any(str(v).startswith("left-by-") for v in value):
                failures.append(f"found a file another kernel left in {key[5:]}: {value}")
        held = {k: v for k, v in found["caps"].items() if int(v, 16)}
        if held:
            failures.append(f"holds capabilities: {held}")
        if found["unshare_mount_ns"] == 0 or found["mount"] == 0:
            failures.append("unshared a mount namespace or mounted a tmpfs")
        assert not failures, f"{student}: " + "; ".join(failures)


KILLED = r'''
import asyncio, json, os, sys
from assessments.grading.sandbox import SandboxKernelManager

async def main():
    km = SandboxKernelManager(kernel_name="python3")
    await km.start_kernel(cwd=sys.argv[1])
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=180)  # generous: a kernel start on a loaded machine
    code = ("import os; os.makedirs('kept/inner'); open('kept/inner/f', 'w').close(); "
            "os.chmod('kept/inner', 0o500); os.chmod('kept', 0o500); print(os.getuid())")
    out = []
    await kc.execute_interactive(code, timeout=180, output_hook=lambda m: out.append(m["content"].get("text", "")))
    kc.stop_channels()
    await km.shutdown_kernel(now=True)  # killed: its keeper dies with it
    print("KERNEL " + "".join(out).strip())

asyncio.run(main())
'''


def test_a_killed_kernel_leaves_nothing_of_its_uid_behind(setup):
    """Attack (f), continued: the learner's code makes folders that only its own uid may enter,
    and its kernel is killed (as formgrader or a time-out kills it), so its keeper cannot give
    them back. The grader account must still own everything in the folder afterwards (it can
    remove and regrade it), and the folder's mode must be what it was."""
    s = setup
    folder = s["root"] / "formgrader-copy"
    folder.mkdir(mode=0o750)
    subprocess.run(["chown", f"{s['uid']}:{s['uid']}", str(folder)], check=True)
    script = s["root"] / "killed.py"
    script.write_text(KILLED, encoding="utf-8")
    done = _as(s["grader"], [sys.executable, str(script), str(folder)], s["root"], _env(s["root"]), check=True)
    assert "KERNEL 65534" in done.stdout, done.stdout + done.stderr[-2000:]
    owners = {p.lstat().st_uid for p in folder.rglob("*")}
    assert (folder / "kept" / "inner" / "f").exists()
    assert owners == {s["uid"]}, f"files left owned by uids {owners - {s['uid']}}"
    assert folder.stat().st_mode & 0o7777 == 0o750
    _as(s["grader"], ["rm", "-rf", str(folder)], s["root"], _env(s["root"]), check=True)
    assert not folder.exists()
