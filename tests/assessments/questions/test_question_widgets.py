"""The question widgets as a learner uses them: set `.value`, `.click()`, read what is shown
and what the sidecar holds."""

from __future__ import annotations

import json
import unicodedata

import ipywidgets as w
import pytest

from assessments.questions import Exam
from assessments.questions.choice import MultipleChoice, SingleChoice
from assessments.questions.numeric import Number, format_number, parse_number
from assessments.questions.ordering import Ordering
from assessments.questions.text import ShortText
from assessments.questions.written import Written

EXAM = "thi1"
OPTIONS = [("hn", "Hà Nội"), ("hue", "Huế"), ("dn", "Đà Nẵng"), ("sg", "TP. Hồ Chí Minh")]


@pytest.fixture
def exam(tmp_path, monkeypatch):
    """A learner's exam folder; displaying is a no-op outside a notebook."""
    monkeypatch.setenv("JUPYTERHUB_USER", "hocvien01")
    return Exam(EXAM, tmp_path)


@pytest.fixture
def shown(monkeypatch):
    """What Exam methods display (IPython's display, collected instead of printed)."""
    seen = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: seen.extend(objs))
    return seen


def saved(exam) -> dict:
    return json.loads(exam.sidecar.path.read_text(encoding="utf-8"))["answers"]


def text_of(widget) -> str:
    return widget.status.value


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


# ---------------------------------------------------------------- single and multiple choice


def test_single_choice_starts_empty_and_saves_the_key(exam, shown):
    """Is nothing preselected, and is the chosen option saved as its key with the order shown?"""
    q = exam.single_choice("cau-1", "Trụ sở ở đâu?", OPTIONS)
    assert shown == [q]
    assert q.choice.value is None and not exam.sidecar.path.exists()
    q.choice.value = "dn"
    record = saved(exam)["cau-1"]
    assert record["value"] == "dn"
    assert sorted(record["shown"]["order"]) == sorted(k for k, _ in OPTIONS)
    assert "Đã lưu câu trả lời" in text_of(q)


def test_single_choice_plain_strings_are_keyed_by_letter(exam, shown):
    """Are options given as plain texts keyed a, b, c… whatever order the learner sees?"""
    q = exam.single_choice("cau-1", "?", ["Một", "Hai", "Ba"])
    assert q.task["options"] == {"a": "Một", "b": "Hai", "c": "Ba"}
    label_of_b = dict((v, k) for k, v in q.choice.options)["b"]
    assert label_of_b == "Hai"
    q.choice.value = "b"
    assert saved(exam)["cau-1"]["value"] == "b"


def test_single_choice_order_is_shuffled_unless_asked_not_to(exam, shown):
    """Is the order shuffled per learner, and kept as written with shuffle=False?"""
    many = [f"Phương án {i}" for i in range(8)]
    shuffled = exam.single_choice("cau-1", "?", many)
    fixed = exam.single_choice("cau-2", "?", many, shuffle=False)
    assert [label for label, _ in fixed.choice.options] == many
    assert [label for label, _ in shuffled.choice.options] != many
    assert sorted(label for label, _ in shuffled.choice.options) == sorted(many)


def test_duplicate_option_keys_are_refused(exam, shown):
    """Are two options with the same key refused when the exam is built?"""
    with pytest.raises(ValueError):
        exam.single_choice("cau-1", "?", [("a", "X"), ("a", "Y")])


def test_multiple_choice_saves_sorted_keys_and_unticking(exam, shown):
    """Are ticked options saved as sorted keys, and is unticking everything saved too?"""
    q = exam.multiple_choice("cau-3", "Chọn:", ["A", "B", "C", "D"])
    q.boxes["c"].value = True
    q.boxes["a"].value = True
    assert saved(exam)["cau-3"]["value"] == ["a", "c"]
    q.boxes["a"].value = False
    q.boxes["c"].value = False
    assert saved(exam)["cau-3"]["value"] == []


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("text, number", [
    ("1.234,5", 1234.5), ("1234.5", 1234.5), ("1234,5", 1234.5), ("1.234.567", 1234567),
    ("1 234 567", 1234567), ("1,234,567", 1234567), ("1,234.5", 1234.5), ("1.500", 1500),
    ("0.500", 0.5), ("2.5", 2.5), ("-3,25", -3.25), ("\u22123", -3), ("15 ngày", 15),
    ("  42 ", 42), ("7", 7),
])
def test_vietnamese_and_point_numbers_are_read(text, number):
    """Are numbers read the Vietnamese way ("1.234,5") and with a decimal point ("1234.5")?"""
    assert parse_number(text, unit="ngày") == number


