"""Grading engine benchmark: `kns grade` against `nbgrader autograde`, same machine, same run.

By default grades OUR exam course (assessments/exams, exam `van-ban`): the exam is released
with `nbgrader generate_assignment`, N simulated learners (default 200; a fixed mix of correct,
partly correct, wrong and blank answers written by assessments/exams/answers.py) submit it, one
copy is graded with `nbgrader autograde` and another with `kns grade`. Prints, side by side,
both wall times, the ratio, the peak memory of each grader's whole process tree (summed RSS,
and summed PSS, which counts pages shared by forked kernels once) and whether the two
gradebooks are identical.

Settings (environment): KNS_BENCH_GRADING_COURSE (`exam`, default, or `quickstart`: nbgrader's
example course ps1, two notebooks per submission), KNS_BENCH_GRADING_EXAM (default van-ban),
KNS_BENCH_GRADING_N (submissions, default 200), KNS_BENCH_GRADING_NBGRADER_SAMPLE (grade only
this many with nbgrader and extrapolate, clearly labelled; default: all),
KNS_BENCH_GRADING_WORKERS (default: CPU count), KNS_BENCH_GRADING_ACCOUNT (run by root: the
unprivileged account that owns and grades the kns copy, as on the platform; default
kns-bench-grader, empty: root).
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
from dataclasses import dataclass
from pathlib import Path

import nbformat

from kynangso.exams.course import answer_keys_config

ROOT = Path(__file__).resolve().parent.parent
BIN = os.path.dirname(sys.executable)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(extra or {}))


def _run(args: list[str], cwd: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=_env(extra), capture_output=True, text=True)


class TreeMemory:
    """Samples the summed RSS and PSS of a process and all its descendants (kernels included)."""

    def __init__(self, pid: int, every_s: float = 0.5):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak_rss = 0
        self.peak_pss = 0
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        import psutil

        while not self._stop.is_set():
            rss = pss = 0
            try:
                for p in [self.proc, *self.proc.children(recursive=True)]:
                    try:
                        # RSS counts pages shared by forked kernels once per process; PSS splits them.
                        info = p.memory_full_info()
                        rss += info.rss
                        pss += info.pss
                    except (psutil.Error, AttributeError):
                        pass
            except psutil.Error:
                return
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.every_s)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak_rss, self.peak_pss


@dataclass
class Run:
    wall_s: float
    tree_rss: int  # bytes, peak of the summed RSS of the process tree
    tree_pss: int  # bytes, peak of the summed PSS of the process tree
    max_single_kib: int  # /usr/bin/time's %M: the largest RSS of one process of the tree
    cpu_s: float  # user+sys CPU of the whole process tree (see _CpuAccount)
    result: subprocess.CompletedProcess


class _CpuAccount:
    """CPU time of a process and every descendant. bwrap does not wait for its sandbox's init
    (the exit status comes through an eventfd), so a sandboxed kernel's CPU never reaches the
    grader's rusage: as root, a cgroup v1 cpuacct group counts everything started in it;
    otherwise /usr/bin/time's %U+%S (waited-for descendants only, labelled)."""

    ROOT = "/sys/fs/cgroup/cpuacct"

    def __init__(self) -> None:
        self.group = None
        if os.geteuid() == 0 and os.path.isdir(self.ROOT):
            group = os.path.join(self.ROOT, f"kns-bench-{os.getpid()}-{time.monotonic_ns()}")
            try:
                os.mkdir(group)
                self.group = group
            except OSError:
                pass

    def enter(self) -> None:  # preexec_fn: runs in the child before exec
        if self.group:
            with open(os.path.join(self.group, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))

    def seconds(self) -> float | None:
        if not self.group:
            return None
        with open(os.path.join(self.group, "cpuacct.usage")) as fh:
            used = int(fh.read()) / 1e9
        try:
            os.rmdir(self.group)
        except OSError:  # a straggler is still in it
            pass
        return used


