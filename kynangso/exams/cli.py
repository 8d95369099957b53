"""`kns exam`: open, close and list exam windows from the hub's machine (operators, scripts)."""

from __future__ import annotations

import os

import click

from kynangso import db
from kynangso.cli import emit, json_option, settings_of
from kynangso.errors import KnsError
from kynangso.exams import LATE_POLICIES, course, jobs, windows
from kynangso.exams.desk import Exchange
from kynangso.i18n import t
from kynangso.settings import isolation_enabled


def _context(ctx: click.Context):
    settings = settings_of(ctx)
    db.upgrade(settings.database_url)
    isolated = isolation_enabled(settings, os.geteuid() == 0)
    where = course.places(settings, isolated)
    return settings, isolated, where


def _released(where: course.ExamPlaces, exam: str) -> None:
    if exam not in Exchange(where.exchange, where.course_id, anchor=where.share.parent).released():
        raise KnsError("exams.not_released", exam=exam)


@click.group("exam", help=t("exams.cli.help"))
def exam() -> None:
    pass


@exam.command("open", help=t("exams.cli.open_help"))
@click.argument("exam_id", metavar="EXAM")
@click.option("--group", "-g", default="hocvien", show_default=True, help=t("exams.cli.group_help"))
@click.option("--minutes", "-m", type=int, default=None, help=t("exams.cli.minutes_help"))
@click.option("--late", type=click.Choice(LATE_POLICIES), default=None, help=t("exams.cli.late_help"))
@json_option
@click.pass_context
def open_cmd(ctx, exam_id: str, group: str, minutes: int | None, late: str | None, as_json: bool):
    settings, isolated, where = _context(ctx)
    if not isolated:
        raise KnsError("exams.not_isolated")
    _released(where, exam_id)
    window = windows.open_window(
        settings.database_url, where.course_id, exam_id, group,
        minutes or settings["exams"]["default_minutes"],
        late or settings["exams"]["default_late_policy"], by=f"cli:{os.environ.get('USER', 'root')}")
    # The gradebook is the grader account's: the grading worker writes the due date.
    jobs.enqueue(settings.database_url, exam_id, "duedate", window.opened_by)
    emit(window.to_dict(), as_json, lambda _: t("exams.opened", exam=exam_id, group=group,
                                                  closes=windows.local(window.closes_at)))


@exam.command("close", help=t("exams.cli.close_help"))
@click.argument("exam_id", metavar="EXAM")
@json_option
@click.pass_context
def close_cmd(ctx, exam_id: str, as_json: bool):
    settings, _isolated, _where = _context(ctx)
    by = f"cli:{os.environ.get('USER', 'root')}"
    closed = windows.close_window(settings.database_url, exam_id, by=by)
    jobs.enqueue(settings.database_url, exam_id, "duedate", by)
    emit([w.to_dict() for w in closed], as_json, lambda _: t("exams.closed", exam=exam_id))


@exam.command("list", help=t("exams.cli.list_help"))
@click.argument("exam_id", metavar="EXAM", required=False)
@json_option
@click.pass_context
def list_cmd(ctx, exam_id: str | None, as_json: bool):
    settings, *_ = _context(ctx)
    found = windows.windows(settings.database_url, exam_id)
    data = [{**w.to_dict(), "attempts": windows.attempts(settings.database_url, w.assignment_id)}
            for w in found]
    now = windows.now_utc(settings.database_url)

    def human(_rows):
        return "\n".join(
            t("exams.page.window", group=w.group, opens=windows.local(w.opens_at),
              closes=windows.local(w.closes_at), policy=t(f"exams.page.policy_{w.late_policy}"),
              state=t("exams.page.open" if w.is_open(now) else "exams.page.closed"))
            + f"  [{w.assignment_id}]" for w in found) or t("exams.page.never_opened")

    emit(data, as_json, human)
