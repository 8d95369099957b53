"""Every exercise of every lesson, built exactly as its notebook builds it, answered once right
and once wrong; the feedback a person would read is checked.

Right answers are worked out here from the sandboxes' rules and generators (not read from the
exercise), so an exercise that judged wrongly would fail.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from courses.catalogue import load_catalogue
from courses.exercises import Exercise, Feedback
from kynangso.errors import KnsError
from kynangso.workdays import compute_due, default_calendar
from sandbox.documents.drafting import date_line
from sandbox.documents.rules import layout_rules, ruleset
from sandbox.documents.symbol import format_symbol
from sandbox.documents.workflow import MACHINES
from sandbox.filing.catalogue import default_catalogue
from tests.courses.cells import run_cells

LESSONS = load_catalogue().lessons()


def exercises_of(lesson) -> list[Exercise]:
    return [v for v in run_cells(load_catalogue().notebook_path(lesson)) if isinstance(v, Exercise)]


# -- drivers: set a right or a wrong answer for one exercise -------------------------------------

def flow(ex, right):
    kind, state = ex.task["kind"], ex.task["start"]
    order = []
    for _ in ex.task["steps"]:
        action = next(a for a in ex.task["options"] if (state, a) in MACHINES[kind])
        order.append(action)
        state = MACHINES[kind][(state, action)][0]
    if not right:
        order[0], order[1] = order[1], order[0]
    for dd, action in zip(ex.steps, order, strict=False):
        dd.value = action
    return "Đúng." if right else "Bước 1: chưa thể"


def read_symbol(ex, right):
    k = ex.task
    broken = k["symbol"] != k["expected"]
    if right:
        ex.verdict.value = "bad" if broken else "ok"
        ex.fixed.value = k["expected"] if broken else ""
        return "Đúng."
    ex.verdict.value = "ok" if broken else "bad"
    return "Phụ lục" if broken else "không cần sửa"


def write_symbol(ex, right):
    k = ex.task
    dtype = ruleset().type_by_key(k["type"])
    good = (format_symbol(k["number"], k["issuer"], dtype.abbrev) if dtype.abbrev
            else format_symbol(k["number"], k["issuer"], unit=k["unit"]))
    ex.answer.value = good if right else good.replace("/", " / ")
    return "Đúng." if right else "khoảng trắng"


def date_line_(ex, right):
    d = date.fromisoformat(ex.task["date"])
    if right:
        ex.answer.value = date_line(ex.task["place"], d)
        return "Đúng."
    month = f"{d.month:02d}" if d.month >= 3 else str(d.month)  # the zero where it must not be
    ex.answer.value = f"{ex.task['place']}, ngày {d.day} tháng {month} năm {d.year}"
    return "Phụ lục I, Mục II.4"


def page_setup(ex, right):
    rules = layout_rules()["rules"]
    bad = []
    for key, value in ex.task["values"].items():
        r = rules[key]
        lo, hi = (r["min_mm"], r["max_mm"]) if "min_mm" in r else (r["min_pt"], r["max_pt"])
        if not lo <= value <= hi:
            bad.append(key)
    if right:
        ex.pick.value = bad[0] if bad else "none"
        return "Đúng."
    ok = [k for k in ex.task["values"] if k not in bad]
    ex.pick.value = "none" if bad else ok[0]
    return "Phụ lục I" if bad else "đúng quy định"


def register(ex, right):
    if not right:
        return "Điều 22"  # nothing registered yet
    k, f = ex.task, ex.form.parts
    f["author"].value, f["symbol"].value = k["author"], k["symbol"]
    f["doc_date"].value = date.fromisoformat(k["doc_date"])
    f["type"].value = next(o for o in f["type"].options
                           if o.replace(" (cá biệt)", "") == k["type_name"])
    f["subject"].value, f["urgency"].value = k["subject"], k["urgency"]
    f["button"].click()
    return "số đến"


def deadline(ex, right):
    start = date.fromisoformat(ex.task["start"])
    due = default_calendar().add_working_days(start, ex.task["days"])
    ex.answer.value = due if right else due - timedelta(days=1)
    return "Đúng." if right else "Hạn đúng là"


def proves(ex, right):
    rows = yaml.safe_load((Path("courses/c02/rules.yaml")).read_text("utf-8"))["properties"]
    for row in rows:
        ex.boxes[row["key"]].value = row["guaranteed"] or not right
    return "Đúng." if right else "Luật Giao dịch điện tử 2023"


def which(ex, right):
    kind = ex.task["kind"]
    ex.pick.value = kind if right else ({"personal", "organisation"} - {kind}).pop()
    return "Đúng." if right else ex.task["source"][:20]


def sign_doc(ex, right):
    ex.certificate.value = ex.task["role"] if right else "expired"
    ex.passphrase.value = "luyen-tap-ky-so"
    return "hai chữ ký hợp lệ" if right and ex.task["role"] == "organisation" else (
        "Đã ký bằng chứng thư cá nhân" if right else "hết hạn")


CASE_VERDICT = {"valid": "valid", "valid_revoked_later": "valid", "tampered_byte": "modified",
                "page_added": "modified", "content_added": "modified", "expired": "expired",
                "revoked": "revoked", "untrusted": "untrusted", "missing_org": "missing_org",
                "wrong_order": "wrong_order"}


def verify(ex, right):
    answer = CASE_VERDICT[ex.task["case"]]  # what the generator planted
    ex.pick.value = answer if right else ("modified" if answer == "valid" else "valid")
    return "Đúng." if right else "kết quả kiểm tra cho thấy"


def reception(ex, right):
    from courses.c03.tiep_nhan import desk_for

    desk = desk_for(ex.task["seed"])
    v = desk.get(ex.task["id"])
    missing = desk.missing(v.id)
    if v.request_text and v.procedure.name not in v.request_text:
        action = "refuse"
    elif missing:
        action = "request_supplement"
    else:
        action = "receive"
    if right:
        ex.action.value = action
        ex.missing.value = missing[0] if missing else None
        return "Đúng."
    ex.action.value = "receive" if action != "receive" else "refuse"
    return "Quyết định đúng là"


def dossier_code(ex, right):
    from sandbox.filing.codes import parse_code

    # read the code by its published layout: <unit>-YYMMDD-[AA]XXXX
    _unit, yymmdd, last = ex.task["code"].rsplit("-", 2)
    day = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    seq = int(last[2:] if parse_code(ex.task["code"]).aa else last)
    ex.day.value, ex.seq.value = day, seq if right else seq + 1
    return "Mã cơ quan" if right else "Số thứ tự chưa đúng"


def appointment(ex, right):
    proc = default_catalogue().get(ex.task["procedure"])
    due = compute_due(default_calendar(), datetime.fromisoformat(ex.task["at"]), proc.days,
                      proc.convention, explain=False).due_date
    ex.answer.value = due if right else due + timedelta(days=1)
    return "Hẹn trả kết quả" if right else "chưa đúng. Cách tính"


def fee(ex, right):
    proc = default_catalogue().get(ex.task["procedure"])
    total = proc.fee * ex.task["qty"]
    ex.answer.value = int(total if right else total + Decimal(1000))
    return "căn cứ" if right else "chưa đúng"


def online(ex, right):
    broken = ex.task["broken"]
    if right:
        ex.pick.value = broken or "yes"
        return "Đúng."
    ex.pick.value = "yes" if broken else "paid_online"
    return "điều kiện chưa đạt" if broken else "đáp ứng mọi điều kiện"


def screen(ex, right):
    answer = ex.task["answer"]
    ex.pick.value = answer if right else next(o for o in ex.task["options"] if o != answer)
    return "Đúng." if right else "Chưa đúng."


def typing(ex, right):
    phrase = ex.task["phrase"]
    bare = "".join(c for c in unicodedata.normalize("NFD", phrase)
                   if unicodedata.category(c) != "Mn").replace("đ", "d").replace("Đ", "D")
    ex.answer.value = phrase if right else bare
    return "Unicode" if right else "thiếu dấu"


def reply_forward(ex, right):
    """As a person: the mailbox of lesson 01, the task's message chosen, «Trả lời» or
    «Chuyển tiếp», «Gửi thư». A wrong answer (a new message instead of a reply; a forward to
    the wrong colleague) is sent after clearing the Sent folder, so an earlier right one of the
    same task cannot count."""
    from courses.c04 import hop_thu, practice

    app = hop_thu.mailbox()
    sent = app.store.keys(app.address, "sent")
    original = hop_thu.original(ex.task["ref"])
    subject = str(original["Subject"])
    reply_to = str(original.get("Reply-To") or original["From"])
    if not right:
        for key in sent:
            app.store.move(app.address, key, "sent", "trash")
    app.folder.value = "inbox"
    app.list.value = next(k for k in app.store.keys(app.address)
                          if str(app.store.get(app.address, k)["Message-ID"])
                          == str(original["Message-ID"]))
    if ex.task["mode"] == "reply":
        app.start("reply" if right else "new")
        if not right:
            app.to.value, app.subject.value = reply_to, f"Về việc {subject}"
        app.body.value = "Văn thư đã nhận được thư, xin cảm ơn."
        assert app.send_mail() is not None, app.send_message.value
        return "giữ mạch thư" if right else "không phải là thư trả lời"
    app.start("forward")
    other = next(practice.office_address(x) for x in hop_thu.FORWARD_TO
                 if practice.office_address(x) != ex.task["to"])
    app.to.value = ex.task["to"] if right else other
    assert app.send_mail() is not None, app.send_message.value
    return "đã chuyển tiếp" if right else "Chưa thấy thư chuyển tiếp"


def judge_message(ex, right):
    from sandbox.email import scenarios

    sc = scenarios.generate(ex.task["seed"], "hocvien", n=6)
    truth = next(sm.verdict for sm in sc.messages if sm.ref == ex.task["ref"])  # the answer key
    ex.pick.value = truth if right else ({"legitimate", "phishing"} - {truth}).pop()
    return "Đúng." if right else "Thư này là"


def which_sign(ex, right):
    from sandbox.email import scenarios
    from sandbox.email.rules import sign_keys

    sc = scenarios.generate(ex.task["seed"], "hocvien", n=6)
    planted = next(sm.expected_signs for sm in sc.messages if sm.ref == ex.task["ref"])
    ex.pick.value = planted[0] if right else next(k for k in sign_keys() if k not in planted)
    return "Căn cứ" if right else "không có dấu hiệu"


def channel_by_table(kind, secrecy="none", mailbox="work"):
    """The channel and whether e-mail is allowed, read off rules/channels.yaml: the strictest
    channel of the rules that match, e-mail only if all of them allow it."""
    table = yaml.safe_load(Path("sandbox/email/rules/channels.yaml").read_text("utf-8"))
    facts = {"kind": kind, "secrecy": secrecy, "mailbox": mailbox}
    hits = [r for r in table["rules"]
            if all(facts[k] in v for k, v in r["when"].items())]
    order = table["channels"]
    if not hits:
        return order[0], mailbox == "work"
    return max((r["channel"] for r in hits), key=order.index), all(r["email_allowed"] for r in hits)


def set_channel(ex, facts, right):
    channel, allowed = channel_by_table(*facts)
    if right:
        ex.channel.value, ex.allowed.value = channel, allowed
        return "Đúng."
    ex.channel.value, ex.allowed.value = channel, not allowed
    return "được hay không được"


# what each case of lesson 03 is, as a person reads it: (kind, secrecy, mailbox)
CASE_FACTS = {
    "plan_to_department": ("official_document",), "report_secret": ("official_document", "mat"),
    "forward_top_secret": ("received_official_document", "toi_mat"),
    "draft_for_comments": ("working_exchange",), "meeting_time": ("working_exchange",),
    "draft_from_gmail": ("working_exchange", "none", "personal"),
    "citizen_dossier": ("personal_data",), "citizen_dossier_gmail": ("personal_data", "none", "personal"),
    "dispatch_received": ("received_official_document",),
}
MESSAGE_FACTS = {
    "incoming_document": ("received_official_document",), "incoming_secret": ("working_exchange", "mat"),
    "incoming_draft": ("working_exchange",), "outgoing_gmail": ("working_exchange", "none", "personal"),
    "outgoing_document": ("official_document",),
}


def choose_channel(ex, right):
    return set_channel(ex, CASE_FACTS[ex.task["case"]], right)


def message_channel(ex, right):
    return set_channel(ex, MESSAGE_FACTS[ex.task["kind"]], right)


def check_attachment(ex, right):
    from courses.c04 import practice

    _store, listed = practice.signed_mail()
    kind = next(i["kind"] for i in listed if i["ref"] == ex.task["ref"])  # what was planted
    answer = "accept" if kind == "signed_document" else "refuse"
    ex.pick.value = answer if right else ({"accept", "refuse"} - {answer}).pop()
    return "Đúng." if right else "Cách xử lý đúng là"


def register_attachment(ex, right):
    """Wrong: nothing registered in the round's register. Right: the lesson's mailbox, the
    message chosen, the symbol and type of a công văn filled in, «Vào sổ văn bản đến»."""
    if not right:
        return "Điều 22.1"
    from courses.c04 import dinh_kem, practice

    app = dinh_kem.mailbox()
    app.registry = ex.registry
    _store, listed = practice.signed_mail()
    item = next(i for i in listed if i["ref"] == ex.task["ref"])
    app.folder.value = "inbox"
    app.list.value = item["key"]
    symbol = re.search(r"\d+/SNV-CCVC", str(app.current["Subject"])).group(0)
    app.reg_symbol.value, app.reg_type.value = symbol, "Công văn"
    assert app.register() is not None, app.register_message.value
    return "số đến"


DRIVERS = {
    "thu-tu-van-ban-den": flow, "thu-tu-van-ban-di": flow, "doc-so-ky-hieu": read_symbol,
    "viet-so-ky-hieu": write_symbol, "dong-ngay-thang": date_line_, "cai-dat-trang": page_setup,
    "dang-ky-van-ban-den": register, "han-giai-quyet": deadline, "chu-ky-bao-dam": proves,
    "ca-nhan-hay-co-quan": which, "ky-van-ban": sign_doc, "kiem-tra-van-ban-den": verify,
    "quyet-dinh-tiep-nhan": reception, "doc-ma-ho-so": dossier_code,
    "hen-tra-ket-qua": appointment, "tinh-phi": fee, "toan-trinh": online,
    "vung-man-hinh": screen, "go-tieng-viet": typing,
    "tra-loi-chuyen-tiep": reply_forward, "danh-gia-thu": judge_message,
    "dau-hieu-lua-dao": which_sign, "chon-kenh": choose_channel, "kenh-cua-thu": message_channel,
    "kiem-tra-tep-ky-so": check_attachment, "vao-so-tep-dinh-kem": register_attachment,
}


def test_every_catalogued_exercise_has_a_driver():
    """Is every exercise named in the catalogue exercised by this file?"""
    assert {e for lesson in LESSONS for e in lesson.exercises} == set(DRIVERS)


def test_the_progress_service_knows_every_catalogued_exercise():
    """Can the service find the class of every exercise the catalogue names, in its lesson?"""
    from kynangso.progress.judge import registry

    found = {(course, x): cls.lesson for (course, x), cls in registry().items()}
    wanted = {(le.course, x): le.id for le in LESSONS for x in le.exercises}
    assert found == wanted


@pytest.mark.parametrize("lesson", [le for le in LESSONS if le.exercises],
                         ids=[le.ref for le in LESSONS if le.exercises])
def test_exercises_right_and_wrong(lesson, events):
    """Does each exercise of the lesson say 'Chưa đúng' with the rule for a wrong answer, and
    'Đúng' for a right one, on two different tasks?"""
    found = exercises_of(lesson)
    assert sorted(e.exercise_id for e in found) == sorted(lesson.exercises)
    for ex in found:
        for round_ in range(2):
            if round_:
                ex.next_task()
            expected = DRIVERS[ex.exercise_id](ex, right=False)
            fb = ex.check()
            assert not fb.ok, (ex.exercise_id, ex.task, ex.feedback_text)
            assert ex.feedback_text.startswith("Chưa đúng."), ex.feedback_text
            assert expected in ex.feedback_text, (ex.exercise_id, ex.feedback_text)
            same_verdict_in_kernel_and_service(ex, events[-1])
            expected = DRIVERS[ex.exercise_id](ex, right=True)
            fb = ex.check()
            assert fb.ok, (ex.exercise_id, ex.task, ex.feedback_text)
            assert ex.feedback_text.startswith("Đúng."), ex.feedback_text
            assert expected in ex.feedback_text, (ex.exercise_id, ex.feedback_text)
            assert "role=\"status\"" in ex.feedback.value  # announced by screen readers
            same_verdict_in_kernel_and_service(ex, events[-1])
    # The kernel sends answers; completion is the service's to derive, never reported.
    assert not [e for e in events if e[0] == "lesson_completed"]
    answered = {(e[1], e[2], e[3]) for e in events if e[0] == "answer"}
    assert answered == {(lesson.course, lesson.id, x) for x in lesson.exercises}
    assert ("lesson_opened", lesson.course, lesson.id, None) in events


def same_verdict_in_kernel_and_service(ex, sent):
    """Did the service, rebuilding the task from (learner, course, exercise, round) alone,
    judge the answer the kernel sent as the kernel's own rule code does?"""
    kind, course, lesson, exercise, round_, answer, service = sent
    assert (kind, course, lesson, exercise, round_) == ("answer", ex.course, ex.lesson,
                                                        ex.exercise_id, ex.round)
    try:
        kernel = ex.judge(ex.task, answer)
    except KnsError as exc:  # a refusal of the sandbox is the feedback (Exercise.check)
        kernel = Feedback(False, exc.user_message)
    assert kernel.ok == service.ok, (exercise, answer, kernel, service)
    if not ex.local_wording:
        assert kernel.text == service.text, (exercise, kernel.text, service.text)


