"""Platform start-up and concurrent learners (issue 2).

1. `make run` to login page, on a prepared machine (dependencies installed):
   first with an empty state folder, then again on the state the first run left.
2. 20 demo learners log in at once and each gets a running JupyterLab, on
   loopback; then the memory each idle server uses (RSS of the server's process
   tree, no kernel open), beside the reference figure in
   shared/reference/ecosystem.md (idle `jupyter lab` ≈ 128–130 MB).
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml

from kynangso.hub.harness import (
    IS_ROOT,
    free_port,
    launch_hub,
    log_in,
    open_lab,
    remove_unix_accounts,
)
from kynangso.run import stop_hub

REPO = Path(__file__).resolve().parent.parent
LEARNERS = 20
REFERENCE_IDLE_LAB_MB = 129  # ecosystem.md D3: idle `jupyter lab` RSS, 128–130 MB


def time_make_run(state: Path, settings_file: Path, port: int) -> float:
    env = dict(os.environ, KNS_SETTINGS=str(settings_file))
    start = time.monotonic()
    proc = subprocess.Popen(["make", "run"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"make run exited with {proc.returncode}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/hub/login", timeout=2).status_code == 200:
                    return time.monotonic() - start
            except requests.RequestException:
                pass
            time.sleep(0.1)
    finally:
        stop_hub(proc)


def bench_make_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        port = free_port()
        settings_file = base / "settings.yaml"
        settings_file.write_text(yaml.safe_dump({
            "state_dir": str(base / "state"),
            "hub": {"port": port, "api_port": free_port(), "proxy_api_port": free_port()},
            "isolation": {"home_root": str(base / "homes")},
        }))
        (base / "homes").mkdir()
        os.chmod(base, 0o755)
        first = time_make_run(base / "state", settings_file, port)
        second = time_make_run(base / "state", settings_file, port)
        print(f"make run -> login page, empty state:    {first:6.1f} s")
        print(f"make run -> login page, existing state: {second:6.1f} s")


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


def bench_concurrent_learners() -> None:
    staff = {f"hocvien{i:02d}": (f"Học viên {i}", "hocvien", f"HocVien{i:02d}@2026") for i in range(1, LEARNERS + 1)}
    prefix = f"knsb{secrets.token_hex(2)}-"
    home_root = Path(f"/tmp/{prefix}homes")
    home_root.mkdir(mode=0o755)
    base = Path(tempfile.mkdtemp())
    hub = launch_hub(base, {"mode": "auto", "user_prefix": prefix, "home_root": str(home_root)}, staff)
    try:
        def one(username: str) -> float:
            t0 = time.monotonic()
            r = log_in(hub, username)
            assert r.status_code == 302, r.status_code
            open_lab(hub, r.session, username, timeout=600)
            return time.monotonic() - t0

        start = time.monotonic()
        with ThreadPoolExecutor(LEARNERS) as pool:
            times = sorted(pool.map(one, staff))
        wall = time.monotonic() - start
        time.sleep(10)  # let the servers settle to idle
        rss = [process_tree_rss_mb(u) for u in staff]
        mode = "isolated, one Unix account each" if IS_ROOT else "NOT isolated"
        print(f"{LEARNERS} learners log in and reach JupyterLab concurrently ({mode}):")
        print(f"  wall time until all {LEARNERS} servers run: {wall:6.1f} s")
        print(f"  per learner: median {statistics.median(times):.1f} s, slowest {times[-1]:.1f} s")
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
    bench_make_run()
    bench_concurrent_learners()


if __name__ == "__main__":
    main()
