"""HR's three dashboards (Voilà behind the hub's `reports` service), used in headless Chromium.

A hub of its own: the data must be in place before the hub starts, because Voilà runs each
dashboard in a pre-started kernel, and the instructor must be in the staff directory when the
hub reads its groups. The data set is small and written below (three units, two exam
periods); every number the tests expect is worked out here from those raw rows, the framework's
level rule (framework.yaml) and the table of required levels (requirements.yaml), without the
reports code.
"""

from __future__ import annotations

import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from assessments.competency.framework import load_framework
from kynangso.db import session_scope, upgrade
from kynangso.hub.harness import IS_ROOT, launch_hub, remove_unix_accounts, stop_hub
from kynangso.i18n import t
from kynangso.models import Department, Staff
from reports.demo import Item, add_exam, add_results
from tests.browser.vietnamese import english_words, visible_text

pytestmark = [pytest.mark.slow(160), pytest.mark.browser, pytest.mark.hub]

# --- the data set ---------------------------------------------------------------------------

# Hub accounts (launch_hub files them as "Chuyên viên" of "Văn phòng HĐND và UBND").
ACCOUNTS = {
    "nhansu01": ("Phạm Thu Hà", "nhansu", "NhanSu@2026!"),
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "giangvien01": ("Phạm Quốc Việt", "giangvien", "GiangVien@2026"),
}
KT, TT, VH = "Phòng Kinh tế", "Trung tâm Phục vụ hành chính công", "Phòng Văn hóa - Xã hội"
OTHERS = [  # username, full name, position, unit: staff without a hub account
    ("minh.kt", "Lê Văn Minh", "Trưởng phòng Kinh tế", KT),
    ("lan.kt", "Trần Thị Lan", "Chuyên viên kế hoạch", KT),
    ("hoa.kt", "Vũ Thị Hoa", "Chuyên viên", KT),  # never sat an exam
    ("tuan.tt", "Đặng Văn Tuấn", "Công chức một cửa", TT),
    ("mai.tt", "Bùi Thị Mai", "Giám đốc Trung tâm", TT),  # absent from the first period
    ("thu.vh", "Ngô Thị Thu", "Văn thư", VH),
]
COURSE = "thi-nang-luc-TEST"
ITEMS = [
    Item("vb1-cb1", "VB.1", "co_ban", 2), Item("vb1-cb2", "VB.1", "co_ban", 3),
    Item("vb1-tt1", "VB.1", "thanh_thao", 5), Item("vb1-nc1", "VB.1", "nang_cao", 2),
    Item("ks2-cb1", "KS.2", "co_ban", 2), Item("ks2-tt1", "KS.2", "thanh_thao", 2),
    Item("dvc1-cb1", "DVC.1", "co_ban", 2), Item("dvc1-tt1", "DVC.1", "thanh_thao", 3),
    Item("nt1-cb1", "NT.1", "co_ban", 2),
]


def _scores(*values):
    return dict(zip([it.grade_id for it in ITEMS], values, strict=True))


PERIODS = [  # assignment, due date, {username: {item: points earned}}
    ("ky-1", datetime(2026, 3, 31, 17, tzinfo=UTC), {
        "thu.vh": _scores(2, 3, 3, 2, 2, 2, 1, 0, 2),
        "lan.kt": _scores(1, 1, 0, 0, 0, 0, 2, 3, 1),
        "minh.kt": _scores(2, 3, 5, 2, 2, 1, 2, 2, 2),
        "tuan.tt": _scores(2, 2, 4, 1, 1, 0, 2, 3, 2),
        "hocvien01": _scores(2, 1, 0, 0, 2, 2, 0, 0, 0),
    }),
    ("ky-2", datetime(2026, 9, 30, 17, tzinfo=UTC), {
        "thu.vh": _scores(2, 3, 4, 1, 2, 2, 2, 1, 2),
        "lan.kt": _scores(2, 2, 4, 2, 2, 0, 2, 3, 2),
        "tuan.tt": _scores(2, 3, 5, 2, 2, 2, 2, 3, 2),
        "mai.tt": _scores(1, 1, 1, 0, 1, 2, 2, 3, 0),
    }),
]

