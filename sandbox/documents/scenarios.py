"""Seeded scenario generator: realistic incoming documents with plausible mistakes to find.

`generate(seed, learner)` is reproducible: the same (seed, learner) gives the same set. The
*plan* (how many documents, which mistakes, in which proportions) depends on the seed only,
so every learner of a course or exam gets a different but equivalent set: the same mix of
mistakes, in other agencies, numbers, subjects, dates and order.

Mistakes planted (each with its answer in `expected`):
- wrong_symbol: the số, ký hiệu breaks PL I Mục II.3 / PL III (no leading zero, lower case,
  QD for QĐ, spaces, a type abbreviation that does not match the title);
- missing_urgency: an urgent matter (storm, epidemic, a deadline of hours) without a
  Khẩn/Thượng khẩn/Hỏa tốc mark (Điều 4.2.c, PL I Mục III.2.b);
- wrong_deadline: the proposed handling deadline counts calendar days, not working days
  (weekends and holidays, computed with kynangso.workdays);
- tampered: an electronic document whose content does not match its declared SHA-256
  (Điều 21.2: return it through the system);
- not_administrative: a legal normative or Party document, to be registered but recognised.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from sandbox.documents import deadlines
from sandbox.documents.integrity import sha256_hex
from sandbox.documents.rules import ruleset
from sandbox.documents.symbol import format_symbol

AGENCIES = [
    # (code used in ký hiệu, name)
    ("SNV", "Sở Nội vụ thành phố Hà Nội"),
    ("STC", "Sở Tài chính thành phố Hà Nội"),
    ("SYT", "Sở Y tế thành phố Hà Nội"),
    ("SGDĐT", "Sở Giáo dục và Đào tạo thành phố Hà Nội"),
    ("SKHCN", "Sở Khoa học và Công nghệ thành phố Hà Nội"),
    ("UBND", "Ủy ban nhân dân phường Hoàn Kiếm"),
    ("UBND", "Ủy ban nhân dân phường Đống Đa"),
    ("CAP", "Công an phường Ba Đình"),
    ("CATP", "Công an thành phố Hà Nội"),
    ("VP", "Văn phòng Ủy ban nhân dân thành phố Hà Nội"),
    ("BHXH", "Bảo hiểm xã hội khu vực I"),
    ("BCHQS", "Ban Chỉ huy quân sự phường Ba Đình"),
]
UNITS = ["VP", "TCCB", "KHTC", "VX", "KT", "NC", "ĐT", "CĐS"]

# (type key, subject) for ordinary documents
SUBJECTS = [
    ("ke_hoach", "Triển khai phổ cập kỹ năng số cho cán bộ, công chức năm 2026"),
    ("ke_hoach", "Tổ chức Ngày Chuyển đổi số quốc gia trên địa bàn"),
    ("bao_cao", "Kết quả thực hiện thủ tục hành chính trên môi trường điện tử quý I"),
    ("bao_cao", "Tình hình tiếp nhận, giải quyết hồ sơ tại Trung tâm Phục vụ hành chính công"),
    ("thong_bao", "Lịch tiếp công dân tháng 4"),
    ("thong_bao", "Kết luận của Chủ tịch tại cuộc họp giao ban"),
    ("huong_dan", "Hướng dẫn lập hồ sơ điện tử và nộp lưu vào lưu trữ cơ quan"),
    ("giay_moi", "Dự hội nghị tập huấn sử dụng chữ ký số chuyên dùng công vụ"),
    ("quyet_dinh", "Thành lập Tổ công tác chuyển đổi số"),
    ("cong_van", "Đề nghị cập nhật dữ liệu cán bộ, công chức trên hệ thống"),
    ("cong_van", "Rà soát danh mục thủ tục hành chính cung cấp trực tuyến toàn trình"),
    ("chuong_trinh", "Công tác trọng tâm năm 2026 về cải cách hành chính"),
    ("to_trinh", "Đề nghị phê duyệt danh mục hồ sơ năm 2026"),
]
# urgent matters: (type key, subject, urgency that should be marked)
URGENT = [
    ("cong_dien", "Chủ động ứng phó với bão số 3 và mưa lũ", "hoa_toc"),
    ("cong_van", "Triển khai khẩn cấp các biện pháp phòng, chống dịch sốt xuất huyết",
     "thuong_khan"),
    ("cong_van", "Báo cáo số liệu thiệt hại do mưa lớn trước 16 giờ hôm nay", "hoa_toc"),
    ("thong_bao", "Tạm dừng tiếp nhận hồ sơ do sự cố mất điện hệ thống", "khan"),
]
NOT_ADMIN = [
    ("{n}/2026/QĐ-UBND", "Quyết định", "Ban hành Quy định phân cấp quản lý nhà nước",
     "legal_normative"),
    ("{n}-KH/ĐU", "Kế hoạch", "Học tập, quán triệt Nghị quyết của Đảng ủy", "party"),
    ("{n}-BC/BCSĐ", "Báo cáo", "Kết quả lãnh đạo thực hiện nhiệm vụ chính trị", "party"),
]
MISTAKES = ("wrong_symbol", "missing_urgency", "wrong_deadline", "tampered",
            "not_administrative")


@dataclass
class ScenarioDocument:
    ref: str                    # stable id inside the set, e.g. "VB03"
    author: str
    symbol: str                 # as printed on the document (may be wrong)
    type_name: str
    subject: str
    doc_date: date
    received_at: datetime
    medium: str
    urgency: str                # mark printed on the document
    content: bytes
    declared_sha256: str
    proposed_deadline_days: int
    proposed_due: date          # deadline written on the routing proposal (may be wrong)
    mistakes: list[str] = field(default_factory=list)
    expected: dict = field(default_factory=dict)  # the answer key

    def as_dict(self, with_answers: bool = False) -> dict:
        data = asdict(self)
        data.pop("content")
        if not with_answers:
            data.pop("mistakes")
            data.pop("expected")
        return data


def plan(seed: int | str, n: int = 10) -> list[str]:
    """The mistake mix of a set: one entry per document ("ok" or a mistake), seed-only."""
    rng = random.Random(f"plan|{seed}")
    n_mistakes = max(1, round(n * 0.5))
    kinds = [MISTAKES[i % len(MISTAKES)] for i in range(n_mistakes)]
    rng.shuffle(kinds)
    return sorted(kinds + ["ok"] * (n - n_mistakes))


def _working_day(cal, rng, start: date, span: int) -> date:
    d = start + timedelta(days=rng.randrange(span))
    while not cal.is_working_day(d):
        d += timedelta(days=1)
    return d


def _bad_symbol(rng, number: int, abbrev: str | None, issuer: str, unit: str) -> str:
    good = format_symbol(number, issuer, abbrev) if abbrev else format_symbol(
        number, issuer, unit=unit)
    notation = good.split("/", 1)[1]
    options = [
        lambda: f"{number % 9 + 1}/{notation}",           # no leading zero
        lambda: f"{number:02d}/{notation.lower()}",       # lower case
        lambda: f"{number:02d} / {notation}",             # spaces
    ]
    if abbrev and "Đ" in abbrev:
        options.append(lambda: f"{number:02d}/{notation.replace('Đ', 'D', 1)}")
    if abbrev and abbrev != "BC":
        options.append(lambda: f"{number:02d}/BC-{issuer}")  # type does not match the title
    return rng.choice(options)()


def _correct_symbol(bad: str, number: int, abbrev: str | None, issuer: str, unit: str) -> str:
    if bad.split("/", 1)[0].strip().isdigit() and int(bad.split("/", 1)[0]) != number:
        number = int(bad.split("/", 1)[0])  # the leading-zero variant changed the number
    return format_symbol(number, issuer, abbrev) if abbrev else format_symbol(
        number, issuer, unit=unit)


def generate(seed: int | str, learner: str = "", n: int = 10, start: date = date(2026, 3, 2),
             calendar=None) -> list[ScenarioDocument]:
    """A set of `n` incoming documents for `learner`, received from `start` on."""
    cal = calendar or deadlines.default_calendar()
    rules = ruleset(start)
    kinds = plan(seed, n)
    rng = random.Random(f"docs|{seed}|{learner}")
    rng.shuffle(kinds)
    docs = []
    for i, kind in enumerate(kinds, 1):
        code, author = rng.choice(AGENCIES)
        unit = rng.choice(UNITS)
        number = rng.randrange(1, 40) if kind == "wrong_symbol" else rng.randrange(1, 4500)
        received = _working_day(cal, rng, start, 25)
        doc_date = received - timedelta(days=rng.randrange(0, 4))
        urgency, should = "thuong", "thuong"
        if kind == "missing_urgency":
            type_key, subject, should = rng.choice(URGENT)
        elif rng.random() < 0.2:
            type_key, subject, should = rng.choice(URGENT)
            urgency = should
        else:
            type_key, subject = rng.choice(SUBJECTS)
        dtype = rules.type_by_key(type_key)
        abbrev = dtype.abbrev
        correct = (format_symbol(number, code, abbrev) if abbrev
                   else format_symbol(number, code, unit=unit))
        symbol, expected_symbol, symbol_note = correct, correct, None
        type_name = dtype.name.replace(" (cá biệt)", "")
        if kind == "wrong_symbol":
            symbol = _bad_symbol(rng, number, abbrev, code, unit)
            expected_symbol = _correct_symbol(symbol, number, abbrev, code, unit)
        elif kind == "not_administrative":
            template, type_name, subject, symbol_note = rng.choice(NOT_ADMIN)
            symbol = template.format(n=number)
            expected_symbol = None
        body = f"{type_name} {symbol} của {author}: {subject}.".encode()
        medium = "electronic" if kind == "tampered" or rng.random() < 0.6 else "paper"
        declared = sha256_hex(body)
        content = body + (b" (da bi sua)" if kind == "tampered" else b"")
        days = rng.choice([3, 5, 7, 10])
        due = cal.add_working_days(received, days)
        proposed = received + timedelta(days=days) if kind == "wrong_deadline" else due
        if kind == "wrong_deadline" and proposed == due:
            proposed = due - timedelta(days=1)  # never accidentally right
        docs.append(ScenarioDocument(
            ref=f"VB{i:02d}", author=author, symbol=symbol, type_name=type_name,
            subject=subject, doc_date=doc_date,
            received_at=datetime.combine(received, time(8 + rng.randrange(8), rng.randrange(60))),
            medium=medium, urgency=urgency, content=content, declared_sha256=declared,
            proposed_deadline_days=days, proposed_due=proposed,
            mistakes=[] if kind == "ok" else [kind],
            expected={"symbol": expected_symbol, "symbol_kind": symbol_note or "administrative",
                      "urgency": should, "due": due, "integrity_ok": kind != "tampered"},
        ))
    docs.sort(key=lambda d: d.received_at)
    for i, d in enumerate(docs, 1):
        d.ref = f"VB{i:02d}"
    return docs


def mistake_mix(docs: list[ScenarioDocument]) -> Counter:
    """How many documents carry each mistake (equal for every learner of one seed)."""
    return Counter(m for d in docs for m in d.mistakes)


def deliver(registry, org: str, docs: list[ScenarioDocument]) -> list[int]:
    """Put the electronic documents of a set into `org`'s queue (chờ tiếp nhận)."""
    return [
        registry.deliver_external(org, author=d.author, symbol=d.symbol, doc_date=d.doc_date,
                                  type_name=d.type_name, subject=d.subject, urgency=d.urgency,
                                  content=d.content, declared_sha256=d.declared_sha256)
        for d in docs if d.medium == "electronic"
    ]
