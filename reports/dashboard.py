"""The three HR dashboards as ipywidgets; each notebook in dashboards/ makes one call.

`overview()` Tổng quan đơn vị, `profile()` Hồ sơ năng lực cá nhân, `needs()` Nhu cầu đào tạo.
Charts are SVG (reports.charts) with their table under them; exports are built on the server
and offered as a download link next to the button. Errors show as a Vietnamese sentence in
the page, never as a traceback.
"""

from __future__ import annotations

import base64
import html
import logging
from datetime import date, datetime

import ipywidgets as w
import pandas as pd

from kynangso.errors import KnsError
from kynangso.i18n import t
from reports import charts, export, views
from reports.data import ReportData, filter_staff, load, sources_from_settings

log = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSS = """<style>
.kns-report table {border-collapse: collapse; font-size: 13px; margin: 4px 0 14px}
.kns-report th {background: #1F4E79; color: #fff; padding: 4px 8px; text-align: left}
.kns-report td {border-bottom: 1px solid #ddd; padding: 3px 8px}
.kns-report h3 {margin: 14px 0 4px}
.kns-report .kns-note {color: #555}
</style>"""


def load_current(settings=None) -> tuple[ReportData, str]:
    """The data of the running platform and the office name for the report headers."""
    from kynangso.settings import load_settings

    settings = settings or load_settings()
    url, gradebooks = sources_from_settings(settings)
    return load(url, gradebooks), settings["office"]["name"]


def _table_html(df: pd.DataFrame) -> str:
    if df.empty:
        return f"<p class='kns-note'>{html.escape(t('reports.empty_table'))}</p>"
    return df.to_html(index=False, escape=True, na_rep="–", float_format=lambda v: f"{v:g}",
                      border=0)


def _section(title_key: str, body: str) -> str:
    return f"<h3>{html.escape(t(title_key))}</h3>{body}"


def _download(content: bytes, filename: str, mime: str) -> str:
    b64 = base64.b64encode(content).decode("ascii")
    return (f"<a download='{html.escape(filename)}' href='data:{mime};base64,{b64}'>"
            f"{html.escape(t('reports.ui.download', name=filename))}</a>")


def _options(values, all_label: str) -> list[tuple[str, str | None]]:
    return [(all_label, None)] + [(str(v), v) for v in sorted(set(values)) if v]


def _period_options(data: ReportData) -> list[tuple[str, str | None]]:
    return [(t("reports.latest_period"), None)] + list(
        zip(data.periods["label"], data.periods["period_id"], strict=True))


def _guard(fn, message: w.HTML):
    """Run a handler; a failure becomes a Vietnamese message next to the buttons."""
    def run(*_args):
        try:
            message.value = ""
            fn()
        except KnsError as exc:
            log.warning("reports: %s", exc.log_detail)
            message.value = f"<span style='color:#b00'>{html.escape(exc.user_message)}</span>"
        except Exception:  # never show a traceback to HR; the operator gets it in the log
            log.exception("reports dashboard failed")
            message.value = f"<span style='color:#b00'>{html.escape(t('reports.ui.failed'))}</span>"
    return run


def _header(title_key: str, office: str) -> w.HTML:
    # The notebook's markdown cell carries the page title; the widget names the office and
    # keeps the title for exports and screen readers.
    return w.HTML(CSS + f"<p class='kns-note'><b>{html.escape(office)}</b> – "
                  f"{html.escape(t(f'reports.ui.{title_key}'))}</p>")


def _button(key: str, icon: str) -> w.Button:
    return w.Button(description=t(key), icon=icon, layout=w.Layout(width="auto"))


def _current_staff(data: ReportData) -> pd.DataFrame:
    return data.staff[data.staff["active"] & data.staff["in_directory"]]


class _Fresh:
    """When the data was read, and a button to read it again.

    A dashboard kernel from Voilà's pool ran the notebook ahead of the request, so its data
    may be some minutes old: the page says when it was read, and HR can read it again.
    """

    def _init_fresh(self, loader):
        self.loader = loader
        self.reload = _button("reports.ui.reload", "refresh")
        self.reload.disabled = loader is None
        self.loaded = w.HTML()
        self._stamp()

    def _stamp(self) -> None:
        self.loaded.value = (f"<span class='kns-note'>"
                             f"{html.escape(t('reports.ui.loaded_at', time=datetime.now().strftime('%H:%M %d/%m/%Y')))}"
                             "</span>")

    def reload_data(self) -> None:
        self.data, self.office = self.loader()
        self._stamp()
        self.refresh()


def _department_filter(staff) -> w.Dropdown:
    return w.Dropdown(description=t("reports.ui.department"),
                      options=_options(staff["department"], t("reports.ui.all")))


