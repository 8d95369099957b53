"""Benchmarks of the document sandbox: registering 10,000 incoming documents (each its own
transaction, as a clerk would) and checking a 10-page .docx draft.

Run: `python -m benchmarks documents`. Figures are printed, never asserted.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

N_DOCS = 10_000
N_CHECKS = 10


def _fixed_clock():
    now = datetime(2026, 4, 24, 9, 0)
    return lambda: now


def bench_register(folder: Path) -> None:
    from sandbox.documents.storage import Actor, Registry

    reg = Registry(folder / "bench.sqlite", clock=_fixed_clock())
    reg.add_organisation("UBND", "Ủy ban nhân dân phường Ba Đình")
    clerk = Actor("Văn thư", "van_thu")
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(1, N_DOCS + 1):
        reg.register_incoming(
            "UBND", clerk, author=f"Sở số {i % 50}", symbol=f"{i:02d}/KH-S{i % 50}",
            doc_date=date(2026, 4, 20), type_name="Kế hoạch", subject="Tập huấn kỹ năng số",
        )
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows = reg.incoming_register("UBND", 2026)
    gaps_ok = [r["arrival_number"] for r in rows] == list(range(1, N_DOCS + 1))
    print(f"register incoming: {N_DOCS} documents in {elapsed:.2f} s = "
          f"{N_DOCS / elapsed:,.0f} documents/s ({elapsed / N_DOCS * 1000:.2f} ms each; "
          f"numbers 1..{N_DOCS} without gaps: {'yes' if gaps_ok else 'NO'}); "
          f"CPU time {cpu:.2f} s = {cpu / N_DOCS * 1000:.2f} ms CPU each "
          "(wall time depends on other load and on disk syncs)")
    start = time.perf_counter()
    problems = reg.verify_audit()
    print(f"verify audit hash chain of {N_DOCS} events: {time.perf_counter() - start:.2f} s "
          f"({'intact' if not problems else 'BROKEN'})")
    reg.close()


def bench_docx(folder: Path) -> None:
    from docx import Document

    from sandbox.documents.docx_check import check_docx
    from sandbox.documents.drafting import DraftFields, write_docx

    paragraph = ("Ủy ban nhân dân phường triển khai kế hoạch phổ cập kỹ năng số cho cán bộ, "
                 "công chức, bảo đảm đúng tiến độ và chất lượng theo yêu cầu của thành phố. ") * 3
    fields = DraftFields(
        org_name="Ủy ban nhân dân phường Ba Đình", symbol="4391/KH-UBND", place="Ba Đình",
        doc_date=date(2026, 4, 24), type_key="ke_hoach", subject="Phổ cập kỹ năng số năm 2026",
        body=[paragraph] * 55, signer_title="Chủ tịch", signer_name="Nguyễn Văn An",
        drafting_unit="VP", recipients=["Sở Nội vụ"],
    )
    path = write_docx(fields, folder / "ten-pages.docx")
    chars = sum(len(p.text) for p in Document(str(path)).paragraphs)
    times = []
    for _ in range(N_CHECKS):
        start = time.perf_counter()
        findings = check_docx(path, expected_symbol="4391/KH-UBND")
        times.append(time.perf_counter() - start)
    print(f"check-docx on a ~10-page draft ({chars:,} characters, about "
          f"{chars / 2000:.0f} A4 pages at 14 pt, {len(findings)} findings): median "
          f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"over {N_CHECKS} runs")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench_register(Path(tmp))
        bench_docx(Path(tmp))


if __name__ == "__main__":
    main()
