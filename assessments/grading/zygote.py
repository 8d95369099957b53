"""Fresh IPython kernels forked from a process that has already imported ipykernel.

A kernel process spends most of its start-up CPU (~0.2 s of ~0.25 s) importing ipykernel,
IPython, zmq and tornado. This "zygote" imports them once, then forks one child per kernel.
The child has run no user code and shares nothing with other kernels (separate process,
separate memory after fork), so each notebook still gets a brand-new kernel; it is then set
up exactly as `python -m ipykernel_launcher -f <connection file> ...` would be: same argv,
environment, working folder, its own session and process group (jupyter_client's
start_new_session), stdio on /dev/null as for pooled kernels.

The zygote is a child of the worker and reads one JSON request per line on stdin
({"argv": [...], "cwd": ..., "env": {...}}), answering the kernel's pid on stdout. It exits
when the worker closes stdin. `ZygoteProvisioner` is the jupyter_client side.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

# Run with `python -c`, so that it imports nothing from this project and its sys.path is the
# interpreter's own: as ipykernel_launcher does, the '' entry is removed before importing, and
# IPython adds it back when the kernel starts (InteractiveShellApp.init_path).
PRELUDE = r"""
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
import atexit, json, os, signal
import ipykernel.ipkernel
import ipykernel.kernelapp as kernelapp
# Imported by IPython on a kernel's first traceback (~25 ms): a wrong answer is the common case.
try:
    import IPython.core.ultratb, stack_data, pygments.lexers.python, pygments.formatters.terminal256
except ImportError:
    pass

# The modules the course's own (read-only) cells import: every kernel would import them
# first thing, so they are imported once here and shared by all forks (an exam's widgets and
# sandboxes: ~1 s per notebook otherwise). A module that fails to import is left to the kernel.
for name in json.loads(os.environ.get("KNS_ZYGOTE_PRELOAD", "[]")):
    try:
        __import__(name)
    except Exception:
        pass
# A module that makes a widget when imported cannot be shared: the widget would belong to no
# kernel. Start again without preloading (every kernel then imports the course's modules itself).
_made = getattr(sys.modules.get("ipywidgets.widgets.widget"), "_instances", None)
if _made:
    os.environ["KNS_ZYGOTE_PRELOAD"] = "[]"
    os.execv(sys.executable, [sys.executable, "-c", os.environ["KNS_ZYGOTE_CODE"]])

"""

PLAIN_LOOP = r"""
# Children are reaped by the OS; each child restores the default (student code may wait()).
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        os.chdir(request["cwd"])
        import ipykernel_launcher
        # IPKernelApp.parent_handle's default was read from JPY_PARENT_PID when this process
        # imported ipykernel, before the variable was set: pass it, so the kernel exits when
        # the zygote does (it exits when its worker does).
        sys.argv = [ipykernel_launcher.__file__, *request["argv"][3:],
                    f"--IPKernelApp.parent_handle={os.getppid()}"]
        code = 0
        try:
            kernelapp.launch_new_instance(argv=sys.argv[1:])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 1
        finally:
            try:
                atexit._run_exitfuncs()
            finally:
                os._exit(code)
    sys.stdout.write(f"{pid}\n")
    sys.stdout.flush()
"""
SERVER_CODE = PRELUDE + PLAIN_LOOP

# What runs inside the sandbox before a kernel: confining it to its folders, and, where the
# sandbox's user namespace maps a subordinate uid (sandbox.MAPPED_LAUNCHER), becoming that uid.
# In such a namespace the code below starts as uid 0, which is the grader account outside (the
# zygote, the keepers: trusted code, never a learner's); each kernel then becomes uid 65534,
# which is outside a uid of the grader's subordinate range that owns nothing (the kernel's files
# are given back to the grader when it ends). Without that mapping, everything here already is
# uid 65534 (the grader account outside), and stays so.
SANDBOX_LIB = r"""
import ctypes, shutil, stat
_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC = 0x20000, 0x20000000, 0x8000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
MS_PRIVATE = 1 << 18
STASH = os.environ["KNS_ZYGOTE_STASH"]
KERNEL_UID = 65534
MAPPED = os.getuid() == 0