@pytest.mark.parametrize("text", ["abc", "1..2", "1.23.4", "12,3,4", "1,2.3,4", "1 23", "", "-",
                                  "1.234,5,6", "5 tháng", "1e5", "1/2"])
def test_what_is_not_one_number_is_refused(text):
    """Is text that is not exactly one number refused instead of guessed?"""
    with pytest.raises(ValueError):
        parse_number(text, unit="ngày")


def test_numbers_are_written_back_the_vietnamese_way():
    """Are numbers shown back with dots for thousands and a comma before decimals?"""
    assert [format_number(v) for v in (1234.5, 1234567, 0.5, -3.25, 2.0)] == [
        "1.234,5", "1.234.567", "0,5", "-3,25", "2"]


def test_number_saves_a_number_and_shows_how_it_was_read(exam, shown):
    """Is "1.234,5" saved as 1234.5, with the number read shown next to the field?"""
    q = exam.number("cau-2", "Tổng?", unit="văn bản")
    assert q.field.continuous_update is False
    q.field.value = "1.234,5"
    assert saved(exam)["cau-2"]["value"] == 1234.5
    assert "Số đã ghi nhận: 1.234,5 văn bản" in text_of(q)


def test_unreadable_number_is_explained_and_not_saved(exam, shown):
    """Does an unreadable entry get a Vietnamese message and leave the saved answer alone?"""
    q = exam.number("cau-2", "Tổng?")
    q.field.value = "12"
    before = exam.sidecar.path.read_bytes()
    q.field.value = "mười hai"
    assert "Chưa đọc được «mười hai» là một số" in text_of(q)
    assert "b71c1c" in text_of(q)  # shown as an error
    assert exam.sidecar.path.read_bytes() == before


def test_clearing_a_number_clears_the_saved_answer(exam, shown):
    """Is an emptied field saved as "no answer", so the old number is not graded?"""
    q = exam.number("cau-2", "Tổng?")
    q.field.value = "12"
    q.field.value = ""
    assert saved(exam)["cau-2"]["value"] is None


# ---------------------------------------------------------------- short text


def test_short_text_saves_on_enter_in_nfc(exam, shown):
    """Is a short text saved on Enter/blur only, and stored in NFC?"""
    q = exam.short_text("cau-5", "Tên cơ quan?", placeholder="Ví dụ: UBND xã")
    assert q.field.continuous_update is False and q.field.placeholder == "Ví dụ: UBND xã"
    q.field.value = unicodedata.normalize("NFD", "  Ủy ban nhân dân ")
    value = saved(exam)["cau-5"]["value"]
    assert value == "Ủy ban nhân dân" and unicodedata.is_normalized("NFC", value)


# ---------------------------------------------------------------- ordering


def test_ordering_moves_are_saved_at_each_click(exam, shown):
    """Does each ↑/↓ click move the item and save the new order at once?"""
    q = exam.ordering("cau-6", "Sắp xếp:", ["Tiếp nhận", "Xử lý", "Trả kết quả"])
    start = list(q.order)
    assert start != ["a", "b", "c"]  # never the author's order
    assert q.up[0].disabled and q.down[-1].disabled and not q.down[0].disabled
    q.down[0].click()
    expected = [start[1], start[0], start[2]]
    assert saved(exam)["cau-6"]["value"] == expected
    assert q.texts[0].value == f"<span>{q.task['items'][expected[0]]}</span>"
    q.up[2].click()
    assert saved(exam)["cau-6"]["value"] == [expected[0], expected[2], expected[1]]


def test_ordering_can_be_saved_as_shown(exam, shown):
    """Can a learner who finds the shown order right save it without moving anything?"""
    q = exam.ordering("cau-6", "Sắp xếp:", ["A", "B", "C", "D"])
    assert not exam.sidecar.path.exists()
    q.confirm.click()
    assert saved(exam)["cau-6"]["value"] == q.task["order"]


