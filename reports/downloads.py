"""What each dashboard shows and exports, for a filter given as plain values (no widgets).

The dashboards (reports.dashboard) call these for the page; the reports service calls them for
a download link (`export/<dashboard>.<xlsx|pdf>?department=…`), so one click on the link gives
the file of the filter the page shows. A filter value comes from a link anyone could edit: it
is used only if it is one of the values the data has (never formatted into a query or a path).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pandas as pd

from kynangso.errors import KnsError
from kynangso.i18n import t
from reports import cache, views
from reports.data import ReportData, filter_staff, load, sources_from_settings

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"
# The filter each dashboard's downloads take, and which file kinds it offers.
FILTERS = {
    "tong-quan": ("department", "position", "period"),
    "ho-so-ca-nhan": ("person", "period"),
    "nhu-cau-dao-tao": ("department", "competence", "period"),
}
KINDS = {"tong-quan": ("xlsx", "pdf"), "ho-so-ca-nhan": ("xlsx", "pdf"), "nhu-cau-dao-tao": ("xlsx",)}


def load_current(settings=None) -> tuple[ReportData, str]:
    """The data of the running platform and the office name for the report headers."""
    from kynangso.settings import load_settings

    settings = settings or load_settings()
    url, gradebooks = sources_from_settings(settings)
    return load(url, gradebooks, cache_dir=cache.default_dir()), settings["office"]["name"]


def demo_preparing(settings=None) -> bool:
    """Is `make run` still building the demo exam results (reports.demo.pending_marker)?"""
    from kynangso.settings import load_settings
    from reports.demo import demo_pending

    try:
        return demo_pending(settings or load_settings())
    except KnsError:  # settings unreadable: load_current says so
        return False


class BadFilter(KnsError):
    """A download link names a unit, period, person or competence the data does not have."""


def current_staff(data: ReportData) -> pd.DataFrame:
    return data.staff[data.staff["active"] & data.staff["in_directory"]]


# --- the tables of each dashboard --------------------------------------------------------------

def overview_staff(data: ReportData, department=None, position=None) -> pd.DataFrame:
    return filter_staff(current_staff(data), department, position)


def overview_tables(data: ReportData, department=None, position=None, period=None
                    ) -> dict[str, pd.DataFrame]:
    staff = overview_staff(data, department, position)
    levels = data.levels(period, evidence=False)  # counts only
    levels = levels[levels["username"].isin(staff["username"])]
    return {
        t("reports.sheet.distribution"): views.distribution(data, levels),
        t("reports.sheet.heatmap"): views.heatmap(data, levels),
        t("reports.sheet.completion"): views.completion(data, staff),
        t("reports.sheet.trend"): views.trend(data, set(staff["username"])),
    }


def profile_tables(data: ReportData, person, period=None) -> dict[str, pd.DataFrame]:
    levels = data.person_levels(person, period)
    return {
        t("reports.sheet.person_levels"): views.person_levels(data, levels, person),
        t("reports.sheet.history"): views.person_history(data, person),
        t("reports.sheet.exams"): views.person_exams(data, person),
        t("reports.sheet.courses"): views.person_courses(data, person),
        t("reports.sheet.recommendations"):
            views.person_recommendations(data, data.needs(period), person),
    }


def needs_frame(data: ReportData, department=None, competence=None, period=None) -> pd.DataFrame:
    n = data.needs(period)
    if department:
        n = n[n["department"] == department]
    if competence:
        n = n[n["competence"] == competence]
    return n


def needs_tables(data: ReportData, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {t("reports.sheet.needs_summary"): views.needs_summary(data, frame),
            t("reports.sheet.needs"): views.needs(data, frame)}


# --- links and files ------------------------------------------------------------------------------

def href(name: str, kind: str, **filters) -> str:
    """The download link, relative to a dashboard page (…/voila/render/<name>.ipynb)."""
    query = urlencode({k: v for k, v in filters.items() if v})
    return f"../../export/{name}.{kind}" + (f"?{query}" if query else "")


def allowed_values(data: ReportData, key: str) -> set[str]:
    if key == "department":
        return set(current_staff(data)["department"])
    if key == "position":
        return set(current_staff(data)["position"].dropna())
    if key == "period":
        return set(data.period_ids)
    if key == "person":
        return set(data.staff["username"])
    if key == "competence":
        return set(data.framework.competences)
    raise KeyError(key)


def checked(data: ReportData, name: str, given: dict[str, str]) -> dict[str, str | None]:
    """The filter of dashboard `name` from a link's values; BadFilter if one is unknown."""
    out: dict[str, str | None] = {}
    for key in FILTERS[name]:
        value = given.get(key) or None
        if value is not None and value not in allowed_values(data, key):
            raise BadFilter("reports.service.bad_filter", log_detail=f"{name}: unknown {key}")
        out[key] = value
    return out


def build(data: ReportData, office: str, name: str, kind: str, given: dict[str, str],
          on: date | None = None) -> tuple[str, str, bytes]:
    """(file name, MIME type, content) of one download."""
    # openpyxl and reportlab's documents only where a file is made (the reports service), not
    # in every dashboard kernel: a third of a second of a cold dashboard's first render.
    from reports import export

    if kind not in KINDS.get(name, ()):
        raise BadFilter("reports.service.no_export", log_detail=f"no {kind} for {name}")
    f = checked(data, name, given)
    on = on or date.today()
    stamp = f"{on:%Y%m%d}"
    if name == "ho-so-ca-nhan" and not f["person"]:
        raise BadFilter("reports.service.bad_filter", log_detail="no person")
    if kind == "xlsx":
        if name == "tong-quan":
            tables = overview_tables(data, f["department"], f["position"], f["period"])
            filename = f"tong-quan-{stamp}.xlsx"
        elif name == "ho-so-ca-nhan":
            tables = profile_tables(data, f["person"], f["period"])
            filename = f"ho-so-{f['person']}.xlsx"
        else:
            tables = needs_tables(data, needs_frame(data, f["department"], f["competence"],
                                                    f["period"]))
            filename = f"nhu-cau-dao-tao-{stamp}.xlsx"
        return filename, XLSX_MIME, export.xlsx_bytes(tables)
    if name == "tong-quan":
        if not f["department"]:
            raise BadFilter("reports.ui.choose_department")
        content = export.department_pdf_bytes(data, f["department"], office, f["period"], on)
        return f"bao-cao-don-vi-{stamp}.pdf", PDF_MIME, content
    content = export.person_pdf_bytes(data, f["person"], office, f["period"], on)
    return f"ho-so-{f['person']}.pdf", PDF_MIME, content
