"""Filing sandbox benchmarks: due dates, the whole workflow, statistics with pandas.

Figures printed (no assertions): 100,000 due-date computations; 10,000 dossiers through the
whole workflow into one SQLite file; statistics over 100,000 dossiers.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kynangso.workdays import compute_due, default_calendar, default_conventions


def _timed(label: str, n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"{label}: {n:,} in {elapsed:.2f} s ({n / elapsed:,.0f}/s, "
          f"{elapsed / n * 1e6:.1f} µs each)", flush=True)
    return elapsed


def bench_due(n: int = 100_000) -> None:
    cal = default_calendar()
    conv = default_conventions()["blds_147"]
    rng = random.Random(1)
    start = datetime(2024, 1, 1)
    moments = [start + timedelta(minutes=rng.randrange(60 * 24 * 1000)) for _ in range(n)]
    days = [rng.randrange(0, 16) for _ in range(n)]
    cal.is_working_day(start.date())  # load the calendar before timing
    pairs = list(zip(moments, days, strict=True))
    _timed("due dates (no explanation)", n,
           lambda: [compute_due(cal, m, d, conv, explain=False) for m, d in pairs])
    _timed("due dates (with Vietnamese explanation)", n // 10,
           lambda: [compute_due(cal, m, d, conv) for m, d in pairs[: n // 10]])


def bench_workflow(n: int = 10_000) -> None:
    from sandbox.filing.desk import FilingDesk

    with tempfile.TemporaryDirectory() as tmp:
        desk = FilingDesk(Path(tmp) / "bench.sqlite")
        who = {"name": "Nguyễn Văn An", "id_number": "001090012345"}
        docs = {"giay_de_nghi": 1, "hop_dong_thue": 1}

        def run() -> None:
            base = datetime(2026, 3, 2, 8, 0)
            for k in range(n):
                at = base + timedelta(minutes=k % 400)
                i = desk.submit("KT-HKD", who, channel="truc_tuyen", documents=docs, at=at)
                desk.receive(i, at, "cb")
                desk.hand_over(i, "Phòng Kinh tế", at, "cb", "cv")
                desk.result_ready(i, at + timedelta(hours=1), "cv")
                ref = desk.start_payment(i, at + timedelta(hours=1))
                desk.confirm_payment(ref, 100000, at + timedelta(hours=1), f"NH{k}")
                desk.return_result(i, "truc_tuyen", at + timedelta(hours=2), "cb")

        elapsed = _timed("dossiers through the whole workflow (7 transactions each)", n, run)
        print(f"  = {7 * n / elapsed:,.0f} transactions/s; file "
              f"{(Path(tmp) / 'bench.sqlite').stat().st_size / 1e6:.1f} MB", flush=True)
        from sandbox.filing.stats import desk_summary

        _timed("statistics read from that database (ORM snapshots + pandas)", n,
               lambda: desk_summary(desk, datetime(2026, 4, 1)))


def bench_stats(n: int = 100_000) -> None:
    from sandbox.filing.stats import summary

    rng = np.random.default_rng(7)
    received = pd.Timestamp("2026-01-01") + pd.to_timedelta(
        rng.integers(0, 300 * 24 * 60, n), unit="min")
    due = received + pd.to_timedelta(rng.integers(1, 20, n), unit="D")
    states = rng.choice(["da_tra", "dang_xu_ly", "da_tiep_nhan", "tu_choi", "da_rut"], n,
                        p=[0.7, 0.15, 0.1, 0.03, 0.02])
    df = pd.DataFrame({
        "id": np.arange(n), "unit": rng.choice([f"000.00.{k:02d}.H29" for k in range(20)], n),
        "procedure": rng.choice(["HT-KS", "CT-BS", "KT-HKD", "XD-GPXD"], n),
        "channel": rng.choice(["truc_tuyen", "truc_tiep", "buu_chinh"], n),
        "state": states, "received_at": received, "due_at": due,
        "returned_at": pd.NaT,
        "result_rating": np.where(states == "da_tra",
                                  rng.choice(["truoc_han", "dung_han", "qua_han"], n), ""),
        "apologised": rng.random(n) < 0.03, "fully_online": rng.random(n) < 0.4,
    })
    now = datetime(2026, 11, 1)
    table = None

    def run() -> None:
        nonlocal table
        table = summary(df, now)

    _timed("statistics per unit and month over dossiers", n, run)
    print(f"  -> {len(table):,} rows (20 units × months)", flush=True)


def main() -> None:
    bench_due()
    bench_workflow()
    bench_stats()


if __name__ == "__main__":
    main()
