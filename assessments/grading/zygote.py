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
from pathlib import Path
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

# Run with `python -c`, so that it imports nothing from this project and its sys.path is the
# interpreter's own: as ipykernel_launcher does, the '' entry is removed before importing, and
# IPython adds it back when the kernel starts (InteractiveShellApp.init_path).
SERVER_CODE = r"""
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


class Zygote:
    """The worker's handle on its zygote process."""

    def __init__(self, preload: list[str] | None = None) -> None:
        self.lock = threading.Lock()
        self.restarts = 0
        self.preload = list(preload or [])
        self._spawn()

    def _spawn(self) -> None:
        env = {**os.environ, "KNS_ZYGOTE_PRELOAD": json.dumps(self.preload),
               "KNS_ZYGOTE_CODE": SERVER_CODE}
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER_CODE], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """The pid of a new kernel. A zygote that died (a learner's code can kill its parent
        process) is replaced once, so one submission cannot stop the others being graded."""
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n"
        with self.lock:
            for attempt in range(2):
                try:
                    if self.proc.poll() is not None:
                        raise BrokenPipeError("zygote exited")
                    self.proc.stdin.write(request)
                    self.proc.stdin.flush()
                    answer = self.proc.stdout.readline()
                    if answer.strip():
                        return int(answer)
                    raise BrokenPipeError("no answer from zygote")
                except (OSError, ValueError):
                    if attempt:
                        raise RuntimeError("the kernel zygote process cannot be restarted") from None
                    self.proc.kill()
                    self.restarts += 1
                    self._spawn()
        raise RuntimeError("unreachable")

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
