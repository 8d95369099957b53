"""Reports at office scale (issue 8) and province scale (issue 15): 5,000 staff, 8 exam
periods, 40 items per exam (KNS_BENCH_STAFF=50000 for a province).

0. The summary the grading worker writes (reports.summary.refresh), then the frames read from
   it in a new process (a dashboard kernel just started), twice, wall and CPU time next to the
   target. KNS_BENCH_REPORTS_DATA=<folder> builds the office there once and reuses it (50,000
   staff took 15 minutes to build on a busy machine, and the summary 3 more);
   KNS_BENCH_SUMMARY_ONLY=1 stops after this part.
1. Time and memory to compute the data frames (`reports.data.load` and the current levels and
   training needs the dashboards show), side by side:
   - before: the computation before issue 15 (tests/reports/reference_frames.py: every grade
     read into pandas, evidence built for everyone);
   - after, first read (empty frame cache): the same reading, evidence only where shown;
   - after, frame cache filled (reports.cache): what every later dashboard kernel does
     until grading changes a gradebook.
2. Time to first render of the overview dashboard: in-process (widget built from loaded data),
   and through Voilà over HTTP, cold (kernel started for the request: start + load + build)
   with an empty and with a filled frame cache, and from the preheated kernel pool the
   service uses; for the cold ones also the CPU seconds Voilà and the kernel spent (steadier
   than the wall time when other jobs keep the machine busy). Targets (issue 15): frames
   < 1 s and first render < 3 s at 5,000 staff, frames < 5 s at 50,000.

The gradebook has the tables nbgrader writes: assignments, notebooks and grade cells through
nbgrader's Gradebook API; the 1.6 million grades inserted in bulk (`reports.demo.bulk_results`).
Set KNS_BENCH_STAFF to run smaller. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests
from sqlalchemy import create_engine, insert

STAFF = int(os.environ.get("KNS_BENCH_STAFF", "5000"))
# At province scale each pass over 15 million grades takes minutes: these leave parts out.
WITH_BEFORE = os.environ.get("KNS_BENCH_BEFORE", "1") != "0"
WITH_VOILA = os.environ.get("KNS_BENCH_VOILA", "1") != "0"
PERIODS, ITEMS = 8, 40
DEPARTMENTS = 12
POSITIONS = ("Chuyên viên", "Văn thư", "Công chức một cửa", "Trưởng phòng", "Kế toán")


def build(folder: Path):
    from assessments.competency import load_framework
    from courses.catalogue import load_catalogue
    from kynangso.db import upgrade
    from kynangso.models import Department, ProgressEvent, Staff
    from reports.data import GradebookSource
    from reports.demo import Item, add_exam, bulk_results

    rng = random.Random(8)
    platform = f"sqlite:///{folder / 'kns.sqlite'}"
    upgrade(platform)
    eng = create_engine(platform)
    with eng.begin() as conn:
        conn.execute(insert(Department.__table__),
                     [{"id": i + 1, "name": f"Đơn vị {i + 1:02d}", "created_at": datetime.now(UTC)}
                      for i in range(DEPARTMENTS)])
        now = datetime.now(UTC)
        conn.execute(insert(Staff.__table__), [
            {"code": f"CB{i:05d}", "username": f"cb{i:05d}", "full_name": f"Cán bộ {i:05d}",
             "position": POSITIONS[i % len(POSITIONS)], "department_id": i % DEPARTMENTS + 1,
             "email": None, "role": "hocvien", "active": i % 50 != 0, "created_at": now,
             "updated_at": now} for i in range(STAFF)])
        events = []
        lessons = [(c.id, lesson.id) for c in load_catalogue().courses for lesson in c.lessons]
        for i in range(STAFF):
            for course, lesson in rng.sample(lessons, rng.randint(0, len(lessons))):
                events.append({"event_id": f"e{i}-{course}-{lesson}", "username": f"cb{i:05d}",
                               "kind": "lesson_completed", "course_id": course,
                               "lesson_id": lesson, "occurred_at": now, "received_at": now,
                               "judged": True})
        conn.execute(insert(ProgressEvent.__table__), events)
    eng.dispose()

    comps = list(load_framework().competences)
    levels = ("co_ban", "thanh_thao", "nang_cao")
    items = [Item(f"cau-{n:02d}", comps[n % len(comps)], levels[n % 3], float(1 + n % 3))
             for n in range(ITEMS)]
    course = folder / "thi-nang-luc"
    gb = f"sqlite:///{course / 'gradebook.db'}"
    course.mkdir()
    start = datetime(2025, 1, 31, tzinfo=UTC)
    for p in range(PERIODS):
        due = start + timedelta(days=90 * p)
        add_exam(course, gb, f"ky-{p + 1}", due, items)
        skill = {i: rng.random() for i in range(STAFF)}
        scores = {f"cb{i:05d}": {it.grade_id: round(it.points * min(1.0, skill[i] + rng.random() * 0.5
                                                                   + 0.03 * p), 1)
                                 for it in items}
                  for i in range(STAFF) if rng.random() > 0.05}  # ~5 % absent each period
        bulk_results(gb, f"ky-{p + 1}", scores, due)
    return platform, [GradebookSource(gb, course)]


def measure_before(platform, sources) -> float:
    """The frames as computed before issue 15 (the reference kept with the tests)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reports"))
    from reference_frames import reference_levels, reference_load, reference_needs

    t0 = time.perf_counter()
    data = reference_load(platform, sources)
    reference_levels(data)
    reference_needs(data)
    return time.perf_counter() - t0


