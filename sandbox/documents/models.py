"""Tables of the document sandbox.

This is practice state, not platform data: each learner has a disposable SQLite file
(default ~/.kynangso/documents.sqlite) created with `metadata.create_all`, so there are no
Alembic migrations here. Several simulated organisations share one file so that
electronic exchange between them (liên thông) can be practised.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    DDL,
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "doc_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)  # abbreviation used in ký hiệu
    name: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(100), default="")  # địa danh (PL I, Mục II.4)
    parent_name: Mapped[str] = mapped_column(String(200), default="")  # cơ quan chủ quản


class Counter(Base):
    """Last number used in one series of one organisation in one year (Điều 15.1, 22.2)."""

    __tablename__ = "doc_counter"

    org_id: Mapped[int] = mapped_column(ForeignKey("doc_organisation.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Incoming(Base):
    """One entry of the sổ đăng ký văn bản đến (PL IV, Mục VI) plus its handling (Mục VIII)."""

    __tablename__ = "doc_incoming"
    __table_args__ = (UniqueConstraint("org_id", "year", "series", "arrival_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("doc_organisation.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    year: Mapped[int | None] = mapped_column(Integer)
    series: Mapped[str | None] = mapped_column(String(20))
    arrival_number: Mapped[int | None] = mapped_column(Integer)
    arrival_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)  # reached the office / the queue
    author: Mapped[str] = mapped_column(String(200))  # tác giả: issuing organisation
    symbol: Mapped[str] = mapped_column(String(50), index=True)  # duplicate warning look-up
    doc_date: Mapped[date] = mapped_column(Date)
    type_name: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(Text)
    medium: Mapped[str] = mapped_column(String(10))  # "paper" | "electronic"
    urgency: Mapped[str] = mapped_column(String(20), default="thuong")
    secrecy: Mapped[str | None] = mapped_column(String(20))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_status: Mapped[str | None] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200), default="")  # đơn vị hoặc người nhận
    transfer_date: Mapped[date | None] = mapped_column(Date)
    receipt_signature: Mapped[str] = mapped_column(String(100), default="")
    lead_unit: Mapped[str] = mapped_column(String(200), default="")
    co_units: Mapped[list] = mapped_column(JSON, default=list)
    instruction: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reply_symbol: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("doc_delivery.id"))


class Outgoing(Base):
    """One outgoing document from draft to archive; registered rows form the sổ đăng ký
    văn bản đi (PL IV, Mục I)."""

    __tablename__ = "doc_outgoing"
    __table_args__ = (UniqueConstraint("org_id", "year", "series", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("doc_organisation.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    type_key: Mapped[str] = mapped_column(String(30))
    drafting_unit: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(Text)
    signer: Mapped[str] = mapped_column(String(100), default="")
    signer_title: Mapped[str] = mapped_column(String(100), default="")
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # names for Nơi nhận
    recipient_orgs: Mapped[list] = mapped_column(JSON, default=list)  # codes for liên thông
    copies: Mapped[int] = mapped_column(Integer, default=1)
    urgency: Mapped[str] = mapped_column(String(20), default="thuong")
    secrecy: Mapped[str | None] = mapped_column(String(20))
    electronic: Mapped[bool] = mapped_column(default=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    year: Mapped[int | None] = mapped_column(Integer)
    series: Mapped[str | None] = mapped_column(String(20))
    number: Mapped[int | None] = mapped_column(Integer)
    symbol: Mapped[str | None] = mapped_column(String(50))
    issued_date: Mapped[date | None] = mapped_column(Date)
    archive_note: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class CopyRecord(Base):
    """A copy (bản sao y, sao lục, trích sao) made by the organisation: one running series
    for all kinds of copies per year (Phụ lục I, Phần II, Mục II.1.c)."""

    __tablename__ = "doc_copy"
    __table_args__ = (UniqueConstraint("org_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("doc_organisation.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(5))  # SY | SL | TrS
    symbol: Mapped[str] = mapped_column(String(50))
    of_symbol: Mapped[str] = mapped_column(String(50))
    made_at: Mapped[datetime] = mapped_column(DateTime)


class Delivery(Base):
    """One recipient of an electronically issued document (PL VI: delivery status)."""

    __tablename__ = "doc_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    outgoing_id: Mapped[int] = mapped_column(ForeignKey("doc_outgoing.id"), index=True)
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("doc_organisation.id"))
    status: Mapped[str] = mapped_column(String(20))  # sent | received | returned
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class AuditEvent(Base):
    """Append-only audit trail (PL VI, Phần I, Mục III: full history of handling).

    Each row stores the hash of the previous one (`prev_hash`) and its own `hash`, so an
    edited or deleted row breaks the chain; SQLite triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "doc_audit"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    org_code: Mapped[str] = mapped_column(String(30))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


for _op in ("UPDATE", "DELETE"):
    event.listen(
        AuditEvent.__table__,
        "after_create",
        DDL(
            f"CREATE TRIGGER IF NOT EXISTS doc_audit_no_{_op.lower()} BEFORE {_op} ON doc_audit "
            "BEGIN SELECT RAISE(ABORT, 'doc_audit is append-only'); END"
        ).execute_if(dialect="sqlite"),
    )
