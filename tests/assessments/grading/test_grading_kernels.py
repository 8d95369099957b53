"""Kernels started ahead: each notebook gets a new process, in its own folder; a killed zygote
is replaced."""

from __future__ import annotations

import os
import threading
import time

import pytest
from jupyter_core.utils import run_sync

from assessments.grading import kernels, zygote


@pytest.fixture(params=["forked", "launched"])
def pool(request):
    """A pool whose kernels are forked by a zygote, or launched as nbgrader launches them."""
    if request.param == "forked":
        zygote.ZYGOTE = zygote.Zygote()
    pool = kernels.KernelPool(spares=1, extra_arguments=["--HistoryManager.hist_file=:memory:"])
    yield pool
    pool.close()
    if zygote.ZYGOTE is not None:
        zygote.ZYGOTE.close()
        zygote.ZYGOTE = None


def _run(kc, code: str) -> str:
    """Execute `code`; the text it printed."""
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = run_sync(kc.get_iopub_msg)(timeout=20)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


def test_every_notebook_gets_a_new_kernel_process(pool):
    """Do two notebooks get different kernel processes, with nothing left over from the first?"""
    seen = []
    for _ in range(2):
        km, kc = pool.take("python3")
        try:
            seen.append(_run(kc, "import os, json\nprint(os.getpid(), 'leak' in globals(), "
                                 "getattr(json, 'patched', False))\nleak = 1\njson.patched = True"))
        finally:
            pool.retire(km, kc)
    first, second = (s.split() for s in seen)
    assert first[0] != second[0]
    assert first[1:] == second[1:] == ["False", "False"]


def test_pooled_clients_have_no_heartbeat_thread(pool):
    """A spare retired right after it started (a sandboxed kernel started ahead for another
    folder) stopped its client's heartbeat thread before the thread had run; jupyter_client's
    thread then spun reopening its socket until zmq refused ("Too many open files", about a
    second of CPU each time, seen in the suite on a busy machine). The pool's clients start no
    heartbeat: the manager says whether the kernel lives."""
    from jupyter_client.channels import HBChannel

    km, kc = pool.take("python3")
    try:
        assert kc._hb_channel is None
        assert not [t for t in threading.enumerate() if isinstance(t, HBChannel)]
        assert _run(kc, "print(1 + 1)") == "2\n"
    finally:
        pool.retire(km, kc)


def test_kernel_runs_in_the_notebook_folder(pool, tmp_path):
    """Does a pooled kernel run cells in the notebook's folder, as a kernel started there would?"""
    import nbformat

    from assessments.grading.kernels import PooledExecute

    (tmp_path / "answers.json").write_text('{"q3": "B"}', encoding="utf-8")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import json, os\nprint(json.load(open('answers.json'))['q3'], os.getcwd())")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    kernels.POOL = pool
    try:
        executed, _ = PooledExecute(timeout=20).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    finally:
        kernels.POOL = None
    assert executed.cells[0].outputs[0]["text"].split() == ["B", str(tmp_path)]
    assert executed.cells[0].execution_count == 1  # the folder change left no trace


def test_a_killed_zygote_is_replaced():
    """If a learner's code kills the process kernels are forked from, do the next kernels still start?"""
    zygote.ZYGOTE = zygote.Zygote()
    pool = kernels.KernelPool(spares=0, extra_arguments=["--HistoryManager.hist_file=:memory:"])
    try:
        km, kc = pool.take("python3")
        _run(kc, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
        pool.retire(km, kc)
        deadline = time.monotonic() + 10
        while zygote.ZYGOTE.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        km, kc = pool.take("python3")
        assert _run(kc, "print(6 * 7)").strip() == "42"
        assert zygote.ZYGOTE.restarts == 1
        pool.retire(km, kc)
    finally:
        pool.close()
        zygote.ZYGOTE.close()
        zygote.ZYGOTE = None


def test_no_kernel_outlives_the_pool(pool):
    """Are all kernels, spares included, stopped when the pool closes?"""
    km, kc = pool.take("python3")
    pid = int(_run(kc, "import os\nprint(os.getpid())"))
    pool.retire(km, kc)
    pool.close()
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)


def test_sandboxed_kernel_serves_only_the_folder_it_was_started_in(tmp_path):
    """A sandboxed kernel binds one folder when it starts: is a kernel started ahead handed out
    only to a notebook of that folder, does a notebook elsewhere get a kernel of its own folder,
    which cannot see the first one, and is each one gone when the worker retires it?"""
    from assessments.grading.sandbox import QuietSandboxKernelManager

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "mine.txt").write_text("a", encoding="utf-8")
    probe = f"import os\nprint(os.getcwd(), os.path.exists({str(a / 'mine.txt')!r}))"
    pool = kernels.KernelPool(spares=0, extra_arguments=["--HistoryManager.hist_file=:memory:"],
                              manager_class=QuietSandboxKernelManager, in_place=True)
    try:
        pool.start_ahead("python3", str(a))
        started_for_a = pool._ahead[2][0]
        km, kc = pool.take("python3", str(b))
        assert km is not started_for_a
        assert _run(kc, probe).split() == [str(b.resolve()), "False"]
        pool.retire(km, kc)

        pool.start_ahead("python3", str(a))
        started_for_a = pool._ahead[2][0]
        km, kc = pool.take("python3", str(a))
        assert km is started_for_a
        assert _run(kc, probe).split() == [str(a.resolve()), "True"]
        # Code left running (a thread that would rewrite the folder later) dies with its kernel,
        # before the worker hands the notebook back.
        _run(kc, "import threading, time\nthreading.Thread(target=time.sleep, args=(600,)).start()")
        pool.retire(km, kc)
        assert not run_sync(km.is_alive)()
    finally:
        pool.close()
    assert pool.started == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="the case of a grading run by root")
def test_root_grading_starts_kernels_beside_a_training_ca_it_cannot_enter(tmp_path):
    """Graded by root (`make run`'s demo build) with the training CA in the signing account's
    0750 folder: root may read it outside, but not from the sandbox's user namespace, so the
    CA is left out and the kernel starts (before: bwrap "Can't find source path", every kernel
    died and the demo had no score)."""
    import subprocess
    import sys

    from assessments.grading.sandbox import bwrap_argv

    state, work, private = tmp_path / "state", tmp_path / "work", tmp_path / "private"
    (state / "pki" / "ca").mkdir(parents=True)
    work.mkdir()
    private.mkdir()
    os.chown(state / "pki", 65534, 65534)  # another account's folder, closed to others
    os.chmod(state / "pki", 0o750)
    os.chmod(tmp_path, 0o755)
    env = {**os.environ, "KNS_STATE_DIR": str(state)}
    argv = bwrap_argv([sys.executable, "-c", "print('kernel ran')"], str(work), env, str(private))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "kernel ran" in done.stdout, done.stderr