def measure_load(platform, sources, cache_dir=None):
    from reports.data import load

    rss_before = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    data = load(platform, sources, cache_dir=cache_dir)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    levels = data.levels(evidence=False)  # what the overview and the needs list use
    needs = data.needs()
    t_views = time.perf_counter() - t0
    held = psutil.Process().memory_info().rss - rss_before
    return data, t_load, t_views, held, None, len(levels), len(needs)


def voila_render(platform, sources, folder: Path, preheat: bool, cache_dir: Path | None = None):
    from reports import service

    settings = folder / "settings.yaml"
    settings.write_text(json.dumps({"state_dir": str(folder / "state"),
                                    "database": {"url": platform}}), encoding="utf-8")
    env = {"KNS_SETTINGS": str(settings),
           "KNS_REPORTS_GRADEBOOKS": json.dumps([{"db_url": s.db_url,
                                                  "course_dir": str(s.course_dir)}
                                                 for s in sources]),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "KNS_REPORTS_CACHE": str(cache_dir or folder / "no-cache-here"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    from reports.voila_template import write_template

    port, token = service.free_port(), "bench"
    # As service.start_voila: Voilà's token in its environment, the `kns` template on its path.
    templates = folder / "templates"
    write_template(templates)
    env["JUPYTER_TOKEN"] = token
    env["JUPYTER_PATH"] = str(templates)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    cmd = service.voila_command(sys.executable, port, "/services/reports/", pool_size=1)
    if not preheat:
        cmd = [c for c in cmd if "preheat" not in c and "pool_size" not in c]
    import subprocess

    proc = subprocess.Popen(cmd, cwd=str(service.dashboards_dir()), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        asyncio.run(service.wait_for_port(port, 120))
        url = f"http://127.0.0.1:{port}/services/reports/voila/render/tong-quan.ipynb"
        if preheat:
            # Wait for the pool to fill (the kernels have executed the notebook ahead).
            parent = psutil.Process(proc.pid)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and len(parent.children()) < 3:
                time.sleep(0.5)
            time.sleep(1)
            _wait_idle(parent)
        voila = psutil.Process(proc.pid)
        before = voila.cpu_times()
        t0 = time.perf_counter()
        r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=600)
        elapsed = time.perf_counter() - t0
        after = voila.cpu_times()
        kernels = voila.children(recursive=True)
        rss = max((k.memory_info().rss for k in kernels), default=0)
        # CPU seconds, less noisy than the wall time on a machine other jobs keep busy: Voilà's
        # for this request, and the kernels' since they started (cold: the request's kernel).
        cpu = (after.user + after.system - before.user - before.system,
               sum(sum(k.cpu_times()[:2]) for k in kernels))
        return elapsed, r.status_code, rss, cpu
    finally:
        proc.terminate()
        proc.wait(60)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _wait_idle(parent, timeout=300):
    """Until the pre-started kernels stop using CPU (they have run the dashboard)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = sum(k.cpu_percent(interval=0.5) for k in parent.children(recursive=True))
        if busy < 5:
            return


COLD_FRAMES = """
import sys, time, pickle
t0 = time.perf_counter()
from reports.data import load
t1, c1 = time.perf_counter(), time.process_time()
platform, sources = pickle.loads(bytes.fromhex(sys.argv[1]))
data = load(platform, sources)
levels = data.levels(evidence=False)
needs = data.needs()
t2, c2 = time.perf_counter(), time.process_time()
print(t1 - t0, t2 - t1, c2 - c1, len(data.history), len(levels), len(needs))
"""


def measure_summary(platform, sources, target_frames: float) -> None:
    """Issue 15 part 2: the summary the grading worker writes (reports.summary), then the
    frames in a new process (a dashboard kernel that has just started: nothing in memory)."""
    import pickle
    import subprocess

    from reports import summary

    t0 = time.perf_counter()
    rebuilt = summary.refresh(platform, sources)
    print("summary after grading (reports.summary.refresh, every grade read once): "
          + (f"rebuilt in {time.perf_counter() - t0:.1f} s" if rebuilt else "already up to date"))
    arg = pickle.dumps((platform, sources)).hex()
    for run in (1, 2):
        out = subprocess.run([sys.executable, "-c", COLD_FRAMES, arg], capture_output=True,
                             text=True, check=True,
                             env={**os.environ, "KNS_REPORTS_CACHE": "/nonexistent/kns"})
        imports, frames, cpu, n_hist, n_lv, n_needs = out.stdout.split()
        frames = float(frames)
        # CPU time too: on a machine other jobs keep busy, the wall time is mostly waiting.
        print(f"  frames from the summary, cold process, run {run} (load + current levels + "
              f"training needs): {frames:.2f} s   target < {target_frames:.0f} s, ratio "
              f"{frames / target_frames:.2f}  [CPU {float(cpu):.2f} s; imports before it "
              f"{float(imports):.2f} s; {n_hist} levels per period, {n_lv} current levels, "
              f"{n_needs} needs]")


def main() -> None:
    target_frames = 1.0 if STAFF <= 5000 else 5.0
    with tempfile.TemporaryDirectory(prefix="kns-bench-reports-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        prebuilt = os.environ.get("KNS_BENCH_REPORTS_DATA")
        if prebuilt and (Path(prebuilt) / "kns.sqlite").exists():
            # Building 50,000 staff takes a quarter of an hour on a busy 2-core machine: reuse one.
            platform = f"sqlite:///{Path(prebuilt) / 'kns.sqlite'}"
            from kynangso.db import upgrade
            from reports.data import GradebookSource

            upgrade(platform)  # a copy made before the summary tables (0009)
            course = Path(prebuilt) / "thi-nang-luc"
            sources = [GradebookSource(f"sqlite:///{course / 'gradebook.db'}", course)]
            print(f"synthetic office: {STAFF} staff, {PERIODS} periods x {ITEMS} items, "
                  f"reused from {prebuilt}")
        else:
            if prebuilt:
                Path(prebuilt).mkdir(parents=True, exist_ok=True)
                folder = Path(prebuilt)
            platform, sources = build(folder)
            print(f"synthetic office: {STAFF} staff, {PERIODS} periods x {ITEMS} items, "
                  f"built in {time.perf_counter() - t0:.1f} s")
        measure_summary(platform, sources, target_frames)
        if os.environ.get("KNS_BENCH_SUMMARY_ONLY") == "1":
            return
        before = measure_before(platform, sources) if WITH_BEFORE else None
        cache = folder / "frame-cache"
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        first = measure_load(platform, sources, cache)  # summary, in process
        data, t_load, t_views, held, n_res, n_lv, n_needs = measure_load(platform, sources, cache)
        after_first, after = first[1] + first[2], t_load + t_views
        print(f"data frames in this process (load + current levels + training needs), "
              f"target < {target_frames:.0f} s:")
        if before is not None:
            print(f"  before issue 15: {before:.2f} s | from the summary, first: "
                  f"{after_first:.2f} s ({before / after_first:.1f}x) | again: "
                  f"{after:.2f} s ({before / after:.1f}x)")
        else:
            print(f"  before issue 15: not measured (KNS_BENCH_BEFORE=0) | from the summary, "
                  f"first: {after_first:.2f} s | again: {after:.2f} s")
        print(f"  again: load {t_load:.2f} s + levels and needs {t_views:.2f} s = "
              f"{after:.2f} s   target {target_frames:.0f} s, ratio {after / target_frames:.2f}")
        print(f"  rows: {len(data.history)} levels per period, "
              f"{n_lv} current levels, {n_needs} training needs")
        print(f"  memory: frames held {held / 2**20:.0f} MB (RSS growth); process peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
              f"(peak before loading {rss0:.0f} MB, which includes building the data)")
        from reports.dashboard import Overview

        t0 = time.perf_counter()
        view = Overview(data, "bench")
        print(f"overview widget built from loaded frames: {time.perf_counter() - t0:.2f} s "
              f"({len(view.body.value) / 1024:.0f} kB of HTML)")
        del data, view, first
        if not WITH_VOILA:
            return
        cold, code, rss, cpu = voila_render(platform, sources, folder, preheat=False)
        warm_cache, code2, _, cpu2 = voila_render(platform, sources, folder, preheat=False,
                                                  cache_dir=cache)
        print("first render of tong-quan via Voilà, cold service (Voilà started, kernel started "
              "for the request: start + load + build), summary up to date, target < 3 s:")
        print(f"  empty frame cache: {cold:.2f} s (HTTP {code})   target 3 s, ratio "
              f"{cold / 3:.2f} | frame cache filled: {warm_cache:.2f} s (HTTP {code2}); "
              f"kernel RSS {rss / 2**20:.0f} MB")
        print(f"  CPU seconds: Voilà {cpu[0]:.2f} + kernel {cpu[1]:.2f} | frame cache filled: "
              f"Voilà {cpu2[0]:.2f} + kernel {cpu2[1]:.2f}")
        warm, code, rss, _ = voila_render(platform, sources, folder, preheat=True, cache_dir=cache)
        print(f"first render of tong-quan via Voilà, preheated pool (service default): "
              f"{warm:.2f} s (HTTP {code}); kernel RSS {rss / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
