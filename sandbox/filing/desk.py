"""The one-stop desk: a small facade over the practice database (the nbgrader Gradebook pattern).

Callers never touch sessions: each method runs one transaction that checks the rule (pure
functions of `workflow`), changes the dossier, appends to the audit trail and commits, or
raises a KnsError and changes nothing. Times are passed in (`at`), because the simulation has
its own clock (a scenario can be dated 2024 or 2026).
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from kynangso.db import transaction
from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import t
from kynangso.workdays import WorkCalendar, compute_due, default_calendar
from sandbox.filing import workflow
from sandbox.filing.catalogue import Catalogue, Procedure, default_catalogue
from sandbox.filing.codes import format_for, make_code
from sandbox.filing.storage import (
    DEFAULT_PATH,
    Dossier,
    DossierDocument,
    Event,
    HandOver,
    Payment,
    session_factory,
)

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
CITIZEN = "công dân"


@dataclass(frozen=True)
class UnitConfig:
    """The receiving unit (Bộ phận Một cửa / TTPVHCC) of this practice desk.

    Codes are illustrative (domain README §3.2 [I]); `central_*` are used for procedures served by
    a nationally centralised system (TT 04/2025 format).
    """

    code: str = "000.00.12.H29"
    name: str = "Trung tâm Phục vụ hành chính công phường Hòa Bình (mô phỏng)"
    parent: str = "UBND PHƯỜNG HÒA BÌNH"
    place: str = "Hòa Bình"
    central_code: str = "G22.001.01"
    central_aa: str = "01"


@dataclass(frozen=True)
class Upload:
    """A file handed in for one required document (online upload or scanned paper)."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class DocumentView:
    key: str
    name: str
    copies: int
    filename: str
    size: int


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    detail: dict


@dataclass(frozen=True)
class HandOverView:
    at: datetime
    from_unit: str
    to_unit: str
    giver: str
    receiver: str
    rating: str
    note: str


@dataclass(frozen=True)
class PaymentView:
    reference: str
    amount_due: Decimal
    amount_paid: Decimal | None
    online: bool
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    bank_txn: str
    receipt_no: str