DASHBOARD = "/services/reports/voila/render/{}.ipynb"
NAMES = ("tong-quan", "ho-so-ca-nhan", "nhu-cau-dao-tao")


def write_data_set(state_dir: Path) -> None:
    """The staff directory (minus the hub accounts) and the graded exam course, as the
    reports service finds them: the platform database and <state>/exams/<course>/gradebook.db."""
    state_dir.mkdir(parents=True)
    url = f"sqlite:///{state_dir / 'kynangso.sqlite'}"
    upgrade(url)
    with session_scope(url) as s:
        units = {name: Department(name=name) for name in (KT, TT, VH)}
        s.add_all(units.values())
        for i, (user, name, position, unit) in enumerate(OTHERS):
            s.add(Staff(code=f"TEST{i:03d}", username=user, full_name=name, position=position,
                        department=units[unit], role="hocvien"))
    course_dir = state_dir / "exams" / COURSE
    course_dir.mkdir(parents=True)
    gradebook = f"sqlite:///{course_dir / 'gradebook.db'}"
    for assignment, due, scores in PERIODS:
        add_exam(course_dir, gradebook, assignment, due, ITEMS)
        add_results(gradebook, assignment, scores, due)


@pytest.fixture(scope="module")
def reports_hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("reports-hub")
    write_data_set(base / "state")
    prefix = f"knsr{secrets.token_hex(2)}-"
    home_root = Path(f"/tmp/{prefix}homes")  # reachable by the users' accounts
    home_root.mkdir(mode=0o755)
    try:
        hub = launch_hub(base, {"mode": "auto", "user_prefix": prefix, "home_root": str(home_root)},
                         ACCOUNTS)
        yield hub
        stop_hub(hub.proc)
    finally:
        if IS_ROOT:
            remove_unix_accounts(prefix, home_root)
        shutil.rmtree(home_root, ignore_errors=True)


# --- the expected numbers, from the raw rows ------------------------------------------------

@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    position: str
    unit: str


class Expected:
    """Levels, counts and needs worked out from the data set, by the framework's written rule:
    levels in ascending order; a level with fewer than `min_points` on offer is not judged;
    the first judged level below its threshold stops the climb; evidence without any level
    attained is Chưa đạt. A competence's current level comes from the latest period that
    assessed it."""

    def __init__(self, people: list[Person]):
        fw = yaml.safe_load((resources.files("assessments.competency") / "framework.yaml")
                            .read_text(encoding="utf-8"))
        req = yaml.safe_load((resources.files("reports") / "requirements.yaml")
                             .read_text(encoding="utf-8"))
        self.people = {p.username: p for p in people}
        self.levels = sorted(fw["levels"], key=lambda lv: lv["rank"])
        self.level_name = {lv["id"]: lv["name"] for lv in self.levels}
        self.level_name[None] = t("competency.level.not_assessed")
        self.rank = {lv["id"]: lv["rank"] for lv in self.levels}
        self.rank[None] = -1
        self.rule = fw["level_rule"]
        self.competences = [c["id"] for area in fw["areas"] for c in area["competences"]]
        self.requirement_rows = req["rows"]

    # levels
    def level_in(self, scores: dict[str, float], competence: str) -> str:
        level = "chua_dat"
        for lv in self.levels[1:]:
            items = [it for it in ITEMS if it.competence == competence and it.level == lv["id"]]
            possible = sum(it.points for it in items)
            if not items or possible < self.rule["min_points"][lv["id"]]:
                continue
            if sum(scores[it.grade_id] for it in items) / possible >= self.rule["thresholds"][lv["id"]]:
                level = lv["id"]
            else:
                break
        return level

    def current(self, username: str, upto: str | None = None) -> dict[str, tuple[str | None, str]]:
        """{competence: (level id or None, assignment it comes from or "")} as of period `upto`."""
        out = {c: (None, "") for c in self.competences}
        for assignment, _due, scores in PERIODS:
            if username in scores:
                for c in {it.competence for it in ITEMS}:
                    out[c] = (self.level_in(scores[username], c), assignment)
            if assignment == upto:
                break
        return out

    def in_unit(self, unit: str | None = None) -> list[Person]:
        return [p for p in self.people.values() if unit is None or p.unit == unit]

    # the overview
    def distribution(self, unit=None, upto=None) -> dict[str, dict[str, int]]:
        out = {c: dict.fromkeys(self.level_name.values(), 0) for c in self.competences}
        for p in self.in_unit(unit):
            for c, (lv, _a) in self.current(p.username, upto).items():
                out[c][self.level_name[lv]] += 1
        return out

    def heatmap(self, unit=None, upto=None) -> dict[str, dict[str, float | None]]:
        ranks: dict[str, dict[str, list[int]]] = {}
        for p in self.in_unit(unit):
            for c, (lv, _a) in self.current(p.username, upto).items():
                if lv is not None:
                    ranks.setdefault(p.unit, {}).setdefault(c, []).append(self.rank[lv])
        return {u: {c: round(sum(by[c]) / len(by[c]), 2) if c in by else None
                    for c in self.competences} for u, by in ranks.items()}

    # requirements and needs
    def required(self, position: str, on: date | None = None) -> dict[str, str]:
        on = on or date.today()
        pos = unicodedata.normalize("NFC", position).casefold()
        out: dict[str, str] = {}
        for row in self.requirement_rows:
            if on < row["effective_from"]:
                continue
            if any(x == "*" or unicodedata.normalize("NFC", x).casefold() in pos
                   for x in row["positions"]):
                for c, lv in row["competences"].items():
                    if self.rank[lv] > self.rank.get(out.get(c), -1):
                        out[c] = lv
        return out

    def needs(self, unit=None, upto=None) -> list[tuple[str, str, str]]:
        """(unit, competence, username) of everyone below their position's level."""
        rows = []
        for p in self.in_unit(unit):
            req = self.required(p.position)
            for c, (lv, _a) in self.current(p.username, upto).items():
                if c in req and self.rank[lv] < self.rank[req[c]]:
                    rows.append((p.unit, c, p.username))
        return rows

    def needs_summary(self, unit=None) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for u, c, _user in self.needs(unit):
            out[(u, c)] = out.get((u, c), 0) + 1
        return out


