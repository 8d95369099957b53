"""Lesson 01: procedures, required documents and the reception decision.

Each task is a dossier of the sandbox's seeded scenario generator (sandbox.filing.scenario), in a
practice desk of its own; the decision is judged with the desk's own completeness check
(`FilingDesk.missing`) and the catalogue, and the right form is named (BM.01–BM.03)."""

from __future__ import annotations

import ipywidgets as w

from courses.c03 import COURSE
from courses.common import esc, learner, para, practice_dir
from courses.exercises import STYLE, Exercise, Feedback, choice, dropdown
from kynangso.i18n import t
from sandbox.filing import scenario
from sandbox.filing.codes import make_code, parse_code
from sandbox.filing.desk import FilingDesk

LESSON = "01-tiep-nhan-ho-so"
KINDS = ("thieu_giay_to", "sai_thu_tuc", "day_du")
ACTIONS = {"receive": "bm01", "request_supplement": "bm02", "refuse": "bm03"}


def desk_for(seed: int) -> FilingDesk:
    """A practice desk filled by the scenario generator for this learner and seed."""
    path = practice_dir() / "mot-cua" / f"tiep-nhan-{seed}.sqlite"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        scenario.generate(path, learner(), seed=seed, count=6)
    return FilingDesk(path)


def requested_procedure(request_text: str, desk: FilingDesk) -> str | None:
    """The procedure the citizen's request names (the catalogue name after the colon)."""
    wanted = request_text.split(":", 1)[-1].strip().casefold()
    return next((p.code for p in desk.catalogue if p.name.casefold() == wanted), None)


