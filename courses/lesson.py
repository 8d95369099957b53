"""The first cell of every lesson: `lesson.start(course, lesson)`.

It reports "lesson_opened", and shows a toolbar: what the lesson trains and how long it takes,
"Nghe bài" (read aloud, offline) and "Làm lại bài" (restore the original, keeping a backup).
A lesson without exercises (the progress page) counts as completed when opened.
"""

from __future__ import annotations

import html
import os

import ipywidgets as w

from assessments.competency import load_framework
from courses import readaloud, reset, state
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
        # The page starts afresh each time (an app, no saved notebook): what was already
        # passed comes from the practice record kept beside the progress reports (courses.state).
        done = state.passed(course, lesson) & set(self.entry.exercises)
        self.done_msg = w.HTML(status_html(t("courses.ui.already_passed", done=len(done),
                                             total=len(self.entry.exercises)), True) if done else "")
        self.listen = w.Button(description=t("courses.ui.listen"), icon="volume-up",
                               tooltip=t("courses.ui.listen_tip"))
        self.listen_msg = w.HTML()
        # Plays as soon as it is ready (the click on "Nghe bài" allows it), once; the
        # controls pause it, "Dừng" stops it.
        self.audio = w.Audio(value=b"", format="wav", autoplay=True, loop=False, controls=True,
                             layout=w.Layout(display="none"))
        self.stop = w.Button(description=t("courses.ui.listen_stop"), icon="stop",
                             tooltip=t("courses.ui.listen_stop_tip"), layout=w.Layout(display="none"))
        self.confirm = w.Checkbox(value=False, description=t("courses.ui.reset_confirm"),
                                  indent=False, layout=w.Layout(width="auto"))
        self.reset_button = w.Button(description=t("courses.ui.reset"), icon="undo",
                                     button_style="warning", tooltip=t("courses.ui.reset_tip"))
        self.reset_msg = w.HTML()
        self.listen.on_click(lambda _b: self.read_aloud())
        self.stop.on_click(lambda _b: self.stop_reading())
        self.reset_button.on_click(lambda _b: self.reset())
        super().__init__([*_back_home(), info, self.done_msg, w.HBox([self.listen, self.stop, self.listen_msg]), self.audio,
                          w.HBox([self.reset_button, self.confirm]), self.reset_msg])
        self.parts = {"listen": self.listen, "listen_message": self.listen_msg,
                      "audio": self.audio, "stop": self.stop, "confirm": self.confirm, "reset": self.reset_button,
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
        self.stop.layout.display = None
        self.listen_msg.value = status_html(t("courses.ui.listen_ready"), True)
        return out

    def stop_reading(self):
        """Stop and rewind: the player is emptied (the browser drops the sound) and hidden."""
        self.audio.value = b""
        self.audio.layout.display = "none"
        self.stop.layout.display = "none"
        self.listen_msg.value = ""

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


def _back_home() -> list[w.Widget]:
    """On the learner app (the lesson is a Voilà page), a link back to the learner's home."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if os.environ.get("KNS_LEARNER_APP") != "1" or not prefix:
        return []
    href = html.escape(prefix.rstrip("/") + "/kns/home", quote=True)
    style = ("display:inline-block;padding:4px 14px;border:1px solid #1F4E79;border-radius:4px;"
             "color:#1F4E79;text-decoration:none;font-size:15px")
    return [w.HTML(f"<a class='kns-back-home' style='{style}' href='{href}'>"
                   f"{html.escape(t('learner.app.back_home'))}</a>")]


def start(course: str, lesson: str) -> LessonBar:
    """Report that the lesson was opened and return its toolbar."""
    bar = LessonBar(course, lesson)
    record("lesson_opened", course, lesson)
    if not bar.entry.exercises:
        record("lesson_completed", course, lesson)
    return bar