# ---------------------------------------------------------------- written answers


def test_written_saves_on_blur_and_with_the_button(exam, shown):
    """Is a written answer saved when the field is left, and again with the "Lưu" button?"""
    q = exam.written("cau-7", "Soạn công văn.", rows=8)
    assert q.field.rows == 8 and q.field.continuous_update is False
    assert q.save_button.description == "Lưu"
    q.field.value = "Kính gửi: UBND xã"
    assert saved(exam)["cau-7"]["value"] == "Kính gửi: UBND xã"
    exam.sidecar.path.unlink()
    q.save_button.click()
    assert saved(exam)["cau-7"]["value"] == "Kính gửi: UBND xã"
    assert len(shown) == 1  # a learner sees only the widget


def test_written_answer_is_shown_as_text_on_the_grader_side(tmp_path, shown):
    """When the grader runs the notebook, is the saved text shown escaped, or "Chưa có bài làm"?"""
    folder = tmp_path / "course" / "autograded" / "hocvien02" / EXAM
    folder.mkdir(parents=True)
    exam = Exam(EXAM, folder)
    assert exam.grading and exam.learner == "hocvien02"
    exam.sidecar.save("cau-7", "Kính gửi: <b>UBND</b>\nNội dung")
    exam.written("cau-7", "Soạn công văn.")
    exam.written("cau-8", "Soạn tờ trình.")
    static = [obj.data for obj in shown if not isinstance(obj, w.Widget)]
    assert len(static) == 2
    assert "Kính gửi: &lt;b&gt;UBND&lt;/b&gt;\nNội dung" in static[0]
    assert "Chưa có bài làm" in static[1]


# ---------------------------------------------------------------- restoring, labels


CASES = [
    (SingleChoice, {"prompt": "?", "options": OPTIONS}, lambda q: setattr(q.choice, "value", "hue"),
     lambda q: q.choice.value == "hue"),
    (MultipleChoice, {"prompt": "?", "options": OPTIONS},
     lambda q: setattr(q.boxes["sg"], "value", True),
     lambda q: [k for k, b in q.boxes.items() if b.value] == ["sg"]),
    (Number, {"prompt": "?"}, lambda q: setattr(q.field, "value", "1234,5"),
     lambda q: q.field.value == "1.234,5"),
    (ShortText, {"prompt": "?"}, lambda q: setattr(q.field, "value", "Hà Nội"),
     lambda q: q.field.value == "Hà Nội"),
    (Ordering, {"prompt": "?", "items": ["A", "B", "C"]}, lambda q: q.down[0].click(),
     lambda q: q.order != q.task["order"]),
    (Written, {"prompt": "?"}, lambda q: setattr(q.field, "value", "Bài làm"),
     lambda q: q.field.value == "Bài làm"),
]


@pytest.mark.parametrize("cls, spec, answer, restored", CASES, ids=[c[0].__name__ for c in CASES])
def test_recreating_a_widget_restores_the_answer_and_writes_nothing(exam, cls, spec, answer,
                                                                     restored):
    """Does re-running the cell show the saved answer again without touching the sidecar?"""
    answer(cls(exam, "cau", **spec))
    before = exam.sidecar.path.stat().st_mtime_ns, exam.sidecar.path.read_bytes()
    again = cls(Exam(EXAM, exam.folder), "cau", **spec)
    assert restored(again)
    assert "đã lưu trước đó" in again.status.value
    assert (exam.sidecar.path.stat().st_mtime_ns, exam.sidecar.path.read_bytes()) == before


@pytest.mark.parametrize("cls, spec", [(c[0], c[1]) for c in CASES],
                         ids=[c[0].__name__ for c in CASES])
def test_every_input_and_button_is_labelled(exam, cls, spec):
    """Does every input and button carry a label or tooltip a screen reader can read?"""
    for widget in walk(cls(exam, "cau", **spec)):
        if isinstance(widget, w.Button):
            assert widget.description or widget.tooltip
        elif isinstance(widget, (w.Text, w.Textarea, w.RadioButtons, w.Checkbox)):
            assert widget.description.strip()
