"""Progress service under load (issue 6): 50 concurrent users send 2,000 events on loopback.

Each user has their own hub token (as each kernel has its server's) and sends 40 events,
one request each, to the service's own address, as kernels do (KNS_PROGRESS_URL). Prints
p50/p95/max latency and checks in the database that every event was stored once.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from kynangso.db import session_scope
from kynangso.hub.harness import api_token, launch_hub, log_in, new_session
from kynangso.models import ProgressEvent
from kynangso.run import stop_hub

USERS = 50
EVENTS = 2000


def main() -> None:
    staff = {f"hocvien{i:02d}": (f"Học viên {i}", "hocvien", f"HocVien{i:02d}@2026") for i in range(1, USERS + 1)}
    base = Path(tempfile.mkdtemp())
    hub = launch_hub(base, {"mode": "none"}, staff)
    try:
        tokens = {u: api_token(hub, log_in(hub, u).session, u) for u in staff}
        url = f"http://127.0.0.1:{hub.settings['services']['progress_port']}/services/progress/api/events"
        per_user = EVENTS // USERS

        def send(username: str) -> list[float]:
            http = new_session()
            headers = {"Authorization": f"token {tokens[username]}"}
            latencies = []
            for i in range(per_user):
                event = {"event_id": uuid.uuid4().hex, "kind": "exercise_attempted", "course_id": "01",
                         "lesson_id": f"01-0{i % 4 + 1}", "exercise_id": f"ex{i}",
                         "occurred_at": datetime.now(UTC).isoformat()}
                t0 = time.perf_counter()
                r = http.post(url, json=event, headers=headers, timeout=60)
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 201, r.text
            return latencies

        start = time.perf_counter()
        with ThreadPoolExecutor(USERS) as pool:
            latencies = sorted(x for user in pool.map(send, staff) for x in user)
        wall = time.perf_counter() - start
        with session_scope(hub.settings.database_url) as s:
            stored = s.scalar(select(func.count()).select_from(ProgressEvent))
        p50 = statistics.median(latencies) * 1000
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
        print(f"{USERS} concurrent users, {len(latencies)} events (one request each) in {wall:.1f} s "
              f"({len(latencies) / wall:.0f} events/s)")
        print(f"  latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        print(f"  stored in the database: {stored} of {EVENTS} sent; lost: {EVENTS - stored}")
    finally:
        stop_hub(hub.proc)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
