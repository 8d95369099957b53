"""The exam-day simulation (benchmarks/bench_examday.py) at a tiny size: its bookkeeping, not
its speed. Six learners on a real hub over PostgreSQL, two desk copies, one SIGKILLed during the
last minutes' rush and started again; then grading. Nothing accepted may be lost or doubled.

The hub restart and the grading worker's death are left to `python -m benchmarks examday`:
with today's desk a job claimed by a dead worker stays `running` (no lease), and the hub
restart doubles the cost of this test. Cost here: about 36 s of CPU over all its processes
(hub, services, PostgreSQL, desks, workers, kernels) and 110 s of wall time, most of it the
60-second window.
"""

from __future__ import annotations

import pytest

from benchmarks import bench_examday
from kynangso import pgcluster

pytestmark = [pytest.mark.hub, pytest.mark.postgres, pytest.mark.slow(240)]


def test_exam_day_with_a_desk_copy_killed_loses_and_doubles_nothing(capsys):
    """Do six learners' submissions all reach the exchange and the gradebook exactly once,
    though a desk copy dies (SIGKILL) while they submit?"""
    if pgcluster.binaries() is None:
        pytest.skip("PostgreSQL is not installed (make test installs Debian's postgresql)")
    lines: list[str] = []
    result = bench_examday.run(n=6, desks=2, window_s=60, faults=frozenset({"desk"}),
                               extra_workers=1, stall_s=120, out=lines.append)
    report = "\n".join(lines)
    print(report)  # with -s: the figures, and the CPU this test cost
    assert result["learners_with_accepted"] == 6, report
    assert result["lost"] == 0, report
    assert result["duplicated"] == 0, report
    assert result["graded"] == 6 and result["wrong_score"] == 0, report
    assert any("desk copy SIGKILL" in e for e in result["events"]), report
