"""Learner code runs in a bubblewrap sandbox while it is graded.

Every kernel that executes a submission (`kns grade`, `nbgrader autograde` with the platform's
config, formgrader) is started by `SandboxKernelManager`, which wraps the kernel's command in
`bwrap`:

- namespaces: user, pid, net, ipc, uts, cgroup (`--unshare-all`); no network at all, only a
  loopback of its own; `--disable-userns` (no nested namespaces), `--new-session` (no terminal
  to inject into), `--die-with-parent`;
- files: a private tmpfs root with read-only binds of /usr (and the /lib, /bin links), a few
  world-readable /etc files (passwd, group, localtime, locale), the Python environment, the
  PYTHONPATH entries, the training CA's public certificates and registry; read-write: the one notebook
  folder being graded (the kernel's working folder, bound at its own path so that the learner's
  identity read from it and every path in the output are what nbgrader's are) and a private
  folder holding the kernel's connection file and its ipc sockets. $HOME and /tmp are empty
  tmpfs that vanish with the sandbox. Nothing else of the grader account is visible: not the
  course sources, release, other submissions, the gradebook, the exchange, the hub's state;
- environment: cleared, then a short allow-list (PATH, locale, PYTHONPATH, KNS_STATE_DIR,
  NBGRADER_EXECUTION, what jupyter_client sets for the kernel); no token reaches the kernel;
- lifetime: the kernel is pid 2 of its own pid namespace under bwrap's init (pid 1 of a
  namespace below its keeper's, where the subordinate id is mapped: see identity); when the
  kernel exits or is killed, or its manager dies, the namespace dies and takes every process
  the learner's code forked (double-forked or not) with it;
- identity: inside, uid/gid 65534 ("nobody"). Outside, a uid that owns nothing: the first id
  of the grader account's subordinate range (/etc/subuid, /etc/subgid; given to it by
  kynangso.exams.course), mapped by shadow's setuid `newuidmap`/`newgidmap` (Debian `uidmap`)
  into the sandbox's user namespace, where the grader account itself is uid 0 for the trusted
  code that sets the sandbox up (MAPPED_LAUNCHER, zygote.SANDBOX_LIB). The kernel's folders
  are opened to that uid while it runs, and what it made is given back to the grader account
  after it and everything it forked have died. Where no range or no `newuidmap` is there, the
  kernel keeps the grader account's uid outside (out of sight of its files all the same, out
  of reach of its processes, no capability) and the grading log says so.

`kns grade` run by an unprivileged account forks its kernels from a zygote living in one such
sandbox per worker (`zygote_argv`, zygote.SANDBOX_LOOP): the zygote sees every autograded folder,
and each kernel it forks is confined to its own, in namespaces of its own, before anything runs.

The kernel talks to the trusted process only through the ipc (unix socket) transport in that
private folder. A signal cannot cross into the new session's process group, so interrupts (a
cell's time-out) are sent as `interrupt_request` messages, which ipykernel handles.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

BWRAP = "bwrap"
SANDBOX_UID = 65534
# Read-only files of /etc that Python and the exams' code use, none of them a secret.
ETC_FILES = ("passwd", "group", "localtime", "timezone", "locale.alias", "nsswitch.conf",
             "mime.types")
# Environment variables a kernel may inherit; everything else (tokens first) is dropped.
ALLOWED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONIOENCODING",
               "PYTHONUTF8", "KNS_STATE_DIR", "NBGRADER_EXECUTION", "MPLBACKEND", "TERM")
ALLOWED_PREFIXES = ("LC_", "JPY_")
# ipykernel puts its working folder (the submission's) first on sys.path: a learner's
# `assessments/questions/grading.py` beside the notebook would then answer the hidden tests'
# imports. Taken off before any cell runs.
NO_CWD_IMPORTS = ("--InteractiveShellApp.exec_lines=import os as _o, sys as _s; "
                  "_s.path[:] = [p for p in _s.path if p not in ('', '.', _o.getcwd())]; del _o, _s")
STASH = "/.kns-stash"
SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc", "/proc", "/dev")


def bwrap_path() -> str | None:
    return _which(BWRAP)


def _which(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/bin"]))


# Starts bwrap, maps its user namespace before it goes on (--userns-block-fd): uid 0 -> this
# account (the trusted set-up code), 65534 -> the first subordinate id (the kernel). Stays as
# bwrap's parent (--die-with-parent: killing it kills the sandbox). argv: ids as JSON, bwrap's argv.
MAPPED_LAUNCHER = r"""
import json, os, subprocess, sys
ids = json.loads(sys.argv[1])
info_r, info_w = os.pipe()
block_r, block_w = os.pipe()
argv = [sys.argv[2], "--info-fd", str(info_w), "--userns-block-fd", str(block_r), *sys.argv[3:]]
child = subprocess.Popen(argv, pass_fds=(info_w, block_r))
os.close(info_w)
os.close(block_r)
info = b""
while True:
    chunk = os.read(info_r, 65536)
    if not chunk:
        break
    info += chunk