@pytest.fixture(scope="module")
def expected(reports_hub) -> Expected:
    """The directory as stored (accounts included), read with a plain SELECT."""
    with create_engine(reports_hub.settings.database_url).connect() as conn:
        rows = conn.execute(text(
            "SELECT s.username, s.full_name, s.position, d.name FROM staff s "
            "JOIN departments d ON d.id = s.department_id WHERE s.active")).all()
    people = [Person(*r) for r in rows]
    assert len(people) == len(OTHERS) + len(ACCOUNTS)
    return Expected(people)


# --- what the browser sees ------------------------------------------------------------------

# Every HTML widget's text, and each section's table (the first table after its heading,
# none if another heading comes first), read in one go so they belong to the same render.
SNAPSHOT_JS = """() => {
  const root = document.querySelector('.kns-report');
  if (!root) return null;
  const out = {text: [...root.querySelectorAll('.widget-html-content')]
                       .map(e => e.innerText).join('\\n'), tables: {}};
  for (const h of root.querySelectorAll('h3')) {
    let el = h.nextElementSibling;
    while (el && el.tagName !== 'TABLE' && el.tagName !== 'H3') el = el.nextElementSibling;
    const tb = el && el.tagName === 'TABLE' ? el : null;
    out.tables[h.textContent.trim()] = tb ? {
      headers: [...tb.querySelectorAll('thead th')].map(c => c.textContent.trim()),
      rows: [...tb.querySelectorAll('tbody tr')].map(r => [...r.children].map(c => c.textContent.trim())),
    } : {headers: [], rows: []};
  }
  return out;
}"""
ENGLISH_ERRORS = re.compile(r"Traceback|Error|Exception|Warning|[Ff]ailed|Forbidden|"
                            r"\bundefined\b|\bnull\b|\bnan\b|\bNaN\b|\bNone\b")


