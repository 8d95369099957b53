"""The first cell of every lesson: `lesson.start(course, lesson)`.

It reports "lesson_opened", and shows a toolbar: what the lesson trains and how long it takes,
"Nghe bài" (read aloud, offline) and "Làm lại bài" (restore the original, keeping a backup).
A lesson without exercises (the progress page) counts as completed when opened.
"""

from __future__ import annotations

import ipywidgets as w

from assessments.competency import load_framework
from courses import readaloud, reset
from courses.catalogue import load_catalogue
from courses.common import para, practice_dir, status_html
from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.progress.client import record


class LessonBar(w.VBox):
    """Toolbar of one lesson; `.parts` exposes the controls for tests."""

    def __init__(self, course: str, lesson: str):
        cat = load_catalogue()
        self.entry = cat.lesson(course, lesson)
        self.notebook = cat.notebook_path(self.entry)
        fw = load_framework()
        names = "; ".join(f"{c} {fw.competence(c).name}" for c in self.entry.competences)
        info = w.HTML(para("courses.ui.lesson_info", minutes=self.entry.minutes,
                           competences=names))
        self.listen = w.Button(description=t("courses.ui.listen"), icon="volume-up",
                               tooltip=t("courses.ui.listen_tip"))
        self.listen_msg = w.HTML()
        self.audio = w.Audio(value=b"", format="wav", autoplay=False, controls=True,
                             layout=w.Layout(display="none"))
        self.confirm = w.Checkbox(value=False, description=t("courses.ui.reset_confirm"),
                                  indent=False, layout=w.Layout(width="auto"))
        self.reset_button = w.Button(description=t("courses.ui.reset"), icon="undo",
                                     button_style="warning", tooltip=t("courses.ui.reset_tip"))
        self.reset_msg = w.HTML()
        self.listen.on_click(lambda _b: self.read_aloud())
        self.reset_button.on_click(lambda _b: self.reset())
        super().__init__([info, w.HBox([self.listen, self.listen_msg]), self.audio,
                          w.HBox([self.reset_button, self.confirm]), self.reset_msg])
        self.parts = {"listen": self.listen, "listen_message": self.listen_msg,
                      "audio": self.audio, "confirm": self.confirm, "reset": self.reset_button,
                      "reset_message": self.reset_msg}

    def read_aloud(self):
        out = practice_dir() / "nghe-bai" / f"{self.entry.course}-{self.entry.id}.wav"
        self.listen_msg.value = status_html(t("courses.ui.listen_wait"), None)
        try:
            if not out.exists() or out.stat().st_mtime < self.notebook.stat().st_mtime:
                readaloud.synthesize(readaloud.lesson_text(self.notebook), out)
        except KnsError as exc:
            self.listen_msg.value = status_html(exc.user_message, False)
            return None
        self.audio.value = out.read_bytes()
        self.audio.layout.display = None
        self.listen_msg.value = status_html(t("courses.ui.listen_ready"), True)
        return out

    def reset(self):
        if not self.confirm.value:
            self.reset_msg.value = status_html(t("courses.reset.need_confirm"), False)
            return None
        try:
            target, backup = reset.reset_lesson(self.entry.course, self.entry.id)
        except KnsError as exc:
            self.reset_msg.value = status_html(exc.user_message, False)
            return None
        self.confirm.value = False
        key = "courses.reset.done_backup" if backup else "courses.reset.done"
        self.reset_msg.value = status_html(
            t(key, path=str(target), backup=backup.name if backup else ""), True)
        return target, backup


def start(course: str, lesson: str) -> LessonBar:
    """Report that the lesson was opened and return its toolbar."""
    bar = LessonBar(course, lesson)
    record("lesson_opened", course, lesson)
    if not bar.entry.exercises:
        record("lesson_completed", course, lesson)
    return bar
