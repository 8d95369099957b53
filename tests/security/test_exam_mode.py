"""Issue 14: a learner who runs code (the "advanced" group, who keep JupyterLab) gets no code of
theirs beside an exam.

The attacker prepares, in their own kernel before the exam, everything an account can leave
behind to run later: a detached process waiting for the exam's files, an IPython startup file
(it would run in the exam's kernel), a Jupyter server config file and a user site-packages
`.pth` file (both run when their server starts), and a folder under the exam's name holding a
notebook of their own (Voilà would run it as the exam). Then they fetch the exam.

Before exam mode the desk handed the exam to that server, where the learner's code can read
the inputs and compute the answers with the sandbox's own rules. Now the desk hands nothing
to a server started before the attempt began: it stops the server, and the hub starts the next
one as a learner-app server after killing every process of the account. That server fetches
the exam into a fresh folder, and runs none of the things left behind; the kernels API and
JupyterLab are refused during the exam, and code runs again only once the window has closed.
Real hub as root, real accounts, real desk and kernels.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from kynangso.hub.harness import (
    IS_ROOT,
    api_token,
    cookie,
    log_in,
    open_lab,
    open_server,
    run_in_kernel,
    start_exam,
    wait_server_stopped,
)

pytestmark = [pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="exam windows need an isolated (root) hub")]

COURSE, EXAM, LEARNER = "kiem-tra-nang-luc", "tong-hop", "hocvien02"
MARKERS = ("startup-ran", "config-ran", "pth-ran", "notebook-ran")

# In the learner's kernel before the exam: what is left behind to run later.
PREPARE = r'''
import json, os, subprocess, sys, sysconfig
home = os.path.expanduser("~")
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
mark = "open(os.path.join(os.path.expanduser('~'), {!r}), 'w').close()"
write(f"{home}/.ipython/profile_default/startup/00-kns.py", "import os\n" + mark.format("startup-ran"))
write(f"{home}/.jupyter/jupyter_server_config.py", "import os\n" + mark.format("config-ran"))
site = sysconfig.get_path("purelib", f"{os.name}_user")
write(f"{site}/kns-attack.pth", "import os; " + mark.format("pth-ran") + "\n")
nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                 "source": "import os\n" + mark.format("notebook-ran")}],
      "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
      "nbformat": 4, "nbformat_minor": 5}
write(f"{home}/{exam}/{exam}.ipynb", json.dumps(nb))
# Waits, detached from the server, for the exam's files (it would compute the answers).
waiter = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                          start_new_session=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("WAITER", waiter.pid)
'''


def kns(hub, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KNS_SETTINGS": str(hub.settings_file)}
    return subprocess.run([sys.executable, "-m", "kynangso.cli", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def formgrader(hub, token: str, method: str, path: str):
    url = f"{hub.url}/services/{COURSE}/formgrader/api/{path}"
    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=600)


def assignment_action(hub, session, action: str) -> dict:
    xsrf = cookie(session, "_xsrf", f"/user/{LEARNER}/") or ""
    r = session.post(f"{hub.url}/user/{LEARNER}/assignments/{action}",
                     data={"course_id": COURSE, "assignment_id": EXAM},
                     headers={"X-XSRFToken": xsrf}, timeout=300)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r.json()


def alive(pid: int) -> bool:
    """Whether the waiter still runs (the same process: not a zombie, not a new one with its pid)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            if "zombie" in f.read():
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"time.sleep(3600)" in f.read()
    except FileNotFoundError:
        return False


def stop_own_server(hub, session) -> None:
    """The learner stops their server from the hub's home page (its API, with their token)."""
    token = api_token(hub, session, LEARNER)
    r = requests.delete(f"{hub.url}/hub/api/users/{LEARNER}/server",
                        headers={"Authorization": f"token {token}"}, timeout=120)
    assert r.status_code in (202, 204), r.text
    wait_server_stopped(hub, session, LEARNER)


def test_an_advanced_learner_runs_no_code_beside_the_exam(exam_hub):
    hub = exam_hub
    teacher = log_in(hub, "giangvien01").session
    t_token = api_token(hub, teacher, "giangvien01")
    for step in ("assign", "release"):
        r = formgrader(hub, t_token, "POST", f"assignment/{EXAM}/{step}")
        assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
    assert kns(hub, "exam", "open", EXAM, "--group", "hocvien", "--minutes", "60",
               "--late", "refuse").returncode == 0

    learner = log_in(hub, LEARNER).session
    open_lab(hub, learner, LEARNER)
    home = Path(pwd.getpwnam(hub.unix_name(LEARNER)).pw_dir)
    printed = run_in_kernel(hub, learner, LEARNER, PREPARE.replace("{exam}", EXAM))
    waiter = int(re.search(r"WAITER (\d+)", printed).group(1))
    assert alive(waiter), printed

    # The fetch from JupyterLab hands nothing to this server: it is restarted in exam mode,
    # and the next server, the learner app, fetches the exam.
    page = start_exam(hub, learner, LEARNER, COURSE, EXAM)
    assert not alive(waiter), "a process of the learner's outlived the start of the exam"
    assert (home / EXAM / "exam-info.json").is_file()
    released = json.loads((home / EXAM / f"{EXAM}.ipynb").read_text("utf-8"))
    assert "notebook-ran" not in json.dumps(released)
    assert list(home.glob(f"{EXAM}.truoc-thi-*/{EXAM}.ipynb")), "the learner's own folder is kept aside"
    # The exam page started its kernel (Voilà), which took no startup file from the home.
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.text)
    assert found, "the exam page names no kernel"
    deadline = time.monotonic() + 180  # generous: a kernel start on a busy machine
    while True:
        state = learner.get(f"{hub.url}/user/{LEARNER}/api/kernels/{found.group(1)}", timeout=60)
        # IPython runs startup files before the kernel's first answer: once it has answered,
        # they would have run.
        if state.status_code == 200 and state.json().get("execution_state") in ("idle", "busy"):
            break
        assert time.monotonic() < deadline, (state.status_code, state.text[:300])
        time.sleep(1)
    assert sorted(m for m in MARKERS if (home / m).exists()) == []

    # During the exam: no JupyterLab, no new kernel, no code.
    xsrf = cookie(learner, "_xsrf", f"/user/{LEARNER}/") or ""
    lab = learner.get(f"{hub.url}/user/{LEARNER}/lab", timeout=60)
    assert lab.status_code == 403 and "chế độ thi" in lab.text
    started = learner.post(f"{hub.url}/user/{LEARNER}/api/kernels", json={"name": "python3"},
                           headers={"X-XSRFToken": xsrf}, timeout=60)
    assert started.status_code == 403, started.text[:300]

    # Submitting does not end exam mode: the window is still open, and a server started now
    # is again the learner app (a second submission may not bring answers computed between).
    assert assignment_action(hub, learner, "submit")["success"]
    stop_own_server(hub, learner)
    again = open_server(hub, learner, LEARNER, "kns/home")
    assert "chế độ thi" in again.text and "/lab" not in again.url
    assert sorted(m for m in MARKERS if (home / m).exists()) == []

    # The window closes: the next server is JupyterLab again, where the learner runs code.
    assert kns(hub, "exam", "close", EXAM).returncode == 0
    stop_own_server(hub, learner)
    open_lab(hub, learner, LEARNER)
    assert "AFTER" in run_in_kernel(hub, learner, LEARNER, "print('AFTER')")