def log_in(page, hub, username: str, next_path: str) -> None:
    """The hub's Vietnamese login form, then on to `next_path` (no server is started)."""
    page.goto(f"{hub.url}/hub/login?next={next_path}")
    page.fill("#username_input", username)
    page.fill("#password_input", hub.passwords[username])
    page.click("#login_submit")
    page.wait_for_url("**" + next_path, timeout=180_000)


def open_dashboard(page, hub, name: str) -> dict:
    path = DASHBOARD.format(name)
    log_in(page, hub, "nhansu01", path)
    page.locator(".kns-report h3").first.wait_for(timeout=180_000)
    return page.evaluate(SNAPSHOT_JS)


def choose(page, label: str, pick) -> str:
    """Choose, in the dropdown labelled `label`, the first option whose text `pick` accepts."""
    select = page.locator(".widget-dropdown").filter(
        has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))).locator("select")
    # The option's text has non-breaking spaces; its value attribute is the plain label.
    option = next(v for v in select.evaluate("s => [...s.options].map(o => o.value)") if pick(v))
    select.select_option(value=option)
    return option


def changed(page, before: dict) -> dict:
    """Wait until the kernel has answered the change (the page's text is new), then read it."""
    page.wait_for_function(f"old => {{ const s = ({SNAPSHOT_JS})(); return s && s.text !== old; }}",
                           arg=before["text"], timeout=120_000)
    return page.evaluate(SNAPSHOT_JS)


def table(snap: dict, section_key: str) -> tuple[list[str], list[list[str]]]:
    tb = snap["tables"][t(section_key)]
    return tb["headers"], tb["rows"]


def assert_clean(page, snap: dict) -> None:
    """No code, no traceback, no English error text, no Vietnamese failure message."""
    body = page.locator("body").inner_text()
    # Markdown cells are rendered in an input area too; code cells must have none.
    code = ".jp-CodeCell .jp-Cell-inputArea, .jp-InputArea-editor, .jp-CodeMirrorEditor, .cm-editor"
    assert page.locator(code).count() == 0
    assert "from reports" not in body and "import" not in body
    found = ENGLISH_ERRORS.search(body)
    assert found is None, f"{found.group(0)!r} on the page: {body[max(0, found.start() - 200):found.end() + 200]}"
    for key in ("reports.ui.failed", "reports.ui.load_failed"):
        assert t(key) not in body
    assert snap is not None


def shot(page, artifacts: Path, name: str) -> None:
    """The whole dashboard: Voilà scrolls inside the page, so a full-page screenshot would stop
    at the window's height; the window is made as tall as the content for the picture."""
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')]"
                           ".map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 8000)})
    page.screenshot(path=str(artifacts / f"reports-{name}.png"), full_page=True)
    page.set_viewport_size(size)


def period_label(assignment: str) -> str:
    """The period as HR reads it: the exam's title, "kỳ N" and the due date (never its id)."""
    due = next(d for a, d, _s in PERIODS if a == assignment)
    return f"Bài kiểm tra (mẫu) – kỳ {assignment.rsplit('-', 1)[1]} ({due:%d/%m/%Y})"


def period_option(assignment: str):
    return lambda text_: text_ == period_label(assignment)


def code_of(label: str) -> str:
    """"VB.1 – Nhận biết …" → "VB.1" (tables show a competence's code with its name)."""
    return label.split(" – ", 1)[0]


def vn_float(text_: str) -> float:
    return float(text_.replace(".", "").replace(",", "."))


# --- the tests ------------------------------------------------------------------------------