class Overview(_Fresh):
    """Tổng quan đơn vị: filters, charts with their tables, Excel and PDF exports."""

    def __init__(self, data: ReportData, office: str, loader=None):
        self.data, self.office = data, office
        self._init_fresh(loader)
        staff = _current_staff(data)
        self.department = _department_filter(staff)
        self.position = w.Dropdown(description=t("reports.ui.position"),
                                   options=_options(staff["position"], t("reports.ui.all")))
        self.period = w.Dropdown(description=t("reports.ui.period"), options=_period_options(data))
        for dd in (self.department, self.position, self.period):
            dd.style = {"description_width": "initial"}
            dd.observe(lambda _c: self.refresh(), names="value")
        self.excel = _button("reports.ui.excel", "file-excel-o")
        self.pdf = _button("reports.ui.pdf_department", "file-pdf-o")
        self.message = w.HTML()
        self.link = w.HTML()
        self.body = w.HTML()
        self.excel.on_click(_guard(self.export_excel, self.message))
        self.reload.on_click(_guard(self.reload_data, self.message))
        self.pdf.on_click(_guard(self.export_pdf, self.message))
        self.widget = w.VBox([
            _header("overview_title", office),
            w.HBox([self.department, self.position, self.period]),
            w.HBox([self.excel, self.pdf, self.reload, self.loaded]), self.message, self.link,
            self.body,
        ])
        self.widget.add_class("kns-report")
        self.refresh()

    def tables(self) -> dict[str, pd.DataFrame]:
        d = self.data
        staff = self.staff = filter_staff(_current_staff(d), self.department.value,
                                          self.position.value)
        levels = d.levels(self.period.value)
        levels = levels[levels["username"].isin(staff["username"])]
        return {
            t("reports.sheet.distribution"): views.distribution(d, levels),
            t("reports.sheet.heatmap"): views.heatmap(d, levels),
            t("reports.sheet.completion"): views.completion(d, staff),
            t("reports.sheet.trend"): views.trend(d, set(staff["username"])),
        }

    def refresh(self) -> None:
        d = self.data
        tb = list(self.tables().values())
        dist, heat, comp, trend = tb
        parts = [
            f"<p>{html.escape(t('reports.ui.people', n=len(self.staff)))}</p>",
            _section("reports.section.distribution",
                     charts.to_svg(charts.level_distribution(dist, views.level_names(d),
                                                             dist.columns[0])) + _table_html(dist)),
            _section("reports.section.heatmap",
                     charts.to_svg(charts.heatmap(heat, heat.columns[0])) + _table_html(heat)),
        ]
        rate = comp.groupby(views.h("course"))[[views.h("people"), views.h("completed")]].sum()
        overall = (100 * rate[views.h("completed")] / rate[views.h("people")]).round(1)
        parts.append(_section("reports.section.completion",
                              charts.to_svg(charts.horizontal_bars(list(overall.index),
                                                                   list(overall.values)))
                              + _table_html(comp)))
        parts.append(_section("reports.section.trend",
                              charts.to_svg(charts.trend(list(trend[views.h("period")]),
                                                         list(trend[views.h("share_basic")])))
                              + _table_html(trend)))
        self.body.value = "".join(parts)

    def export_excel(self) -> None:
        content = export.xlsx_bytes(self.tables())
        self.link.value = _download(content, f"tong-quan-{date.today():%Y%m%d}.xlsx", XLSX_MIME)

    def export_pdf(self) -> None:
        if not self.department.value:
            raise KnsError("reports.ui.choose_department")
        content = export.department_pdf_bytes(self.data, self.department.value, self.office,
                                              self.period.value)
        self.link.value = _download(content, f"bao-cao-don-vi-{date.today():%Y%m%d}.pdf",
                                    "application/pdf")


class Profile(_Fresh):
    """Hồ sơ năng lực cá nhân: choose a person; levels, history, courses, exams, gaps."""

    def __init__(self, data: ReportData, office: str, loader=None):
        self.data, self.office = data, office
        self._init_fresh(loader)
        people = data.staff.sort_values(["department", "full_name"])
        self.person = w.Dropdown(
            description=t("reports.ui.person"),
            options=[(f"{r.full_name} ({r.username}) – {r.department}", r.username)
                     for r in people.itertuples()])
        self.period = w.Dropdown(description=t("reports.ui.period"), options=_period_options(data))
        for dd in (self.person, self.period):
            dd.style = {"description_width": "initial"}
            dd.observe(lambda _c: self.refresh(), names="value")
        self.person.layout = w.Layout(width="60%")
        self.excel = _button("reports.ui.excel", "file-excel-o")
        self.pdf = _button("reports.ui.pdf_person", "file-pdf-o")
        self.message, self.link, self.body = w.HTML(), w.HTML(), w.HTML()
        self.excel.on_click(_guard(self.export_excel, self.message))
        self.reload.on_click(_guard(self.reload_data, self.message))
        self.pdf.on_click(_guard(self.export_pdf, self.message))
        self.widget = w.VBox([
            _header("profile_title", office),
            w.HBox([self.person, self.period]),
            w.HBox([self.excel, self.pdf, self.reload, self.loaded]),
            self.message, self.link, self.body])
        self.widget.add_class("kns-report")
        self.refresh()

    def tables(self) -> dict[str, pd.DataFrame]:
        d, user = self.data, self.person.value
        levels = d.levels(self.period.value)
        return {
            t("reports.sheet.person_levels"): views.person_levels(d, levels, user),
            t("reports.sheet.history"): views.person_history(d, user),
            t("reports.sheet.exams"): views.person_exams(d, user),
            t("reports.sheet.courses"): views.person_courses(d, user),
            t("reports.sheet.recommendations"):
                views.person_recommendations(d, d.needs(self.period.value), user),
        }

    def refresh(self) -> None:
        if self.person.value is None:
            self.body.value = f"<p>{html.escape(t('reports.empty_table'))}</p>"
            return
        p = self.data.staff.set_index("username").loc[self.person.value]
        keys = ["person_levels", "history", "exams", "courses", "recommendations"]
        head = t("reports.pdf.person_line", position=p["position"] or "—",
                 department=p["department"])
        self.body.value = f"<p><b>{html.escape(p['full_name'])}</b>. {html.escape(head)}</p>" + "".join(
            _section(f"reports.section.{k}", _table_html(df))
            for k, df in zip(keys, self.tables().values(), strict=True))

    def export_excel(self) -> None:
        content = export.xlsx_bytes(self.tables())
        self.link.value = _download(content, f"ho-so-{self.person.value}.xlsx", XLSX_MIME)

    def export_pdf(self) -> None:
        content = export.person_pdf_bytes(self.data, self.person.value, self.office,
                                          self.period.value)
        self.link.value = _download(content, f"ho-so-{self.person.value}.pdf", "application/pdf")