@dataclass(frozen=True)
class DossierView:
    """A read-only snapshot of a dossier, for forms, widgets and statistics."""

    id: int
    code: str | None
    procedure: Procedure
    applicant_name: str
    applicant_id: str
    address: str
    phone: str
    email: str
    authoriser: str
    request_text: str
    channel: str
    copies: int
    state: str
    receiving_unit: str
    current_unit: str
    submitted_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    result_at: datetime | None
    returned_at: datetime | None
    return_method: str
    result_rating: str
    result_electronic: bool
    fee_due: Decimal
    needs_in_person: bool
    on_site_check: bool
    book_no: str
    book_seq: int | None
    supplement_items: list[str]
    reason: str
    documents: list[DocumentView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    handovers: list[HandOverView] = field(default_factory=list)
    payments: list[PaymentView] = field(default_factory=list)

    @property
    def done_actions(self) -> list[str]:
        return [e.action for e in self.events]

    @property
    def state_label(self) -> str:
        return t(f"filing.state.{self.state}")

    def event(self, action: str) -> EventView | None:
        """The last event of `action`, if any."""
        return next((e for e in reversed(self.events) if e.action == action), None)


class FilingDesk:
    """One learner's practice one-stop desk, stored in a SQLite file."""

    def __init__(self, db_path: str | Path | None = None, catalogue: Catalogue | None = None,
                 calendar: WorkCalendar | None = None, unit: UnitConfig | None = None):
        self.db_path = str(Path(db_path or DEFAULT_PATH).expanduser())
        self.catalogue = catalogue or default_catalogue()
        self.calendar = calendar or default_calendar()
        self.unit = unit or UnitConfig()
        self._sessions = session_factory(self.db_path)

    # -- plumbing ----------------------------------------------------------------------------
    def _tx(self):
        return transaction(self._sessions)

    def _load(self, s: Session, dossier_id: int) -> Dossier:
        d = s.get(Dossier, dossier_id)
        if d is None:
            raise KnsError("filing.no_such_dossier", id=dossier_id)
        return d

    @staticmethod
    def _check(s: Session, d: Dossier, action: str) -> str:
        """The state after `action`, or the rule that forbids it (nothing is changed)."""
        done = s.scalars(select(Event.action).where(Event.dossier_id == d.id)).all() \
            if d.id is not None else []
        return workflow.next_state(d.state, action, done)

    def _move(self, s: Session, d: Dossier, action: str, at: datetime, actor: str,
              **detail: Any) -> str:
        """Check the transition, record it in the audit trail, and set the new state."""
        new = self._check(s, d, action)
        s.add(Event(dossier_id=d.id, at=at, actor=actor, action=action, from_state=d.state,
                    to_state=new, detail=json.dumps(detail, ensure_ascii=False, default=str)))
        d.state = new
        return new

    def _next_counter(self, s: Session, unit: str, scope: str) -> int:
        # One statement, inside a BEGIN IMMEDIATE transaction: no two writers get the same number.
        row = s.execute(
            text("INSERT INTO counter(unit, scope, last) VALUES (:u, :s, 1) "
                 "ON CONFLICT(unit, scope) DO UPDATE SET last = last + 1 RETURNING last"),
            {"u": unit, "s": scope},
        ).one()
        return int(row[0])

    # -- citizen / reception -----------------------------------------------------------------
    def submit(self, procedure_code: str, applicant: Mapping[str, str], *, channel: str,
               documents: Mapping[str, int | Upload | list[Upload]], at: datetime,
               copies: int = 1, request_text: str = "", actor: str = CITIZEN,
               needs_in_person: bool = False, on_site_check: bool = False) -> int:
        """File a dossier (online with uploads, or at the desk); returns its id.

        Missing documents do not block submission: the desk then asks for supplementation.
        """
        proc = self.catalogue.get(procedure_code)
        applicant = {k: unicodedata.normalize("NFC", str(v or "")) for k, v in applicant.items()}
        request_text = unicodedata.normalize("NFC", request_text)
        problems = self._check_applicant(applicant)
        if channel not in workflow.CHANNELS:
            problems.append(t("filing.problem.bad_channel", value=channel))
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            problems.append(t("filing.problem.bad_copies", value=copies))
        docs = self._documents(proc, documents, at, problems)
        if problems:
            raise ValidationError("filing.submit_invalid", problems, procedure=proc.name)
        fee = proc.fee * (copies if proc.fee_unit in ("bản", "trang") else 1)
        with self._tx() as s:
            d = Dossier(procedure_code=proc.code, channel=channel, copies=copies, state="nhap",
                        receiving_unit=self.unit.code, current_unit=self.unit.name,
                        request_text=request_text or proc.name, fee_due=fee,
                        needs_in_person=needs_in_person, on_site_check=on_site_check,
                        applicant_name=applicant["name"].strip(),
                        applicant_id=applicant["id_number"].strip(),
                        address=applicant.get("address", ""), phone=applicant.get("phone", ""),
                        email=applicant.get("email", ""),
                        authoriser=applicant.get("authoriser", ""), submitted_at=at)
            d.documents = docs
            s.add(d)
            s.flush()
            self._move(s, d, "submit", at, actor, channel=channel)
            return d.id

    def resubmit(self, dossier_id: int, documents: Mapping[str, int | Upload | list[Upload]],
                 at: datetime, actor: str = CITIZEN) -> None:
        """Hand in the documents asked for by the Phiếu yêu cầu bổ sung."""
        with self._tx() as s:
            d = self._load(s, dossier_id)
            proc = self.catalogue.get(d.procedure_code)
            problems: list[str] = []
            new_docs = self._documents(proc, documents, at, problems)
            if problems:
                raise ValidationError("filing.submit_invalid", problems, procedure=proc.name)
            self._move(s, d, "submit", at, actor, added=[x.doc_key for x in new_docs])
            d.documents.extend(new_docs)
            d.submitted_at = at

    def request_supplement(self, dossier_id: int, items: list[str], reason: str, at: datetime,
                           actor: str) -> None:
        """Reception found the dossier incomplete: issue the Phiếu yêu cầu bổ sung (once)."""
        self._require_text(reason, "reason")
        with self._tx() as s:
            d = self._load(s, dossier_id)
            items = items or self._missing_names(d)
            self._move(s, d, "request_supplement", at, actor, items=items, reason=reason)
            d.supplement_items = json.dumps(items, ensure_ascii=False)
            d.reason = reason

    def refuse(self, dossier_id: int, reason: str, at: datetime, actor: str) -> None:
        """Not within competence or not eligible: issue the Phiếu từ chối."""
        self._require_text(reason, "reason")
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._move(s, d, "refuse", at, actor, reason=reason)
            d.reason = reason

    def receive(self, dossier_id: int, at: datetime, actor: str) -> str:
        """Complete dossier: assign the code, compute the appointment, issue BM.01."""
        with self._tx() as s:
            d = self._load(s, dossier_id)
            proc = self.catalogue.get(d.procedure_code)
            self._check(s, d, "receive")
            missing = self._missing_names(d)
            if missing:
                raise KnsError("filing.incomplete", items="; ".join(missing),
                               rule=workflow.rules().actions["request_supplement"].source)
            # The clock starts when the competent body has a complete dossier: for an online
            # dossier, the time the system recorded the (last, complete) submission
            # (domain README §3.4 "Start of the clock").
            start = d.submitted_at if d.channel == "truc_tuyen" and d.submitted_at else at
            start = min(start, at)
            deadline = compute_due(self.calendar, start, proc.days, proc.convention,
                                   explain=False)
            self._move(s, d, "receive", at, actor, due_at=deadline.due_at, clock_start=start)
            if format_for(at.date(), proc.centralised).centralised:
                unit, aa = self.unit.central_code, self.unit.central_aa
            else:
                unit, aa = self.unit.code, "00"
            seq = self._next_counter(s, unit, "day:" + at.strftime("%Y%m%d"))
            d.code = make_code(unit, at.date(), seq, centralised=proc.centralised, aa=aa)
            d.book_no = str(at.year)
            d.book_seq = self._next_counter(s, self.unit.code, f"book:{at.year}")
            d.received_at, d.clock_start_at = at, start
            d.due_at = d.original_due_at = deadline.due_at
            return d.code

    # -- processing --------------------------------------------------------------------------
    def hand_over(self, dossier_id: int, to_unit: str, at: datetime, giver: str, receiver: str,
                  note: str = "") -> str:
        """Pass the dossier to another unit; the step is rated against the due time (BM.05)."""
        self._require_text(to_unit, "to_unit")
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._check(s, d, "hand_over")  # the state rule first: no due time before receipt
            self._not_before_receipt(d, at)
            rating = workflow.rate(at, d.due_at)
            self._move(s, d, "hand_over", at, giver, to_unit=to_unit, rating=rating)
            s.add(HandOver(dossier_id=d.id, at=at, from_unit=d.current_unit, to_unit=to_unit,
                           giver=giver, receiver=receiver, rating=rating, note=note))
            d.current_unit = to_unit
            return rating

    def request_supplement_processing(self, dossier_id: int, items: list[str], reason: str,
                                      at: datetime, actor: str) -> None:
        """The specialist needs more papers: once only during processing."""
        self._require_text(reason, "reason")
        if not items:
            raise ValidationError("filing.supplement_invalid", [t("filing.problem.no_items")])
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._move(s, d, "request_supplement_processing", at, actor, items=items,
                       reason=reason)
            d.supplement_items = json.dumps(items, ensure_ascii=False)
            d.reason = reason

    def supplement_received(self, dossier_id: int, at: datetime, actor: str,
                            documents: Mapping[str, int | Upload | list[Upload]] | None = None,
                            ) -> None:
        """The papers arrived: processing resumes and the waiting time is not counted.

        [I] The working days spent waiting are added to the due date (the clock stops while
        the dossier is with the citizen); domain README §3.4 does not settle this.
        """
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._check(s, d, "supplement_received")
            asked = next(e for e in reversed(d.events)
                         if e.action == "request_supplement_processing")
            waited = max(0, self.calendar.working_days_between(asked.at.date(), at.date()))
            new_due = datetime.combine(
                self.calendar.add_working_days(d.due_at.date(), waited), d.due_at.time())
            self._move(s, d, "supplement_received", at, actor, waited_days=waited,
                       due_at=new_due)
            if documents:
                proc = self.catalogue.get(d.procedure_code)
                problems: list[str] = []
                d.documents.extend(self._documents(proc, documents, at, problems))
                if problems:
                    raise ValidationError("filing.submit_invalid", problems, procedure=proc.name)
            d.due_at = new_due

    def apologise(self, dossier_id: int, new_due: date, reason: str, at: datetime,
                  actor: str) -> None:
        """Phiếu xin lỗi và hẹn lại ngày trả: ≥1 working day before the due date, once only."""
        self._require_text(reason, "reason")
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._check(s, d, "apologise")  # state and once-only rules first
            workflow.check_apology(self.calendar, at, d.due_at, new_due)
            old = d.due_at
            new_at = datetime.combine(new_due, d.due_at.time())
            self._move(s, d, "apologise", at, actor, reason=reason, old_due=old, new_due=new_at)
            d.due_at = new_at
            d.reason = reason

    def submit_for_approval(self, dossier_id: int, at: datetime, actor: str) -> None:
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._move(s, d, "submit_for_approval", at, actor)

    def result_ready(self, dossier_id: int, at: datetime, actor: str,
                     electronic: bool = True) -> None:
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._not_before_receipt(d, at)
            self._move(s, d, "result_ready", at, actor, electronic=electronic)
            d.result_at = at
            d.result_electronic = electronic

    def return_result(self, dossier_id: int, method: str, at: datetime, actor: str) -> str:
        """Return the result (in person, by post, online); the dossier is rated."""
        if method not in workflow.RETURN_METHODS:
            raise KnsError("filing.bad_return_method", value=method,
                           choices=", ".join(t(f"filing.return.{m}")
                                             for m in workflow.RETURN_METHODS))
        with self._tx() as s:
            d = self._load(s, dossier_id)
            if d.state == "co_ket_qua" and self._outstanding(d) > 0:
                raise KnsError("filing.unpaid", amount=_money(self._outstanding(d)))
            # Rated on when the result was ready for the citizen, not on when the citizen came
            # to collect it (a late visit is not the agency's delay).
            rating = workflow.rate(d.result_at or at, d.due_at) if d.due_at else ""
            self._move(s, d, "return_result", at, actor, method=method, rating=rating)
            d.returned_at = at
            d.return_method = method
            d.result_rating = rating
            return rating

    def withdraw(self, dossier_id: int, at: datetime, actor: str = CITIZEN,
                 reason: str = "") -> None:
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._move(s, d, "withdraw", at, actor, reason=reason)
            d.reason = reason or d.reason

    def stop(self, dossier_id: int, reason: str, at: datetime, actor: str) -> None:
        self._require_text(reason, "reason")
        with self._tx() as s:
            d = self._load(s, dossier_id)
            self._move(s, d, "stop", at, actor, reason=reason)
            d.reason = reason

    # -- fees and payment (simulated payment platform) ---------------------------------------
    def start_payment(self, dossier_id: int, at: datetime, online: bool = True) -> str:
        """Open a payment with a unique reference for what is still due."""
        with self._tx() as s:
            d = self._load(s, dossier_id)
            if d.state in ("tu_choi", "da_rut", "dung_xu_ly", "da_tra", "nhap"):
                raise KnsError("filing.payment_not_now", state=t(f"filing.state.{d.state}"))
            due = self._outstanding(d)
            if due <= 0:
                raise KnsError("filing.nothing_to_pay")
            seq = self._next_counter(s, self.unit.code, "pay:" + at.strftime("%Y%m%d"))
            ref = f"TT{at:%y%m%d}{seq:05d}"
            s.add(Payment(dossier_id=d.id, reference=ref, amount_due=due, online=online,
                          status="cho_thanh_toan", created_at=at))
            s.add(Event(dossier_id=d.id, at=at, actor=CITIZEN, action="start_payment",
                        from_state=d.state, to_state=d.state,
                        detail=json.dumps({"reference": ref, "amount": str(due)})))
            return ref

    def confirm_payment(self, reference: str, amount: Decimal | int | str, at: datetime,
                        bank_txn: str) -> str:
        """The bank's (simulated) confirmation: record it and issue an electronic receipt."""
        amount = _parse_money(amount)
        self._require_text(bank_txn, "bank_txn")
        with self._tx() as s:
            p = s.scalars(select(Payment).where(Payment.reference == reference)).first()
            if p is None:
                raise KnsError("filing.no_such_payment", reference=reference)
            if p.status == "da_thanh_toan":
                raise KnsError("filing.payment_already", reference=reference)
            if amount != p.amount_due:
                p.status = "sai_so_tien"
                p.amount_paid = amount
                raise KnsError("filing.payment_mismatch", reference=reference,
                               paid=_money(amount), due=_money(p.amount_due))
            seq = self._next_counter(s, self.unit.code, f"receipt:{at.year}")
            p.status, p.amount_paid, p.confirmed_at = "da_thanh_toan", amount, at
            p.bank_txn, p.receipt_no = bank_txn, f"BL{at.year}/{seq:06d}"
            d = p.dossier
            s.add(Event(dossier_id=d.id, at=at, actor="ngân hàng", action="confirm_payment",
                        from_state=d.state, to_state=d.state,
                        detail=json.dumps({"reference": reference, "amount": str(amount),
                                           "receipt_no": p.receipt_no})))
            return p.receipt_no

    def pay_at_desk(self, dossier_id: int, at: datetime, actor: str) -> str:
        """Cash at the desk: a payment that is not online (the dossier is then not toàn trình)."""
        ref = self.start_payment(dossier_id, at, online=False)
        return self.confirm_payment(ref, self.get(dossier_id).payments[-1].amount_due, at,
                                    f"TM-{actor}")

    def reconcile(self) -> list[dict]:
        """Paid vs due per dossier that has a fee; mismatches first."""
        out = []
        with self._tx() as s:
            for d in s.scalars(select(Dossier).where(Dossier.fee_due > 0)
                               .options(selectinload(Dossier.payments))):
                paid = sum((p.amount_paid or Decimal(0) for p in d.payments
                            if p.status == "da_thanh_toan"), Decimal(0))
                out.append({"id": d.id, "code": d.code, "due": d.fee_due, "paid": paid,
                            "balance": d.fee_due - paid})
        return sorted(out, key=lambda r: (r["balance"] == 0, r["id"]))

    # -- queries -----------------------------------------------------------------------------
    def get(self, dossier_id: int) -> DossierView:
        with self._tx() as s:
            return self._view(self._load(s, dossier_id))

    def find(self, code: str) -> DossierView:
        with self._tx() as s:
            d = s.scalars(select(Dossier).where(Dossier.code == code.strip())).first()
            if d is None:
                raise KnsError("filing.no_such_code", code=code)
            return self._view(d)

    def queue(self, states: list[str] | None = None) -> list[DossierView]:
        """Dossiers in the given states (default: all not finished), oldest first."""
        terminal = [k for k, v in workflow.rules().states.items() if v]
        with self._tx() as s:
            q = select(Dossier).options(selectinload(Dossier.documents),
                                        selectinload(Dossier.events),
                                        selectinload(Dossier.handovers),
                                        selectinload(Dossier.payments))
            q = q.where(Dossier.state.in_(states)) if states else \
                q.where(Dossier.state.not_in(terminal))
            return [self._view(d) for d in s.scalars(q.order_by(Dossier.id))]

    def all_dossiers(self) -> list[DossierView]:
        with self._tx() as s:
            q = select(Dossier).options(selectinload(Dossier.documents),
                                        selectinload(Dossier.events),
                                        selectinload(Dossier.handovers),
                                        selectinload(Dossier.payments)).order_by(Dossier.id)
            return [self._view(d) for d in s.scalars(q)]

    def missing(self, dossier_id: int) -> list[str]:
        """Names of required documents not yet handed in (the completeness checklist)."""
        with self._tx() as s:
            return self._missing_names(self._load(s, dossier_id))

    # -- helpers -----------------------------------------------------------------------------
    def _view(self, d: Dossier) -> DossierView:
        proc = self.catalogue.get(d.procedure_code)
        return DossierView(
            id=d.id, code=d.code, procedure=proc, applicant_name=d.applicant_name,
            applicant_id=d.applicant_id, address=d.address, phone=d.phone, email=d.email,
            authoriser=d.authoriser, request_text=d.request_text, channel=d.channel,
            copies=d.copies, state=d.state, receiving_unit=d.receiving_unit,
            current_unit=d.current_unit, submitted_at=d.submitted_at, received_at=d.received_at,
            due_at=d.due_at, original_due_at=d.original_due_at, result_at=d.result_at,
            returned_at=d.returned_at, return_method=d.return_method,
            result_rating=d.result_rating, result_electronic=d.result_electronic,
            fee_due=Decimal(d.fee_due), needs_in_person=d.needs_in_person,
            on_site_check=d.on_site_check, book_no=d.book_no, book_seq=d.book_seq,
            supplement_items=json.loads(d.supplement_items) if d.supplement_items else [],
            reason=d.reason,
            documents=[DocumentView(x.doc_key, (proc.document(x.doc_key).name
                                                if proc.document(x.doc_key) else x.doc_key),
                                    x.copies, x.filename, x.size) for x in d.documents],
            events=[EventView(e.at, e.actor, e.action, e.from_state, e.to_state,
                              json.loads(e.detail) if e.detail else {}) for e in d.events],
            handovers=[HandOverView(h.at, h.from_unit, h.to_unit, h.giver, h.receiver, h.rating,
                                    h.note) for h in d.handovers],
            payments=[PaymentView(p.reference, Decimal(p.amount_due),
                                  None if p.amount_paid is None else Decimal(p.amount_paid),
                                  p.online, p.status, p.created_at, p.confirmed_at, p.bank_txn,
                                  p.receipt_no) for p in d.payments],
        )

    def _outstanding(self, d: Dossier) -> Decimal:
        paid = sum((p.amount_paid or Decimal(0) for p in d.payments
                    if p.status == "da_thanh_toan"), Decimal(0))
        return Decimal(d.fee_due) - paid

    def _missing_names(self, d: Dossier) -> list[str]:
        proc = self.catalogue.get(d.procedure_code)
        provided: dict[str, int] = {}
        for x in d.documents:
            provided[x.doc_key] = provided.get(x.doc_key, 0) + x.copies
        required = {doc.key: doc.quantity for doc in proc.documents if doc.required}
        return [proc.document(k).name for k in workflow.missing_documents(required, provided)]

    @staticmethod
    def _not_before_receipt(d: Dossier, at: datetime) -> None:
        if d.received_at is not None and at < d.received_at:
            raise KnsError("filing.time_before_receipt", at=at.strftime("%H:%M %d/%m/%Y"),
                           received=d.received_at.strftime("%H:%M %d/%m/%Y"))

    @staticmethod
    def _require_text(value: str, name: str) -> None:
        if not str(value or "").strip():
            raise KnsError("filing.required_text", field=t(f"filing.field.{name}"))

    @staticmethod
    def _check_applicant(applicant: Mapping[str, str]) -> list[str]:
        problems = []
        if not str(applicant.get("name") or "").strip():
            problems.append(t("filing.problem.no_name"))
        ident = str(applicant.get("id_number") or "").strip()
        if not (ident.isdigit() and len(ident) in (9, 12)) and not (
                ident.replace(".", "").isalnum() and len(ident) == 13 and not ident.isdigit()):
            problems.append(t("filing.problem.bad_id_number", value=ident))
        return problems

    @staticmethod
    def _documents(proc: Procedure, documents: Mapping[str, Any], at: datetime,
                   problems: list[str]) -> list[DossierDocument]:
        out = []
        for key, value in documents.items():
            spec = proc.document(key)
            if spec is None:
                problems.append(t("filing.problem.unknown_document", doc=key,
                                  procedure=proc.name))
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, Upload):
                    if not item.content:
                        problems.append(t("filing.problem.empty_upload", name=spec.name))
                        continue
                    if len(item.content) > MAX_UPLOAD_BYTES:
                        problems.append(t("filing.problem.upload_too_big", name=spec.name,
                                          mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
                        continue
                    out.append(DossierDocument(
                        doc_key=key, copies=1, filename=Path(item.filename).name,
                        size=len(item.content), content=item.content, added_at=at,
                        sha256=hashlib.sha256(item.content).hexdigest()))
                elif isinstance(item, int) and not isinstance(item, bool) and item >= 1:
                    out.append(DossierDocument(doc_key=key, copies=item, added_at=at))
                else:
                    problems.append(t("filing.problem.bad_document_count", name=spec.name,
                                      value=item))
        return out


def _parse_money(value: Decimal | int | str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(".", "").replace(",", "").strip())
    except Exception:
        raise KnsError("filing.bad_amount", value=value) from None
    if amount < 0:
        raise KnsError("filing.negative_amount", value=value)
    return amount


def _money(value: Decimal) -> str:
    return f"{int(value):,}".replace(",", ".") + " đồng"