def _ok(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, what + ": " + os.strerror(err))


def _mount(source, target, fstype, flags, data=None):
    def enc(v):
        return v.encode() if v is not None else None
    _ok(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        "mount " + target)


def confine(keep, cover, fresh):
    # Own mount, pid (for the next fork) and ipc namespaces. In the mount namespace: `keep`
    # (the kernel's notebook folder and private folder) stay at their paths, read-write; the
    # folders holding other kernels' (`cover`) become empty read-only tmpfs; `fresh` ($HOME,
    # /tmp, /dev/shm) get a new empty tmpfs, so nothing passes from one kernel to the next.
    _ok(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", STASH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700")
    for i, path in enumerate(keep):
        os.mkdir(STASH + "/" + str(i))
        _mount(path, STASH + "/" + str(i), None, MS_BIND | MS_REC)
    # The kernel's own uid owns its fresh folders (it cannot write the mapped root's).
    owner = ",uid=%d,gid=%d" % (KERNEL_UID, KERNEL_UID) if MAPPED else ""
    for path in fresh:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" + owner)
    covered = []
    for path in cover:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
            covered.append(path)
    for i, path in enumerate(keep):
        os.makedirs(path, exist_ok=True)
        _mount(STASH + "/" + str(i), path, None, MS_BIND | MS_REC)
    _ok(_libc.umount2(STASH.encode(), 2), "umount " + STASH)  # MNT_DETACH
    for path in covered:
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_privileges():
    # Every capability, for good: bounding and ambient sets, then (mapped) the kernel's uid,
    # then the process's own sets.
    for cap in range(64):
        _libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
    _libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL
    if MAPPED:
        os.setgroups([])
        os.setgid(KERNEL_UID)
        os.setuid(KERNEL_UID)
        if os.getuid() != KERNEL_UID or os.getgroups():
            raise OSError("the kernel's uid was not taken")
        # Its sockets are made by its uid in the private folder, and the grader (another uid)
        # must connect to them: nothing masked (the folders around are the grader's alone).
        os.umask(0)
    header = ctypes.create_string_buffer((0x20080522).to_bytes(4, sys.byteorder) + bytes(4))
    _ok(_libc.capset(header, ctypes.create_string_buffer(24)), "capset")
    _ok(_libc.prctl(38, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/status") as fh:
        caps = dict(line.split(":", 1) for line in fh if line.startswith("Cap"))
    if any(int(v, 16) for v in caps.values()):
        raise OSError("capabilities remain: " + repr(caps))


def prepare():
    # Once per sandbox, as its mapped root: no user namespace can be made below (bwrap's
    # --disable-userns cannot be used with a mapping made from outside), and the training CA's
    # public part, readable by the grader's group only, is copied where the kernel's uid reads it.
    if not MAPPED:
        return
    with open("/proc/sys/user/max_user_namespaces", "w") as fh:
        fh.write("0")
    state = os.environ.get("KNS_STATE_DIR")
    pki = os.path.join(state, "pki") if state else ""
    if not pki or not os.path.isdir(pki):
        return
    files = {}
    for top, dirs, names in os.walk(pki):
        for name in names:
            path = os.path.join(top, name)
            try:
                with open(path, "rb") as fh:
                    files[os.path.relpath(path, pki)] = fh.read()
            except OSError:
                pass
    _mount("tmpfs", pki, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for rel, data in files.items():
        path = os.path.join(pki, rel)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o644)
    _mount(None, pki, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _entries(root):
    # Everything under root, links not followed, deepest first.
    for top, dirs, names in os.walk(root, topdown=False):
        for name in names + dirs:
            yield os.path.join(top, name)
    yield root


def open_to_kernel(keep):
    # The kernel's uid may read its folders and write in them (their own modes come back after);
    # its folders lie in the grader's private folders, out of every other account's reach.
    modes = {}
    if not MAPPED:
        return modes
    for root in keep:
        for path in _entries(root):
            try:
                st = os.lstat(path)
                if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                    os.chmod(path, stat.S_IMODE(st.st_mode) | (0o005 if stat.S_ISDIR(st.st_mode) else 0o004))
            except OSError:
                pass
        modes[root] = stat.S_IMODE(os.lstat(root).st_mode)
        os.chmod(root, modes[root] | 0o007)
    return modes


def give_back(modes):
    # After the kernel and all it forked are gone: what its uid made becomes the grader's
    # (links not followed), writable by the grader and by nobody else; the folders' modes return.
    for root, mode in modes.items():
        for path in _entries(root):
            try:
                st = os.lstat(path)
                if st.st_uid == KERNEL_UID or st.st_gid == KERNEL_UID:
                    os.lchown(path, 0, 0)
                    if not stat.S_ISLNK(st.st_mode):
                        os.chmod(path, (stat.S_IMODE(st.st_mode) | 0o600 | (0o100 if stat.S_ISDIR(st.st_mode) else 0)) & ~0o022)
            except OSError:
                pass
        os.chmod(root, mode)


def _alive(keeper):
    if keeper is None:
        return False
    try:
        return os.waitpid(keeper, os.WNOHANG)[0] == 0
    except ChildProcessError:
        return False


def _answer(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _kernel(request):
    # pid 1 of its own pid namespace, already confined: a /proc of its own namespace, no
    # capability, then the kernel as ipykernel_launcher would start it.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    drop_privileges()
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    import ipykernel_launcher
    sys.argv = [ipykernel_launcher.__file__, *request["argv"][3:]]
    kernelapp.launch_new_instance(argv=sys.argv[1:])


def keep(request, started):
    # The keeper: confines itself, opens the kernel's folders to it, forks the kernel as pid 1
    # of a new pid namespace (`started(pid)`), waits for it (every process it left dies with
    # it), gives its files back. Returns the kernel's wait status.
    confine(request["keep"], request.get("cover", []), request["fresh"])
    modes = open_to_kernel(request["keep"])
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            if request.get("op") == "probe":  # can a kernel be confined here? (all but the kernel)
                _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                drop_privileges()
                sys.exit(0)
            _kernel(request)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 1
        finally:
            try:
                atexit._run_exitfuncs()
            finally:
                os._exit(code)
    started(pid)
    while True:
        try:
            status = os.waitpid(pid, 0)[1]
            break
        except InterruptedError:
            continue
    give_back(modes)
    return status
"""

# The loop of a zygote that lives in the sandbox (sandbox.zygote_argv). It sees every
# submission's folder but runs no learner code. For each kernel it forks a keeper (keep()), so
# it can tell (waitpid on the keeper) whether the kernel still runs.
# Requests: {"op": "fork", argv, cwd, env, keep, cover, fresh} -> kernel pid (in the zygote's
# pid namespace) or "error ..."; {"op": "kill"|"poll", "pid"} -> "ok" | "alive" | "dead".
SANDBOX_LOOP = r"""
prepare()
keepers = {}
for line in sys.stdin:
    request = json.loads(line)
    op = request.get("op")
    if op in ("kill", "poll"):
        keeper = keepers.get(request["pid"])
        alive = _alive(keeper)
        if op == "kill" and alive:
            os.kill(request["pid"], signal.SIGKILL)
        _answer("ok" if op == "kill" else "alive" if alive else "dead")
        continue
    r, w = os.pipe()
    keeper = os.fork()
    if keeper == 0:
        code = 1
        try:
            os.close(r)

            def started(pid):
                if op != "probe":
                    os.write(w, (str(pid) + "\n").encode())
                    os.close(w)
                    null = os.open(os.devnull, os.O_RDWR)
                    for fd in (0, 1):
                        os.dup2(null, fd)

            status = keep(request, started)
            if op == "probe":
                os.write(w, (("ok" if status == 0 else "error probe " + str(status)) + "\n").encode())
            code = 0
        except BaseException as exc:
            try:
                os.write(w, ("error " + repr(exc).replace("\n", " ") + "\n").encode())
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(w)
    got = b""
    while not got.endswith(b"\n"):
        chunk = os.read(r, 4096)
        if not chunk:
            break
        got += chunk
    os.close(r)
    text = got.decode().strip() or "error the keeper exited"
    if text.isdigit():
        keepers[int(text)] = keeper
    else:
        _alive(keeper)
    _answer(text)
"""
SANDBOX_SERVER_CODE = PRELUDE + SANDBOX_LIB + SANDBOX_LOOP

# One kernel in a sandbox of its own (sandbox.py, where no zygote serves): the request is the
# first argument; exits with the kernel.
SANDBOX_ONE = r"""
prepare()
status = keep(json.loads(sys.argv[1]), lambda pid: None)
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""
SANDBOX_ONE_CODE = PRELUDE + SANDBOX_LIB + SANDBOX_ONE
# What a killed kernel left, given back (sandbox.give_back): {folder: mode} is the argument.
GIVE_BACK_CODE = ("import atexit, json, os, signal, sys\n" + SANDBOX_LIB
                  + "give_back(json.loads(sys.argv[1]))\n")


@dataclass
class SandboxSpec:
    """Where a sandboxed zygote's kernels live: `writable` folders hold every kernel's notebook
    folder and private folder (the zygote sees them all, each kernel only its own);
    `private_root` is the folder of the kernels' private folders; `fresh` the folders each
    kernel gets empty."""

    writable: list[str]
    private_root: str
    fresh: list[str]


class Zygote:
    """The worker's handle on its zygote process."""

    def __init__(self, preload: list[str] | None = None, sandbox: SandboxSpec | None = None) -> None:
        self.lock = threading.Lock()
        self.restarts = 0
        self.preload = list(preload or [])
        self.sandbox = sandbox
        self._spawn()

    def _spawn(self) -> None:
        code = SANDBOX_SERVER_CODE if self.sandbox else SERVER_CODE
        extra = {"KNS_ZYGOTE_PRELOAD": json.dumps(self.preload), "KNS_ZYGOTE_CODE": code}
        env = {**os.environ, **extra}
        argv = [sys.executable, "-c", code]
        cwd = None
        if self.sandbox:
            from assessments.grading import sandbox

            extra["KNS_ZYGOTE_STASH"] = sandbox.STASH
            env = {**sandbox.kernel_env(os.environ, sandbox.sandbox_home(os.environ)), **extra}
            argv = sandbox.zygote_argv(argv, self.sandbox.writable, self.sandbox.private_root,
                                       dict(os.environ), extra)
            cwd = self.sandbox.private_root
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def _ask(self, request: dict, restart: bool = True) -> str:
        line = json.dumps(request) + "\n"
        with self.lock:
            for attempt in range(2):
                try:
                    if self.proc.poll() is not None:
                        raise BrokenPipeError("zygote exited")
                    self.proc.stdin.write(line)
                    self.proc.stdin.flush()
                    answer = self.proc.stdout.readline().strip()
                    if answer:
                        return answer
                    raise BrokenPipeError("no answer from zygote")
                except (OSError, ValueError):
                    if attempt or not restart:
                        raise RuntimeError("the kernel zygote process cannot be restarted") from None
                    self.proc.kill()
                    self.proc.wait()
                    self.restarts += 1
                    self._spawn()
        raise RuntimeError("unreachable")

    def fork(self, argv: list[str], cwd: str, env: dict[str, str], **confine: list[str]) -> int:
        """The pid of a new kernel. A zygote that died (a learner's code can kill its parent
        process) is replaced once, so one submission cannot stop the others being graded.
        A sandboxed zygote's kernels are confined to `keep`, their pid is in its namespace."""
        answer = self._ask({"op": "fork", "argv": argv, "cwd": cwd, "env": env, **confine})
        if not answer.isdigit():
            raise RuntimeError(f"the kernel zygote could not start a kernel: {answer}")
        return int(answer)

    def probe(self) -> str:
        """"ok", or why this sandboxed zygote cannot confine kernels (e.g. bwrap run by root)."""
        try:
            return self._ask({"op": "probe", "argv": [], "cwd": self.sandbox.private_root, "env": {},
                              "keep": [self.sandbox.private_root], "cover": [],
                              "fresh": self.sandbox.fresh}, restart=False)
        except RuntimeError as exc:
            return str(exc)

    def kill(self, pid: int) -> None:
        self._ask({"op": "kill", "pid": pid}, restart=False)

    def running(self, pid: int) -> bool:
        try:
            return self._ask({"op": "poll", "pid": pid}, restart=False) == "alive"
        except RuntimeError:  # the zygote is gone, and its sandbox with every kernel in it
            return False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()


class ForkedProcess:
    """The parts of subprocess.Popen that LocalProvisioner uses, for a kernel we did not spawn."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                with open(f"/proc/{self.pid}/stat", encoding="ascii") as fh:
                    state = fh.read().rsplit(")", 1)[1].split()[0]
                if state in ("Z", "X"):
                    self.returncode = 0
            except (OSError, IndexError):
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


ZYGOTE: Zygote | None = None  # set by the worker


class ZygoteProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel process is forked by the zygote instead of exec'd."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        if ZYGOTE is None or cmd[:3] != [sys.executable, "-m", "ipykernel_launcher"]:
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = ZYGOTE.fork(list(cmd), cwd, env)
        self.process = ForkedProcess(pid)
        self.pid = pid
        self.pgid = pid  # setsid: the kernel leads its own process group
        self.cwd = cwd
        return self.connection_info



SANDBOX_ZYGOTE: Zygote | None = None  # a sandboxed worker's zygote (in the sandbox), if it can confine


def sandbox_zygote_covers(cwd: str) -> bool:
    """Can the sandboxed zygote start a kernel in `cwd` (a folder under its writable roots)?"""
    zyg = SANDBOX_ZYGOTE
    if zyg is None or zyg.sandbox is None:
        return False
    folder = os.path.realpath(cwd)
    return any(folder.startswith(root.rstrip("/") + "/")
               for root in zyg.sandbox.writable if root != zyg.sandbox.private_root)


class ConfinedProcess(ForkedProcess):
    """A kernel forked by the sandboxed zygote: its pid is in the sandbox's pid namespace, so it
    is signalled and watched through the zygote, never with os.kill from here. It only dies:
    interrupts are messages (sandbox.py), and SIGTERM kills it as SIGKILL does (a sandboxed
    kernel is killed, not asked to stop)."""

    def __init__(self, pid: int, zyg: Zygote):
        super().__init__(pid)
        self.zygote = zyg

    def poll(self) -> int | None:
        if self.returncode is None and not self.zygote.running(self.pid):
            self.returncode = 0
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.zygote.kill(self.pid)


class SandboxZygoteProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel is forked, already confined, by the sandboxed zygote.
    The manager (sandbox.SandboxMixin) gives it the kernel's own command, not bwrap's."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        zyg = SANDBOX_ZYGOTE
        if zyg is None or cmd[:3] != [sys.executable, "-m", "ipykernel_launcher"]:
            return await super().launch_kernel(cmd, **kwargs)  # bwrap's command (sandbox.py)
        env = dict(kwargs["env"])
        cwd = os.path.realpath(str(kwargs["cwd"]))
        private = self.parent._kns_private
        pid = zyg.fork(list(cmd), cwd, env, keep=[cwd, private], cover=list(zyg.sandbox.writable),
                       fresh=[*zyg.sandbox.fresh, env.get("HOME", "/home/sandbox")])
        self.process = ConfinedProcess(pid, zyg)
        self.pid = pid
        self.pgid = None  # not a pid of this namespace: never os.killpg it
        self.cwd = cwd
        return self.connection_info


def course_imports(source_folder: Path) -> list[str]:
    """Modules imported at top level by the read-only cells of the source notebooks (written by
    the instructor, so the same in every submission); learners' cells are never looked at."""
    import ast

    import nbformat

    found: list[str] = []
    for path in sorted(source_folder.glob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - no preload is always correct
            continue
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("locked") or meta.get("solution"):
                continue
            code = "\n".join(line for line in cell.source.splitlines()
                             if not line.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            for node in tree.body:
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                         and node.module else [])
                found += [n for n in names if n not in found]
    return found