class Needs(_Fresh):
    """Nhu cầu đào tạo: who is below their position's level, by department and competence."""

    def __init__(self, data: ReportData, office: str, loader=None):
        self.data, self.office = data, office
        self._init_fresh(loader)
        staff = _current_staff(data)
        self.department = _department_filter(staff)
        self.competence = w.Dropdown(
            description=t("reports.ui.competence"),
            options=[(t("reports.ui.all"), None)] + [
                (f"{c.id} – {c.name}", c.id) for c in data.framework.competences.values()])
        self.period = w.Dropdown(description=t("reports.ui.period"), options=_period_options(data))
        for dd in (self.department, self.competence, self.period):
            dd.style = {"description_width": "initial"}
            dd.observe(lambda _c: self.refresh(), names="value")
        self.excel = _button("reports.ui.excel", "file-excel-o")
        self.message, self.link, self.body = w.HTML(), w.HTML(), w.HTML()
        self.excel.on_click(_guard(self.export_excel, self.message))
        self.reload.on_click(_guard(self.reload_data, self.message))
        self.widget = w.VBox([
            _header("needs_title", office),
            w.HBox([self.department, self.competence, self.period]),
            w.HBox([self.excel, self.reload, self.loaded]),
            self.message, self.link, self.body])
        self.widget.add_class("kns-report")
        self.refresh()

    def frame(self) -> pd.DataFrame:
        n = self.data.needs(self.period.value)
        if self.department.value:
            n = n[n["department"] == self.department.value]
        if self.competence.value:
            n = n[n["competence"] == self.competence.value]
        return n

    def tables(self) -> dict[str, pd.DataFrame]:
        n = self.frame()
        return {t("reports.sheet.needs_summary"): views.needs_summary(n),
                t("reports.sheet.needs"): views.needs(self.data, n)}

    def refresh(self) -> None:
        n = self.frame()
        summary, table = self.tables().values()
        per_comp = n.groupby("competence").size().reindex(list(self.data.framework.competences))
        per_comp = per_comp.dropna()
        chart = charts.to_svg(charts.horizontal_bars(
            [f"{c} – {self.data.framework.competence(c).name}" for c in per_comp.index],
            list(per_comp.values), value_max=None))
        self.body.value = (
            f"<p>{html.escape(t('reports.ui.needs_count', people=n['username'].nunique(), rows=len(n)))}</p>"
            + _section("reports.section.needs_summary", chart + _table_html(summary))
            + _section("reports.section.needs", _table_html(table)))

    def export_excel(self) -> None:
        content = export.xlsx_bytes(self.tables())
        self.link.value = _download(content, f"nhu-cau-dao-tao-{date.today():%Y%m%d}.xlsx",
                                    XLSX_MIME)


def _build(cls, data, office):
    loader = None
    if data is None:
        loader = load_current
        try:
            data, office = load_current()
        except KnsError as exc:
            log.warning("reports: %s", exc.log_detail)
            return w.HTML(f"<p style='color:#b00'>{html.escape(exc.user_message)}</p>")
        except Exception:
            log.exception("reports: could not load the data")
            return w.HTML(f"<p style='color:#b00'>{html.escape(t('reports.ui.load_failed'))}</p>")
    return cls(data, office or "", loader).widget


def overview(data: ReportData | None = None, office: str | None = None) -> w.Widget:
    return _build(Overview, data, office)


def profile(data: ReportData | None = None, office: str | None = None) -> w.Widget:
    return _build(Profile, data, office)


def needs(data: ReportData | None = None, office: str | None = None) -> w.Widget:
    return _build(Needs, data, office)
