"""The three HR dashboards as ipywidgets; each notebook in dashboards/ makes one call.

`overview()` Tổng quan đơn vị, `profile()` Hồ sơ năng lực cá nhân, `needs()` Nhu cầu đào tạo.
Charts are SVG (reports.charts) with their table under them. Each page starts with the
navigation between the dashboards and their index. Exports are plain links to the reports
service (`export/<dashboard>.<xlsx|pdf>?<filter>`, reports.downloads), kept up to date with the
filters, so one click downloads the file. Errors show as a Vietnamese sentence in the page,
never as a traceback.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from datetime import datetime

import ipywidgets as w
import pandas as pd

from kynangso.errors import KnsError
from kynangso.i18n import t
from reports import charts, downloads, views
from reports.data import ReportData
from reports.numbers import frame_for_display, number

log = logging.getLogger(__name__)

DASHBOARDS = ("tong-quan", "ho-so-ca-nhan", "nhu-cau-dao-tao")
CSS = """<style>
.kns-report {font-family: 'DejaVu Sans', system-ui, sans-serif}
.kns-report table {border-collapse: collapse; font-size: 13px; margin: 4px 0 14px}
.kns-report th {background: #1F4E79; color: #fff; padding: 4px 8px; text-align: left}
.kns-report td {border-bottom: 1px solid #ddd; padding: 3px 8px}
.kns-report td.kns-num, .kns-report th.kns-num {text-align: right}
.kns-report h1 {font-size: 24px; margin: 4px 0 6px; color: #1F4E79}
.kns-report h3 {margin: 14px 0 4px}
.kns-report .kns-note {color: #555}
.kns-report .kns-wait {background: #fff4ce; border-left: 4px solid #c98a00; padding: 8px 12px}
.kns-nav {display: flex; flex-wrap: wrap; gap: 4px; align-items: center; padding: 6px 0 10px;
          border-bottom: 1px solid #d0d7de; margin-bottom: 10px; font-size: 14px}
.kns-nav a, .kns-nav span.kns-here {padding: 5px 12px; border-radius: 4px; text-decoration: none}
.kns-nav a {color: #1F4E79}
.kns-nav a:hover {background: #e8eef5}
.kns-nav span.kns-here {background: #1F4E79; color: #fff; font-weight: bold}
.kns-nav .kns-sep {color: #aaa; padding: 0 4px}
a.kns-btn, span.kns-btn {display: inline-block; padding: 5px 14px; margin-right: 6px;
          border-radius: 4px; background: #1F4E79; color: #fff; text-decoration: none;
          font-size: 13px; line-height: 20px}
a.kns-btn:hover {background: #163a5c}
span.kns-btn.kns-off {background: #c8ced6; color: #555; cursor: not-allowed}
</style>"""


load_current = downloads.load_current
DEMO_POLL_S = 3  # how often a page waiting for `make run`'s demo results looks again


def _table_html(df: pd.DataFrame) -> str:
    """The table with its numbers in Vietnamese format (7,5; 1.234), missing as a dash."""
    if df.empty:
        return f"<p class='kns-note'>{html.escape(t('reports.empty_table'))}</p>"
    return frame_for_display(df).to_html(index=False, escape=True, na_rep="–", border=0)


def _section(title_key: str, body: str) -> str:
    return f"<h3>{html.escape(t(title_key))}</h3>{body}"


def _link_button(label_key: str, url: str | None, off_key: str | None = None) -> str:
    """A download link styled as a button; without `url`, a greyed one saying why."""
    label = html.escape(t(label_key))
    if url is None:
        return (f"<span class='kns-btn kns-off' title='{html.escape(t(off_key or label_key))}'>"
                f"{label}</span>")
    return f"<a class='kns-btn' href='{html.escape(url)}' download>{label}</a>"


# "All" / "latest" is the empty string, not None: a Dropdown whose value is None shows an empty
# box instead of the option's label. filters() turns it back into None.
ALL = ""


def _options(values, all_label: str) -> list[tuple[str, str]]:
    return [(all_label, ALL)] + [(str(v), v) for v in sorted(set(values)) if v]


def _period_options(data: ReportData) -> list[tuple[str, str]]:
    return [(t("reports.latest_period"), ALL)] + list(
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


def nav_html(current: str) -> str:
    """Links to the index and to the other dashboards (the current one marked, not linked).

    Relative to the page (…/services/reports/voila/render/<name>.ipynb), so they hold under
    any hub base URL.
    """
    parts = [f"<a href='../../'>{html.escape(t('reports.service.index'))}</a>",
             "<span class='kns-sep'>›</span>"]
    for name in DASHBOARDS:
        label = html.escape(t(f"reports.service.{name}"))
        parts.append(f"<span class='kns-here' aria-current='page'>{label}</span>" if name == current
                     else f"<a href='{name}.ipynb'>{label}</a>")
    return (f"<nav class='kns-nav' aria-label='{html.escape(t('reports.service.nav_label'))}'>"
            + "".join(parts) + "</nav>")


def _header(name: str, office: str) -> w.HTML:
    """Navigation, the dashboard's title and what it shows, and the office it reports on."""
    return w.HTML(CSS + nav_html(name)
                  + f"<h1>{html.escape(t(f'reports.service.{name}'))}</h1>"
                  + f"<p>{html.escape(t(f'reports.ui.intro.{name}'))}</p>"
                  + f"<p class='kns-note'><b>{html.escape(office)}</b></p>")


def _button(key: str, icon: str) -> w.Button:
    return w.Button(description=t(key), icon=icon, layout=w.Layout(width="auto"))


_current_staff = downloads.current_staff


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
        self.notice = w.HTML()  # "the sample data is being prepared" (make run's first start)
        self._stamp()

    def _stamp(self) -> None:
        self.loaded.value = (f"<span class='kns-note'>"
                             f"{html.escape(t('reports.ui.loaded_at', time=datetime.now().strftime('%H:%M %d/%m/%Y')))}"
                             "</span>")

    def reload_data(self) -> None:
        self.data, self.office = self.loader()
        self._stamp()
        self.refresh()

    def watch_demo(self, preparing=None) -> None:
        """While `make run` is still building the demo exam results in the background, say so
        above the page, and read the data again (the page updates itself) once they are there."""
        preparing = preparing or downloads.demo_preparing
        if self.loader is None or not preparing():
            return
        self.notice.value = (f"<p class='kns-wait'>{html.escape(t('reports.ui.demo_preparing'))}"
                             "</p>")
        threading.Thread(target=self._wait_for_demo, args=(preparing,), daemon=True).start()

    def _wait_for_demo(self, preparing) -> None:
        while preparing():
            time.sleep(DEMO_POLL_S)
        try:
            self.reload_data()
        except Exception:
            log.exception("reports: could not load the data after the demo build")
            self.message.value = f"<p style='color:#b00'>{html.escape(t('reports.ui.load_failed'))}</p>"
        self.notice.value = ""


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
        self.period = w.Dropdown(description=t("reports.ui.period"), options=_period_options(data),
                                 layout=w.Layout(width="470px"))  # "<exam> – kỳ N (date)"
        for dd in (self.department, self.position, self.period):
            dd.style = {"description_width": "initial"}
            dd.observe(lambda _c: self.refresh(), names="value")
        self.message = w.HTML()
        self.link = w.HTML()  # the download links, following the filters
        self.body = w.HTML()
        self.reload.on_click(_guard(self.reload_data, self.message))
        self.widget = w.VBox([
            _header("tong-quan", office), self.notice,
            w.HBox([self.department, self.position, self.period]),
            w.HBox([self.link, self.reload, self.loaded]), self.message,
            self.body,
        ])
        self.widget.add_class("kns-report")
        self.refresh()

    def filters(self) -> dict[str, str | None]:
        return {"department": self.department.value or None,
                "position": self.position.value or None, "period": self.period.value or None}

    def tables(self) -> dict[str, pd.DataFrame]:
        f = self.filters()
        self.staff = downloads.overview_staff(self.data, f["department"], f["position"])
        return downloads.overview_tables(self.data, **self.filters())

    def refresh(self) -> None:
        d = self.data
        tb = list(self.tables().values())
        dist, heat, comp, trend = tb
        f = self.filters()
        self.link.value = (
            _link_button("reports.ui.excel", downloads.href("tong-quan", "xlsx", **f))
            + _link_button("reports.ui.pdf_department",
                           downloads.href("tong-quan", "pdf", **f) if f["department"] else None,
                           "reports.ui.choose_department"))
        parts = [
            f"<p>{html.escape(t('reports.ui.people', n=number(len(self.staff))))}</p>",
            _section("reports.section.distribution",
                     charts.to_svg(charts.level_distribution(dist, views.level_names(d),
                                                             dist.columns[0],
                                                             name_col=dist.columns[1]))
                     + _table_html(dist)),
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
        self.period = w.Dropdown(description=t("reports.ui.period"), options=_period_options(data),
                                 layout=w.Layout(width="470px"))  # "<exam> – kỳ N (date)"
        for dd in (self.person, self.period):
            dd.style = {"description_width": "initial"}
            dd.observe(lambda _c: self.refresh(), names="value")
        self.person.layout = w.Layout(width="60%")
        self.message, self.link, self.body = w.HTML(), w.HTML(), w.HTML()
        self.reload.on_click(_guard(self.reload_data, self.message))
        self.widget = w.VBox([
            _header("ho-so-ca-nhan", office), self.notice,
            w.HBox([self.person, self.period]),
            w.HBox([self.link, self.reload, self.loaded]),
            self.message, self.body])
        self.widget.add_class("kns-report")
        self.refresh()

    def filters(self) -> dict[str, str | None]:
        return {"person": self.person.value, "period": self.period.value or None}

    def tables(self) -> dict[str, pd.DataFrame]:
        return downloads.profile_tables(self.data, **self.filters())

    def refresh(self) -> None:
        if self.person.value is None:
            self.link.value = ""
            self.body.value = f"<p>{html.escape(t('reports.empty_table'))}</p>"
            return
        f = self.filters()
        self.link.value = (_link_button("reports.ui.excel", downloads.href("ho-so-ca-nhan", "xlsx", **f))
                           + _link_button("reports.ui.pdf_person",
                                          downloads.href("ho-so-ca-nhan", "pdf", **f)))
        p = self.data.staff.set_index("username").loc[self.person.value]
        keys = ["person_levels", "history", "exams", "courses", "recommendations"]
        head = t("reports.pdf.person_line", position=p["position"] or "—",
                 department=p["department"])
        self.body.value = f"<p><b>{html.escape(p['full_name'])}</b>. {html.escape(head)}</p>" + "".join(
            _section(f"reports.section.{k}", _table_html(df))
            for k, df in zip(keys, self.tables().values(), strict=True))


class Needs(_Fresh):
    """Nhu cầu đào tạo: who is below their position's level, by department and competence."""

    def __init__(self, data: ReportData, office: str, loader=None):
        self.data, self.office = data, office
        self._init_fresh(loader)
        staff = _current_staff(data)
        self.department = _department_filter(staff)
        self.competence = w.Dropdown(
            description=t("reports.ui.competence"),
            options=[(t("reports.ui.all"), ALL)] + [
                (views.competence_label(data, c), c) for c in data.framework.competences])
        self.period = w.Dropdown(description=t("reports.ui.period"), options=_period_options(data),
                                 layout=w.Layout(width="470px"))  # "<exam> – kỳ N (date)"
        for dd in (self.department, self.competence, self.period):
            dd.style = {"description_width": "initial"}
            dd.observe(lambda _c: self.refresh(), names="value")
        self.message, self.link, self.body = w.HTML(), w.HTML(), w.HTML()
        self.reload.on_click(_guard(self.reload_data, self.message))
        self.widget = w.VBox([
            _header("nhu-cau-dao-tao", office), self.notice,
            w.HBox([self.department, self.competence, self.period]),
            w.HBox([self.link, self.reload, self.loaded]),
            self.message, self.body])
        self.widget.add_class("kns-report")
        self.refresh()

    def filters(self) -> dict[str, str | None]:
        return {"department": self.department.value or None,
                "competence": self.competence.value or None, "period": self.period.value or None}

    def frame(self) -> pd.DataFrame:
        return downloads.needs_frame(self.data, **self.filters())

    def tables(self) -> dict[str, pd.DataFrame]:
        return downloads.needs_tables(self.data, self.frame())

    def refresh(self) -> None:
        n = self.frame()
        summary, table = self.tables().values()
        self.link.value = _link_button("reports.ui.excel",
                                       downloads.href("nhu-cau-dao-tao", "xlsx", **self.filters()))
        per_comp = n.groupby("competence").size().reindex(list(self.data.framework.competences))
        per_comp = per_comp.dropna()
        chart = charts.to_svg(charts.horizontal_bars(
            [views.competence_label(self.data, c) for c in per_comp.index],
            list(per_comp.values), value_max=None))
        self.body.value = (
            f"<p>{html.escape(t('reports.ui.needs_count', people=number(n['username'].nunique()), rows=number(len(n))))}</p>"
            + _section("reports.section.needs_summary", chart + _table_html(summary))
            + _section("reports.section.needs", _table_html(table)))


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
    view = cls(data, office or "", loader)
    view.watch_demo()
    return view.widget


def overview(data: ReportData | None = None, office: str | None = None) -> w.Widget:
    return _build(Overview, data, office)


def profile(data: ReportData | None = None, office: str | None = None) -> w.Widget:
    return _build(Profile, data, office)


def needs(data: ReportData | None = None, office: str | None = None) -> w.Widget:
    return _build(Needs, data, office)
