"""The exam course as the instructors' page shows it, built by the grader and read by the desk.

The desk's account cannot enter the exam course (sources, gradebook, autograded submissions):
only the grading worker (the grader account) can. So the worker builds a summary of what the
page needs and publishes it in the share both accounts reach (course.ExamPlaces.share):

    {"schema_version": 1, "built_at": "...", "exams": {"<exam>": {
        "title": "...", "generated": bool, "notebooks": [...], "collected": 3, "graded": 2,
        "feedback_generated": 1,
        "written": [{"notebook", "grade_id", "title", "points", "scheme"}],
        "pending": [{"student", "notebook", "grade_id", "submission_id", "answer"}],
        "flagged": [{"student", "notebook", "removed", "cells": [{"cell_type", "excerpt"}]}]}}}

`pending` are the manually graded cells of graded submissions that have no manual score yet;
`scheme` is the cell's section of the mark scheme (huong-dan-cham/<exam>.md, never released).
Everything from a learner (answers, flag excerpts) is data: the page escapes it.

The desk reads the file by name, fd-relative, without following links (desk.read_regular):
the grader owns the share, and the desk trusts nothing the grader account could plant.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import stat
import tempfile
import unicodedata
from pathlib import Path

from kynangso.exams.course import ExamPlaces
from kynangso.exams.desk import open_dir, read_regular

log = logging.getLogger("kns.exams")

SCHEMA_VERSION = 1
FILE_NAME = "course-overview.json"
MAX_BYTES = 16 * 2**20
ANSWER_CHARS = 2000
SCHEME_CHARS = 3000
# The strict-grading record beside each autograded notebook (assessments/grading/strict.py).
FLAG_SUFFIX = ".strict-grading.json"
_HEADER_CALL = re.compile(r"""\.header\(\s*(["'])(.+?)\1""")
_TITLE_ARG = re.compile(r"""title\s*=\s*(["'])(.+?)\1""")


def _clean(text: object, limit: int) -> str:
    """NFC text without control or bidi characters (line breaks kept), at most `limit` chars."""
    text = unicodedata.normalize("NFC", str(text or ""))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in
                   ("Cc", "Cf", "Cs", "Co"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_json(path: Path) -> dict | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def source_info(notebook: dict) -> tuple[str | None, list[dict]]:
    """(title, written cells) of a source notebook: the title from `bai.header("…")` or the
    first markdown heading; a written cell is an nbgrader manually graded task (or a graded
    markdown answer cell), named by the `title=` of the widget that follows it, else its heading."""
    title, written = None, []
    cells = notebook.get("cells", [])
    for i, cell in enumerate(cells):
        source = "".join(cell.get("source", ""))
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if title is None:
            m = _HEADER_CALL.search(source) if cell.get("cell_type") == "code" else None
            head = next((ln[2:].strip() for ln in source.splitlines() if ln.startswith("# ")), None)
            title = (m.group(2) if m else None) or (head if cell.get("cell_type") == "markdown" else None)
        manual = meta.get("task") or (meta.get("grade") and meta.get("solution")
                                      and cell.get("cell_type") == "markdown")
        if not (manual and meta.get("grade_id")):
            continue
        name = next((ln.lstrip("#").strip() for ln in source.splitlines() if ln.startswith("#")), "")
        following = "".join(cells[i + 1].get("source", "")) if i + 1 < len(cells) else ""
        m = _TITLE_ARG.search(following)
        written.append({"grade_id": meta["grade_id"], "title": (m.group(2) if m else name) or "",
                        "points": meta.get("points")})
    return title, written


def scheme_sections(text: str) -> dict[str, str]:
    """{item id: its section} of a mark scheme whose sections are `## Câu 8 — <item id> (…)`."""
    sections, current, lines = {}, None, []
    for line in [*text.splitlines(), "## "]:
        if line.startswith("## "):
            if current:
                sections[current] = _clean("\n".join(lines).strip(), SCHEME_CHARS)
            m = re.search(r"[—–-]\s*([a-z0-9][a-z0-9-]*)", line)
            current, lines = (m.group(1) if m else None), []
        elif current and line[:1].isspace() and line.strip() and lines and lines[-1].strip():
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"  # a wrapped line of a list item
        elif current:
            lines.append(line)
    return sections


def _gradebook_rows(where: ExamPlaces, exam: str) -> tuple[int, list[dict]]:
    """(graded submissions, manually graded cells without a manual score) of `exam`."""
    from nbgrader.api import Gradebook, MissingEntry

    path = where.gradebook_file  # None: on a database server (exams.gradebook_url)
    try:
        if path is not None and not stat.S_ISREG(os.lstat(path).st_mode):
            return 0, []
    except FileNotFoundError:
        return 0, []
    pending = []
    with Gradebook(where.gradebook_url, course_id=where.course_id) as gb:
        try:
            submissions = gb.assignment_submissions(exam)
        except MissingEntry:
            return 0, []
        for sub in submissions:
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if grade.needs_manual_grade and grade.manual_score is None:
                        pending.append({"student": sub.student.id, "notebook": nb.name,
                                        "grade_id": grade.name, "submission_id": nb.id,
                                        "points": grade.max_score})
        return len(submissions), pending


def _answer(where: ExamPlaces, student: str, exam: str, item: str) -> str:
    """The learner's saved text for `item` (the question widgets' sidecar), if any."""
    sidecar = _read_json(where.course / "autograded" / student / exam / f"{exam}.answers.json")
    value = ((sidecar or {}).get("answers") or {}).get(item)
    value = value.get("value") if isinstance(value, dict) else value
    return _clean(value, ANSWER_CHARS) if isinstance(value, str) else ""


def _flags(where: ExamPlaces, exam: str) -> list[dict]:
    rows = []
    for path in sorted(where.course.glob(f"autograded/*/{exam}/*{FLAG_SUFFIX}")):
        record = _read_json(path)
        if not record or not record.get("flagged"):
            continue
        cells = record.get("cells") if isinstance(record.get("cells"), list) else []
        rows.append({"student": path.parent.parent.name, "notebook": str(record.get("notebook", "")),
                     "removed": record.get("removed") if isinstance(record.get("removed"), int) else 0,
                     "cells": [{"cell_type": str(c.get("cell_type", "")),
                                "excerpt": _clean(c.get("excerpt", ""), 200)}
                               for c in cells[:5] if isinstance(c, dict)]})
    return rows


def _count_dirs(pattern: str, where: ExamPlaces) -> int:
    return sum(1 for p in where.course.glob(pattern) if p.is_dir() and not p.is_symlink())


def build(where: ExamPlaces) -> dict:
    """The summary of every exam of the course (run as the grader account)."""
    exams = {}
    for folder in sorted(p for p in (where.course / "source").glob("*") if p.is_dir()):
        exam = folder.name
        title, written = None, []
        notebooks = sorted(p.stem for p in folder.glob("*.ipynb"))
        for nb in notebooks:
            data = _read_json(folder / f"{nb}.ipynb") or {}
            nb_title, nb_written = source_info(data)
            title = title or nb_title
            written += [{**w, "notebook": nb} for w in nb_written]
        scheme_file = where.course / "huong-dan-cham" / f"{exam}.md"
        schemes = {}
        if scheme_file.is_file() and not scheme_file.is_symlink():
            schemes = scheme_sections(scheme_file.read_text(encoding="utf-8", errors="replace"))
        for w in written:
            w["scheme"] = schemes.get(w["grade_id"], "")
        graded, pending = _gradebook_rows(where, exam)
        for row in pending:
            row["answer"] = _answer(where, row["student"], exam, row["grade_id"])
        exams[exam] = {
            "title": _clean(title, 300) if title else None,
            "generated": (where.course / "release" / exam).is_dir(),
            "notebooks": notebooks,
            "collected": _count_dirs(f"submitted/*/{exam}", where),
            "graded": graded,
            "feedback_generated": _count_dirs(f"feedback/*/{exam}", where),
            "written": written, "pending": pending, "flagged": _flags(where, exam),
        }
    return {"schema_version": SCHEMA_VERSION, "course_id": where.course_id,
            "built_at": dt.datetime.now(dt.UTC).isoformat(), "exams": exams}


def signature(where: ExamPlaces) -> tuple:
    """What changes when the summary would: the folders' and the gradebook's mtimes."""
    out = []
    for rel in ("source", "release", "submitted", "autograded", "feedback", "gradebook.db",
                "huong-dan-cham"):
        try:
            out.append(os.stat(where.course / rel).st_mtime_ns)
        except OSError:
            out.append(None)
    if where.gradebook_file is None:
        out.append(_server_gradebook_state(where.gradebook_url))
    return tuple(out)


def _server_gradebook_state(url: str) -> tuple | None:
    """A gradebook on a database server has no mtime: what a grade, a manual mark or a comment
    changes instead (nbgrader's grade and comment tables)."""
    from sqlalchemy import text

    from kynangso.db import engine_for

    try:
        with engine_for(url).connect() as conn:
            return tuple(conn.execute(text(
                "SELECT (SELECT count(*) FROM grade), (SELECT sum(auto_score) FROM grade),"
                " (SELECT sum(manual_score) FROM grade), (SELECT sum(extra_credit) FROM grade),"
                " (SELECT count(manual_comment) FROM comment),"
                " (SELECT count(*) FROM submitted_assignment)")).one())
    except Exception as exc:  # noqa: BLE001 - no gradebook yet, or the server is away: retried
        log.debug("gradebook state of %s not read: %s", url, exc)
        return None


def publish(where: ExamPlaces, data: dict) -> None:
    """Write the summary into the share, atomically, readable by the share's group (the desk)."""
    share = where.share
    fd, tmp = tempfile.mkstemp(prefix=".overview-", dir=share)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o640)
            try:
                os.fchown(fh.fileno(), -1, os.stat(share).st_gid)
            except PermissionError:  # not a member of the share's group: not an isolated hub
                pass
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, share / FILE_NAME)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def refresh(where: ExamPlaces) -> None:
    """Build and publish; a failure is logged (the page then says the summary is missing)."""
    try:
        publish(where, build(where))
    except Exception:  # noqa: BLE001 - the worker lives on
        log.exception("course overview of %s not written", where.course)


def read(where: ExamPlaces) -> dict | None:
    """The published summary as the desk reads it: by name below the trusted anchor, a regular
    file only; None if it is missing or not what the worker writes."""
    try:
        fd = open_dir(where.share.parent, [where.share.name])
    except OSError:
        return None
    try:
        raw = read_regular(FILE_NAME, fd, MAX_BYTES)
    finally:
        os.close(fd)
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION \
            or not isinstance(data.get("exams"), dict):
        return None
    return data
