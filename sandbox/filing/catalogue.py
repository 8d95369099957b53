"""The procedure catalogue (thủ tục hành chính): loaded from an editable YAML file, validated.

Rules/data layer: no storage, no widgets. Every problem of the file is listed at once and nothing
is loaded if any row is wrong (the nbgrader `converters/base.py` habit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import nfc, t
from kynangso.workdays import Convention, default_conventions
from kynangso.workdays.loader import read_yaml

log = logging.getLogger(__name__)

FORMS = ("ban_chinh", "ban_sao", "ban_sao_chung_thuc", "ban_chinh_hoac_sao")
SERVICE_LEVELS = ("toan_trinh", "mot_phan")
LEVELS = ("xa", "tinh")


class UnknownProcedure(KnsError):
    """A procedure code that is not in the catalogue."""

    def __init__(self, code: str):
        super().__init__("filing.unknown_procedure", log_detail=f"unknown procedure {code!r}",
                         code=code)


@dataclass(frozen=True)
class RequiredDocument:
    """One item of thành phần hồ sơ."""

    key: str
    name: str
    quantity: int
    form: str
    required: bool

    @property
    def form_label(self) -> str:
        return t(f"filing.doc_form.{self.form}")


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure as the desk sees it."""

    code: str
    name: str
    level: str
    field: str
    days: int
    fee: Decimal
    fee_unit: str
    resolving_body: str
    service_level: str
    legacy_level: int
    centralised: bool
    source: str
    documents: tuple[RequiredDocument, ...]
    convention: Convention

    def required_keys(self) -> list[str]:
        return [d.key for d in self.documents if d.required]

    def document(self, key: str) -> RequiredDocument | None:
        return next((d for d in self.documents if d.key == key), None)


class Catalogue:
    """The loaded procedures, by code."""

    def __init__(self, procedures: list[Procedure]):
        self._by_code = {p.code: p for p in procedures}

    def __iter__(self):
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def codes(self) -> list[str]:
        return list(self._by_code)

    def get(self, code: str) -> Procedure:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownProcedure(code) from None

    def search(self, text: str) -> list[Procedure]:
        """Procedures whose code, name or field contains `text` (case-insensitive)."""
        needle = text.strip().casefold()
        return [p for p in self if needle in f"{p.code} {p.name} {p.field}".casefold()]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None



def parse_catalogue(data: Any, source: str) -> Catalogue:
    """Validate the parsed YAML and build the catalogue; raise ValidationError listing problems."""
    data = nfc(data)
    problems: list[str] = []
    rows = data.get("procedures") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ValidationError("filing.catalogue_invalid", [t("filing.problem.no_procedures")],
                              path=source)
    conventions = default_conventions()
    procedures: list[Procedure] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(t("filing.problem.row_not_mapping", row=i))
            continue
        code = str(row.get("code") or "").strip()
        where = t("filing.problem.where", row=i, code=code or "?")
        before = len(problems)

        def bad(key: str, _where: str = where, **params: Any) -> None:
            problems.append(f"{_where}: {t('filing.problem.' + key, **params)}")

        if not code:
            bad("missing", field="code")
        elif code in seen:
            bad("duplicate_code")
        seen.add(code)
        for name in ("name", "field", "resolving_body", "source", "fee_unit"):
            if not str(row.get(name) or "").strip():
                bad("missing", field=name)
        days = row.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            bad("bad_days", value=days)
        fee = _decimal(row.get("fee"))
        if fee is None:
            bad("bad_fee", value=row.get("fee"))
        elif fee < 0:
            bad("negative_fee", value=row.get("fee"))
        if row.get("level") not in LEVELS:
            bad("bad_choice", field="level", value=row.get("level"), choices=", ".join(LEVELS))
        if row.get("service_level") not in SERVICE_LEVELS:
            bad("bad_choice", field="service_level", value=row.get("service_level"),
                choices=", ".join(SERVICE_LEVELS))
        legacy = row.get("legacy_level", 2)
        if legacy not in (1, 2, 3, 4):
            bad("bad_choice", field="legacy_level", value=legacy, choices="1, 2, 3, 4")
        conv_name = row.get("convention", "blds_147")
        conv = conventions.get(conv_name)
        if conv is None:
            bad("bad_choice", field="convention", value=conv_name,
                choices=", ".join(conventions))
        elif row.get("cutoff") is not None:
            try:
                from datetime import time

                conv = conv.replace(cutoff=time.fromisoformat(str(row["cutoff"])))
            except ValueError:
                bad("bad_time", field="cutoff", value=row.get("cutoff"))
        docs: list[RequiredDocument] = []
        doc_keys: set[str] = set()
        for j, drow in enumerate(row.get("documents") or [], start=1):
            if not isinstance(drow, dict):
                bad("doc_not_mapping", n=j)
                continue
            key = str(drow.get("key") or "").strip()
            qty = drow.get("quantity", 1)
            if not key or not str(drow.get("name") or "").strip():
                bad("doc_missing", n=j)
            elif key in doc_keys:
                bad("doc_duplicate", n=j, doc=key)
            doc_keys.add(key)
            if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
                bad("doc_quantity", n=j, value=qty)
            if drow.get("form") not in FORMS:
                bad("doc_form", n=j, value=drow.get("form"), choices=", ".join(FORMS))
            docs.append(RequiredDocument(key=key, name=str(drow.get("name") or ""),
                                         quantity=qty if isinstance(qty, int) else 1,
                                         form=str(drow.get("form")),
                                         required=bool(drow.get("required", True))))
        if not any(d.required for d in docs):
            bad("no_required_docs")
        if len(problems) > before:
            continue
        procedures.append(Procedure(
            code=code, name=str(row["name"]), level=row["level"], field=str(row["field"]),
            days=days, fee=fee, fee_unit=str(row["fee_unit"]),
            resolving_body=str(row["resolving_body"]), service_level=row["service_level"],
            legacy_level=legacy, centralised=bool(row.get("centralised", False)),
            source=str(row["source"]), documents=tuple(docs), convention=conv,
        ))
    if problems:
        log.warning("catalogue %s rejected: %d problem(s)", source, len(problems))
        raise ValidationError("filing.catalogue_invalid", problems, path=source)
    return Catalogue(procedures)


def default_catalogue_path() -> Path:
    return Path(str(resources.files("sandbox.filing") / "data" / "procedures.yaml"))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (default: the seeded one shipped with the sandbox)."""
    p = Path(path) if path is not None else default_catalogue_path()
    try:
        data = read_yaml(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError("filing.catalogue_invalid",
                              [t("filing.problem.unreadable", detail=exc)], path=str(p)) from exc
    except Exception as exc:  # yaml.YAMLError and its scanner errors
        raise ValidationError("filing.catalogue_invalid",
                              [t("filing.problem.yaml", detail=exc)], path=str(p)) from exc
    return parse_catalogue(data, str(p))


@cache
def default_catalogue() -> Catalogue:
    return load_catalogue()
