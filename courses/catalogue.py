"""The course catalogue (catalogue.yaml): courses, lessons, durations, competences,
prerequisites and exercises, validated on load against the competency framework.

Every problem is listed at once in Vietnamese (unknown competence, missing notebook, unknown or
circular prerequisite, duplicate id); nothing is returned if any is found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assessments.competency import load_framework
from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import nfc, t

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lesson:
    course: str
    id: str
    title: str
    notebook: str  # relative to the courses package
    minutes: int
    competences: tuple[str, ...]
    prerequisites: tuple[str, ...]  # "course/lesson"
    exercises: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.course}/{self.id}"


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    description: str
    prerequisites: tuple[str, ...]
    lessons: tuple[Lesson, ...]

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)


class Catalogue:
    def __init__(self, courses: list[Course], root: Path):
        self.courses = tuple(courses)
        self.root = root

    def course(self, cid: str) -> Course:
        for c in self.courses:
            if c.id == cid:
                return c
        raise KnsError("courses.catalogue.unknown_course", course=cid)

    def lesson(self, cid: str, lid: str) -> Lesson:
        for lesson in self.course(cid).lessons:
            if lesson.id == lid:
                return lesson
        raise KnsError("courses.catalogue.unknown_lesson", course=cid, lesson=lid)

    def lessons(self) -> list[Lesson]:
        return [lesson for c in self.courses for lesson in c.lessons]

    def notebook_path(self, lesson: Lesson) -> Path:
        return self.root / lesson.notebook



def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def parse_catalogue(data: Any, root: Path, source: str, framework=None) -> Catalogue:
    fw = framework or load_framework()
    data = nfc(data)
    problems: list[str] = []

    def bad(key: str, **params: Any) -> None:
        problems.append(t(f"courses.catalogue.{key}", **params))

    rows = data.get("courses") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ValidationError("courses.catalogue.invalid", [t("courses.catalogue.no_courses")],
                              path=source)
    courses: list[Course] = []
    seen_courses: set[str] = set()
    for c in rows:
        cid = str(c.get("id") or "") if isinstance(c, dict) else ""
        if not cid:
            bad("missing", where=t("courses.catalogue.a_course"), field="id")
            continue
        if cid in seen_courses:
            bad("duplicate_course", course=cid)
        seen_courses.add(cid)
        if not str(c.get("title") or "").strip():
            bad("missing", where=cid, field="title")
        lessons: list[Lesson] = []
        seen_lessons: set[str] = set()
        for row in c.get("lessons") or []:
            lid = str(row.get("id") or "") if isinstance(row, dict) else ""
            where = f"{cid}/{lid or '?'}"
            if not lid:
                bad("missing", where=where, field="id")
                continue
            if lid in seen_lessons:
                bad("duplicate_lesson", lesson=where)
            seen_lessons.add(lid)
            for name in ("title", "notebook"):
                if not str(row.get(name) or "").strip():
                    bad("missing", where=where, field=name)
            minutes = row.get("minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 60:
                bad("bad_minutes", lesson=where, value=minutes)
                minutes = 0
            notebook = str(row.get("notebook") or "")
            if notebook and not (root / notebook).is_file():
                bad("missing_notebook", lesson=where, path=notebook)
            comps = _strs(row.get("competences"))
            if not comps:
                bad("no_competence", lesson=where)
            for comp in comps:
                if comp not in fw.competences:
                    bad("unknown_competence", lesson=where, competence=comp)
            exercises = _strs(row.get("exercises"))
            if len(set(exercises)) != len(exercises):
                bad("duplicate_exercise", lesson=where)
            lessons.append(Lesson(cid, lid, str(row.get("title") or ""), notebook, minutes,
                                  comps, _strs(row.get("prerequisites")), exercises))
        if not lessons:
            bad("no_lessons", course=cid)
        courses.append(Course(cid, str(c.get("title") or ""), str(c.get("description") or ""),
                              _strs(c.get("prerequisites")), tuple(lessons)))

    course_ids = {c.id for c in courses}
    lesson_refs = {lesson.ref for c in courses for lesson in c.lessons}
    graph: dict[str, tuple[str, ...]] = {}
    for c in courses:
        for p in c.prerequisites:
            if p not in course_ids:
                bad("unknown_prerequisite", item=c.id, prerequisite=p)
        graph[c.id] = c.prerequisites
        for lesson in c.lessons:
            for p in lesson.prerequisites:
                if p not in lesson_refs:
                    bad("unknown_prerequisite", item=lesson.ref, prerequisite=p)
            graph[lesson.ref] = lesson.prerequisites
    for cycle in _cycles(graph):
        bad("cycle", path=" → ".join(cycle))

    if problems:
        log.warning("course catalogue %s rejected: %d problem(s)", source, len(problems))
        raise ValidationError("courses.catalogue.invalid", problems, path=source)
    return Catalogue(courses, root)


def _cycles(graph: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """One path for each prerequisite cycle found (depth-first search, colours)."""
    colour: dict[str, int] = {}
    found: list[list[str]] = []
    stack: list[str] = []

    def visit(node: str) -> None:
        colour[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if colour.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif colour.get(nxt) is None:
                visit(nxt)
        stack.pop()
        colour[node] = 2

    for node in graph:
        if node not in colour:
            visit(node)
    return found


def package_root() -> Path:
    return Path(str(resources.files("courses")))


def load_catalogue(path: str | Path | None = None, root: str | Path | None = None
                   ) -> Catalogue:
    """Read and validate a catalogue (default: the one shipped with the courses)."""
    if path is None and root is None:
        return _default()
    base = Path(root) if root is not None else package_root()
    return _load(Path(path) if path is not None else base / "catalogue.yaml", base)


@cache
def _default() -> Catalogue:
    return _load(package_root() / "catalogue.yaml", package_root())


def _load(p: Path, root: Path) -> Catalogue:
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError("courses.catalogue.invalid",
                              [t("courses.catalogue.unreadable", detail=exc)], path=str(p)) from exc
    except yaml.YAMLError as exc:
        raise ValidationError("courses.catalogue.invalid",
                              [t("courses.catalogue.yaml", detail=exc)], path=str(p)) from exc
    return parse_catalogue(data, root, str(p))