def test_overview_numbers_follow_the_filters(reports_hub, page, artifacts, expected):
    """Does the overview show the office's counts per level, and the unit's (then as of the
    first period) once HR narrows the filters?"""
    snap = open_dashboard(page, reports_hub, "tong-quan")
    assert_clean(page, snap)
    shot(page, artifacts, "tong-quan-before")

    def check(snap, unit, upto):
        assert t("reports.ui.people", n=len(expected.in_unit(unit))) in snap["text"]
        headers, rows = table(snap, "reports.section.distribution")
        assert set(headers[2:]) == set(expected.level_name.values())
        shown = {r[0]: {h: int(v) for h, v in zip(headers[2:], r[2:], strict=True)} for r in rows}
        assert shown == expected.distribution(unit, upto)
        # One row per competence ("VB.1 – name"), one column per unit, decimal commas.
        headers, rows = table(snap, "reports.section.heatmap")
        by_comp = {code_of(r[0]): dict(zip(headers[1:], r[1:], strict=True)) for r in rows}
        rows = [[u] + [by_comp[c][u] for c in expected.competences] for u in headers[1:]]
        headers = [headers[0]] + expected.competences
        shown = {r[0]: {h: (None if v == "–" else vn_float(v)) for h, v in zip(headers[1:], r[1:],
                                                                            strict=True)}
                 for r in rows}
        assert shown == expected.heatmap(unit, upto)

    check(snap, None, None)
    assert expected.distribution(KT) != expected.distribution(None)
    choose(page, t("reports.ui.department"), lambda o: o == KT)
    snap = changed(page, snap)
    check(snap, KT, None)

    assert expected.distribution(KT, "ky-1") != expected.distribution(KT)
    choose(page, t("reports.ui.period"), period_option("ky-1"))
    snap = changed(page, snap)
    check(snap, KT, "ky-1")
    assert_clean(page, snap)
    shot(page, artifacts, "tong-quan-after")


def test_profile_shows_the_chosen_persons_levels(reports_hub, page, artifacts, expected):
    """Does the profile show each competence's level and required level for the person in the
    selector, then another person's, then that person's as of the first period?"""
    snap = open_dashboard(page, reports_hub, "ho-so-ca-nhan")
    assert_clean(page, snap)
    shot(page, artifacts, "ho-so-ca-nhan-before")

    def check(snap, username, upto):
        person = expected.people[username]
        assert person.full_name in snap["text"]
        headers, rows = table(snap, "reports.section.person_levels")
        col = {h: i for i, h in enumerate(headers)}
        req = expected.required(person.position)
        shown = {r[0]: (r[col[t("reports.col.level")]], r[col[t("reports.col.required")]],
                        r[col[t("reports.col.period")]]) for r in rows}
        assert set(shown) == set(expected.competences)
        for c, (lv, assignment) in expected.current(username, upto).items():
            level, required, period = shown[c]
            assert (level, required) == (expected.level_name[lv],
                                         expected.level_name[req[c]] if c in req else ""), c
            assert period == (period_label(assignment) if assignment else ""), (c, period)
        # Gaps: the competences below the required level, as the recommendations list them.
        _h, rows = table(snap, "reports.section.recommendations")
        gaps = {c for _u, c, user in expected.needs(person.unit, upto) if user == username}
        assert {r[0] for r in rows} == gaps

    selected = page.locator(".widget-dropdown select").first.evaluate(
        "s => s.options[s.selectedIndex].value")
    first = re.search(r"\(([^()]+)\) – ", selected).group(1)
    check(snap, first, None)

    other = "thu.vh"
    assert other != first
    assert expected.current(other) != expected.current(first)
    choose(page, t("reports.ui.person"), lambda o: f"({other})" in o)
    snap = changed(page, snap)
    check(snap, other, None)

    assert expected.current(other, "ky-1") != expected.current(other)
    choose(page, t("reports.ui.period"), period_option("ky-1"))
    snap = changed(page, snap)
    # The recommendations follow the chosen period too.
    check(snap, other, "ky-1")
    assert_clean(page, snap)
    shot(page, artifacts, "ho-so-ca-nhan-after")


