"""Grading engine benchmark: `kns grade` against `nbgrader autograde`, same machine, same run.

Builds nbgrader's quickstart course (ps1: two notebooks per submission), makes N submissions
(default 200: a mix of correct, partly correct and blank answers), grades one copy with
`nbgrader autograde` and another with `kns grade`, and prints both wall times, the ratio, the
peak memory of each and whether the two gradebooks are identical.

Settings (environment): KNS_BENCH_GRADING_N (submissions, default 200),
KNS_BENCH_GRADING_NBGRADER_SAMPLE (grade only this many with nbgrader and extrapolate,
clearly labelled; default: all), KNS_BENCH_GRADING_WORKERS (default: CPU count).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = os.path.dirname(sys.executable)


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True)


class TreeMemory:
    """Samples the summed PSS of a process and all its descendants (kernels included)."""

    def __init__(self, pid: int, every_s: float = 0.5):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                for p in [self.proc, *self.proc.children(recursive=True)]:
                    try:
                        # PSS: forked kernels share their parent's pages; RSS would count them twice.
                        total += p.memory_full_info().pss
                    except (psutil.Error, AttributeError):
                        pass
            except psutil.Error:
                return
            self.peak = max(self.peak, total)
            self._stop.wait(self.every_s)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _timed_process(args: list[str], cwd: Path) -> tuple[float, int, int, subprocess.CompletedProcess]:
    """(wall s, peak summed RSS bytes of the tree, largest single-process RSS KiB, result).

    The single-process figure is /usr/bin/time's %M (getrusage of the waited-for tree)."""
    maxrss_file = cwd / ".maxrss"
    timed = ["/usr/bin/time", "-f", "%M", "-o", str(maxrss_file), *args] if os.path.exists(
        "/usr/bin/time") else args
    start = time.perf_counter()
    proc = subprocess.Popen(timed, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    mem = TreeMemory(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    peak_tree = mem.stop()
    try:
        max_single = int(maxrss_file.read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        max_single = 0
    return wall, peak_tree, max_single, subprocess.CompletedProcess(args, proc.returncode, out, err)


def _build_course(base: Path, n: int) -> Path:
    if _run([os.path.join(BIN, "nbgrader"), "quickstart", "course101"], base).returncode:
        raise RuntimeError("nbgrader quickstart failed")
    course = base / "course101"
    if _run([os.path.join(BIN, "nbgrader"), "generate_assignment", "ps1"], course).returncode:
        raise RuntimeError("nbgrader generate_assignment failed")
    names = ("problem1", "problem2")
    release = {n_: nbformat.read(course / "release" / "ps1" / f"{n_}.ipynb", as_version=4) for n_ in names}
    source = {n_: nbformat.read(course / "source" / "ps1" / f"{n_}.ipynb", as_version=4) for n_ in names}
    rng = random.Random(7)
    for k in range(n):
        folder = course / "submitted" / f"st{k:03d}" / "ps1"
        folder.mkdir(parents=True)
        for name in names:
            nb = nbformat.from_dict(json.loads(json.dumps(release[name])))
            src = {c.metadata["nbgrader"]["grade_id"]: c for c in source[name].cells
                   if c.metadata.get("nbgrader", {}).get("grade_id")}
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("solution") and rng.random() < 0.7:  # ~70 % of answers given
                    cell.source = "\n".join(line for line in src[meta["grade_id"]].source.splitlines()
                                            if "SOLUTION" not in line)
            nbformat.write(nb, folder / f"{name}.ipynb")
        (folder / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC", encoding="utf-8")
    return course


def main() -> None:
    n = int(os.environ.get("KNS_BENCH_GRADING_N", "200"))
    sample = int(os.environ.get("KNS_BENCH_GRADING_NBGRADER_SAMPLE", str(n)))
    workers = int(os.environ.get("KNS_BENCH_GRADING_WORKERS", str(os.cpu_count() or 1)))
    base = Path(tempfile.mkdtemp(prefix="kns-bench-grading-"))
    try:
        course = _build_course(base, n)
        by_nbg = base / "nbgrader"
        by_kns = base / "kns"
        shutil.copytree(course, by_nbg)
        shutil.copytree(course, by_kns)
        if sample < n:  # nbgrader grades a random sample; the rest is extrapolated
            keep = set(random.Random(3).sample(sorted(os.listdir(by_nbg / "submitted")), sample))
            for student in os.listdir(by_nbg / "submitted"):
                if student not in keep:
                    shutil.rmtree(by_nbg / "submitted" / student)
        print(f"machine: {os.cpu_count()} CPUs; course: nbgrader quickstart ps1 (2 notebooks per "
              f"submission); submissions: {n}", flush=True)

        wall_nbg, tree_nbg, max_nbg, res_nbg = _timed_process(
            [os.path.join(BIN, "nbgrader"), "autograde", "ps1"], by_nbg)
        label = "measured" if sample == n else f"measured on a random sample of {sample}"
        print(f"nbgrader autograde: {wall_nbg:.1f} s wall ({label}; exit {res_nbg.returncode}), "
              f"{wall_nbg / sample:.2f} s per submission", flush=True)
        if sample < n:
            wall_nbg_all = wall_nbg / sample * n
            print(f"nbgrader autograde, EXTRAPOLATED to {n} submissions: {wall_nbg_all:.1f} s", flush=True)
        else:
            wall_nbg_all = wall_nbg
        print(f"nbgrader autograde peak memory: {tree_nbg / 2**20:.0f} MiB PSS summed over its process "
              f"tree (sampled every 0.5 s); largest single process RSS {max_nbg / 1024:.0f} MiB", flush=True)

        wall_kns, tree_kns, max_kns, res_kns = _timed_process(
            [sys.executable, "-m", "assessments.grading", "ps1", "--course-dir", str(by_kns),
             "--workers", str(workers), "--json"], by_kns)
        report = json.loads(res_kns.stdout) if res_kns.stdout.strip().startswith("{") else {}
        print(f"kns grade ({workers} workers): {wall_kns:.1f} s wall for {n} submissions (measured; exit "
              f"{res_kns.returncode}; graded {len(report.get('graded', []))}, failed "
              f"{len(report.get('failed', []))}), {wall_kns / n:.2f} s per submission", flush=True)
        print(f"kns grade peak memory: {tree_kns / 2**20:.0f} MiB PSS summed over its process tree "
              f"(workers, zygotes and kernels, sampled every 0.5 s); largest single process RSS "
              f"{max_kns / 1024:.0f} MiB", flush=True)
        ratio = wall_nbg_all / wall_kns
        basis = "measured" if sample == n else "extrapolated nbgrader time"
        print(f"ratio nbgrader/kns: {ratio:.1f}x ({basis}; aim: at least 5x on 2 cores)", flush=True)

        from assessments.grading.compare import snapshot

        nbg_rows = snapshot(f"sqlite:///{by_nbg}/gradebook.db", "ps1")
        kns_rows = snapshot(f"sqlite:///{by_kns}/gradebook.db", "ps1")
        same = all(kns_rows.get(s) == rows for s, rows in nbg_rows.items())
        print(f"gradebooks identical on the {len(nbg_rows)} submissions graded by both: {same}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
