"""Calling code that uses `asyncio.run` from inside a running event loop.

pyHanko (signing, validating) calls `asyncio.run`, which refuses to run in a thread
whose event loop is running, and a Jupyter kernel runs cells and widget callbacks
in exactly such a thread. `off_loop` sends the call to a worker thread there, and
runs it in place everywhere else (tests, scripts, the command line).
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor


def off_loop(fn, /, *args, **kwargs):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    # the worker sees the caller's context variables (courses.common.acting_for)
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, fn, *args, **kwargs).result()