def test_needs_by_unit_and_excel(reports_hub, page, artifacts, expected, tmp_path):
    """Does the needs dashboard count the people below their position's level, for the office
    and then for one unit, and does its Excel file hold the same numbers?"""
    from openpyxl import load_workbook

    snap = open_dashboard(page, reports_hub, "nhu-cau-dao-tao")
    assert_clean(page, snap)
    shot(page, artifacts, "nhu-cau-dao-tao-before")

    def check(snap, unit):
        rows = expected.needs(unit)
        assert t("reports.ui.needs_count", people=len({r[2] for r in rows}), rows=len(rows)) \
            in snap["text"]
        headers, shown = table(snap, "reports.section.needs_summary")
        assert {(r[0], code_of(r[1])): int(r[2]) for r in shown} == expected.needs_summary(unit)
        _h, listed = table(snap, "reports.section.needs")
        assert len(listed) == len(rows)

    check(snap, None)
    assert expected.needs(TT) != expected.needs()
    choose(page, t("reports.ui.department"), lambda o: o == TT)
    snap = changed(page, snap)
    check(snap, TT)
    assert_clean(page, snap)
    shot(page, artifacts, "nhu-cau-dao-tao-after")

    with page.expect_download(timeout=120_000) as download:
        page.get_by_text(t("reports.ui.excel"), exact=True).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    book = load_workbook(path, read_only=True)
    summary = list(book[t("reports.sheet.needs_summary")].iter_rows(values_only=True))
    assert summary[0][:3] == (t("reports.col.department"), t("reports.col.competence_name"),
                              t("reports.col.people"))
    assert {(r[0], code_of(r[1])): int(r[2]) for r in summary[1:] if r[0]} == expected.needs_summary(TT)
    listed = [r for r in book[t("reports.sheet.needs")].iter_rows(values_only=True) if r[0]][1:]
    assert len(listed) == len(expected.needs(TT))
    assert {(r[0], r[1]) for r in listed} == {(u, c) for u, c, _ in expected.needs(TT)}


@pytest.mark.parametrize("username", ["hocvien01", "giangvien01"])
def test_learner_and_instructor_get_403(reports_hub, page, username):
    """Are a learner and an instructor, logged in to the hub, refused every dashboard (403),
    with nothing of the dashboard on the page?"""
    log_in(page, reports_hub, username, "/hub/home")
    for name in NAMES:
        response = page.goto(reports_hub.url + DASHBOARD.format(name))
        assert response.status == 403, (name, response.status, response.url)
        body = page.locator("body").inner_text()
        assert t(f"reports.service.{name}") not in body
        assert page.locator(".kns-report").count() == 0
        # The hub's own refusal page, in Vietnamese (its technical detail stays in English).
        assert t("hub.error_403_help") in body


# --- the HR app as one journey ----------------------------------------------------------------

INDEX = "/services/reports/"
# English words that upstream components (Voilà, JupyterLab, ipywidgets, the browser's
# defaults) would show; none belongs on an HR page. "Excel" and "PDF" are product names.
UPSTREAM_ENGLISH = re.compile(
    r"\b(Executing|Running|Reading|Loading|Download|Export|Error|Exception|Traceback|None|NaN|"
    r"nan|null|undefined|True|False|Kernel|Voil[aà]|Jupyter|Notebook|Save|Cancel|Close|Submit|"
    r"Select|Search|Page|of|the|and|Dashboard|Report|Filter|All|Department|Period)\b")
# Names and codes that may show in ASCII letters on an HR page: file types, competence codes
# (NT.1), people's names and login names ("Trần Thị Lan", "lan.kt").
HR_ALLOWED = ({"excel", "pdf", "hr"} | {code.split(".")[0] for code in load_framework().competences}
              | {w for user, name, *_rest in OTHERS for w in (*user.split("."), *name.split())}
              | {w for user, (name, *_rest) in ACCOUNTS.items() for w in (user, *name.split())})
# Ids that must show as names: exam periods (assignments), the exam course, the items.
RAW_IDS = re.compile(r"\bky-\d\b|" + re.escape(COURSE) + "|"
                     + "|".join(re.escape(it.grade_id) for it in ITEMS))


def assert_names_and_vietnamese(text: str, competences: dict[str, str], where: str) -> None:
    """No upstream English, no raw id, every competence code beside its name, and no
    decimal point between digits (Vietnamese writes 7,5)."""
    found = UPSTREAM_ENGLISH.search(text)
    assert found is None, f"{where}: {found.group(0)!r} in …{text[max(0, found.start() - 80):found.end() + 80]}…"
    words = english_words(text, HR_ALLOWED)  # and the catalogue's allow-list
    assert not words, f"{where}: {words}"
    found = RAW_IDS.search(text)
    assert found is None, f"{where}: raw id {found.group(0)!r} in …{text[max(0, found.start() - 80):found.end() + 80]}…"
    for code, name in competences.items():
        for m in re.finditer(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text):
            after = text[m.end():m.end() + 4 + 6].lstrip(" \t–-:\n")
            assert after.startswith(name[:6]), f"{where}: {code} without its name: …{text[m.start():m.end() + 40]!r}"
    found = re.search(r"\d\.\d(?!\d{2})|\d\.\d{1,2}\b", text)
    assert found is None, f"{where}: decimal point in …{text[max(0, found.start() - 60):found.end() + 60]}…"


