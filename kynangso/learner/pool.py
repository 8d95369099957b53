"""A kernel started ahead for the next lesson page (learner-app servers only).

Opening a lesson as an app starts a kernel (a Python process, ipykernel, then the lesson's
imports: ipywidgets, the catalogue, the exercises, the sandboxes) before any widget can show:
on a weak or busy machine that is seconds on the critical path. Voilà's own pool ("preheat")
exists only in the standalone `voila` app, not in the server extension used here, so this keeps
one kernel ready in the same way: started when the learner's home is shown (where a lesson is
chosen), its imports done, handed to the next Voilà page, and replaced in the background.

`start_kernel` stands in for the server's `kernel_manager.start_kernel`. Only Voilà's requests
take the waiting kernel (Voilà passes `VOILA_REQUEST_URL` in the kernel's environment); it is
moved to the notebook's folder and given Voilà's environment variables first, through the
server's own client (the page's websocket, which accepts only widget messages, is not used).
A page that asks while the kernel is still warming up waits for it (it started first); the next
one is started a few seconds later, once the page's own cells have run.
Anything unusual (another kernel name, a culled or dead kernel, an error) falls back to a
normal start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

from tornado.ioloop import IOLoop

log = logging.getLogger(__name__)

# What every lesson imports (courses.lesson and the exercises' modules), done before a page asks.
WARM_UP = """\
import importlib, pkgutil
import ipywidgets
import courses
for _m in pkgutil.walk_packages(courses.__path__, "courses."):
    try:
        importlib.import_module(_m.name)
    except Exception:
        pass
from courses.catalogue import load_catalogue
load_catalogue()
from assessments.competency import load_framework
load_framework()
del _m, importlib, pkgutil
"""
VOILA_MARK = "VOILA_REQUEST_URL"
TIMEOUT_S = 300  # a kernel start on a busy machine
REFILL_DELAY_S = 5.0


class KernelPool:
    def __init__(self, kernel_manager, kernel_name: str = "python3", warm_up: str = WARM_UP):
        self.km = kernel_manager
        self.kernel_name = kernel_name
        self.warm_up = warm_up
        self.original = kernel_manager.start_kernel
        self.waiting: asyncio.Task | None = None

    def install(self) -> None:
        """Stand in for the server's start_kernel. The first kernel is started when the learner's
        home is shown (`refill`, from the home page): that is where a lesson is chosen, and a
        server started only to hand out an exam, or started beside twenty others at the start of
        a session, does not spend seconds of CPU on lessons nobody opens."""
        self.km.start_kernel = self.start_kernel

    def refill(self) -> None:
        """Start the next kernel ahead, unless one is already waiting or warming up."""
        if self.waiting is None:
            self.waiting = asyncio.ensure_future(self._prepare())

    async def _run(self, kernel_id: str, code: str) -> None:
        client = self.km.get_kernel(kernel_id).client()
        client.start_channels(hb=False)  # as assessments.grading.kernels: the heartbeat is unused
        try:
            await client.wait_for_ready(timeout=TIMEOUT_S)
            reply = await client.execute_interactive(code, store_history=False, silent=True,
                                                     timeout=TIMEOUT_S, output_hook=lambda _msg: None)
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"kernel {kernel_id}: {reply['content'].get('ename')}")
        finally:
            client.stop_channels()

    async def _prepare(self) -> str:
        kernel_id = await self.original(kernel_name=self.kernel_name)
        try:
            await self._run(kernel_id, self.warm_up)
        except Exception:
            await self.km.shutdown_kernel(kernel_id, now=True)
            raise
        log.info("kernel pool: kernel %s ready for the next lesson page", kernel_id)
        return kernel_id

    async def _take(self, path, env: dict) -> str | None:
        task, self.waiting = self.waiting, None
        if task is None:
            return None
        try:
            # Still warming up: it started before this page asked, so waiting for it beats a
            # second kernel booting beside it on a busy machine.
            kernel_id = await task
        except Exception:
            log.warning("kernel pool: the waiting kernel failed to start", exc_info=True)
            return None
        if kernel_id not in self.km:  # culled meanwhile
            return None
        cwd = self.km.cwd_for_path(path) if path is not None else None
        extra = {k: v for k, v in env.items() if isinstance(v, str) and os.environ.get(k) != v}
        code = (f"import os as _os\n_os.environ.update({json.dumps(extra)})\n"
                + (f"_os.chdir({json.dumps(cwd)})\n" if cwd else "") + "del _os\n")
        try:
            await self._run(kernel_id, code)
        except Exception:
            log.warning("kernel pool: could not hand over kernel %s", kernel_id, exc_info=True)
            await self.km.shutdown_kernel(kernel_id, now=True)
            return None
        return kernel_id

    async def start_kernel(self, *args, kernel_name=None, path=None, env=None, **kwargs):
        if not args and not kwargs and env and VOILA_MARK in env \
                and (kernel_name or self.kernel_name) == self.kernel_name:
            kernel_id = await self._take(path, env)
            # The next one a little later: the page's own cells run first.
            IOLoop.current().call_later(REFILL_DELAY_S, self.refill)
            if kernel_id is not None:
                log.info("kernel pool: lesson page got the waiting kernel %s", kernel_id)
                return kernel_id
        given = {k: v for k, v in (("kernel_name", kernel_name), ("path", path), ("env", env)) if v is not None}
        return await self.original(*args, **given, **kwargs)