def test_signing_works_inside_a_running_event_loop(home):
    """In a Jupyter kernel an event loop is running; do signing and verifying still work there?"""
    from courses.c02 import ky_so

    ex = ky_so.exercise_sign()

    async def click():
        sign_doc(ex, right=True)
        return ex.check()

    assert asyncio.run(click()).ok, ex.feedback_text


def test_tasks_differ_between_learners(home, monkeypatch):
    """Do two learners get different tasks, and one learner the same task again?"""
    from courses.c01 import ky_hieu

    first = ky_hieu.exercise_write().task
    assert ky_hieu.exercise_write().task == first
    monkeypatch.setenv("JUPYTERHUB_USER", "nguyenvana")
    assert ky_hieu.exercise_write().task != first


def test_no_answer_is_asked_for(home):
    """Does checking with nothing filled in ask for an answer instead of judging?"""
    from courses.c03 import thoi_han

    ex = thoi_han.exercise_appointment()
    assert not ex.check().ok
    assert "chưa chọn hoặc chưa nhập" in ex.feedback_text


def test_fully_online_every_breaker(home):
    """For each way a dossier can fail toàn trình, is that reason accepted and 'yes' refused?"""
    from courses.c03 import truc_tuyen

    ex = truc_tuyen.exercise_fully_online()
    for broken in truc_tuyen.BREAKERS:
        ex.task = {"broken": broken, "fee": 8000}
        ex.pick.value = "yes"
        assert not ex.check().ok, broken
        ex.pick.value = broken
        assert ex.check().ok, broken
    ex.task = {"broken": None, "fee": 0}
    ex.pick.value = "yes"
    assert ex.check().ok