try:
    pid = str(json.loads(info)["child-pid"])
    for tool, own, sub in zip(ids["tools"], ids["own"], ids["sub"]):
        subprocess.run([tool, pid, "0", str(own), "1", "65534", str(sub), "1"], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    os.write(block_w, b"1")
except Exception as exc:
    sys.stderr.write("kns sandbox: cannot map the sandbox's user namespace: %r\n" % (exc,))
    child.kill()
os.close(block_w)
sys.exit(child.wait())
"""


def _first_subordinate(path: str, name: str, number: int) -> int | None:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[0] in (name, str(number)) and int(parts[2]) > 0:
                    return int(parts[1])
    except (OSError, ValueError):
        pass
    return None


def kernel_identity() -> dict | None:
    """The ids that MAPPED_LAUNCHER maps, or None where this account has no subordinate range
    or `newuidmap`/`newgidmap` are missing (then bwrap maps the account's own uid)."""
    import pwd

    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        return None  # kns grade run by root drops to the course's owner first
    tools = [_which("newuidmap"), _which("newgidmap")]
    try:
        user = pwd.getpwuid(uid).pw_name  # both files name the user (newgidmap's rule)
    except KeyError:
        return None
    sub = [_first_subordinate("/etc/subuid", user, uid), _first_subordinate("/etc/subgid", user, gid)]
    if None in tools or None in sub:
        if not _WARNED:
            _WARNED.append(user)
            logging.getLogger(__name__).warning(
                "graded kernels keep the uid of %s outside their sandbox: %s", user,
                "newuidmap/newgidmap missing (Debian uidmap)" if None in tools
                else "no subordinate id in /etc/subuid and /etc/subgid")
        return None
    return {"tools": tools, "own": [uid, gid], "sub": sub}


_WARNED: list[str] = []  # kernel_identity's warning, once per process


def _python_roots() -> list[str]:
    """The environment: the interpreter's prefixes (a venv and the Python it was made from)."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return sorted(r for r in roots if not _under(r, ("/usr",)))


def _reachable(path: str) -> bool:
    """Can this account read `path` by the modes alone? bwrap looks for it from its own user
    namespace, where root has no power over other accounts' modes: `os.access` says yes to
    root for the training CA in the signing account's 0750 folder, and bwrap then fails with
    "Can't find source path" (every kernel of a root-run grading, e.g. `make run`'s demo)."""
    uid, gids = os.getuid(), {os.getgid(), *os.getgroups()}
    target = Path(path)
    try:
        for part, need in [*((p, 0o1) for p in reversed(target.parents)), (target, 0o4)]:
            st = os.stat(part)
            shift = 6 if st.st_uid == uid else 3 if st.st_gid in gids else 0
            if not (st.st_mode >> shift) & need:
                return False
    except OSError:
        return False
    return True


def _under(path: str, tops: Iterable[str]) -> bool:
    return any(path == top or path.startswith(top.rstrip("/") + "/") for top in tops)


def kernel_env(env: dict[str, str], home: str) -> dict[str, str]:
    """The allow-listed environment of a sandboxed kernel."""
    kept = {k: v for k, v in env.items()
            if k in ALLOWED_ENV or k.startswith(ALLOWED_PREFIXES)}
    kept["HOME"] = home
    kept.setdefault("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    return kept


def sandbox_home(env: dict[str, str]) -> str:
    """$HOME keeps its path (code may print it) but is an empty tmpfs, unless it is a folder
    that must stay as it is (the root, a system folder, the environment)."""
    home = os.path.realpath(env.get("HOME") or "/home/sandbox")
    if home == "/" or _under(home, (*SYSTEM, *_python_roots())):
        home = "/home/sandbox"
    return home


def bwrap_argv(cmd: list[str], cwd: str, env: dict[str, str], private_dir: str,
               extra_env: dict[str, str] | None = None) -> list[str]:
    """The bwrap command that runs `cmd` in `cwd` (read-write) with only the environment visible."""
    return _bwrap(cmd, [private_dir, os.path.realpath(cwd)], os.path.realpath(cwd), env,
                  extra_env=extra_env)


def zygote_argv(cmd: list[str], writable: list[str], chdir: str, env: dict[str, str],
                extra_env: dict[str, str]) -> list[str]:
    """The bwrap command of a kernel zygote (zygote.py): the same sandbox, but `writable` are
    folders holding many kernels' folders (every submission's autograded folder, every kernel's
    private folder), and the zygote keeps the capabilities of the sandbox's user namespace.
    It never runs learner code: each kernel it forks is first confined (zygote.CONFINE_CODE) to
    its own folders, its own pid, mount and ipc namespaces, with every capability dropped."""
    return _bwrap(cmd, writable, chdir, env, zygote=True, extra_env=extra_env)


def _bwrap(cmd: list[str], writable: list[str], chdir: str, env: dict[str, str],
           zygote: bool = False, extra_env: dict[str, str] | None = None) -> list[str]:
    exe = bwrap_path()
    if exe is None:
        raise RuntimeError("bubblewrap (bwrap) is not installed: learner code cannot be sandboxed")
    home = sandbox_home(env)
    ids = kernel_identity()
    # Mapped from outside (MAPPED_LAUNCHER): the set-up code is uid 0 inside, and it takes the
    # kernel's uid itself (zygote.SANDBOX_LIB); bwrap's own --disable-userns cannot be used
    # then, so that code closes user namespaces itself.
    who = [] if ids else ["--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    argv = [exe, "--unshare-all", "--unshare-user", *who, "--die-with-parent", "--new-session",
            "--hostname", "grading",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for top in ("/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for name in ETC_FILES:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for root in _python_roots():
        argv += ["--ro-bind", root, root]
    for entry in env.get("PYTHONPATH", "").split(os.pathsep):
        if entry and os.path.isabs(entry) and os.path.exists(entry):
            argv += ["--ro-bind", entry, entry]
    state = env.get("KNS_STATE_DIR")
    # The training CA's public part and its registry of issued certificates (the signing
    # exam is graded against them), never its keys; where the grader may read them.
    for name in ("ca", "registry.sqlite"):
        path = os.path.join(state, "pki", name) if state else ""
        if path and _reachable(path):
            argv += ["--ro-bind", path, path]
    argv += ["--tmpfs", home]
    for path in writable:
        argv += ["--bind", path, path]
    if zygote or ids:
        # Mount operations in the zygote's forks or the keeper (their own namespaces); STASH
        # holds a kernel's folders while the rest is covered.
        argv += ["--cap-add", "ALL", "--dir", STASH]
    argv[1:1] = _open_parents(argv)
    # The root's tmpfs (with the folders leading to the binds) becomes read-only.
    argv += ["--remount-ro", "/", "--chdir", chdir, "--clearenv"]
    for key, value in sorted({**kernel_env(env, home), **(extra_env or {})}.items()):
        argv += ["--setenv", key, value]
    argv += ["--", *cmd]
    if ids:
        return [sys.executable, "-c", MAPPED_LAUNCHER, json.dumps(ids), *argv]
    return argv


def _open_parents(argv: list[str]) -> list[str]:
    """bwrap (0.8) makes the folders leading to a mount point 0700: readable by the sandbox's
    own uid only, not by a kernel that has another (kernel_identity). They are made first,
    0755, shortest first."""
    dests = set()
    for i, arg in enumerate(argv):
        if arg in ("--ro-bind", "--bind"):
            dests.add(argv[i + 2])
        elif arg in ("--tmpfs", "--dir", "--symlink"):
            dests.add(argv[i + (2 if arg == "--symlink" else 1)])
    parents = {str(parent) for dest in dests for parent in Path(dest).parents} - {"/"} - dests
    ops: list[str] = []
    for parent in sorted(parents, key=lambda p: (p.count("/"), p)):
        ops += ["--perms", "0755", "--dir", parent]
    return ops


def give_back(modes: dict[str, int]) -> None:
    """The folders that a kernel of the subordinate uid was given (path: its mode before): what
    that uid left in them becomes this account's, in a sandbox mapped as the kernel's was
    (zygote.give_back), and their modes return."""
    ids = kernel_identity()
    folders = [path for path in modes if os.path.isdir(path)]
    if ids is None or not folders:
        return
    kernel_uid = ids["sub"][0]
    left = any(os.lstat(os.path.join(top, name)).st_uid == kernel_uid
               for folder in folders for top, dirs, names in os.walk(folder) for name in dirs + names)
    if left:
        import subprocess

        from assessments.grading.zygote import GIVE_BACK_CODE

        code = subprocess.run(
            bwrap_argv([sys.executable, "-c", GIVE_BACK_CODE, json.dumps({p: modes[p] for p in folders})],
                       folders[0], dict(os.environ), folders[-1], {"KNS_ZYGOTE_STASH": STASH}),
            cwd=folders[0], stdin=subprocess.DEVNULL, capture_output=True, timeout=120).returncode
        if code:
            import logging

            logging.getLogger(__name__).warning("files of a killed kernel's uid are left in %s", folders)
    for path in folders:
        os.chmod(path, modes[path])


class SandboxMixin:
    """A kernel manager whose kernels run in the sandbox and talk over unix sockets."""

    _kns_private: str | None = None
    _kns_opened: dict[str, int] | None = None  # folders opened to the kernel's uid: their modes

    async def _async_pre_start_kernel(self, **kw):
        # The connection file and ipc sockets live in a folder of their own, bound into the
        # sandbox; the ipc socket paths derive from the connection file's name.
        from assessments.grading import zygote

        forked = isinstance(self.provisioner, zygote.SandboxZygoteProvisioner)
        # A kernel of the sandboxed zygote has its private folder where the zygote sees it.
        self._kns_private = tempfile.mkdtemp(
            prefix="kns-kernel-", dir=zygote.SANDBOX_ZYGOTE.sandbox.private_root if forked else None)
        self.transport = "ipc"
        self.connection_file = os.path.join(self._kns_private, "kernel.json")
        self.ip = os.path.join(self._kns_private, "kernel-ipc")
        result = await super()._async_pre_start_kernel(**kw)
        # The kernel leads a new session: a signal to the process group cannot reach it.
        self.kernel_spec.interrupt_mode = "message"
        return result

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        cwd = str(kw.get("cwd") or os.getcwd())
        env = dict(kw.get("env") or os.environ)
        kw["env"] = kernel_env(env, sandbox_home(env))
        from assessments.grading import zygote

        if (isinstance(self.provisioner, zygote.SandboxZygoteProvisioner) and zygote.SANDBOX_ZYGOTE
                and kernel_cmd[:3] == [sys.executable, "-m", "ipykernel_launcher"]):
            # Forked in the sandbox by its zygote and confined there (zygote.SANDBOX_LOOP).
            kw["cwd"] = cwd
            return await super()._async_launch_kernel([*kernel_cmd, NO_CWD_IMPORTS], **kw)
        kw["cwd"] = self._kns_private  # bwrap itself starts in a folder it can see
        # bwrap stays in the sandbox as its pid 1, where /proc/1/environ is readable: it gets
        # the kernel's allow-listed environment, never the grading process's.
        cmd, extra = [*kernel_cmd, NO_CWD_IMPORTS], None
        if kernel_identity() and kernel_cmd[:3] == [sys.executable, "-m", "ipykernel_launcher"]:
            # A keeper takes the kernel's uid, as the zygote's keepers do (zygote.SANDBOX_ONE).
            from assessments.grading.zygote import SANDBOX_ONE_CODE

            home = sandbox_home(env)
            request = {"argv": cmd, "cwd": os.path.realpath(cwd), "env": kernel_env(env, home),
                       "keep": [os.path.realpath(cwd), self._kns_private],
                       "fresh": [home, "/tmp", "/dev/shm"]}
            cmd = [sys.executable, "-c", SANDBOX_ONE_CODE, json.dumps(request)]
            extra = {"KNS_ZYGOTE_STASH": STASH}
            self._kns_opened = {path: os.lstat(path).st_mode & 0o7777 for path in request["keep"]}
        return await super()._async_launch_kernel(
            bwrap_argv(cmd, cwd, env, self._kns_private, extra), **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._kns_opened:
            # Its keeper gives the kernel's files back when the kernel ends; a kernel killed
            # with its sandbox took the keeper along.
            give_back(self._kns_opened)
            self._kns_opened = None
        if not restart and self._kns_private:
            shutil.rmtree(self._kns_private, ignore_errors=True)
            self._kns_private = None


class SandboxKernelManager(SandboxMixin, AsyncKernelManager):
    """For nbclient / nbgrader's Execute (`Execute.kernel_manager_class`)."""


def refuse_unsandboxed() -> None:
    """Grading without bubblewrap would run learner code as the grader: refuse."""
    if bwrap_path() is None:
        from kynangso.errors import KnsError

        raise KnsError("grading.no_sandbox")


class QuietSandboxKernelManager(SandboxKernelManager):
    """For `kns grade`: the kernel's own start-up chatter (not cell output) would garble the
    progress bar, so it goes to /dev/null, as the pooled kernels' did."""

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        import subprocess

        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_launch_kernel(kernel_cmd, **kw)
