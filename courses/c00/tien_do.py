"""Lesson 03: 'Tiến độ của tôi', the learner's own progress from the progress service, with
the catalogue's titles. Says plainly when the service cannot be reached."""

from __future__ import annotations

import html

import ipywidgets as w

from courses.catalogue import load_catalogue
from courses.common import status_html
from kynangso.i18n import t
from kynangso.progress import client

LESSON = "03-tien-do-cua-toi"


class MyProgress(w.VBox):
    def __init__(self, fetch=None):
        self.fetch = fetch or client.my_progress
        self.refresh_button = w.Button(description=t("courses.c00.refresh"), icon="refresh",
                                       tooltip=t("courses.c00.refresh_tip"))
        self.message = w.HTML()
        self.table = w.HTML()
        self.refresh_button.on_click(lambda _b: self.refresh())
        super().__init__([self.refresh_button, self.message, self.table])
        self.refresh()

    def refresh(self) -> None:
        data = self.fetch()
        if data is None:
            self.message.value = status_html(t("courses.c00.offline"), False)
            self.table.value = ""
            return
        done = {(r["course_id"], r["lesson_id"]): r for r in data.get("lessons", [])}
        rows, completed = [], 0
        for course in load_catalogue().courses:
            for lesson in course.lessons:
                r = done.get((course.id, lesson.id))
                if r and r.get("completed"):
                    state, completed = t("courses.c00.st_done"), completed + 1
                elif r and r.get("opened"):
                    state = t("courses.c00.st_open", passed=len(r.get("passed", [])),
                              total=len(lesson.exercises))
                else:
                    state = t("courses.c00.st_new")
                rows.append(f"<tr><td>{html.escape(course.title)}</td>"
                            f"<td>{html.escape(lesson.title)}</td><td>{html.escape(state)}</td></tr>")
        total = len(load_catalogue().lessons())
        self.message.value = status_html(t("courses.c00.summary", done=completed, total=total),
                                         True)
        head = "".join(f"<th scope='col'>{html.escape(t('courses.c00.col_' + c))}</th>"
                       for c in ("course", "lesson", "state"))
        self.table.value = (f"<table border='1' cellpadding='4'><caption>"
                            f"{html.escape(t('courses.c00.table_caption'))}</caption>"
                            f"<tr>{head}</tr>{''.join(rows)}</table>")


def my_progress(fetch=None) -> MyProgress:
    return MyProgress(fetch)
