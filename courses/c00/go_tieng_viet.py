"""Lesson 02: how exercises and feedback work, on a useful first task: typing Vietnamese with
full diacritics in Unicode (NĐ 30/2020 Phụ lục I, Mục I.4: Unicode per TCVN 6909:2001)."""

from __future__ import annotations

import unicodedata

from courses.c00 import COURSE
from courses.common import esc, para
from courses.exercises import Exercise, Feedback, text_input
from kynangso.i18n import t

LESSON = "02-bai-tap-va-phan-hoi"
PHRASES = ["Ủy ban nhân dân phường Hòa Bình", "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
           "Trung tâm Phục vụ hành chính công", "Cộng hòa xã hội chủ nghĩa Việt Nam",
           "Độc lập - Tự do - Hạnh phúc", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"]


def strip_marks(text: str) -> str:
    """The text without Vietnamese tone and vowel marks (đ -> d)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return bare.replace("đ", "d").replace("Đ", "D")


class TypeVietnamese(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "go-tieng-viet"
    title_key = "courses.c00.title_typing"

    @classmethod
    def make_task(cls, rng):
        return {"phrase": rng.choice(PHRASES)}

    def build_inputs(self):
        self.answer = text_input(t("courses.c00.typing_answer"))
        return [self.answer]

    def reset_inputs(self):
        self.answer.value = ""

    def prompt(self):
        return para("courses.c00.typing_prompt") + f"<p><b>{esc(self.task['phrase'])}</b></p>"

    def answer_value(self):
        return self.answer.value

    @classmethod
    def judge(cls, task, answer):
        raw = " ".join(str(answer or "").split())
        want = task["phrase"]
        if not raw:
            return Feedback(False, t("courses.ui.need_answer"))
        if raw == want:
            return Feedback(True, t("courses.c00.typing_ok"))
        nfc = unicodedata.normalize("NFC", raw)
        if nfc == want:
            return Feedback(False, t("courses.c00.typing_nfd"))
        if strip_marks(nfc) == strip_marks(want):
            if nfc.casefold() == want.casefold():
                return Feedback(False, t("courses.c00.typing_case"))
            wrong = [w for w, r in zip(nfc.split(), want.split(), strict=False) if w != r]
            return Feedback(False, t("courses.c00.typing_marks", words=", ".join(wrong)))
        if nfc.casefold() == want.casefold():
            return Feedback(False, t("courses.c00.typing_case"))
        return Feedback(False, t("courses.c00.typing_other", phrase=want))


def exercise_typing() -> TypeVietnamese:
    return TypeVietnamese()
