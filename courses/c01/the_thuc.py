"""Lesson 03: thể thức and kỹ thuật trình bày. The date line is judged against the sandbox's
date_line (Phụ lục I, Mục II.4); page settings against its layout table (layout.yaml, Phụ lục I
Phần I Mục I and II)."""

from __future__ import annotations

from datetime import date, timedelta

from courses.c01 import COURSE
from courses.common import esc, para
from courses.exercises import Exercise, Feedback, choice, text_input
from kynangso.i18n import t
from sandbox.documents.drafting import date_line
from sandbox.documents.rules import layout_rules

LESSON = "03-the-thuc"
PLACES = ["Ba Đình", "Hoàn Kiếm", "Đống Đa", "Tân Lập", "Hòa Bình"]
# Settings a word processor shows in "Page setup" and "Font": (layout rule key, unit).
SETTINGS = [("margin_top", "mm"), ("margin_bottom", "mm"), ("margin_left", "mm"),
            ("margin_right", "mm"), ("body_size", "pt"), ("so_ky_hieu", "pt")]


class DateLine(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "dong-ngay-thang"
    title_key = "courses.c01.title_date"

    @classmethod
    def make_task(cls, rng):
        # day < 10 or month 1–2 in most tasks: that is where the rule bites
        d = date(2026, rng.choice([1, 2, 1, 2, 3, 6, 10, 11]), 1)
        d += timedelta(days=rng.choice([0, 2, 4, 6, 8, 14, 20]))
        place = rng.choice(PLACES)
        return {"place": place, "date": d.isoformat(), "right": date_line(place, d)}

    def build_inputs(self):
        self.answer = text_input(t("courses.c01.date_answer"), "Ba Đình, ngày …")
        return [self.answer]

    def reset_inputs(self):
        self.answer.value = ""

    def prompt(self):
        d = date.fromisoformat(self.task["date"])
        return para("courses.c01.date_prompt", place=self.task["place"],
                    date=d.strftime("%d/%m/%Y"))

    def answer_value(self):
        return self.answer.value

    @classmethod
    def judge(cls, task, answer):
        got = " ".join(str(answer or "").split())
        right = task["right"]
        if not got:
            return Feedback(False, t("courses.ui.need_answer"))
        if got.rstrip(".") == right:
            return Feedback(True, t("courses.c01.date_ok", line=right))
        d = date.fromisoformat(task["date"])
        hints = []
        if d.day < 10 and f"ngày {d.day:02d} " not in got:
            hints.append(t("courses.c01.date_day", day=f"{d.day:02d}"))
        if d.month < 3 and f"tháng {d.month:02d} " not in got:
            hints.append(t("courses.c01.date_month_zero", month=f"{d.month:02d}"))
        if d.month >= 3 and f"tháng {d.month} " not in got:
            hints.append(t("courses.c01.date_month_plain", month=d.month))
        if not got.startswith(task["place"] + ","):
            hints.append(t("courses.c01.date_place", place=task["place"]))
        hints.append(t("courses.c01.date_right", line=right))
        return Feedback(False, "\n".join(hints))


class PageSetup(Exercise):
    """A draft's page setup with one setting outside NĐ 30's range (or none): which one?"""

    course, lesson, exercise_id = COURSE, LESSON, "cai-dat-trang"
    title_key = "courses.c01.title_setup"

    @classmethod
    def make_task(cls, rng):
        rules = layout_rules()["rules"]
        values = {}
        for key, unit in SETTINGS:
            r = rules[key]
            lo, hi = (r["min_mm"], r["max_mm"]) if unit == "mm" else (r["min_pt"], r["max_pt"])
            values[key] = rng.choice(sorted({lo, hi, (lo + hi) // 2}))
        if rng.random() < 0.8:  # usually one setting is wrong, sometimes none
            key, unit = rng.choice(SETTINGS)
            r = rules[key]
            lo, hi = (r["min_mm"], r["max_mm"]) if unit == "mm" else (r["min_pt"], r["max_pt"])
            values[key] = rng.choice([lo - rng.choice([2, 5, 10]), hi + rng.choice([1, 2, 5])])
        return {"values": values}

    def build_inputs(self):
        self.pick = choice([], t("courses.c01.setup_pick"))
        return [self.pick]

    def reset_inputs(self):
        self.pick.value = None

    def _render_prompt(self):
        rules = layout_rules()["rules"]
        self.pick.options = [(rules[k]["component"], k) for k, _ in SETTINGS] + [
            (t("courses.c01.setup_none"), "none")]
        self.pick.value = None
        super()._render_prompt()

    def prompt(self):
        rules = layout_rules()["rules"]
        rows = "".join(f"<tr><td>{esc(rules[k]['component'])}</td>"
                       f"<td>{self.task['values'][k]} {u}</td></tr>" for k, u in SETTINGS)
        return (f"<p>{esc(t('courses.c01.setup_prompt'))}</p><table border='1' cellpadding='4'>"
                f"<caption>{esc(t('courses.c01.setup_caption'))}</caption>{rows}</table>")

    @staticmethod
    def violations(values: dict) -> list[str]:
        """The settings outside the range of layout.yaml, as rule keys."""
        rules = layout_rules()["rules"]
        out = []
        for key, unit in SETTINGS:
            r = rules[key]
            lo, hi = (r["min_mm"], r["max_mm"]) if unit == "mm" else (r["min_pt"], r["max_pt"])
            if not lo <= values[key] <= hi:
                out.append(key)
        return out

    def answer_value(self):
        return self.pick.value

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        pick = answer
        rules = layout_rules()["rules"]
        bad = cls.violations(task["values"])

        def rule_text(key):
            r, unit = rules[key], dict(SETTINGS)[key]
            lo, hi = (r["min_mm"], r["max_mm"]) if unit == "mm" else (r["min_pt"], r["max_pt"])
            rng = f"{lo}" if lo == hi else f"{lo}–{hi}"
            return t("courses.c01.setup_rule", component=r["component"], range=rng, unit=unit,
                     value=task["values"][key], ref=r["ref"])

        if pick == "none":
            if bad:
                return Feedback(False, "\n".join(rule_text(k) for k in bad))
            return Feedback(True, t("courses.c01.setup_all_ok"))
        if pick in bad:
            return Feedback(True, rule_text(pick))
        lines = [t("courses.c01.setup_in_range", component=rules[pick]["component"],
                   value=task["values"][pick], ref=rules[pick]["ref"])]
        lines += [rule_text(k) for k in bad] or [t("courses.c01.setup_all_ok")]
        return Feedback(False, "\n".join(lines))


def exercise_date_line() -> DateLine:
    return DateLine()


def exercise_page_setup() -> PageSetup:
    return PageSetup()


def example():
    """Worked example: the layout rules the simulation checks drafts against (layout.yaml)."""
    import ipywidgets as w

    rules = layout_rules()["rules"]
    rows = []
    for r in rules.values():
        if "min_mm" in r:
            value = f"{r['min_mm']}–{r['max_mm']} mm"
        elif "min_pt" in r:
            value = (f"{r['min_pt']} pt" if r.get("max_pt", r["min_pt"]) == r["min_pt"]
                     else f"{r['min_pt']}–{r['max_pt']} pt")
        elif "value" in r:
            value = str(r["value"])
        else:
            continue
        style = ", ".join(t(f"courses.c01.style_{k}") for k in ("bold", "italic", "upper")
                          if r.get(k))
        rows.append(f"<tr><td>{esc(r['component'])}</td><td>{esc(value)}</td><td>{esc(style)}</td>"
                    f"<td>{esc(r['ref'])}</td></tr>")
    head = "".join(f"<th scope='col'>{esc(t('courses.c01.col_' + c))}</th>"
                   for c in ("component", "value", "style", "rule"))
    caption = esc(t("courses.c01.layout_caption"))
    return w.HTML(f"<table border='1' cellpadding='4'><caption>{caption}</caption>"
                  f"<tr>{head}</tr>{''.join(rows)}</table>")
