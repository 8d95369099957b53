"""`kns exam`: open, close and list exam windows from the hub's machine (operators, scripts)."""

from __future__ import annotations

import os

import click

from kynangso import db
from kynangso.cli import emit, json_option, settings_of
from kynangso.errors import KnsError
from kynangso.exams import LATE_POLICIES, course, windows
from kynangso.i18n import t
from kynangso.settings import isolation_enabled


def _context(ctx: click.Context):
    settings = settings_of(ctx)
    db.upgrade(settings.database_url)
    isolated = isolation_enabled(settings, os.geteuid() == 0)
    where = course.places(settings, isolated)
    owner = course.grader_owner(settings, isolated) if isolated else None
    return settings, isolated, where, owner


def _released(where: course.ExamPlaces, exam: str) -> None:
    if not (where.exchange / where.course_id / "outbound" / exam).is_dir():
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
    settings, isolated, where, owner = _context(ctx)
    if not isolated:
        raise KnsError("exams.not_isolated")
    _released(where, exam_id)
    window = windows.open_window(
        settings.database_url, where.course_id, exam_id, group,
        minutes or settings["exams"]["default_minutes"],
        late or settings["exams"]["default_late_policy"], by=f"cli:{os.environ.get('USER', 'root')}")
    course.set_duedate(where, exam_id, window.closes_at, owner)
    emit(window.to_dict(), as_json, lambda _: t("exams.opened", exam=exam_id, group=group,
                                                  closes=windows.local(window.closes_at)))


@exam.command("close", help=t("exams.cli.close_help"))
@click.argument("exam_id", metavar="EXAM")
@json_option
@click.pass_context
def close_cmd(ctx, exam_id: str, as_json: bool):
    settings, _isolated, where, owner = _context(ctx)
    closed = windows.close_window(settings.database_url, exam_id,
                                  by=f"cli:{os.environ.get('USER', 'root')}")
    course.set_duedate(where, exam_id, max(w.closes_at for w in closed), owner)
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
    now = windows.now_utc()

    def human(_rows):
        return "\n".join(
            t("exams.page.window", group=w.group, opens=windows.local(w.opens_at),
              closes=windows.local(w.closes_at), policy=t(f"exams.page.policy_{w.late_policy}"),
              state=t("exams.page.open" if w.is_open(now) else "exams.page.closed"))
            + f"  [{w.assignment_id}]" for w in found) or t("exams.page.never_opened")

    emit(data, as_json, human)
