"""Concurrent learners (issues 2 and 15 part 4). `make run`'s start is bench_run.py's.

20 learners log in at once, on loopback, twice: as learners who keep JupyterLab (each gets a
running JupyterLab), and as most learners are, on the learner app (each gets their home page,
which starts the lesson kernel ahead). Then the memory each idle server uses (RSS of the
server's process tree, no kernel open, JupyterLab learners), beside the reference figure in
shared/reference/ecosystem.md (idle `jupyter lab` ≈ 128–130 MB).
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kynangso.hub.harness import (
    IS_ROOT,
    launch_hub,
    log_in,
    open_lab,
    open_server,
    remove_unix_accounts,
)
from kynangso.run import stop_hub

REPO = Path(__file__).resolve().parent.parent
LEARNERS = 20
TARGET_S = 15  # issue 15 part 4: all 20 JupyterLabs ready within 15 s
REFERENCE_IDLE_LAB_MB = 129  # ecosystem.md D3: idle `jupyter lab` RSS, 128–130 MB


def process_tree_rss_mb(username: str) -> float:
    """RSS of the user's server and its children, in MB."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"JUPYTERHUB_USER={username}".encode() in environ:
            pids.append(pid)
    total_kb = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def bench_concurrent_learners(learner_app: bool = False) -> None:
    staff = {f"hocvien{i:02d}": (f"Học viên {i}", "hocvien", f"HocVien{i:02d}@2026") for i in range(1, LEARNERS + 1)}
    prefix = f"knsb{secrets.token_hex(2)}-"
    home_root = Path(f"/tmp/{prefix}homes")
    home_root.mkdir(mode=0o755)
    base = Path(tempfile.mkdtemp())
    extra = {"lab": {"advanced_learners": []}} if learner_app else None
    hub = launch_hub(base, {"mode": "auto", "user_prefix": prefix, "home_root": str(home_root)}, staff, extra)
    try:
        def one(username: str) -> float:
            t0 = time.monotonic()
            r = log_in(hub, username)
            assert r.status_code == 302, r.status_code
            if learner_app:
                page = open_server(hub, r.session, username, "kns/home", timeout=600)
                assert "kns-home" in page.text, page.status_code
            else:
                open_lab(hub, r.session, username, timeout=600)
            return time.monotonic() - t0

        start = time.monotonic()
        with ThreadPoolExecutor(LEARNERS) as pool:
            times = sorted(pool.map(one, staff))
        wall = time.monotonic() - start
        mode = "isolated, one Unix account each" if IS_ROOT else "NOT isolated"
        where = "their home on the learner app" if learner_app else "JupyterLab"
        print(f"{LEARNERS} learners log in and reach {where} concurrently ({mode}):")
        print(f"  wall time until all {LEARNERS} answer: {wall:6.1f} s   target {TARGET_S} s   "
              f"ratio {wall / TARGET_S:.2f}")
        print(f"  per learner: median {statistics.median(times):.1f} s, slowest {times[-1]:.1f} s")
        if learner_app:
            return
        time.sleep(10)  # let the servers settle to idle
        rss = [process_tree_rss_mb(u) for u in staff]
        mean = statistics.mean(rss)
        print(f"  idle server RSS: mean {mean:.0f} MB (min {min(rss):.0f}, max {max(rss):.0f}); "
              f"reference idle jupyter lab {REFERENCE_IDLE_LAB_MB} MB; ratio {mean / REFERENCE_IDLE_LAB_MB:.2f}")
        print(f"  all {LEARNERS} idle servers together: {sum(rss):.0f} MB")
    finally:
        stop_hub(hub.proc)
        if IS_ROOT:
            remove_unix_accounts(prefix, home_root)
        shutil.rmtree(home_root, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    bench_concurrent_learners()
    bench_concurrent_learners(learner_app=True)


if __name__ == "__main__":
    main()
