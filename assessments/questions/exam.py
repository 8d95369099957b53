"""`Exam`: the object an exam notebook creates in its first (hidden, read-only) cell.

    from assessments.questions import Exam
    bai = Exam("van-ban")
    bai.header("Kiểm tra: Văn bản hành chính", minutes=45)
    bai.single_choice("cau-1", "…", options=["…", "…", "…"])

Every question method builds the widget, displays it and returns it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from assessments.questions.identity import GRADER_FOLDERS, learner_id
from assessments.questions.sidecar import Sidecar

log = logging.getLogger(__name__)
LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))  # Vietnam, no daylight saving


class Exam:
    def __init__(self, exam_id: str, folder: Path | str | None = None):
        self.exam_id = exam_id
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self.learner = learner_id(self.folder)
        # True when nbgrader (or `kns grade`) executes a submission: <course>/submitted/<id>/<exam>/.
        self.grading = self.folder.resolve().parent.parent.name in GRADER_FOLDERS
        self.sidecar = Sidecar(exam_id, self.learner, self.folder)
        self.questions: dict = {}  # item id -> the widget on screen (scripts and tests drive it)
        self._handed = self._read_handed()

    def _read_handed(self) -> dict:
        """The inputs of this learner's variants, handed out by the exam desk at fetch
        (`<exam>.variant.json`, kynangso.exams.variants); {} when there is none (practice)."""
        path = self.folder / f"{self.exam_id}.variant.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("unreadable variant file %s: %r", path, exc)
            return {}
        if not isinstance(data, dict) or data.get("exam") != self.exam_id \
                or data.get("learner") != self.learner or not isinstance(data.get("items"), dict):
            log.warning("variant file %s is not %s's for %s", path, self.learner, self.exam_id)
            return {}
        return data["items"]

    def handed(self, item_id: str) -> dict | None:
        task = self._handed.get(item_id)
        return dict(task) if isinstance(task, dict) else None

    @staticmethod
    def local_time(iso: str) -> str:
        return dt.datetime.fromisoformat(iso).astimezone(LOCAL_TZ).strftime("%H:%M:%S")

    def show(self, question):
        from IPython.display import display

        display(question)
        if getattr(question, "item_id", None):
            self.questions[question.item_id] = question
        return question

    # -- the widgets an exam notebook calls ------------------------------------------------------
    def header(self, title: str, minutes: int):
        """Title, learner, duration, closing time and late policy (exam-info.json), how to work."""
        from assessments.questions.header import header_widget

        return self.show(header_widget(title, minutes, self.learner, self.folder))

    def single_choice(self, item_id: str, prompt: str, options, title: str = "",
                      shuffle: bool = True):
        """One answer among `options` ((key, text) pairs or texts keyed a, b, c…)."""
        from assessments.questions.choice import SingleChoice

        return self.show(SingleChoice(self, item_id, title=title, prompt=prompt,
                                      options=options, shuffle=shuffle))

    def multiple_choice(self, item_id: str, prompt: str, options, title: str = "",
                        shuffle: bool = True):
        """Any number of `options` ticked; the answer is the sorted list of their keys."""
        from assessments.questions.choice import MultipleChoice

        return self.show(MultipleChoice(self, item_id, title=title, prompt=prompt,
                                        options=options, shuffle=shuffle))

    def number(self, item_id: str, prompt: str, unit: str = "", title: str = ""):
        """A number written the Vietnamese way ("1.234,5") or with a point ("1234.5")."""
        from assessments.questions.numeric import Number

        return self.show(Number(self, item_id, title=title, prompt=prompt, unit=unit))

    def short_text(self, item_id: str, prompt: str, placeholder: str = "", title: str = ""):
        """A word or a short phrase, saved on Enter or when the field loses focus."""
        from assessments.questions.text import ShortText

        return self.show(ShortText(self, item_id, title=title, prompt=prompt,
                                   placeholder=placeholder))

    def ordering(self, item_id: str, prompt: str, items, title: str = "", shuffle: bool = True):
        """Put `items` ((key, text) pairs or texts keyed a, b, c…) in order with ↑/↓ buttons."""
        from assessments.questions.ordering import Ordering

        return self.show(Ordering(self, item_id, title=title, prompt=prompt, items=items,
                                  shuffle=shuffle))

    def written(self, item_id: str, prompt: str, rows: int = 12, title: str = ""):
        """A written answer for the instructor; on the grader's side also shown as static text."""
        from IPython.display import HTML, display

        from assessments.questions.written import Written

        question = self.show(Written(self, item_id, title=title, prompt=prompt, rows=rows))
        if self.grading:
            display(HTML(question.transcript_html()))
        return question


# The simulation tasks (assessments/questions/tasks) add their methods: bai.task_sign_file(...).
from assessments.questions.tasks import install as _install_tasks  # noqa: E402

_install_tasks(Exam)