def _timed_process(args: list[str], cwd: Path, extra: dict[str, str] | None = None) -> Run:
    maxrss_file = cwd / ".maxrss"
    timed = ["/usr/bin/time", "-f", "%M %U %S", "-o", str(maxrss_file), *args] if os.path.exists(
        "/usr/bin/time") else args
    account = _CpuAccount()
    start = time.perf_counter()
    proc = subprocess.Popen(timed, cwd=cwd, env=_env(extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=account.enter)
    mem = TreeMemory(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    tree_rss, tree_pss = mem.stop()
    try:
        rss_kib, user_s, sys_s = maxrss_file.read_text().strip().splitlines()[-1].split()
        max_single, cpu = int(rss_kib), float(user_s) + float(sys_s)
    except (OSError, ValueError, IndexError):
        max_single, cpu = 0, float("nan")
    counted = account.seconds()
    cpu = counted if counted is not None else cpu
    return Run(wall, tree_rss, tree_pss, max_single, cpu,
               subprocess.CompletedProcess(args, proc.returncode, out, err))


def _build_quickstart(base: Path, n: int) -> Path:
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


# The mix of simulated learners in the exam variant (share of each quality).
MIX = (("correct", 0.25), ("partial", 0.40), ("wrong", 0.20), ("blank", 0.15))


def _build_exam_course(base: Path, exam: str, n: int) -> tuple[Path, dict[str, str], dict[str, int]]:
    """(course, grader environment, learners per quality): our exam released, n submissions.

    The graders get their own training CA (the signing exam verifies against it) and home."""
    exams_dir = ROOT / "assessments" / "exams"
    if str(exams_dir) not in sys.path:
        sys.path.insert(0, str(exams_dir))  # not an installed package (answers stay off the hub)
    from answers import simulate_submission

    from sandbox.signing.pki import TrainingPKI

    state, home = base / "state", base / "home"
    home.mkdir()
    extra = {"KNS_STATE_DIR": str(state), "HOME": str(home)}
    course = base / "kiem-tra"
    shutil.copytree(exams_dir / "source" / exam, course / "source" / exam)
    # As the platform's course: the grader writes the tasks' answer keys into the hidden tests.
    shutil.copyfile(exams_dir / "answer_keys.py", course / "answer_keys.py")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n" + answer_keys_config(course / "answer_keys.py"), encoding="utf-8")
    done = _run([os.path.join(BIN, "nbgrader"), "generate_assignment", exam], course, extra)
    if done.returncode:
        raise RuntimeError(f"nbgrader generate_assignment {exam} failed: {done.stderr[-2000:]}")
    pki = TrainingPKI.create(state / "pki")
    rng = random.Random(7)
    qualities = [q for q, _ in MIX]
    counts = dict.fromkeys(qualities, 0)
    for k in range(n):
        quality = rng.choices(qualities, weights=[w for _, w in MIX])[0]
        counts[quality] += 1
        student = f"hv{k:03d}"
        folder = course / "submitted" / student / exam
        shutil.copytree(course / "release" / exam, folder)
        simulate_submission(exam, student, folder, quality, pki=pki)
        (folder / "timestamp.txt").write_text("2026-03-02 08:30:00.000000 UTC", encoding="utf-8")
    return course, extra, counts


def _grader_account(base: Path, course: Path) -> str | None:
    """Run by root, the kns copy is given to an unprivileged grader account (the platform's
    layout; KNS_BENCH_GRADING_ACCOUNT, default kns-bench-grader, empty: keep root's). Only then
    can the sandbox fork kernels from its zygote: bwrap run by root cannot confine them, and
    each kernel is a cold sandbox of its own."""
    account = os.environ.get("KNS_BENCH_GRADING_ACCOUNT", "kns-bench-grader")
    if os.geteuid() != 0 or not account:
        return None
    from kynangso.hub.system_accounts import ensure_subordinate_id, ensure_system_account

    uid, gid = ensure_system_account(account, base)
    ensure_subordinate_id(account)  # its graded kernels' uid, as the platform's grader has
    subprocess.run(["chown", "-R", f"{uid}:{gid}", str(course)], check=True)
    os.chmod(base, 0o711)  # the account reaches its course, nothing else of the benchmark's
    return account


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.0f} MiB"


def main() -> None:
    n = int(os.environ.get("KNS_BENCH_GRADING_N", "200"))
    sample = int(os.environ.get("KNS_BENCH_GRADING_NBGRADER_SAMPLE", str(n)))
    workers = int(os.environ.get("KNS_BENCH_GRADING_WORKERS", str(os.cpu_count() or 1)))
    kind = os.environ.get("KNS_BENCH_GRADING_COURSE", "exam")
    base = Path(tempfile.mkdtemp(prefix="kns-bench-grading-"))
    try:
        if kind == "quickstart":
            course, extra, assignment = _build_quickstart(base, n), {}, "ps1"
            what = "nbgrader quickstart ps1 (2 notebooks per submission, ~70 % of answers given)"
        else:
            assignment = os.environ.get("KNS_BENCH_GRADING_EXAM", "van-ban")
            course, extra, counts = _build_exam_course(base, assignment, n)
            what = (f"our exam {assignment} (assessments/exams; simulated learners: "
                    + ", ".join(f"{c} {q}" for q, c in counts.items()) + ")")
        by_nbg = base / "nbgrader"
        by_kns = base / "kns"
        shutil.copytree(course, by_nbg)
        shutil.copytree(course, by_kns)
        if sample < n:  # nbgrader grades a random sample; the rest is extrapolated
            keep = set(random.Random(3).sample(sorted(os.listdir(by_nbg / "submitted")), sample))
            for student in os.listdir(by_nbg / "submitted"):
                if student not in keep:
                    shutil.rmtree(by_nbg / "submitted" / student)
        grader = _grader_account(base, by_kns)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine: {os.cpu_count()} CPUs (load average {load:.1f} at start); course: {what}; "
              f"submissions: {n}", flush=True)
        if grader:
            print(f"kns grade grades a copy owned by the account {grader}, as the exams service runs it "
                  "(run by root, it becomes the course's owner); nbgrader autograde runs as root", flush=True)

        nbg = _timed_process([os.path.join(BIN, "nbgrader"), "autograde", assignment], by_nbg, extra)
        label = "measured" if sample == n else f"measured on a random sample of {sample}"
        print(f"nbgrader autograde done: {nbg.wall_s:.1f} s ({label}; exit {nbg.result.returncode})",
              flush=True)
        wall_nbg_all = nbg.wall_s / sample * n
        kns = _timed_process([sys.executable, "-m", "assessments.grading", assignment, "--course-dir",
                              str(by_kns), "--workers", str(workers), "--json"], by_kns, extra)
        out = kns.result.stdout
        report = json.loads(out[out.index("{"):]) if "{" in out else {}
        print(f"kns grade done: {kns.wall_s:.1f} s (exit {kns.result.returncode}; graded "
              f"{len(report.get('graded', []))}, failed {len(report.get('failed', []))})", flush=True)

        rows = [
            ("", "nbgrader autograde", f"kns grade ({workers} workers)"),
            (f"wall time, {n} submissions",
             f"{wall_nbg_all:.1f} s" + ("" if sample == n else " (EXTRAPOLATED)"), f"{kns.wall_s:.1f} s"),
            ("per submission", f"{nbg.wall_s / sample:.2f} s", f"{kns.wall_s / n:.2f} s"),
            (f"CPU time (user+sys), {n} subm.",
             f"{nbg.cpu_s / sample * n:.1f} s" + ("" if sample == n else " (EXTRAPOLATED)"),
             f"{kns.cpu_s:.1f} s"),
            ("peak RSS, whole process tree", _mib(nbg.tree_rss), _mib(kns.tree_rss)),
            ("peak PSS, whole process tree", _mib(nbg.tree_pss), _mib(kns.tree_pss)),
            ("largest single process RSS", _mib(nbg.max_single_kib * 1024),
             _mib(kns.max_single_kib * 1024)),
        ]
        if _CpuAccount().seconds() is None:
            rows.append(("(CPU: waited-for processes only; sandboxed kernels not counted)", "", ""))
        for label_, a, b in rows:
            print(f"  {label_:<30} {a:>24} {b:>24}", flush=True)
        basis = "measured" if sample == n else "extrapolated nbgrader time"
        print(f"ratio nbgrader/kns wall time: {wall_nbg_all / kns.wall_s:.1f}x ({basis}; aim: at least "
              f"5x on 2 cores); CPU time: {nbg.cpu_s / sample * n / kns.cpu_s:.1f}x (less sensitive to "
              f"other load on the machine). Memory: summed over the grader's process and all its descendants "
              f"(kernels, workers, zygotes), sampled every 0.5 s.", flush=True)

        from assessments.grading.compare import snapshot

        nbg_rows = snapshot(f"sqlite:///{by_nbg}/gradebook.db", assignment)
        kns_rows = snapshot(f"sqlite:///{by_kns}/gradebook.db", assignment)
        same = all(kns_rows.get(s) == r for s, r in nbg_rows.items())
        scores = sorted(r["score"] for r in nbg_rows.values())
        print(f"gradebooks identical on the {len(nbg_rows)} submissions graded by both: {same} "
              f"(scores from {scores[0] if scores else '-'} to {scores[-1] if scores else '-'}, "
              f"{sum(1 for x in scores if x == 0)} zero)", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
