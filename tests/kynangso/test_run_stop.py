"""Stopping the hub stops what it started in sessions of their own (JupyterHub starts the proxy
and services with start_new_session), even when the hub itself had to be killed."""

import subprocess
import sys
import time

from kynangso import run

# A stand-in for a hub that hangs at shutdown: it starts a child in a new session (as JupyterHub
# starts configurable-http-proxy) and ignores SIGTERM, so stop_hub must SIGKILL it.
HANGING_HUB = ("import signal, subprocess, time; "
               "subprocess.Popen(['sleep', '300'], start_new_session=True); "
               "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)")


def test_a_killed_hub_leaves_no_proxy_behind():
    hub = subprocess.Popen([sys.executable, "-c", HANGING_HUB], start_new_session=True)
    deadline = time.monotonic() + 60
    while not (children := run._children(hub.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert children, "the stand-in hub started no child"
    run.stop_hub(hub, timeout=2)
    assert hub.poll() is not None
    assert not [c for c in children if run._same_process(*c)], "the proxy outlived the hub"
