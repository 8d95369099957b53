"""`make run`'s first start (issue 15 part 1): seconds from an empty state to the login page.

Runs `python -m kynangso.run` as `make run` does (settings in a temporary folder, isolation
none, free ports), three times in one go:

1. empty state, empty demo cache: the login page answers, then the demo exam results are
   built in the background by the real pipeline (their build time is read from its log line);
2. another empty state, with the cache run 1 filled: a later first start on the same machine;
3. another empty state and empty cache: Ctrl-C (SIGINT to the launcher) while the background
   build grades; seconds until everything has stopped.

Reference: the behaviour before issue 15, where `make run` built the demo results before
starting the hub: the login time of run 1 plus the build's duration (the same build, measured
in run 1), and the issue's target, 20 s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests
import yaml

from kynangso.hub.harness import free_port

TARGET_S = 20.0
REPO = Path(__file__).resolve().parents[1]
BUILT = re.compile(r"demo exam course .* built in ([\d.]+) s")


def start(folder: Path, name: str, cache: Path):
    state = folder / name
    port = free_port()
    settings = folder / f"{name}.yaml"
    settings.write_text(yaml.safe_dump({
        "state_dir": str(state),
        "hub": {"port": port, "api_port": free_port(), "proxy_api_port": free_port()},
        "services": {n: free_port() for n in ("progress_port", "signing_port", "reports_port",
                                              "exams_port", "formgrader_port")},
        "isolation": {"mode": "none"},
    }))
    out = (folder / f"{name}.out").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kynangso.run"], cwd=REPO, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, KNS_SETTINGS=str(settings),
                                     KNS_DEMO_CACHE=str(cache)))
    url = f"http://127.0.0.1:{port}/hub/login"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"kynangso.run exited: {(folder / f'{name}.out').read_text()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return proc, state, time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.2)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def build_seconds(state: Path) -> float | None:
    log = state / "hub" / "jupyterhub.log"
    m = BUILT.search(log.read_text(encoding="utf-8", errors="replace")) if log.exists() else None
    return float(m.group(1)) if m else None


def stop(proc, sig=signal.SIGTERM) -> float:
    t0 = time.perf_counter()
    os.killpg(proc.pid, sig)
    proc.wait(300)
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kns-bench-run-") as tmp:
        folder = Path(tmp)
        cache = folder / "cache"
        proc, state, cold = start(folder, "state1", cache)
        try:
            # Run 1's build must finish: it fills the cache run 2 uses.
            done = wait_for(lambda: build_seconds(state) is not None, 1800)
        finally:
            stop(proc)
        build = build_seconds(state) if done else None

        proc, _state2, warm = start(folder, "state2", cache)
        stop(proc)

        proc, state3, _ = start(folder, "state3", folder / "cache3")
        grading = wait_for(lambda: any((p.info["cwd"] or "").startswith(str(state3 / ".kiem-tra-MAU-"))
                                       for p in psutil.process_iter(["cwd"])), 900)
        ctrl_c = stop(proc, signal.SIGINT)

    print(f"time to login page, empty state, empty cache (results built after, in the "
          f"background): {cold:.1f} s   target {TARGET_S:.0f} s   ratio {cold / TARGET_S:.2f}")
    if build is not None:
        before = cold + build
        print(f"  reference, before issue 15 (demo build first, then the hub): {before:.1f} s "
              f"(= {cold:.1f} s + the build's {build:.1f} s)   speed-up {before / cold:.1f}x")
    else:
        print("  the background build did not finish within 30 min: no reference figure")
    print(f"time to login page, empty state, demo results from the cache: {warm:.1f} s   "
          f"target {TARGET_S:.0f} s   ratio {warm / TARGET_S:.2f}")
    print(f"Ctrl-C during the background build ({'grading' if grading else 'not yet grading'}): "
          f"everything stopped in {ctrl_c:.1f} s")


if __name__ == "__main__":
    main()
