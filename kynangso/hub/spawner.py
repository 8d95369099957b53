"""Spawners: one private Unix account per hub user (as root), or a labelled non-isolated mode.

UnixUserSpawner is the TLJH model without systemd: the hub, running as root,
creates `<prefix><hub name>` with a home of mode 0700 under `home_root` on first
start and runs the user's server as that account. Exams are only safe this way.

Exam mode (kynangso.hub.landing): a person who runs code and has an attempt in an open exam
window gets a learner-app server, started only after every process of their account is killed
(nothing they left running, e.g. a detached process waiting for the exam's files, survives
into the exam). The exam desk hands an exam out only to a server started after the attempt
began, and restarts the server otherwise.

NonIsolatedSpawner is for a developer running the hub as an ordinary user: every
server runs as that user, in a folder under the state directory, and the hub
says so in its log and on every page.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import signal
import sys
import time

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, set_user_setuid
from traitlets import Integer, Unicode
from traitlets.config import LoggingConfigurable

from kynangso.hub.landing import learner_env, runs_code
from kynangso.i18n import t


class _CoursesFolderMixin(LoggingConfigurable):
    """Delivers the courses into the folder that JupyterLab opens first, at every start."""

    courses_folder = Unicode("KhoaHoc", help="Folder in each home opened first by JupyterLab.").tag(config=True)
    courses_source = Unicode("", help="Folder holding the course lessons to deliver; empty: none.").tag(
        config=True
    )
    # Below Spawner.start_timeout (180 s), so that a stuck delivery never fails the spawn.
    delivery_timeout = Integer(90, help="Seconds course delivery may take before it is killed.").tag(config=True)

    def get_env(self):
        env = super().get_env()
        # Where the lessons are, for the "Làm lại bài" (reset a lesson) button.
        env["KNS_COURSES_DIR"] = os.path.join(env["HOME"], self.courses_folder)
        # Learners land on their app, not JupyterLab (chosen at each start: groups change).
        prefix = os.path.dirname(os.path.dirname(self.cmd[0]))  # <prefix>/bin/kns-singleuser
        env.update(learner_env(self.user, env["HOME"], prefix, exam_mode=getattr(self, "exam_mode", False)))
        return env

    async def _deliver_courses(self, home: str, uid: int | None = None, gid: int | None = None) -> None:
        """Make the courses folder and deliver the courses in a child process.

        With `uid`, the child drops to that account before it opens anything in the home (the
        hub, as root, never touches a learner's home itself); a child also keeps the hub's
        event loop free whatever the home holds. A failure or timeout is logged and the server
        starts anyway: a delivery problem must not keep the learner out of their work."""
        cmd = [sys.executable, "-I", "-m", "kynangso.hub.delivery",  # -I: nothing from the env or a home
               "--source", self.courses_source, "--home", home, "--folder", self.courses_folder]
        if uid is not None:
            cmd += ["--uid", str(uid), "--gid", str(gid)]
        # Not the hub's environment: it holds the hub's secrets, and the child becomes the learner.
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd="/",
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=self.delivery_timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            self.log.error("course delivery to %s killed after %d s; starting the server anyway",
                           home, self.delivery_timeout)
            return
        for line in err.decode(errors="replace").splitlines():
            self.log.info("course delivery to %s: %s", home, line)
        if proc.returncode != 0:
            self.log.error("course delivery to %s failed (exit %s); starting the server anyway",
                           home, proc.returncode)
        else:
            self.log.info("course delivery to %s: %s", home, _summary(out))


def _summary(out: bytes) -> str:
    """One short log line from the child's JSON report: counts, and the names that need an
    operator's eye (lessons the learner changed, files skipped)."""
    try:
        report = json.loads(out)
    except ValueError:
        return out.decode(errors="replace").strip()[:500]
    counts = ", ".join(f"{len(v)} {k}" for k, v in report.items())
    named = {k: report[k] for k in ("kept_changed", "skipped") if report.get(k)}
    return f"{counts}; {named}" if named else counts


class UnixUserSpawner(_CoursesFolderMixin, LocalProcessSpawner):
    """Runs each user's server as their own Unix account, created on demand."""

    user_prefix = Unicode("kns-", help="Prefix of the Unix account name made for each hub user.").tag(
        config=True
    )
    home_root = Unicode("/home", help="Folder holding the users' private homes.").tag(config=True)

    @property
    def unix_name(self) -> str:
        return f"{self.user_prefix}{self.user.name}"

    async def _ensure_account(self) -> pwd.struct_passwd:
        try:
            entry = pwd.getpwnam(self.unix_name)
        except KeyError:
            home = os.path.join(self.home_root, self.unix_name)
            self.log.info("creating Unix account %s with home %s", self.unix_name, home)
            # --user-group: a private group per user; nologin: the account exists
            # only to own files and run the server, never for a shell login.
            proc = await asyncio.create_subprocess_exec(
                "useradd", "--create-home", "--home-dir", home, "--user-group",
                "--shell", "/usr/sbin/nologin", "--comment", f"kynangso hub user {self.user.name}",
                self.unix_name,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            _, err = await proc.communicate()
            if proc.returncode != 0:
                self.log.error("useradd %s failed: %s", self.unix_name, err.decode(errors="replace"))
                failure = RuntimeError(t("login.spawn_account_failed"))
                failure.jupyterhub_message = t("login.spawn_account_failed")  # shown on the spawn page
                raise failure from None
            entry = pwd.getpwnam(self.unix_name)
        # Enforced at every start, not only at creation: a home someone opened
        # up by hand is closed again before the server runs.
        os.chmod(entry.pw_dir, 0o700)
        return entry

    exam_db_url = Unicode("", help="Database of the exam desk's attempts (exam mode); empty: none.").tag(
        config=True
    )

    async def start(self):
        entry = await self._ensure_account()
        self.exam_mode = await asyncio.to_thread(self._in_exam)
        if self.exam_mode:
            killed = await asyncio.to_thread(kill_account_processes, entry.pw_uid)
            self.log.warning("exam mode for %s: learner-app server; %d leftover process(es) of %s killed",
                             self.user.name, killed, self.unix_name)
        await self._deliver_courses(entry.pw_dir, entry.pw_uid, entry.pw_gid)
        return await super().start()

    def _in_exam(self) -> bool:
        """A person who runs code, with an attempt in an open exam window (the desk's record)."""
        if not self.exam_db_url or not runs_code([g.name for g in self.user.groups]):
            return False
        from kynangso.exams import windows

        return windows.in_exam(self.exam_db_url, self.user.name, windows.now_utc(self.exam_db_url))

    def make_preexec_fn(self, name):
        return set_user_setuid(self.unix_name)

    def user_env(self, env):
        entry = pwd.getpwnam(self.unix_name)
        env.update(USER=self.unix_name, LOGNAME=self.unix_name, HOME=entry.pw_dir, SHELL=entry.pw_shell)
        return env

    async def move_certs(self, paths):
        # LocalProcessSpawner would copy the keys into the learner's home as root, following
        # whatever links the learner put there. Internal SSL is not used: refuse it outright.
        self.log.error("internal_ssl is not supported by UnixUserSpawner (it writes into homes as root)")
        raise RuntimeError("internal_ssl is not supported by UnixUserSpawner")


def _uids(pid: str) -> set[int]:
    """The uids of a live process (none for a zombie: it runs nothing, and stays until reaped)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:  # gone meanwhile
        return set()
    if status.get("State", "").strip().startswith("Z"):
        return set()
    return {int(v) for v in status.get("Uid", "").split()}


def kill_account_processes(uid: int, rounds: int = 50) -> int:
    """SIGKILL every process of `uid` (real, effective, saved or filesystem uid), again until
    none is left: a process that forks as it dies does not outlive the rounds. Root only, and
    never for root's or the hub's own account. Returns how many processes were killed."""
    if uid in (0, os.getuid()):
        raise ValueError(f"refusing to kill the processes of uid {uid}")
    killed: set[int] = set()
    for _ in range(rounds):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and uid in _uids(p)]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return len(killed)


class NonIsolatedSpawner(_CoursesFolderMixin, SimpleLocalProcessSpawner):
    """Every server runs as the hub's own account: for development only."""

    async def start(self):
        self.log.warning(
            "NOT ISOLATED: starting %s's server as the hub's own Unix account in %s",
            self.user.name,
            self.home_dir,
        )
        await self._deliver_courses(self.home_dir)
        return await super().start()
