"""Kernels started ahead of need, each used for exactly one notebook.

nbgrader's `Execute` starts a kernel when a notebook begins and waits for it to stop when it
ends (~1.4 s of waiting per notebook, of which only ~0.25 s is CPU). Here a worker keeps
`spares` kernels already booting while it grades, hands one to the next notebook and asks it
to shut down afterwards without waiting (a reaper collects it later). Every notebook still
runs in a brand-new kernel process, so no state (imports, monkey-patched modules, globals)
can leak from one learner's notebook into another's. Re-using one kernel with `%reset -f`
would be faster still but cannot undo changes to already-imported modules: rejected.

A spare kernel is started in a neutral folder, because the notebook's folder is only known
when it is handed out; `PooledExecute` changes the kernel's working folder before the first
cell (Python kernels only; other kernel languages are started cold, in place, as nbgrader
does).

Sandboxed kernels (sandbox.py, `in_place=True`) cannot be moved: the sandbox binds exactly one
folder, the notebook's, at start. So the worker starts the kernel in that folder as soon as it
is handed the notebook (`start_ahead`), and it boots while nbgrader's sanitize pass runs.
Run by an unprivileged account, the worker's sandboxed zygote (zygote.SANDBOX_LOOP, one
bubblewrap sandbox per worker) forks that kernel, confined to the notebook's folder, instead of
a cold sandbox of its own (~0.6 s of CPU for python, ipykernel and the course's modules).
Afterwards it is killed at once (nbclient's `shutdown_kernel = "immediate"`), not asked to
stop: no learner code runs after the last cell, and the worker waits until it is gone. Only a
kernel started for the same folder (and kernel name) is ever handed out; any other is killed
unused.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
import uuid
from collections import deque

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_event_loop, run_sync
from nbclient.util import run_hook
from nbgrader.preprocessors import Execute

from assessments.grading import zygote
from assessments.grading.sandbox import SandboxMixin

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 5.0  # as jupyter_client's shutdown_wait_time: then the kernel is killed


class KernelPool:
    """Warm, single-use kernels for one worker process (one thread, one event loop).

    A spare is started and its client connected ahead: jupyter_client's wait_for_ready (which
    ends with 0.2 s of listening for quiet on IOPub) runs as a task on this thread's event loop,
    so it progresses while the previous notebook's cells execute.
    """

    def __init__(self, spares: int = 1, extra_arguments: list[str] | None = None,
                 startup_timeout: int = 60, manager_class: type = AsyncKernelManager,
                 config=None, in_place: bool = False):
        self.spares = spares
        self.manager_class = manager_class
        self.config = config
        self.in_place = in_place
        self._ahead: tuple[str, str, tuple] | None = None  # (folder, kernel name, started)
        self.extra_arguments = list(extra_arguments or [])
        self.startup_timeout = startup_timeout
        self.startup_dir = tempfile.mkdtemp(prefix="kns-kernels-")
        self._ready: dict[str, deque] = {}
        self._poolable: dict[str, bool] = {}
        self._dying: list[tuple[AsyncKernelManager, float]] = []
        self.started = 0

    def poolable(self, kernel_name: str) -> bool:
        """Can kernels of this name be started ahead (an IPython kernel, whose folder we can change)?"""
        if kernel_name not in self._poolable:
            try:
                km = AsyncKernelManager(kernel_name=kernel_name)
                self._poolable[kernel_name] = bool(km.ipykernel) and km.kernel_spec.language == "python"
            except Exception as exc:  # unknown kernel: let nbgrader's own code report it
                log.warning("kernel %r cannot be pooled: %s", kernel_name, exc)
                self._poolable[kernel_name] = False
        return self._poolable[kernel_name]

    def _start(self, kernel_name: str, cwd: str | None = None):
        kw = {"config": self.config} if self.config is not None else {}
        km = self.manager_class(kernel_name=kernel_name, **kw)
        if zygote.ZYGOTE is not None and not self.in_place:
            km.kernel_id = str(uuid.uuid4())
            km.provisioner = zygote.ZygoteProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec,
                                                      parent=km)
        elif self.in_place and cwd and zygote.sandbox_zygote_covers(cwd) and isinstance(km, SandboxMixin):
            km.kernel_id = str(uuid.uuid4())
            km.provisioner = zygote.SandboxZygoteProvisioner(kernel_id=km.kernel_id,
                                                             kernel_spec=km.kernel_spec, parent=km)
        # The kernel's own stdout/stderr carry only its start-up chatter (cell output is captured
        # and sent over ZMQ by ipykernel), which would garble the progress bar.
        run_sync(km.start_kernel)(extra_arguments=list(self.extra_arguments), cwd=cwd or self.startup_dir,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started += 1
        kc = km.client()
        # No heartbeat channel: whether the kernel lives is asked of its manager (the client's
        # parent), and jupyter_client's heartbeat thread, stopped before it has run (a spare
        # retired at once), spins opening sockets until zmq refuses ("Too many open files").
        kc.start_channels(hb=False)
        ready = ensure_event_loop().create_task(kc._async_wait_for_ready(timeout=self.startup_timeout))
        return km, kc, ready

    def start_ahead(self, kernel_name: str, cwd: str) -> None:
        """In-place pools: start the kernel of the notebook that will run in `cwd`."""
        self._drop_ahead()
        folder = os.path.realpath(cwd)
        if self.in_place and self.poolable(kernel_name) and os.path.isdir(folder):
            self._ahead = (folder, kernel_name, self._start(kernel_name, folder))

    def _drop_ahead(self) -> None:
        if self._ahead is not None:
            _, _, (km, kc, task) = self._ahead
            self._ahead = None
            task.cancel()
            self.retire(km, kc)

    def prefill(self, kernel_name: str) -> None:
        """Start spare kernels now, before the first notebook needs one."""
        if self.in_place:
            return
        if self.poolable(kernel_name):
            ready = self._ready.setdefault(kernel_name, deque())
            while len(ready) < self.spares:
                ready.append(self._start(kernel_name))

    def take(self, kernel_name: str, cwd: str | None = None):
        """(kernel manager, connected client) for one notebook running in `cwd`; None: not
        poolable, start it the nbgrader way."""
        if not self.poolable(kernel_name):
            self._drop_ahead()
            return None
        ready = self._ready.setdefault(kernel_name, deque())
        folder = os.path.realpath(cwd or os.getcwd())
        if self.in_place:
            ahead, self._ahead = self._ahead, None
            if ahead is not None and ahead[:2] == (folder, kernel_name):
                ready.append(ahead[2])
            elif ahead is not None:
                km, kc, task = ahead[2]
                task.cancel()
                self.retire(km, kc)
        taken = None
        for _ in range(3):
            km, kc, task = ready.popleft() if ready else self._start(
                kernel_name, folder if self.in_place else None)
            try:
                if not task.done():
                    ensure_event_loop().run_until_complete(task)
                task.result()
                taken = (km, kc)
                break
            except Exception as exc:
                log.warning("a spare kernel did not become ready (%s); starting another", exc)
                self.retire(km, kc)
        self.prefill(kernel_name)  # the next notebook's kernel boots while this one runs
        self.reap()
        return taken

    def retire(self, km: AsyncKernelManager, kc=None) -> None:
        """Ask the kernel to stop; do not wait for it (see reap). A sandboxed kernel is killed
        now instead (with its pid namespace) and waited for: code it left running must not
        outlive its notebook and rewrite the autograded folder after nbgrader has written it."""
        if kc is not None:
            kc.stop_channels()
        if self.in_place:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception as exc:
                log.warning("cannot kill a sandboxed kernel: %s", exc)
                self._dying.append((km, time.monotonic()))
            return
        try:
            if run_sync(km.is_alive)():
                run_sync(km.request_shutdown)()
        except Exception as exc:
            log.warning("shutdown request failed: %s", exc)
        self._dying.append((km, time.monotonic() + SHUTDOWN_GRACE_S))

    def reap(self, wait: bool = False) -> None:
        """Clean up stopped kernels; kill those that outlived the grace period."""
        while True:
            still = []
            for km, deadline in self._dying:
                try:
                    alive = run_sync(km.is_alive)()
                    if alive and time.monotonic() > deadline:
                        run_sync(km._kill_kernel)()
                        alive = False
                    if alive:
                        still.append((km, deadline))
                    else:
                        run_sync(km.cleanup_resources)()
                except Exception as exc:
                    log.warning("cannot clean up kernel: %s", exc)
            self._dying = still
            if not (wait and self._dying):
                return
            time.sleep(0.05)

    def close(self) -> None:
        self._drop_ahead()
        for ready in self._ready.values():
            while ready:
                km, kc, task = ready.popleft()
                task.cancel()
                self.retire(km, kc)
        self.reap(wait=True)
        try:
            os.rmdir(self.startup_dir)
        except OSError:
            pass


# The pool of this worker process; set by worker.init_worker. Module state because nbconvert
# instantiates preprocessors itself (register_preprocessor), so it cannot be passed in.
POOL: KernelPool | None = None


class PooledExecute(Execute):
    """nbgrader's Execute preprocessor, taking its kernel from the worker's pool.

    Everything else (timeouts, interrupt on timeout, error recording, on_cell_executed) is
    nbgrader's and nbclient's code. Only who starts and stops the kernel changes.
    """

    _kns_cwd: str | None = None
    _kns_kc = None

    def preprocess(self, nb, resources=None, km=None):
        pool = POOL
        if km is None and pool is not None:
            name = self.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
            path = (resources or {}).get("metadata", {}).get("path") or os.getcwd()
            taken = pool.take(name, os.path.abspath(path))
            if taken is not None:
                km, self._kns_kc = taken
                # An in-place (sandboxed) kernel was started in the notebook's folder already.
                self._kns_cwd = None if pool.in_place else os.path.abspath(path)
                try:
                    return super().preprocess(nb, resources, km=km)
                finally:
                    kc = getattr(self, "kc", None) or self._kns_kc
                    self.kc = self._kns_kc = self._kns_cwd = None
                    pool.retire(km, kc)
        return super().preprocess(nb, resources, km=km)

    async def async_start_new_kernel_client(self):
        if self._kns_kc is None:
            return await super().async_start_new_kernel_client()
        # The pool already connected this client and waited for the kernel to be ready; the
        # rest is nbclient's async_start_new_kernel_client.
        self.kc, self._kns_kc = self._kns_kc, None
        if self._kns_cwd is not None:
            # A fresh kernel would have been started in the notebook's folder (nbclient passes
            # cwd=resources['metadata']['path']); the spare was started elsewhere, so move it.
            # Silent: no execution count, no history, nothing left in the namespace.
            msg_id = self.kc.execute(f"__import__('os').chdir({self._kns_cwd!r})", silent=True,
                                     store_history=False)
            reply = await self.async_wait_for_reply(msg_id)
            if reply is None or reply["content"].get("status") != "ok":
                raise RuntimeError(f"could not change the kernel's folder to {self._kns_cwd}")
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    # nbclient binds the sync wrapper to its own coroutine at class creation: rebind to ours.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
