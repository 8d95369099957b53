"""Reports at office scale (issue 8): 5,000 staff, 8 exam periods, 40 items per exam.

1. Time and memory to compute the data frames (`reports.data.load`: directory, progress,
   gradebook → levels per period, current levels, training needs).
2. Time to first render of the overview dashboard: in-process (widget built from loaded data),
   and through Voilà over HTTP, cold (kernel started for the request: start + load + build) and
   from the preheated kernel pool the service uses.

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


def measure_load(platform, sources):
    from reports.data import load

    rss_before = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    data = load(platform, sources)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    levels = data.levels()
    needs = data.needs()
    t_views = time.perf_counter() - t0
    held = psutil.Process().memory_info().rss - rss_before
    return data, t_load, t_views, held, len(data.results), len(levels), len(needs)


def voila_render(platform, sources, folder: Path, preheat: bool):
    from reports import service

    settings = folder / "settings.yaml"
    settings.write_text(json.dumps({"state_dir": str(folder / "state"),
                                    "database": {"url": platform}}), encoding="utf-8")
    env = {"KNS_SETTINGS": str(settings),
           "KNS_REPORTS_GRADEBOOKS": json.dumps([{"db_url": s.db_url,
                                                  "course_dir": str(s.course_dir)}
                                                 for s in sources]),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    port, token = service.free_port(), "bench"
    cmd = service.voila_command(sys.executable, port, "/services/reports/", token, pool_size=1)
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
        t0 = time.perf_counter()
        r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=600)
        elapsed = time.perf_counter() - t0
        kernels = psutil.Process(proc.pid).children(recursive=True)
        rss = max((k.memory_info().rss for k in kernels), default=0)
        return elapsed, r.status_code, rss
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


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kns-bench-reports-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        platform, sources = build(folder)
        print(f"synthetic office: {STAFF} staff, {PERIODS} periods x {ITEMS} items, "
              f"built in {time.perf_counter() - t0:.1f} s")
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        data, t_load, t_views, held, n_res, n_lv, n_needs = measure_load(platform, sources)
        print(f"data frames (load: read + levels per period): {t_load:.2f} s; "
              f"current levels + training needs: {t_views:.2f} s")
        print(f"  rows: {n_res} graded items, {len(data.history)} levels per period, "
              f"{n_lv} current levels, {n_needs} training needs")
        print(f"  memory: frames held {held / 2**20:.0f} MB (RSS growth); process peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
              f"(peak before loading {rss0:.0f} MB, which includes building the data)")
        from reports.dashboard import Overview

        t0 = time.perf_counter()
        view = Overview(data, "bench")
        print(f"overview widget built from loaded frames: {time.perf_counter() - t0:.2f} s "
              f"({len(view.body.value) / 1024:.0f} kB of HTML)")
        del data, view
        cold, code, rss = voila_render(platform, sources, folder, preheat=False)
        print(f"first render of tong-quan via Voilà, cold kernel (start + load + build): "
              f"{cold:.2f} s (HTTP {code}); kernel RSS {rss / 2**20:.0f} MB")
        warm, code, rss = voila_render(platform, sources, folder, preheat=True)
        print(f"first render of tong-quan via Voilà, preheated pool (service default): "
              f"{warm:.2f} s (HTTP {code}); kernel RSS {rss / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
