"""`kns grade EXAM`: grade every submission of an exam into the nbgrader gradebook."""

from __future__ import annotations

import os
import stat
import sys
import warnings
from pathlib import Path

import click

from kynangso.cli import emit, json_option
from kynangso.errors import KnsError
from kynangso.i18n import t


def drop_to_course_owner(course_dir: str) -> None:
    """Run as root, become the course folder's owner (the grader account) before reading
    anything in it: root must not follow paths, load an nbgrader_config.py or write files that
    a less privileged account controls. A root-owned course is graded as root (the learners'
    code is sandboxed either way)."""
    if os.geteuid() != 0:
        return
    import pwd

    try:
        st = os.lstat(course_dir)  # not followed: a link planted in place of the course is refused
        if not stat.S_ISDIR(st.st_mode):
            raise FileNotFoundError(course_dir)
        owner = pwd.getpwuid(st.st_uid) if st.st_uid != 0 else None
    except (OSError, KeyError) as exc:
        raise KnsError("grading.course_missing", course=course_dir, log_detail=repr(exc)) from exc
    if owner is None:
        return
    os.initgroups(owner.pw_name, owner.pw_gid)
    os.setgid(owner.pw_gid)
    os.setuid(owner.pw_uid)
    os.environ.update(HOME=owner.pw_dir, USER=owner.pw_name, LOGNAME=owner.pw_name)


def _progress_printer(stream):
    """A one-line bar on a terminal; plain lines otherwise (logs, CI)."""
    tty = stream.isatty()

    def show(done: int, total: int, student: str, state: str) -> None:
        percent = int(100 * done / total) if total else 100
        line = t("grading.progress", done=done, total=total, percent=percent, student=student,
                 state=t(f"grading.state.{state}"))
        if tty:
            width = 20
            filled = int(width * done / total) if total else width
            bar = "[" + "#" * filled + "." * (width - filled) + "] "
            stream.write("\r\x1b[2K" + bar + line + ("\n" if done == total else ""))
        else:
            stream.write(line + "\n")
        stream.flush()

    return show


def describe(report) -> str:
    """The Vietnamese summary: counts, then every problem with what to do."""
    lines = [t("grading.summary.title", exam=report.exam, graded=len(report.graded),
               failed=len(report.failed), skipped=len(report.skipped),
               seconds=f"{report.seconds:.1f}")]
    if not report.problems:
        lines.append(t("grading.summary.all_ok"))
    else:
        lines.append(t("grading.summary.problems", count=len(report.problems)))
        for fatal, header in ((True, "failed_header"), (False, "flagged_header")):
            group = [p for p in report.problems if p.fatal == fatal]
            if not group:
                continue
            lines.append(t(f"grading.summary.{header}"))
            for p in group:
                detail = p.detail.strip().splitlines()[-1] if p.detail.strip() else "-"
                reason = t(f"grading.reason.{p.kind}", detail=detail[:300])
                if p.notebook:
                    lines.append(t("grading.summary.line", student=p.student, notebook=p.notebook,
                                   reason=reason))
                else:
                    lines.append(t("grading.summary.line_no_notebook", student=p.student, reason=reason))
        lines.append(t("grading.summary.retry_hint", exam=report.exam))
    if report.skipped:
        lines.append(t("grading.summary.skipped_hint"))
    return "\n".join(lines)


# Exit statuses (docs/operations.md): the same batch always gives the same one.
EXIT_CLEAN, EXIT_NOT_GRADED, EXIT_FLAGGED = 0, 1, 3  # 2: bad input (KnsError, kynangso.cli)


def exit_status(report) -> int:
    """1 if a submission could not be graded, else 3 if a graded one was flagged, else 0."""
    if any(p.fatal for p in report.problems):
        return EXIT_NOT_GRADED
    return EXIT_FLAGGED if report.problems else EXIT_CLEAN


@click.command("grade")
@click.argument("exam")
@click.option("--course-dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Thư mục khóa học nbgrader (chứa nbgrader_config.py, submitted/, gradebook.db).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Số tiến trình chấm song song (mặc định: số nhân CPU).")
@click.option("--student", "students", multiple=True,
              help="Chỉ chấm học viên có mã khớp mẫu này (ví dụ: cb0*); nhắc lại để chấm nhiều "
                   "học viên đã nêu tên.")
@click.option("--timeout", type=click.IntRange(min=1), default=None,
              help="Thời gian tối đa cho mỗi ô, tính bằng giây (mặc định: Execute.timeout của khóa học, 30).")
@click.option("--force", is_flag=True, help="Chấm lại cả những bài đã chấm.")
@json_option
def grade(exam: str, course_dir: str, workers: int | None, students: tuple[str, ...],
          timeout: int | None, force: bool, as_json: bool) -> None:
    """Chấm tự động mọi bài nộp của bài kiểm tra EXAM, ghi điểm vào sổ điểm như nbgrader autograde."""
    drop_to_course_owner(course_dir)
    from sqlalchemy.exc import SAWarning

    from assessments.grading.engine import grade_exam

    # nbgrader's gradebook code triggers SQLAlchemy 2 autoflush warnings; nbgrader prints them too.
    warnings.filterwarnings("ignore", category=SAWarning)
    # One --student is a glob (nbgrader's --student); several are the learners named.
    student = students[0] if len(students) == 1 else (students or "*")
    report = grade_exam(exam, Path(course_dir), workers=workers, student=student, timeout=timeout,
                        force=force, progress=_progress_printer(sys.stderr))
    emit(report.to_dict(), as_json, lambda _r: describe(report))
    sys.exit(exit_status(report))