def test_hr_journey_index_navigation_filter_and_one_click_excel(reports_hub, page, artifacts,
                                                                expected, tmp_path):
    """HR's whole visit: the Vietnamese index, each dashboard reached from it and from the
    others' navigation, a filter, and an Excel file that downloads on one click and opens.
    Every page's visible text is checked for upstream English, raw ids and decimal points."""
    from openpyxl import load_workbook

    fw = yaml.safe_load((resources.files("assessments.competency") / "framework.yaml")
                        .read_text(encoding="utf-8"))
    competences = {c["id"]: c["name"] for area in fw["areas"] for c in area["competences"]}

    log_in(page, reports_hub, "nhansu01", INDEX)
    text = visible_text(page)
    for name in NAMES:
        assert t(f"reports.service.{name}") in text
        assert t(f"reports.service.about.{name}") in text
    assert_names_and_vietnamese(text, competences, "index")
    shot(page, artifacts, "hr-index")

    # From the index to the overview.
    page.get_by_role("link", name=t("reports.service.tong-quan")).first.click()
    page.locator(".kns-report h3").first.wait_for(timeout=180_000)
    assert_names_and_vietnamese(visible_text(page), competences, "tong-quan")
    shot(page, artifacts, "hr-tong-quan")

    # The dashboards' own navigation: to the profile, then to the needs.
    nav = page.locator(".kns-nav")
    nav.get_by_role("link", name=t("reports.service.ho-so-ca-nhan")).click()
    page.wait_for_url("**/ho-so-ca-nhan.ipynb", timeout=60_000)
    page.locator(".kns-report h3").first.wait_for(timeout=180_000)
    assert_names_and_vietnamese(visible_text(page), competences, "ho-so-ca-nhan")
    shot(page, artifacts, "hr-ho-so-ca-nhan")

    page.locator(".kns-nav").get_by_role("link", name=t("reports.service.nhu-cau-dao-tao")).click()
    page.wait_for_url("**/nhu-cau-dao-tao.ipynb", timeout=60_000)
    page.locator(".kns-report h3").first.wait_for(timeout=180_000)
    snap = page.evaluate(SNAPSHOT_JS)
    choose(page, t("reports.ui.department"), lambda o: o == TT)
    snap = changed(page, snap)
    assert_names_and_vietnamese(visible_text(page), competences, "nhu-cau-dao-tao")
    shot(page, artifacts, "hr-nhu-cau-dao-tao")

    # One click on "Xuất Excel" and the file arrives, with the unit chosen above.
    with page.expect_download(timeout=120_000) as download:
        page.get_by_text(t("reports.ui.excel"), exact=True).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"
    book = load_workbook(path, read_only=True)
    listed = [r for r in book[t("reports.sheet.needs")].iter_rows(values_only=True) if r[0]][1:]
    assert len(listed) == len(expected.needs(TT))
    assert {r[0] for r in listed} == {TT}

    # And back to the index from a dashboard.
    page.locator(".kns-nav").get_by_role("link", name=t("reports.service.index")).click()
    page.wait_for_url("**" + INDEX, timeout=60_000)
    assert t("reports.service.about.tong-quan") in visible_text(page)


def test_loading_message_is_vietnamese(reports_hub, page):
    """While Voilà runs the dashboard, is the message Vietnamese (not "Executing 2 of 2")?
    Read from the page as the browser receives it: the loading block is gone once rendered."""
    log_in(page, reports_hub, "nhansu01", INDEX)
    body = page.request.get(reports_hub.url + DASHBOARD.format("tong-quan")).text()
    shown = re.search(r'id="loading_text"[^>]*>([^<]*)<', body)
    assert shown and shown.group(1).strip() == t("reports.service.loading")
    assert "Executing" not in body and "Running " not in body
