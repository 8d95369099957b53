"""What the learner's home shows, assembled from the catalogue and the services' answers.

Pure functions over plain data (the catalogue, the progress summary, the exam desk's list, the
signing desk's answer), so they are tested without a server; `fetch_all` is the only part that
talks to the services, with the server's own hub token, as the lessons' widgets already do
(kynangso.progress.client). A service that does not answer leaves its section with a
Vietnamese note; the rest of the page still shows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from urllib.parse import quote

from kynangso.exams.windows import local
from kynangso.i18n import t

log = logging.getLogger(__name__)

# A lesson's state on the home, from the progress service's summary.
NEW, OPENED, COMPLETED = "new", "opened", "completed"


@dataclass
class LessonRow:
    title: str
    href: str
    minutes: int
    state: str  # NEW, OPENED or COMPLETED

    @property
    def state_text(self) -> str:
        return t(f"learner.home.lesson_{self.state}")


@dataclass
class CourseRow:
    id: str
    title: str
    description: str
    lessons: list[LessonRow]
    completed: int
    percent: int
    next_lesson: LessonRow | None  # the first lesson not completed, None when all are

    @property
    def started(self) -> bool:
        return any(x.state != NEW for x in self.lessons)

    @property
    def progress_text(self) -> str:
        return t("learner.home.course_progress", done=self.completed, total=len(self.lessons),
                 percent=self.percent)


@dataclass
class ExamRow:
    title: str
    closes: str
    policy_text: str
    is_open: bool
    exam: str = ""  # the desk's assignment id, for the start button
    course_id: str = ""
    attempt: str = "none"  # the desk's record: none, in_progress, submitted

    @property
    def can_start(self) -> bool:
        return self.is_open and self.attempt == "none"

    @property
    def attempt_text(self) -> str:
        return t(f"learner.home.attempt_{self.attempt}") if self.attempt in ("in_progress", "submitted") else ""


@dataclass
class Home:
    courses: list[CourseRow]
    exams: list[ExamRow]
    certificate: str  # one Vietnamese sentence: held until when, or not yet / where to get it
    notes: list[str] = field(default_factory=list)  # services that did not answer


def lesson_href(base_url: str, courses_folder: str, notebook: str) -> str:
    """The Voilà app of a lesson on the learner's own server."""
    path = "/".join(p for p in (courses_folder.strip("/"), notebook) if p)
    return f"{base_url.rstrip('/')}/voila/render/{quote(path)}"


def course_rows(catalogue, summary: dict | None, base_url: str, courses_folder: str) -> list[CourseRow]:
    """Each course of the catalogue with its lessons' states and how far the learner got.

    `summary` is the progress service's `/api/me` answer (None: unknown, every lesson new)."""
    states: dict[tuple[str, str], str] = {}
    for entry in (summary or {}).get("lessons", []):
        key = (entry.get("course_id"), entry.get("lesson_id"))
        states[key] = COMPLETED if entry.get("completed") else OPENED if entry.get("opened") else NEW
    rows = []
    for course in catalogue.courses:
        lessons = [LessonRow(lesson.title, lesson_href(base_url, courses_folder, lesson.notebook),
                             lesson.minutes, states.get((course.id, lesson.id), NEW))
                   for lesson in course.lessons]
        done = sum(1 for x in lessons if x.state == COMPLETED)
        percent = round(100 * done / len(lessons)) if lessons else 0
        rows.append(CourseRow(course.id, course.title, course.description, lessons, done, percent,
                              next((x for x in lessons if x.state != COMPLETED), None)))
    return rows


def exam_title(exam: dict) -> str:
    """The exam's name as its instructor wrote it (the desk reads it from the released
    notebook's first heading); an exam released without one is "Bài kiểm tra", never its id."""
    title = str(exam.get("title") or "").strip()
    return title or t("learner.home.exam_untitled")


def exam_rows(desk_list: dict | None) -> list[ExamRow]:
    """The exams the desk lists for the learner (open now, or fetched and closed), open first."""
    rows = []
    for exam in (desk_list or {}).get("exams", []):
        try:
            closes = local(dt.datetime.fromisoformat(exam["closes_at"]))
        except (KeyError, TypeError, ValueError):
            log.info("exam desk listed an exam without a closing time: %r", exam)
            continue
        rows.append(ExamRow(exam_title(exam), closes,
                            exam.get("policy_text", ""), bool(exam.get("open")),
                            exam.get("assignment_id") or exam.get("exam") or "",
                            (desk_list or {}).get("course_id", ""), exam.get("attempt") or "none"))
    return sorted(rows, key=lambda r: not r.is_open)


def certificate_text(status: int | None, body: dict | None) -> str:
    """The signing desk's answer for the learner's certificate, as one sentence."""
    if status == 404:
        return t("learner.home.cert_none")
    if status != 200 or not body:
        return t("learner.home.cert_unknown")
    until = str(body.get("not_after", ""))[:10]
    try:
        until = dt.date.fromisoformat(until).strftime("%d/%m/%Y")
    except ValueError:
        pass
    key = {"valid": "learner.home.cert_valid", "revoked": "learner.home.cert_revoked",
           "expired": "learner.home.cert_expired"}.get(body.get("status"), "learner.home.cert_other")
    return t(key, until=until, serial=str(body.get("serial", ""))[:16])


def assemble(catalogue, progress: tuple[int | None, dict | None], exams: tuple[int | None, dict | None],
             certificate: tuple[int | None, dict | None], base_url: str, courses_folder: str) -> Home:
    """The home from the three services' (status, body) answers; status None: no answer."""
    notes = []
    if progress[0] != 200:
        notes.append(t("learner.home.progress_unavailable"))
    if exams[0] != 200:
        notes.append(t("learner.home.exams_unavailable"))
    return Home(course_rows(catalogue, progress[1] if progress[0] == 200 else None, base_url, courses_folder),
                exam_rows(exams[1] if exams[0] == 200 else None),
                certificate_text(*certificate), notes)


# -- the services ---------------------------------------------------------------------------------

SERVICES = {  # what the home asks, and of which service (addresses from the spawner's environment)
    "progress": ("KNS_PROGRESS_URL", "api/me"),
    "exams": ("KNS_EXAMS_URL", "api/exams"),
    "certificate": ("KNS_SIGNING_URL", "api/certificate"),
}


async def fetch(name: str, timeout: float = 10) -> tuple[int | None, dict | None]:
    """(status, JSON body) of one service's answer for this server's user; (None, None) when
    it cannot be asked or does not answer."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    variable, path = SERVICES[name]
    base, token = os.environ.get(variable), os.environ.get("JUPYTERHUB_API_TOKEN")
    if not base or not token:
        return None, None
    request = HTTPRequest(base.rstrip("/") + "/" + path, headers={"Authorization": f"token {token}"},
                          request_timeout=timeout, connect_timeout=timeout)
    try:
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
    except OSError as exc:
        log.info("learner home: %s unreachable: %s", name, exc)
        return None, None
    try:
        body = json.loads(response.body) if response.body else None
    except ValueError:
        body = None
    if response.code not in (200, 404):
        log.info("learner home: %s answered %s", name, response.code)
    return response.code, body if isinstance(body, dict) else None


async def fetch_all() -> dict[str, tuple[int | None, dict | None]]:
    names = list(SERVICES)
    answers = await asyncio.gather(*(fetch(n) for n in names))
    return dict(zip(names, answers, strict=True))
