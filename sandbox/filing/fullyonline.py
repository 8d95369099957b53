"""Whether a dossier counts as "xử lý trực tuyến toàn trình" (domain README §3.6). Pure.

Every condition must hold (the dossier-level definition, 2025 decree on classification of
administrative units, indicator 12; service levels NĐ 42/2022 Art. 11.1).
"""

from __future__ import annotations

from kynangso.i18n import t

CONDITIONS = (
    "procedure_online",   # the procedure is offered as toàn trình (NĐ 42/2022 Art. 11.1)
    "submitted_online",   # nộp trực tuyến
    "files_uploaded",     # every document handed in as an electronic file, no paper
    "paid_online",        # fee paid through the portal's payment platform (or no fee)
    "no_in_person",       # no requirement to come in person
    "no_on_site_check",   # no on-site verification by the agency
    "electronic_result",  # electronic result ...
    "returned_online",    # ... returned online (a paper copy may go by bưu chính công ích)
)


def unmet_conditions(v) -> list[str]:
    """The conditions a dossier (a DossierView) does not meet; empty means toàn trình."""
    paid_ok = v.fee_due == 0 or (
        any(p.status == "da_thanh_toan" for p in v.payments)
        and all(p.online for p in v.payments if p.status == "da_thanh_toan")
        and sum(p.amount_paid or 0 for p in v.payments if p.status == "da_thanh_toan")
        >= v.fee_due)
    facts = {
        "procedure_online": v.procedure.service_level == "toan_trinh",
        "submitted_online": v.channel == "truc_tuyen",
        "files_uploaded": bool(v.documents) and all(d.filename for d in v.documents),
        "paid_online": paid_ok,
        "no_in_person": not v.needs_in_person,
        "no_on_site_check": not v.on_site_check,
        "electronic_result": v.result_electronic,
        "returned_online": v.return_method == "truc_tuyen" or (
            v.return_method == "buu_chinh" and v.result_electronic),
    }
    return [c for c in CONDITIONS if not facts[c]]


def is_fully_online(v) -> bool:
    return not unmet_conditions(v)


def explain(v) -> list[str]:
    """The unmet conditions in Vietnamese, for the desk and the citizen portal."""
    return [t(f"filing.fully_online.{c}") for c in unmet_conditions(v)]
