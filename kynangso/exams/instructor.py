"""The instructors' app: the whole exam lifecycle on one Vietnamese page of the exam desk.

Three steps, each testable alone:
- `gather(desk)` reads what the desk may read: released exams (the exchange), windows,
  submissions and jobs (the platform database), released feedback (the exchange, by the
  submissions' secrets), learners' full names (the staff directory), and the course summary
  that the grading worker publishes (kynangso.exams.overview: titles, graded and flagged
  submissions, written answers waiting for a mark, mark schemes);
- `assemble(...)` turns these into what the page shows (`AppView`), a pure function;
- `render(view, ...)` writes the HTML: the hub's stylesheet, no script at all, a style block
  allowed by hash (`policy(page)`), buttons in forms carrying the XSRF token.

Marking a written answer is done in formgrader (a link per answer): writing a manual grade
means writing the gradebook, which only the grader account may; the desk never gets that right.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from kynangso import db
from kynangso.exams import LATE_POLICIES, jobs, overview, windows
from kynangso.hub.csp import style_policy
from kynangso.i18n import t
from kynangso.models import ExamSubmission, Staff

LEARNER_GROUP = "hocvien"
REFRESH_SECONDS = 4  # while a job runs, the page reloads itself (no script needed)


def when(value: dt.datetime) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time."""
    return value.astimezone(windows.LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def group_label(group: str) -> str:
    return t("exams.app.group_all") if group == LEARNER_GROUP else group


@dataclass(frozen=True)
class WindowView:
    group: str
    opens: str
    closes: str
    late: str
    state: str  # open | closed | upcoming


@dataclass(frozen=True)
class JobView:
    kind: str
    status: str  # queued | running | done | failed
    message: str

    @property
    def active(self) -> bool:
        return self.status in jobs.ACTIVE


@dataclass
class ExamView:
    exam: str
    title: str
    released: bool
    windows: list[WindowView] = field(default_factory=list)
    submitted: int = 0
    collected: int = 0
    graded: int = 0
    pending: int = 0
    flagged: int = 0
    feedback: int = 0
    job: JobView | None = None

    @property
    def any_open(self) -> bool:
        return any(w.state == "open" for w in self.windows)


@dataclass(frozen=True)
class QueueItem:
    exam: str
    exam_title: str
    learner: str
    item: str
    points: float | None
    answer: str
    scheme: str
    submission_id: str
    student: str = ""  # login, notebook and grade id: which grade a mark goes to
    notebook: str = ""
    grade_id: str = ""


@dataclass(frozen=True)
class FlagItem:
    exam_title: str
    learner: str
    removed: int
    cells: list[tuple[str, str]]


@dataclass
class AppView:
    exams: list[ExamView]
    queue: list[QueueItem]
    flags: list[FlagItem]
    overview_missing: bool
    # the groups a window may be opened for here: all learners, and those of earlier windows
    # (another group: `kns exam open EXAM --group …`)
    groups: list[str] = field(default_factory=lambda: [LEARNER_GROUP])
    names: dict[str, str] = field(default_factory=dict)  # login: full name (staff directory)
    marking: bool = False  # a mark is waiting for the grading worker
    mark_errors: list[str] = field(default_factory=list)  # each exam's latest mark, if it failed

    @property
    def busy(self) -> bool:
        return (self.overview_missing or self.marking
                or any(e.job and e.job.active for e in self.exams))


def _name(title: str | None, exam: str, message: str) -> str:
    """A job's message names the exam as «id»: show its title instead."""
    return message.replace(f"«{exam}»", f"«{title}»") if title else message


def waiting_answers(info: dict) -> list[tuple[dict, dict, float | None]]:
    """(row, written cell, points) of each written answer waiting for a mark in one exam's
    course summary (overview: `pending` rows, `written` cells)."""
    written = {(w.get("notebook"), w.get("grade_id")): w for w in info.get("written", [])}
    found = []
    for row in info.get("pending", []):
        cell = written.get((row.get("notebook"), row.get("grade_id")), {})
        found.append((row, cell, row.get("points") if row.get("points") is not None else cell.get("points")))
    return found


def points_text(value: float) -> str:
    """A score as Vietnamese write it (2,5)."""
    return f"{value:g}".replace(".", ",")


def assemble(summary: dict | None, released: list[str], windows_of: dict[str, list],
             submitted: dict[str, set[str]], feedback: dict[str, int], latest_jobs: dict,
             names: dict[str, str], now: dt.datetime) -> AppView:
    """What the page shows, from what `gather` read (see the module's docstring)."""
    course = (summary or {}).get("exams", {})
    exams, queue, flags = [], [], []
    for exam in sorted(set(course) | set(released)):
        info = course.get(exam, {})
        title = info.get("title") or t("exams.app.no_title")
        view = ExamView(exam, title, exam in released,
                        submitted=len(submitted.get(exam, ())), collected=info.get("collected", 0),
                        graded=info.get("graded", 0), pending=len(info.get("pending", [])),
                        flagged=len(info.get("flagged", [])), feedback=feedback.get(exam, 0))
        for w in windows_of.get(exam, []):
            state = "open" if w.is_open(now) else ("upcoming" if now < w.opens_at else "closed")
            view.windows.append(WindowView(group_label(w.group), when(w.opens_at), when(w.closes_at),
                                           t(f"exams.page.policy_{w.late_policy}"), state))
        job = latest_jobs.get(exam)
        if job is not None:
            view.job = JobView(job.kind, job.status, _name(info.get("title"), exam, job.message or ""))
        exams.append(view)
        for row, cell, points in waiting_answers(info):
            scheme = cell.get("scheme") or t("exams.app.queue_no_scheme", exam=exam)
            queue.append(QueueItem(exam, title, names.get(row["student"], row["student"]),
                                   cell.get("title") or row.get("grade_id", ""), points,
                                   row.get("answer", ""), scheme, str(row.get("submission_id", "")),
                                   row["student"], row.get("notebook", ""), row.get("grade_id", "")))
        for row in info.get("flagged", []):
            flags.append(FlagItem(title, names.get(row["student"], row["student"]),
                                  int(row.get("removed") or 0),
                                  [(c.get("cell_type", ""), c.get("excerpt", ""))
                                   for c in row.get("cells", [])]))
    earlier = sorted({w.group for ws in windows_of.values() for w in ws} - {LEARNER_GROUP})
    return AppView(exams, queue, flags, summary is None, [LEARNER_GROUP, *earlier], names)


def gather(desk, now: dt.datetime | None = None) -> AppView:
    """Read everything the page needs (the desk's own records, the exchange, the summary)."""
    now = now or windows.now_utc(desk.db_url)
    released = desk.exchange.released()
    summary = overview.read(desk.places)
    exams = sorted(set(released) | set((summary or {}).get("exams", {})))
    with db.session_scope(desk.db_url) as session:
        subs = session.scalars(select(ExamSubmission).order_by(ExamSubmission.id)).all()
        names = dict(session.execute(select(Staff.username, Staff.full_name)).all())
    submitted: dict[str, set[str]] = {}
    mine: dict[str, dict[str, list[dict]]] = {}
    for sub in subs:
        submitted.setdefault(sub.exam, set()).add(sub.username)
        mine.setdefault(sub.exam, {}).setdefault(sub.username, []).append(
            {"timestamp": sub.timestamp, "secret": sub.secret, "notebooks": json.loads(sub.notebooks)})
    feedback = {exam: sum(1 for learner_subs in by_learner.values()
                          if desk.exchange.feedback(learner_subs))
                for exam, by_learner in mine.items()}
    view = assemble(summary, released, {e: windows.windows(desk.db_url, e) for e in exams},
                    submitted, feedback, {e: jobs.latest(desk.db_url, e, jobs.SHOWN) for e in exams},
                    names, now)
    marks = [job for e in exams if (job := jobs.latest(desk.db_url, e, "mark")) is not None]
    view.marking = any(job.status in jobs.ACTIVE for job in marks)
    view.mark_errors = [job.message for job in marks if job.status == "failed"]
    return view


# --- the page ----------------------------------------------------------------------------------

CSS = """
body{background:#f5f7fa}
.kns-bar{background:#fff;border-bottom:1px solid #d0d7de;padding:10px 16px;display:flex;gap:18px;align-items:center}
.kns-bar a{color:#1F4E79;text-decoration:none}
.kns-bar .kns-brand{font-weight:600}
.kns-bar .kns-user{margin-left:auto;color:#555}
.kns-app{max-width:1180px;margin:0 auto;padding:20px 16px 40px}
.kns-app h1{color:#1F4E79;font-size:28px;margin:6px 0}
.kns-app h2{color:#1F4E79;font-size:21px;margin:26px 0 10px}
.kns-card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 18px;margin:14px 0}
.kns-card h3{font-size:19px;margin:0 0 8px}
.kns-badge{display:inline-block;border-radius:12px;padding:2px 10px;font-size:14px;margin-right:6px}
.kns-yes{background:#e3f1e6;color:#1b5e20}
.kns-no{background:#fdf1dc;color:#7a4b00}
.kns-bad{background:#fbe4e4;color:#b71c1c}
.kns-counts{display:flex;flex-wrap:wrap;gap:8px 22px;margin:10px 0;padding:0;list-style:none}
.kns-counts b{font-size:18px}
.kns-card table{margin:6px 0 10px}
.kns-actions{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;margin-top:10px}
.kns-actions label{display:flex;flex-direction:column;font-size:14px}
.kns-hint{color:#555}
.kns-notice{padding:10px 14px;border-radius:6px;margin:12px 0}
.kns-ok{background:#e3f1e6;color:#1b5e20}
.kns-err{background:#fbe4e4;color:#b71c1c}
.kns-queue{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.kns-answer,.kns-scheme{white-space:pre-wrap;background:#f8f9fa;border-radius:6px;padding:8px 10px;margin:4px 0 0}
.kns-job{margin:8px 0 0}
"""


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def policy(page: str) -> str:
    """A desk page's Content-Security-Policy: no script, its own style blocks by hash. Every
    text from elsewhere on the page is escaped, so a style block is always the desk's own."""
    return style_policy(_STYLE.findall(page))


def shell(title: str, body: str, *, hub_prefix: str, nav: str = "", refresh: str = "") -> str:
    """A desk page in the hub's look: its stylesheet, a bar with the way back to the hub's home."""
    e = html.escape
    home = f"{hub_prefix.rstrip('/')}/home"
    return (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"{refresh}<title>{e(title)} · {e(t('hub.brand'))}</title>"
        f"<link rel='stylesheet' href='{e(hub_prefix.rstrip('/'))}/static/css/style.min.css'>"
        f"<style>{CSS}</style></head><body>"
        f"<nav class='kns-bar'><a class='kns-brand' href='{e(home)}'>{e(t('hub.brand'))}</a>"
        f"<a href='{e(home)}'>{e(t('exams.app.home'))}</a>{nav}</nav>"
        f"<main class='kns-app'><h1>{e(title)}</h1>{body}</main></body></html>")


def _badge(ok: bool, text: str, bad: bool = False) -> str:
    kind = "kns-bad" if bad else ("kns-yes" if ok else "kns-no")
    return f"<span class='kns-badge {kind}'>{html.escape(text)}</span>"


def _exam_card(view: ExamView, xsrf: str, default_minutes: int, groups: list[str]) -> str:
    e = html.escape

    def form(action: str, label: str, extra: str = "", cls: str = "btn-primary") -> str:
        disabled = " disabled" if view.job and view.job.active and action not in ("open", "close") else ""
        return (f"<form method='post' class='kns-actions'>{xsrf}"
                f"<input type='hidden' name='exam' value='{e(view.exam)}'>{extra}"
                f"<button class='btn {cls}' name='action' value='{action}'{disabled}>{e(label)}</button></form>")

    head = _badge(view.released, t("exams.app.released" if view.released else "exams.app.not_released"))
    if view.feedback:
        head += _badge(True, t("exams.app.feedback_some", n=view.feedback, total=view.submitted))
    elif view.graded:
        head += _badge(False, t("exams.app.feedback_none"))
    if view.flagged:
        head += _badge(False, f"{t('exams.app.count_flagged')}: {view.flagged}", bad=True)
    parts = [f"<section class='kns-card' data-exam='{e(view.exam)}'><h3>{e(view.title)}</h3><p>{head}</p>"]
    if not view.released:
        parts.append(f"<p class='kns-hint'>{e(t('exams.app.not_released_hint'))}</p>")
        parts.append(form("release", t("exams.app.release_button")))
    else:
        counts = [("count_submitted", t("exams.app.learners", n=view.submitted)),
                  ("count_collected", view.collected), ("count_graded", view.graded),
                  ("count_pending", view.pending), ("count_flagged", view.flagged),
                  ("count_feedback", view.feedback)]
        parts.append("<ul class='kns-counts'>" + "".join(
            f"<li>{e(t(f'exams.app.{k}'))}: <b>{e(str(v))}</b></li>" for k, v in counts) + "</ul>")
        parts.append(f"<h4 class='h6'>{e(t('exams.app.windows'))}</h4>")
        if view.windows:
            cols = "".join(f"<th>{e(t(f'exams.app.col_{c}'))}</th>"
                           for c in ("group", "opens", "closes", "late", "state"))
            rows = "".join(
                f"<tr><td>{e(w.group)}</td><td>{e(w.opens)}</td><td>{e(w.closes)}</td>"
                f"<td>{e(w.late)}</td><td>{_badge(w.state == 'open', t(f'exams.app.window_{w.state}'))}</td></tr>"
                for w in view.windows)
            parts.append(f"<table class='table table-sm'><thead><tr>{cols}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            parts.append(f"<p class='kns-hint'>{e(t('exams.app.no_windows'))}</p>")
        options = "".join(f"<option value='{p}'>{e(t(f'exams.page.policy_{p}'))}</option>"
                          for p in LATE_POLICIES)
        choices = "".join(f"<option value='{e(g)}'>{e(group_label(g))}</option>" for g in groups)
        fields = (f"<label>{e(t('exams.app.group'))}<select class='form-select' name='group'>"
                  f"{choices}</select></label>"
                  f"<label>{e(t('exams.app.minutes'))}<input class='form-control' name='minutes' "
                  f"type='number' value='{default_minutes}' min='5' max='480' "
                  f"title='{e(t('exams.app.minutes_hint'))}' required></label>"
                  f"<label>{e(t('exams.app.late'))}<select class='form-select' name='late_policy'>"
                  f"{options}</select></label>")
        parts.append(form("open", t("exams.app.open_button"), fields))
        buttons = []
        if view.any_open:
            buttons.append(form("close", t("exams.app.close_button"), cls="btn-outline-danger"))
        buttons.append(form("grade", t("exams.app.grade_button"), cls="btn-success"))
        if view.graded:
            buttons.append(form("feedback", t("exams.app.feedback_button"), cls="btn-outline-primary"))
        parts.append(f"<div class='kns-actions'>{''.join(buttons)}</div>")
    if view.job:
        job = view.job
        state = _badge(job.status == "done", t(f"exams.app.job_state.{job.status}"), bad=job.status == "failed")
        parts.append(f"<p class='kns-job' data-job='{e(job.kind)}' data-state='{e(job.status)}'>"
                     f"{e(t('exams.app.job'))}: {e(t(f'exams.app.job_kind.{job.kind}'))} {state} "
                     f"<span>{e(job.message)}</span></p>")
    parts.append("</section>")
    return "".join(parts)


def _mark_form(q: QueueItem, xsrf: str) -> str:
    """The mark, given here: the desk queues it for the grading worker (the gradebook is the
    grader account's), which writes it as formgrader would."""
    e = html.escape
    top = points_text(q.points) if isinstance(q.points, int | float) else ""
    hidden = "".join(f"<input type='hidden' name='{k}' value='{e(v)}'>" for k, v in (
        ("exam", q.exam), ("student", q.student), ("notebook", q.notebook), ("grade_id", q.grade_id)))
    return (f"<form method='post' class='kns-actions kns-mark'>{xsrf}{hidden}"
            f"<label>{e(t('exams.app.mark_score', points=top))}"
            f"<input name='score' inputmode='decimal' required size='6' autocomplete='off'></label>"
            f"<button class='btn btn-primary' name='action' value='mark'>{e(t('exams.app.mark_save'))}"
            f"</button></form>")


def _queue(view: AppView, formgrader: str, xsrf: str) -> str:
    e = html.escape
    if not view.queue:
        return f"<p class='kns-hint'>{e(t('exams.app.queue_empty'))}</p>"
    items = []
    for q in view.queue:
        points = t("exams.app.queue_points", points=points_text(q.points)) \
            if isinstance(q.points, int | float) and "điểm" not in q.item else ""
        link = f"{formgrader}/submissions/{q.submission_id}/"
        items.append(
            f"<section class='kns-card kns-queue-item'><h3>{e(q.item)} <small class='kns-hint'>"
            f"{e(points)}</small></h3><p>{e(q.exam_title)} · {e(t('exams.app.queue_learner'))}: "
            f"<b>{e(q.learner)}</b></p><div class='kns-queue'>"
            f"<div><b>{e(t('exams.app.queue_answer'))}</b><p class='kns-answer'>"
            f"{e(q.answer or t('exams.app.queue_no_answer'))}</p></div>"
            f"<div><b>{e(t('exams.app.queue_scheme'))}</b><p class='kns-scheme'>{e(q.scheme)}</p></div>"
            f"</div>{_mark_form(q, xsrf)}<p class='kns-hint'><a href='{e(link)}' target='_blank' "
            f"rel='noopener'>{e(t('exams.app.queue_mark'))}</a></p></section>")
    return f"<p class='kns-hint'>{e(t('exams.app.queue_intro'))}</p>{''.join(items)}"


def _flags(view: AppView) -> str:
    e = html.escape
    if not view.flags:
        return f"<p class='kns-hint'>{e(t('exams.app.flags_empty'))}</p>"
    rows = []
    for f in view.flags:
        cells = "".join(
            f"<li>{e(t('exams.app.flag_cell', kind=t(f'exams.app.cell_{k}') if k in ('code', 'markdown', 'raw') else k, excerpt=x))}</li>"
            for k, x in f.cells)
        rows.append(f"<section class='kns-card kns-flag'><h3>{e(f.learner)}</h3><p>{e(f.exam_title)}</p>"
                    f"<p>{e(t('exams.app.flag_reason', removed=f.removed))}</p><ul>{cells}</ul></section>")
    return f"<p class='kns-hint'>{e(t('exams.app.flags_intro'))}</p>{''.join(rows)}"


def render(view: AppView, *, xsrf: str, hub_prefix: str, formgrader: str, user: str,
           default_minutes: int, notice: str = "", ok: bool = True) -> str:
    e = html.escape
    refresh = f"<meta http-equiv='refresh' content='{REFRESH_SECONDS};url=./'>" if view.busy else ""
    note = (f"<p role='status' class='kns-notice {'kns-ok' if ok else 'kns-err'}'>{e(notice)}</p>"
            if notice else "")
    if view.overview_missing:
        note += f"<p class='kns-notice kns-no'>{e(t('exams.app.no_overview'))}</p>"
    note += "".join(f"<p class='kns-notice kns-err'>{e(m)}</p>" for m in view.mark_errors)
    cards = "".join(_exam_card(x, xsrf, default_minutes, view.groups) for x in view.exams)
    if not view.exams and not view.overview_missing:
        cards = f"<p class='kns-card'>{e(t('exams.app.no_exams'))}</p>"
    nav = (f"<a href='{e(formgrader)}' target='_blank' rel='noopener'>{e(t('exams.app.advanced'))}</a>"
           f"<span class='kns-user'>{e(t('exams.app.signed_in', name=view.names.get(user, user)))}</span>")
    body = (f"<p class='lead'>{e(t('exams.app.intro'))}</p>{note}{cards}"
            f"<h2 id='cham-tu-luan'>{e(t('exams.app.queue_heading'))}</h2>{_queue(view, formgrader, xsrf)}"
            f"<h2 id='gan-co'>{e(t('exams.app.flags_heading'))}</h2>{_flags(view)}")
    return shell(t("exams.app.heading"), body, hub_prefix=hub_prefix, nav=nav, refresh=refresh)
