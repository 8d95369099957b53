"""Registers, numbering, workflow steps, electronic exchange and the audit trail.

`Registry` is a small facade over the practice database (the nbgrader Gradebook pattern):
callers pass plain values and get plain dicts back; every method is one transaction, so a
refused step changes nothing. Numbers come from a counter row updated in the same
transaction as the register entry, and SQLite transactions start with BEGIN IMMEDIATE, so
concurrent registrations are serialised: no gaps, no duplicates (Điều 15.1, 22.2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from kynangso.db import transaction
from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import t
from sandbox.documents import deadlines, workflow
from sandbox.documents.integrity import DefaultIntegrityCheck, IntegrityCheck, sha256_hex
from sandbox.documents.models import (
    AuditEvent,
    Base,
    CopyRecord,
    Counter,
    Delivery,
    Incoming,
    Organisation,
    Outgoing,
)
from sandbox.documents.rules import pl6_fields, register_columns, ruleset
from sandbox.documents.symbol import SymbolError, format_symbol, parse_symbol

log = logging.getLogger(__name__)

GENESIS = "0" * 64


def default_db_path() -> Path:
    return Path.home() / ".kynangso" / "documents.sqlite"


@dataclass(frozen=True)
class Actor:
    """Who performs a step: a name for the audit trail and a role (workflow.ROLES)."""

    name: str
    role: str


AXIS = Actor("Trục liên thông văn bản", "system")  # the exchange platform itself


class DocumentError(KnsError):
    """A document operation refused for a reason the person can fix."""


def _engine(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE (the pysqlite recipe): the
        # write lock is taken before the counter is read, which serialises numbering.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still survives a crash of any process (never a corrupt register);
        # only a power cut may lose the last commits. FULL synced the disk at every commit:
        # the grader's answer key of a registration task (answer_keys.py, ~15 commits) took
        # 163 ms instead of 123 on an idle machine, over 500 ms beside a busy disk.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _event_hash(prev: str, fields: dict) -> str:
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256((prev + payload).encode("utf-8")).hexdigest()


class Registry:
    """The văn thư of one or more simulated organisations, stored in one SQLite file."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        clock: Callable[[], datetime] = datetime.now,
        integrity_check: IntegrityCheck | None = None,
        calendar=None,
        separate_qd_series: bool = False,
    ):
        self.path = Path(path) if path else default_db_path()
        self.engine = _engine(self.path)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock
        self.integrity_check = integrity_check or DefaultIntegrityCheck()
        self._calendar = calendar
        # Điều 15.1: one series per organisation per year by default; the head may decide
        # that Quyết định has its own series (configuration, domain README §1.2).
        self.separate_qd_series = separate_qd_series

    @property
    def calendar(self):
        if self._calendar is None:
            self._calendar = deadlines.default_calendar()
        return self._calendar

    def _session(self):
        return transaction(self._sessions)

    def close(self) -> None:
        self.engine.dispose()

    # -- organisations -----------------------------------------------------------------------
    def add_organisation(self, code: str, name: str, place: str = "", parent_name: str = "") -> dict:
        code = (code or "").strip()
        if not re.fullmatch(r"[A-ZĐ0-9]+", code) or not (name or "").strip():
            raise DocumentError("documents.org.bad_code", code=code)
        with self._session() as s:
            if s.scalar(select(Organisation).where(Organisation.code == code)):
                raise DocumentError("documents.org.exists", code=code)
            org = Organisation(code=code, name=name, place=place, parent_name=parent_name)
            s.add(org)
            s.flush()
            return {"code": org.code, "name": org.name, "place": org.place}

    def organisations(self) -> list[dict]:
        with self._session() as s:
            return [
                {"code": o.code, "name": o.name, "place": o.place, "parent_name": o.parent_name}
                for o in s.scalars(select(Organisation).order_by(Organisation.code))
            ]

    def _org(self, s: Session, code: str) -> Organisation:
        org = s.scalar(select(Organisation).where(Organisation.code == code))
        if org is None:
            raise DocumentError("documents.org.unknown", code=code)
        return org

    # -- numbering and audit -----------------------------------------------------------------
    def _next_number(self, s: Session, org_id: int, year: int, series: str) -> int:
        # One UPDATE ... RETURNING inside the (immediate) transaction; a new year or series
        # has no row yet and starts at 01 (Điều 15.1).
        key = (Counter.org_id == org_id) & (Counter.year == year) & (Counter.series == series)
        last = s.execute(
            update(Counter).where(key).values(last=Counter.last + 1).returning(Counter.last)
        ).scalar()
        if last is None:
            s.execute(insert(Counter).values(org_id=org_id, year=year, series=series, last=1))
            last = 1
        return last

    def _audit(self, s: Session, actor: Actor, org_code: str, entity: str, entity_id: int,
               action: str, from_state: str | None, to_state: str | None, **detail) -> None:
        prev = s.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)) or GENESIS
        fields = {
            "at": self.clock().isoformat(timespec="seconds"),
            "actor": actor.name,
            "role": actor.role,
            "org_code": org_code,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        }
        s.add(AuditEvent(
            **{**fields, "at": datetime.fromisoformat(fields["at"])},
            prev_hash=prev, hash=_event_hash(prev, fields),
        ))

    def audit(self, entity: str | None = None, entity_id: int | None = None) -> list[dict]:
        """The audit trail (who did what when), oldest first."""
        with self._session() as s:
            q = select(AuditEvent).order_by(AuditEvent.seq)
            if entity:
                q = q.where(AuditEvent.entity == entity)
            if entity_id is not None:
                q = q.where(AuditEvent.entity_id == entity_id)
            return [
                {
                    "seq": e.seq, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor,
                    "role": e.role, "org": e.org_code, "entity": e.entity,
                    "entity_id": e.entity_id, "action": e.action, "from_state": e.from_state,
                    "to_state": e.to_state, "detail": json.loads(e.detail),
                }
                for e in s.scalars(q)
            ]

    def verify_audit(self) -> list[str]:
        """Problems found when re-computing the hash chain (empty when intact)."""
        problems = []
        prev = GENESIS
        with self._session() as s:
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
                fields = {
                    "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "role": e.role,
                    "org_code": e.org_code, "entity": e.entity, "entity_id": e.entity_id,
                    "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                    "detail": e.detail,
                }
                if e.prev_hash != prev or e.hash != _event_hash(prev, fields):
                    problems.append(t("documents.audit.broken", seq=e.seq))
                prev = e.hash
        return problems

    # -- incoming ----------------------------------------------------------------------------
    def _check_fields(self, author: str, symbol: str, subject: str, doc_date) -> list[str]:
        problems = []
        if not (author or "").strip():
            problems.append(t("documents.incoming.need_author"))
        if not (subject or "").strip():
            problems.append(t("documents.incoming.need_subject"))
        if not isinstance(doc_date, date):
            problems.append(t("documents.incoming.need_doc_date"))
        elif doc_date > self.clock().date():
            problems.append(t("documents.incoming.future_doc_date",
                              doc_date=doc_date.strftime("%d/%m/%Y")))
        if not (symbol or "").strip():
            problems.append(t("documents.incoming.need_symbol"))
        else:
            try:
                parse_symbol(symbol, doc_date if isinstance(doc_date, date) else None)
            except SymbolError as exc:
                # Legal normative and Party documents do arrive at a UBND and are registered;
                # a malformed administrative symbol is refused so the clerk checks it.
                if exc.kind == "format":
                    problems.extend(exc.problems)
        return problems

    def _incoming_series(self, secrecy: str | None) -> str:
        return "den_mat" if secrecy else "den"

    def _assign_arrival(self, s: Session, doc: Incoming) -> None:
        now = self.clock()
        doc.year = now.year
        doc.series = self._incoming_series(doc.secrecy)
        doc.arrival_number = self._next_number(s, doc.org_id, doc.year, doc.series)
        doc.arrival_at = now

    def _duplicate(self, s: Session, org_id: int, author: str, symbol: str, doc_date: date):
        # PL VI, Phần I, Mục III: warn Văn thư about a duplicate (số, ký hiệu, cơ quan ban hành).
        same = s.scalars(
            select(Incoming).where(
                Incoming.org_id == org_id, Incoming.symbol == symbol,
                Incoming.author == author, Incoming.arrival_number.is_not(None),
            )
        )
        return next((d for d in same if d.doc_date.year == doc_date.year), None)

    def register_incoming(
        self, org: str, actor: Actor, *, author: str, symbol: str, doc_date: date,
        type_name: str, subject: str, medium: str = "paper", urgency: str = "thuong",
        secrecy: str | None = None, content: bytes | None = None,
        declared_sha256: str | None = None, signature: bytes | None = None,
        recipient: str = "", note: str = "", allow_duplicate: bool = False,
        received_at: datetime | None = None,
    ) -> dict:
        """Register a document received by `org` (Điều 22) and give it the next số đến.

        `received_at` is when a paper document reached the office (default: now); the view's
        `registration_late` flag says whether it was registered later than the rule allows.
        """
        if actor.role != workflow.VAN_THU:
            raise workflow.WorkflowError(
                "documents.workflow.role", action=workflow.action_label("register_in"),
                role=t(f"documents.role.{actor.role}"), roles=t("documents.role.van_thu"),
                source="Điều 22",
            )
        problems = self._check_fields(author, symbol, subject, doc_date)
        if received_at is not None and received_at > self.clock():
            problems.append(t("documents.incoming.future_received"))
        rules = ruleset(doc_date if isinstance(doc_date, date) else None)
        if medium not in ("paper", "electronic"):
            problems.append(t("documents.incoming.bad_medium"))
        try:
            rules.urgency_by_key(urgency)
            rules.secrecy_by_key(secrecy)
        except KeyError:
            problems.append(t("documents.incoming.bad_mark"))
        check = None
        if medium == "electronic" and not problems:
            check = self.integrity_check(content, declared_sha256, signature)
            problems.extend(check.problems)
        if problems:
            log.info("incoming registration refused at %s: %d problem(s)", org, len(problems))
            raise ValidationError("documents.incoming.rejected", problems=problems)
        with self._session() as s:
            o = self._org(s, org)
            symbol = symbol.strip()
            if not allow_duplicate and self._duplicate(s, o.id, author.strip(), symbol, doc_date):
                raise DocumentError("documents.incoming.duplicate", symbol=symbol, author=author)
            doc = Incoming(
                org_id=o.id, state="registered", received_at=received_at or self.clock(),
                author=author.strip(),
                symbol=symbol, doc_date=doc_date, type_name=type_name.strip(),
                subject=subject.strip(), medium=medium, urgency=urgency, secrecy=secrecy,
                content=content, declared_sha256=declared_sha256,
                content_sha256=check.content_sha256 if check else None,
                signature_status=check.signature_status if check else None,
                recipient=recipient, note=note, co_units=[],
            )
            s.add(doc)
            self._assign_arrival(s, doc)
            s.flush()
            self._audit(s, actor, o.code, "incoming", doc.id, "register", None, "registered",
                        arrival_number=doc.arrival_number, symbol=symbol, medium=medium,
                        signature_status=doc.signature_status)
            return self._incoming_view(doc, o)

    def _load_incoming(self, s: Session, doc_id: int) -> tuple[Incoming, Organisation]:
        doc = s.get(Incoming, doc_id)
        if doc is None:
            raise DocumentError("documents.incoming.unknown", id=doc_id)
        return doc, s.get(Organisation, doc.org_id)

    def _step_incoming(self, doc_id: int, actor: Actor, action: str, apply=None, **detail) -> dict:
        with self._session() as s:
            doc, org = self._load_incoming(s, doc_id)
            new = workflow.next_state("incoming", doc.state, action, actor.role)
            old = doc.state
            if apply:
                apply(s, doc, org)
            doc.state = new
            self._audit(s, actor, org.code, "incoming", doc.id, action, old, new, **detail)
            return self._incoming_view(doc, org)

    def submit(self, doc_id: int, actor: Actor, leader: str = "") -> dict:
        """Văn thư submits a registered document to the leader (Điều 23.1)."""
        def apply(s, doc, org):
            doc.recipient = leader or doc.recipient
            doc.transfer_date = self.clock().date()
        return self._step_incoming(doc_id, actor, "submit", apply, leader=leader)

    def assign(self, doc_id: int, actor: Actor, *, lead_unit: str, co_units: list[str] = (),
               deadline_days: int | None = None, instruction: str = "") -> dict:
        """The leader names the lead and co-ordinating units and the deadline (Điều 23.2)."""
        return self._route(doc_id, actor, "assign", lead_unit, co_units, deadline_days, instruction)

    def forward(self, doc_id: int, actor: Actor, *, lead_unit: str, co_units: list[str] = (),
                deadline_days: int | None = None, instruction: str = "") -> dict:
        """Văn thư forwards directly when the handling unit is already clear (Điều 23.1)."""
        return self._route(doc_id, actor, "forward", lead_unit, co_units, deadline_days,
                           instruction)

    def _route(self, doc_id, actor, action, lead_unit, co_units, deadline_days, instruction):
        problems = []
        if not (lead_unit or "").strip():
            problems.append(t("documents.route.need_lead"))
        co = [c.strip() for c in co_units if c and c.strip()]
        if lead_unit and lead_unit.strip() in co:
            problems.append(t("documents.route.lead_in_co", unit=lead_unit.strip()))
        if deadline_days is not None and (not isinstance(deadline_days, int) or deadline_days < 1):
            problems.append(t("documents.route.bad_deadline"))
        if problems:
            raise ValidationError("documents.route.rejected", problems=problems)
        today = self.clock().date()
        due = deadlines.due_date(today, deadline_days, self.calendar) if deadline_days else None

        def apply(s, doc, org):
            doc.lead_unit = lead_unit.strip()
            doc.co_units = co
            doc.instruction = instruction.strip()
            doc.due_date = due
            doc.recipient = lead_unit.strip()
            doc.transfer_date = today

        return self._step_incoming(doc_id, actor, action, apply, lead_unit=lead_unit.strip(),
                                   co_units=co, deadline_days=deadline_days, due_date=due)

    def start(self, doc_id: int, actor: Actor) -> dict:
        def apply(s, doc, org):
            doc.receipt_signature = actor.name
        return self._step_incoming(doc_id, actor, "start", apply)

    def complete(self, doc_id: int, actor: Actor, reply_symbol: str = "") -> dict:
        """The lead unit reports the document handled (Điều 24), optionally with the reply."""
        if reply_symbol:
            parse_symbol(reply_symbol)  # a reply is an administrative document of ours

        def apply(s, doc, org):
            doc.completed_at = self.clock()
            doc.reply_symbol = reply_symbol

        return self._step_incoming(doc_id, actor, "complete", apply, reply_symbol=reply_symbol)

    def receive(self, doc_id: int, actor: Actor) -> dict:
        """Văn thư receives an electronic document waiting in the queue (Điều 21.2): checks
        integrity, gives it a số đến and acknowledges receipt to the sender the same day."""
        with self._session() as s:
            doc, org = self._load_incoming(s, doc_id)
            workflow.next_state("incoming", doc.state, "receive", actor.role)
            check = self.integrity_check(doc.content, doc.declared_sha256, None)
            if not check.ok:
                log.warning("incoming %s from %s failed the integrity check: %s", doc_id,
                            doc.author, check.problems)
                raise ValidationError("documents.exchange.cannot_receive", problems=check.problems)
        def apply(s, doc, org):
            doc.content_sha256 = check.content_sha256
            doc.signature_status = check.signature_status
            self._assign_arrival(s, doc)
            if doc.delivery_id:
                d = s.get(Delivery, doc.delivery_id)
                d.status, d.answered_at = "received", self.clock()
        return self._step_incoming(doc_id, actor, "receive", apply,
                                   signature_status=check.signature_status)

    def deliver_external(self, org: str, *, author: str, symbol: str, doc_date: date,
                         type_name: str, subject: str, content: bytes, declared_sha256: str,
                         urgency: str = "thuong") -> int:
        """A document from an organisation outside this practice file arrives over the
        liên thông axis and waits in `org`'s queue (used by scenarios)."""
        with self._session() as s:
            o = self._org(s, org)
            doc = Incoming(
                org_id=o.id, state="pending", received_at=self.clock(), author=author,
                symbol=symbol, doc_date=doc_date, type_name=type_name, subject=subject,
                medium="electronic", urgency=urgency, content=content,
                declared_sha256=declared_sha256, co_units=[],
            )
            s.add(doc)
            s.flush()
            self._audit(s, AXIS, o.code, "incoming", doc.id, "deliver", None, "pending",
                        symbol=symbol, author=author)
            return doc.id

    def return_invalid(self, doc_id: int, actor: Actor, reason: str) -> dict:
        """Return an invalid or misaddressed electronic document to the sender (Điều 21.2)."""
        if not (reason or "").strip():
            raise ValidationError("documents.exchange.rejected",
                                  problems=[t("documents.exchange.need_reason")])

        def apply(s, doc, org):
            doc.note = reason.strip()
            if doc.delivery_id:
                d = s.get(Delivery, doc.delivery_id)
                d.status, d.answered_at, d.reason = "returned", self.clock(), reason.strip()

        return self._step_incoming(doc_id, actor, "return", apply, reason=reason.strip())

    def get_incoming(self, doc_id: int) -> dict:
        with self._session() as s:
            doc, org = self._load_incoming(s, doc_id)
            return self._incoming_view(doc, org)

    def inbox(self, org: str, states: tuple[str, ...] | None = None) -> list[dict]:
        """Incoming documents of `org` (all, or those in `states`), newest number last."""
        with self._session() as s:
            o = self._org(s, org)
            q = select(Incoming).where(Incoming.org_id == o.id)
            if states:
                q = q.where(Incoming.state.in_(states))
            q = q.order_by(Incoming.year, Incoming.arrival_number, Incoming.id)
            return [self._incoming_view(d, o) for d in s.scalars(q)]

    def incoming_register(self, org: str, year: int, secret: bool = False) -> list[dict]:
        """The sổ đăng ký văn bản đến of one year: the 10 columns of PL IV, Mục VI."""
        cols = [c["field"] for c in register_columns("incoming")]
        rows = [d for d in self.inbox(org) if d["year"] == year and d["arrival_number"]
                and (d["secrecy"] is not None) == secret]
        return [{c: r[c] for c in cols} for r in rows]

    def _incoming_view(self, d: Incoming, o: Organisation) -> dict:
        today = self.clock().date()
        done = d.state == "completed"
        try:
            flag = deadlines.status(d.due_date, today, done, self._calendar) if d.due_date \
                else ("done" if done else "none")
        except KnsError:  # calendar year not loaded: show no flag rather than fail the view
            flag = "overdue" if d.due_date and today > d.due_date and not done else "none"
        return {
            "id": d.id, "org": o.code, "state": d.state,
            "state_label": workflow.state_label(d.state),
            "registration_late": self._registration_late(d),
            "year": d.year, "arrival_number": d.arrival_number,
            "arrival_date": d.arrival_at.date() if d.arrival_at else None,
            "author": d.author, "symbol": d.symbol, "doc_date": d.doc_date,
            "type_name": d.type_name, "subject": d.subject,
            "type_and_subject": f"{d.type_name}: {d.subject}",
            "medium": d.medium, "urgency": d.urgency, "secrecy": d.secrecy,
            "signature_status": d.signature_status, "content_sha256": d.content_sha256,
            "recipient": d.recipient, "transfer_date": d.transfer_date,
            "receipt_signature": d.receipt_signature, "lead_unit": d.lead_unit,
            "co_units": list(d.co_units or []), "instruction": d.instruction,
            "due_date": d.due_date, "deadline_status": flag,
            "completed_at": d.completed_at, "reply_symbol": d.reply_symbol, "note": d.note,
        }

    def incoming_pl6(self, doc_id: int) -> dict:
        """The PL VI data fields (tags as in Phụ lục VI, Phần II, Mục II) of one document."""
        view = self.get_incoming(doc_id)
        number, _, notation = view["symbol"].partition("/")
        view["code_number"], view["code_notation"] = number, notation
        view["priority"] = ruleset(view["doc_date"]).urgency_by_key(view["urgency"]).priority
        return {row["tag"]: view[row["field"]] for row in pl6_fields()}

    def _registration_late(self, d: Incoming) -> bool | None:
        """Điều 4.2.c: registered the day it arrived, at the latest the next working day;
        urgent documents at once (the same day here). None when the calendar cannot say."""
        if d.arrival_at is None:
            return None
        arrived, registered = d.received_at.date(), d.arrival_at.date()
        if d.urgency != "thuong":
            return registered > arrived
        try:
            return registered > self.calendar.add_working_days(arrived, 1)
        except KnsError:
            return None

    def reminders(self, org: str) -> list[dict]:
        """Documents due soon or overdue (Điều 24: follow-up and reminders)."""
        return [d for d in self.inbox(org, ("assigned", "in_progress"))
                if d["deadline_status"] in ("due_soon", "overdue")]

    # -- outgoing ----------------------------------------------------------------------------
    def draft_outgoing(
        self, org: str, actor: Actor, *, type_key: str, drafting_unit: str, subject: str,
        recipients: list[str] = (), recipient_orgs: list[str] = (), signer: str = "",
        signer_title: str = "", copies: int = 1, urgency: str = "thuong",
        secrecy: str | None = None, electronic: bool = True, content: bytes | None = None,
    ) -> dict:
        """A specialist uploads a draft (Điều 10)."""
        if actor.role not in (workflow.CHUYEN_VIEN, workflow.VAN_THU):
            raise workflow.WorkflowError(
                "documents.workflow.role", action=workflow.action_label("draft"),
                role=t(f"documents.role.{actor.role}"), roles=t("documents.role.chuyen_vien"),
                source="Điều 10",
            )
        rules = ruleset(self.clock().date())
        problems = []
        if rules.type_by_key(type_key) is None or type_key in {c.key for c in rules.copies}:
            problems.append(t("documents.outgoing.bad_type", type=type_key))
        if not (drafting_unit or "").strip() or not drafting_unit.strip().isupper():
            problems.append(t("documents.outgoing.bad_unit", unit=drafting_unit or ""))
        if not (subject or "").strip():
            problems.append(t("documents.outgoing.need_subject"))
        if not isinstance(copies, int) or copies < 1:
            problems.append(t("documents.outgoing.bad_copies"))
        if secrecy and electronic:
            problems.append(t("documents.outgoing.secret_electronic"))
        if problems:
            raise ValidationError("documents.outgoing.rejected", problems=problems)
        with self._session() as s:
            o = self._org(s, org)
            for code in recipient_orgs:
                self._org(s, code)
            doc = Outgoing(
                org_id=o.id, state="draft", type_key=type_key,
                drafting_unit=drafting_unit.strip(), subject=subject.strip(), signer=signer,
                signer_title=signer_title, recipients=list(recipients),
                recipient_orgs=list(recipient_orgs), copies=copies, urgency=urgency,
                secrecy=secrecy, electronic=electronic, content=content,
                content_sha256=sha256_hex(content) if content is not None else None,
                created_at=self.clock(),
            )
            s.add(doc)
            s.flush()
            self._audit(s, actor, o.code, "outgoing", doc.id, "draft", None, "draft",
                        type=type_key, subject=doc.subject)
            return self._outgoing_view(doc, o)

    def _step_outgoing(self, doc_id: int, actor: Actor, action: str, apply=None, **detail):
        with self._session() as s:
            doc = s.get(Outgoing, doc_id)
            if doc is None:
                raise DocumentError("documents.outgoing.unknown", id=doc_id)
            org = s.get(Organisation, doc.org_id)
            new = workflow.next_state("outgoing", doc.state, action, actor.role)
            old = doc.state
            extra = apply(s, doc, org) if apply else None
            doc.state = new
            self._audit(s, actor, org.code, "outgoing", doc.id, action, old, new,
                        **detail, **(extra or {}))
            return self._outgoing_view(doc, org)

    def approve(self, doc_id: int, actor: Actor) -> dict:
        return self._step_outgoing(doc_id, actor, "approve")

    def revise(self, doc_id: int, actor: Actor, comment: str = "") -> dict:
        return self._step_outgoing(doc_id, actor, "revise", comment=comment)

    def sign(self, doc_id: int, actor: Actor) -> dict:
        def apply(s, doc, org):
            doc.signed_at = self.clock()
            doc.signer = doc.signer or actor.name
        return self._step_outgoing(doc_id, actor, "sign", apply)

    def _outgoing_series(self, doc: Outgoing) -> str:
        if doc.secrecy:
            return "di_mat"  # Điều 15.2: secret documents have their own series
        if self.separate_qd_series and doc.type_key == "quyet_dinh":
            return "di_qd"
        return "di"

    def number(self, doc_id: int, actor: Actor) -> dict:
        """Give the signed document its number and date (Điều 15)."""
        def apply(s, doc, org):
            now = self.clock()
            doc.year, doc.series = now.year, self._outgoing_series(doc)
            doc.number = self._next_number(s, org.id, doc.year, doc.series)
            dtype = ruleset(now.date()).type_by_key(doc.type_key)
            if dtype.abbrev:
                doc.symbol = format_symbol(doc.number, org.code, dtype.abbrev)
            else:
                doc.symbol = format_symbol(doc.number, org.code, unit=doc.drafting_unit)
            doc.issued_date = now.date()
            late = False
            if doc.signed_at:
                try:  # Điều 15.2: no later than the next working day after signing
                    limit = self.calendar.add_working_days(doc.signed_at.date(), 1)
                    late = now.date() > limit
                except KnsError:
                    late = False
            return {"number": doc.number, "symbol": doc.symbol, "late": late}
        return self._step_outgoing(doc_id, actor, "number", apply)

    def register_outgoing(self, doc_id: int, actor: Actor) -> dict:
        return self._step_outgoing(doc_id, actor, "register")

    def issue(self, doc_id: int, actor: Actor) -> dict:
        """Issue (Điều 18); an electronic document goes to each recipient's queue (liên thông)."""
        def apply(s, doc, org):
            sent = []
            if doc.electronic:
                dtype = ruleset(doc.issued_date).type_by_key(doc.type_key)
                for code in doc.recipient_orgs:
                    rec = self._org(s, code)
                    d = Delivery(outgoing_id=doc.id, recipient_org_id=rec.id, status="sent",
                                 sent_at=self.clock())
                    s.add(d)
                    s.flush()
                    s.add(Incoming(
                        org_id=rec.id, state="pending", received_at=self.clock(),
                        author=org.name, symbol=doc.symbol, doc_date=doc.issued_date,
                        type_name=dtype.name, subject=doc.subject, medium="electronic",
                        urgency=doc.urgency, secrecy=None, content=doc.content,
                        declared_sha256=doc.content_sha256, co_units=[], delivery_id=d.id,
                    ))
                    sent.append(code)
            return {"sent_to": sent}
        return self._step_outgoing(doc_id, actor, "issue", apply)

    def archive(self, doc_id: int, actor: Actor, file_copies: int | None = None) -> dict:
        """File the original at Văn thư (Điều 19); the note reads "Lưu: VT, <unit>"."""
        def apply(s, doc, org):
            unit = doc.drafting_unit + (f"({file_copies:02d})" if file_copies else "")
            doc.archive_note = f"Lưu: VT, {unit}."
        return self._step_outgoing(doc_id, actor, "archive", apply)

    def get_outgoing(self, doc_id: int) -> dict:
        with self._session() as s:
            doc = s.get(Outgoing, doc_id)
            if doc is None:
                raise DocumentError("documents.outgoing.unknown", id=doc_id)
            return self._outgoing_view(doc, s.get(Organisation, doc.org_id))

    def outbox(self, org: str) -> list[dict]:
        with self._session() as s:
            o = self._org(s, org)
            q = select(Outgoing).where(Outgoing.org_id == o.id).order_by(Outgoing.id)
            return [self._outgoing_view(d, o) for d in s.scalars(q)]

    def outgoing_register(self, org: str, year: int, secret: bool = False) -> list[dict]:
        """The sổ đăng ký văn bản đi of one year: the 10 columns of PL IV, Mục I."""
        cols = [c["field"] for c in register_columns("outgoing")]
        rows = [d for d in self.outbox(org) if d["year"] == year and d["number"]
                and (d["secrecy"] is not None) == secret]
        rows.sort(key=lambda r: (r["series"], r["number"]))
        return [{c: r[c] for c in cols} for r in rows]

    def make_copy(self, org: str, actor: Actor, kind: str, of_symbol: str) -> dict:
        """Number a copy of document `of_symbol`: "NN/SY-<org>" (Điều 25; Phụ lục I, Phần II,
        Mục II.1.c: one series for every kind of copy, from 01 each year)."""
        if actor.role != workflow.VAN_THU:
            raise workflow.WorkflowError(
                "documents.workflow.role", action=workflow.action_label("copy"),
                role=t(f"documents.role.{actor.role}"), roles=t("documents.role.van_thu"),
                source="Điều 25, 27",
            )
        now = self.clock()
        rules = ruleset(now.date())
        if kind not in {c.abbrev for c in rules.copies}:
            raise DocumentError("documents.copy.bad_kind", kind=kind)
        if not (of_symbol or "").strip():
            raise DocumentError("documents.copy.need_source")
        with self._session() as s:
            o = self._org(s, org)
            number = self._next_number(s, o.id, now.year, "sao")
            rec = CopyRecord(org_id=o.id, year=now.year, number=number, kind=kind,
                             symbol=format_symbol(number, o.code, kind),
                             of_symbol=of_symbol.strip(), made_at=now)
            s.add(rec)
            s.flush()
            self._audit(s, actor, o.code, "copy", rec.id, "copy", None, None,
                        symbol=rec.symbol, of_symbol=rec.of_symbol)
            return {"id": rec.id, "year": rec.year, "number": number, "kind": kind,
                    "symbol": rec.symbol, "of_symbol": rec.of_symbol,
                    "title": rules.type_by_abbrev(kind).title}

    def deliveries(self, doc_id: int) -> list[dict]:
        """Who has received an electronically issued document (PL VI: delivery status)."""
        with self._session() as s:
            q = select(Delivery, Organisation).join(
                Organisation, Organisation.id == Delivery.recipient_org_id
            ).where(Delivery.outgoing_id == doc_id).order_by(Delivery.id)
            return [
                {"org": o.code, "name": o.name, "status": d.status,
                 "status_label": t(f"documents.delivery.{d.status}"),
                 "sent_at": d.sent_at, "answered_at": d.answered_at, "reason": d.reason,
                 "same_day": bool(d.answered_at and d.answered_at.date() == d.sent_at.date())}
                for d, o in s.execute(q)
            ]

    def _outgoing_view(self, d: Outgoing, o: Organisation) -> dict:
        dtype = ruleset(d.created_at.date()).type_by_key(d.type_key)
        return {
            "id": d.id, "org": o.code, "state": d.state,
            "state_label": workflow.state_label(d.state),
            "type_key": d.type_key, "type_name": dtype.name if dtype else d.type_key,
            "type_and_subject": f"{dtype.name if dtype else d.type_key}: {d.subject}",
            "drafting_unit": d.drafting_unit, "subject": d.subject, "signer": d.signer,
            "recipients": "; ".join(d.recipients or []), "recipient_orgs": d.recipient_orgs,
            "archive_unit": d.archive_note or f"VT, {d.drafting_unit}", "copies": d.copies,
            "transfer_date": d.issued_date if d.state in ("issued", "archived") else None,
            "receipt_signature": "", "note": d.note, "urgency": d.urgency, "secrecy": d.secrecy,
            "electronic": d.electronic, "year": d.year, "series": d.series, "number": d.number,
            "symbol": d.symbol, "doc_date": d.issued_date, "content_sha256": d.content_sha256,
        }