class Reception(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "quyet-dinh-tiep-nhan"
    title_key = "courses.c03.title_reception"

    @classmethod
    def make_task(cls, rng):
        seed = rng.randrange(10**6)
        desk = desk_for(seed)
        kind = rng.choice(KINDS)
        views = [v for v in desk.queue() if v.state == "da_nop"]
        # the generator's kinds are not stored; pick by what the dossier looks like
        wanted = {"thieu_giay_to": lambda v: desk.missing(v.id),
                  "sai_thu_tuc": lambda v: v.request_text,
                  "day_du": lambda v: not desk.missing(v.id) and not v.request_text}[kind]
        view = next((v for v in views if wanted(v)), views[0])
        return {"seed": seed, "id": view.id}

    def build_inputs(self):
        self.action = choice([(t("courses.c03.action." + a), a) for a in ACTIONS],
                             t("courses.c03.action_pick"))
        self.missing = dropdown(t("courses.c03.missing_pick"))
        return [self.action, self.missing]

    def _render_prompt(self):
        desk = desk_for(self.task["seed"])
        v = desk.get(self.task["id"])
        self.missing.options = [(t("courses.c03.none_missing"), None)] + [
            (d.name, d.name) for d in v.procedure.documents if d.required]
        self.missing.value = None
        self.action.value = None
        super()._render_prompt()

    def prompt(self):
        v = desk_for(self.task["seed"]).get(self.task["id"])
        given = "".join(f"<li>{esc(d.name)}</li>" for d in v.procedure.documents
                        if d.key in {x.key for x in v.documents})
        required = "".join(f"<li>{esc(d.name)} ({esc(d.form_label)}, {d.quantity})</li>"
                           for d in v.procedure.documents if d.required)
        request = esc(v.request_text) if v.request_text else esc(t("courses.c03.no_request"))
        return (para("courses.c03.reception_prompt", name=v.applicant_name,
                     procedure=v.procedure.name)
                + f"<p>{esc(t('courses.c03.request'))}: {request}</p>"
                f"<p>{esc(t('courses.c03.required'))}:</p><ul>{required}</ul>"
                f"<p>{esc(t('courses.c03.given'))}:</p><ul>{given}</ul>")

    def answer_value(self):
        if self.action.value is None:
            return None
        return {"action": self.action.value, "missing": self.missing.value}

    @classmethod
    def judge(cls, task, answer):
        if not answer or answer.get("action") is None:
            return Feedback(False, t("courses.ui.need_answer"))
        desk = desk_for(task["seed"])
        v = desk.get(task["id"])
        missing = desk.missing(v.id)
        asked = requested_procedure(v.request_text, desk) if v.request_text else None
        if asked is not None and asked != v.procedure.code:
            right, why = "refuse", t("courses.c03.why_refuse", asked=desk.catalogue.get(asked).name,
                                     filed=v.procedure.name)
        elif missing:
            right, why = "request_supplement", t("courses.c03.why_supplement",
                                                 items="; ".join(missing))
        else:
            right, why = "receive", t("courses.c03.why_receive", procedure=v.procedure.name)
        form = t(f"filing.form.{ACTIONS[right]}.title_new")
        if answer["action"] != right:
            return Feedback(False, t("courses.c03.action_wrong",
                                     right=t("courses.c03.action." + right)) + " " + why)
        if right == "request_supplement" and answer.get("missing") not in missing:
            return Feedback(False, t("courses.c03.which_missing", items="; ".join(missing)))
        return Feedback(True, why + " " + t("courses.c03.form", form=form))


def exercise_reception() -> Reception:
    return Reception()


def example():
    """Worked example: the one-stop desk of the simulation with this learner's practice queue."""
    from datetime import datetime

    from sandbox.filing.widgets import officer_desk

    desk = desk_for(0)
    return officer_desk(desk.db_path, now=datetime(2026, 3, 9, 9, 0),
                        officer=t("courses.c03.officer"),
                        forms_dir=practice_dir() / "mot-cua" / "bieu-mau")


class DossierCode(Exercise):
    """Read a dossier code (mã hồ sơ): the receipt date and the day's sequence number."""

    course, lesson, exercise_id = COURSE, LESSON, "doc-ma-ho-so"
    title_key = "courses.c03.title_code"

    @classmethod
    def make_task(cls, rng):
        from datetime import date, timedelta

        day = date(2025, 3, 3) + timedelta(days=rng.randrange(620))
        centralised = day >= date(2026, 1, 25) and rng.random() < 0.4
        unit = "G22.001.01" if centralised else "000.00.12.H29"
        seq = rng.choice([rng.randrange(1, 10), rng.randrange(10, 300)])
        return {"code": make_code(unit, day, seq, centralised=centralised, aa="01")}

    def build_inputs(self):
        self.day = w.DatePicker(description=t("courses.c03.code_day"), style=STYLE)
        self.seq = w.IntText(value=0, description=t("courses.c03.code_seq"), style=STYLE)
        return [self.day, self.seq]

    def reset_inputs(self):
        self.day.value = None
        self.seq.value = 0

    def prompt(self):
        return para("courses.c03.code_prompt") + f"<p><b>{esc(self.task['code'])}</b></p>"

    def answer_value(self):
        if self.day.value is None:
            return None
        return {"day": self.day.value.isoformat(), "seq": self.seq.value}

    @classmethod
    def judge(cls, task, answer):
        from datetime import date

        if not answer or answer.get("day") is None:
            return Feedback(False, t("courses.ui.need_answer"))
        parsed = parse_code(task["code"])
        explain = t("courses.c03.code_explain", unit=parsed.unit,
                    day=parsed.day.strftime("%d/%m/%Y"), seq=parsed.seq,
                    source=parsed.format.source)
        problems = []
        if date.fromisoformat(answer["day"]) != parsed.day:
            problems.append(t("courses.c03.code_day_wrong"))
        if answer.get("seq") != parsed.seq:
            key = "code_seq_wrong_aa" if parsed.aa else "code_seq_wrong"
            problems.append(t(f"courses.c03.{key}"))
        return Feedback(not problems, "\n".join([*problems, explain]))


def exercise_code() -> DossierCode:
    return DossierCode()
