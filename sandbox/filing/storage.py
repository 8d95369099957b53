"""Storage of the filing sandbox: SQLAlchemy 2 models in a SQLite file the caller names.

This is practice state, not platform data: one disposable file per learner (default
`~/.kynangso/filing.sqlite`), its own DeclarativeBase and `metadata.create_all`, no migrations.
Every write transaction starts with BEGIN IMMEDIATE, so concurrent writers (threads or
processes) queue on the file lock instead of racing: that is what keeps the daily sequence of
dossier codes distinct.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

DEFAULT_PATH = Path("~/.kynangso/filing.sqlite")


class Base(DeclarativeBase):
    pass


class Dossier(Base):
    __tablename__ = "dossier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    procedure_code: Mapped[str] = mapped_column(String(20), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    authoriser: Mapped[str] = mapped_column(String(300), default="")
    request_text: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20))
    copies: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(30), index=True)
    receiving_unit: Mapped[str] = mapped_column(String(40), index=True)
    current_unit: Mapped[str] = mapped_column(String(120), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_start_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    original_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    result_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_method: Mapped[str] = mapped_column(String(20), default="")
    result_rating: Mapped[str] = mapped_column(String(20), default="")
    result_electronic: Mapped[bool] = mapped_column(Boolean, default=False)
    fee_due: Mapped[Decimal] = mapped_column(Numeric(14, 0), default=Decimal(0))
    needs_in_person: Mapped[bool] = mapped_column(Boolean, default=False)
    on_site_check: Mapped[bool] = mapped_column(Boolean, default=False)
    book_no: Mapped[str] = mapped_column(String(20), default="")
    book_seq: Mapped[int | None] = mapped_column(Integer)
    supplement_items: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    documents: Mapped[list[DossierDocument]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="DossierDocument.id")
    events: Mapped[list[Event]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="Event.id")
    handovers: Mapped[list[HandOver]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="HandOver.id")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="Payment.id")


class DossierDocument(Base):
    """A document handed in (paper at the desk) or uploaded (online)."""

    __tablename__ = "dossier_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    doc_key: Mapped[str] = mapped_column(String(40))
    copies: Mapped[int] = mapped_column(Integer, default=1)
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(DateTime)

    dossier: Mapped[Dossier] = relationship(back_populates="documents")


class Event(Base):
    """The audit trail: every change of a dossier, who, when, from which state to which."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class HandOver(Base):
    """One row of the Phiếu kiểm soát quá trình (BM.05)."""

    __tablename__ = "handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    from_unit: Mapped[str] = mapped_column(String(120))
    to_unit: Mapped[str] = mapped_column(String(120))
    giver: Mapped[str] = mapped_column(String(120))
    receiver: Mapped[str] = mapped_column(String(120))
    rating: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    dossier: Mapped[Dossier] = relationship(back_populates="handovers")


class Payment(Base):
    """A fee payment through the (simulated) payment platform of the national portal."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    amount_due: Mapped[Decimal] = mapped_column(Numeric(14, 0))
    amount_paid: Mapped[Decimal | None] = mapped_column(Numeric(14, 0))
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    bank_txn: Mapped[str] = mapped_column(String(60), default="")
    receipt_no: Mapped[str] = mapped_column(String(40), default="")

    dossier: Mapped[Dossier] = relationship(back_populates="payments")


class Counter(Base):
    """Per-unit sequences: the daily dossier sequence, the yearly register (sổ) number."""

    __tablename__ = "counter"

    unit: Mapped[str] = mapped_column(String(40), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


def _connect(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE itself (pysqlite would otherwise
    # start a deferred transaction late, and two writers could both read the same sequence).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # Practice state: in WAL mode NORMAL keeps the file consistent and only risks the last
    # transactions on a power cut, and it makes each commit far cheaper than FULL.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@cache
def engine_for_file(path: str) -> Engine:
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{p}", connect_args={"timeout": 30,
                                                            "check_same_thread": False})
    event.listen(engine, "connect", _connect)
    event.listen(engine, "begin", _begin)
    Base.metadata.create_all(engine)
    return engine


@cache
def session_factory(path: str) -> sessionmaker:
    return sessionmaker(engine_for_file(path), expire_on_commit=False)
