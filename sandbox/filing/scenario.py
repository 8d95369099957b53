"""Seeded practice queues: each learner gets a different but equivalent set of dossiers.

The kinds are fixed (so every learner practises the same skills); names, procedures, times and
order come from a random generator seeded by the learner and the round's seed. Each dossier
comes with the expected action and, where it applies, the expected appointment (answer key for
graders; not shown to the learner).
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from kynangso.workdays import compute_due, default_calendar
from sandbox.filing.catalogue import default_catalogue
from sandbox.filing.desk import FilingDesk

KINDS = ("thieu_giay_to", "sai_thu_tuc", "qua_tet", "lam_bu", "can_xin_loi", "day_du")
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh", "Hữu", "Bảo")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Linh",
         "Long", "Mai", "Nam", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến")
STREETS = ("Hòa Bình", "Lê Lợi", "Trần Phú", "Nguyễn Trãi", "Hai Bà Trưng", "Quang Trung")
# Windows that cross the 2026 holidays (domain README §3.5).
TET_WINDOW = (datetime(2026, 2, 11, 8, 0), datetime(2026, 2, 13, 16, 30))
MAKEUP_WINDOW = (datetime(2026, 8, 19, 8, 0), datetime(2026, 8, 21, 16, 30))


def rng_for(learner: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{learner}\x00{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _person(rng: random.Random) -> dict[str, str]:
    name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    return {"name": name, "id_number": f"0{rng.randint(1, 96):02d}{rng.randint(0, 10**9 - 1):09d}",
            "address": f"Số {rng.randint(1, 200)} đường {rng.choice(STREETS)}",
            "phone": f"09{rng.randint(10**7, 10**8 - 1)}"}


def _moment(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    cal = default_calendar()
    for _ in range(100):
        at = lo + timedelta(minutes=rng.randrange(int((hi - lo).total_seconds() // 60)))
        if cal.is_working_day(at.date()) and 7 <= at.hour < 17:
            return at.replace(second=0, microsecond=0)
    return lo


def generate(db_path, learner: str, seed: int = 0, count: int = 12) -> dict:
    """Fill a fresh practice desk with `count` dossiers; returns kinds and the answer key."""
    rng = rng_for(learner, seed)
    desk = FilingDesk(db_path)
    cat = default_catalogue()
    procs = list(cat)
    kinds = [KINDS[k % len(KINDS)] for k in range(count)]
    rng.shuffle(kinds)
    expected = []
    cal = default_calendar()
    for kind in kinds:
        person = _person(rng)
        proc = rng.choice(procs)
        full = {d.key: d.quantity for d in proc.documents if d.required}
        if kind == "thieu_giay_to":
            drop = rng.choice(list(full))
            docs = {k: q for k, q in full.items() if k != drop}
            at = _moment(rng, datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 16))
            i = desk.submit(proc.code, person, channel=rng.choice(("truc_tiep", "truc_tuyen")),
                            documents=docs, at=at)
            expected.append({"id": i, "kind": kind, "action": "request_supplement",
                             "missing": proc.document(drop).name})
        elif kind == "sai_thu_tuc":
            other = rng.choice([p for p in procs if p.field != proc.field])
            at = _moment(rng, datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 16))
            i = desk.submit(proc.code, person, channel="truc_tiep", documents=full, at=at,
                            request_text=f"Đề nghị giải quyết: {other.name}")
            expected.append({"id": i, "kind": kind, "action": "refuse",
                             "right_procedure": other.code})
        elif kind in ("qua_tet", "lam_bu", "day_du"):
            lo, hi = {"qua_tet": TET_WINDOW, "lam_bu": MAKEUP_WINDOW,
                      "day_du": (datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 16))}[kind]
            at = _moment(rng, lo, hi)
            i = desk.submit(proc.code, person, channel=rng.choice(("truc_tiep", "truc_tuyen")),
                            documents=full, at=at)
            due = compute_due(cal, at, proc.days, proc.convention, explain=False)
            # The appointment if the dossier is received when it was handed in (a desk dossier
            # received later counts from the later time; an online one from its submission).
            expected.append({"id": i, "kind": kind, "action": "receive",
                             "received_at": at.isoformat(timespec="minutes"),
                             "due_at": due.due_at.isoformat(timespec="minutes")})
        else:  # can_xin_loi: in processing, due soon; the learner must apologise in time
            slow = [p for p in procs if p.days >= 3] or procs
            proc = rng.choice(slow)
            full = {d.key: d.quantity for d in proc.documents if d.required}
            at = _moment(rng, datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 14))
            i = desk.submit(proc.code, person, channel="truc_tuyen", documents=full, at=at)
            desk.receive(i, at + timedelta(minutes=5), "Cán bộ một cửa (mô phỏng)")
            desk.hand_over(i, proc.resolving_body, at + timedelta(minutes=30),
                           "Cán bộ một cửa (mô phỏng)", "Chuyên viên (mô phỏng)")
            due = desk.get(i).due_at
            expected.append({"id": i, "kind": kind, "action": "apologise",
                             "latest": cal.add_working_days(due.date(), -1).isoformat()})
    return {"learner": learner, "seed": seed, "count": count, "kinds": kinds,
            "expected": expected}
