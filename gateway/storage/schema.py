"""The database tables as SQLAlchemy 2 Core metadata (Core, not ORM: rows become frozen records).

Alembic migrations in ``gateway/storage/migrations`` create these tables; a test checks
that the migrated database and this metadata agree. Every timestamp column holds a
timezone-aware UTC datetime (:class:`UtcDateTime`), on SQLite too.

Imports only SQLAlchemy and the standard library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones, so values are stored as
    naive UTC text (fixed width, so comparisons order correctly) and read back as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        """Convert to UTC; naive values are refused (the DTZ rule: every time has a zone)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise TypeError(f"naive datetime {value!r}: give it a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


payloads = sa.Table(
    "payloads",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
"""Raw payloads by sha256; ``data`` is null when the bytes live on disk."""

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("partner_id", sa.String(64), nullable=True),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("doc_type", sa.String(32), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column(
        "parent_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("documents.id"),
        nullable=True,
    ),
    sa.Column("filename", sa.String(512), nullable=True),
    sa.Column("sender_id", sa.String(64), nullable=True),
    sa.Column("receiver_id", sa.String(64), nullable=True),
    sa.Column("interchange_control", sa.String(16), nullable=True),
    sa.Column("group_control", sa.String(16), nullable=True),
    sa.Column("transaction_control", sa.String(16), nullable=True),
    sa.Column("business_key", sa.String(128), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("canonical", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("ack_due_at", UtcDateTime, nullable=True),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "partner_id"),
    sa.Index(None, "parent_id"),
    sa.Index(None, "business_key"),
    sa.Index(None, "interchange_control"),
    sa.Index(None, "group_control"),
    sa.Index(None, "transaction_control"),
    sa.Index(None, "created_at"),
    sa.Index(None, "ack_due_at"),
)
"""One row per document (received file, transaction set, outbound document, ack).

``ack_due_at`` is set on outbound documents the partner must acknowledge (997/999):
past it, a ``sent`` document becomes ``overdue``."""

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "document_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)
"""Each document's timeline."""

control_counters = sa.Table(
    "control_counters",
    metadata,
    sa.Column("scope", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("last", sa.BigInteger, nullable=False),
)
"""The last control number handed out per scope and kind."""

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("partner_id", sa.String(64), nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, index=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)
"""API keys: a prefix to find the row and the sha256 of the key, never the key."""

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(128), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
"""Browser users with scrypt password hashes."""

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)
"""Who did what to what; append-only."""

open_items = sa.Table(
    "open_items",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("invoice_number", sa.String(64), nullable=False),
    sa.Column("po_number", sa.String(64), nullable=True),
    sa.Column("invoice_date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("open_amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("discount_percent", sa.Numeric(7, 4), nullable=True),
    sa.Column("discount_days", sa.Integer, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column(
        "document_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("documents.id"),
        nullable=True,
    ),
    sa.Column("erp_invoice_id", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("partner_id", "invoice_number"),
    sa.Index(None, "po_number"),
    sa.Index(None, "status", "due_date"),
)
"""Invoices sent to partners and still (or no longer) owed: the cash application's ledger.

``status`` is ``open`` or ``closed``; ``document_id`` is the 810 that carried the invoice."""

erp_cursors = sa.Table(
    "erp_cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("cursor", sa.String(256), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
"""Where each ERP poll (e.g. posted invoices) got to: an opaque cursor per name."""

as2_messages = sa.Table(
    "as2_messages",
    metadata,
    sa.Column("direction", sa.String(3), primary_key=True),
    sa.Column("message_id", sa.String(255), primary_key=True),
    sa.Column("partner_id", sa.String(64), nullable=True),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("mic", sa.String(128), nullable=True),
    sa.Column("mdn", sa.LargeBinary, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
"""AS2 messages by direction and Message-ID: status, MIC and the MDN received or sent."""

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

remittances = sa.Table(
    "remittances",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("document_id", _ID, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("trace_number", sa.String(80), nullable=False),
    sa.Column("payer_id", sa.String(80), nullable=True),
    sa.Column("payment_amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("lines_total", sa.Numeric(18, 2), nullable=False),
    sa.Column("unapplied_amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("payment_date", sa.Date, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("document_id"),
    sa.Index(None, "partner_id", "trace_number"),
)
"""One 820 (one transaction set) as applied by the gateway: its BPR and TRN figures.

``unapplied_amount`` is the cash the automatic run left on no invoice; what people did
afterwards is in ``cash_applications``."""

remittance_lines = sa.Table(
    "remittance_lines",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("remittance_id", _ID, sa.ForeignKey("remittances.id"), nullable=False),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("line_index", sa.Integer, nullable=False),
    sa.Column("reference_qualifier", sa.String(8), nullable=True),
    sa.Column("reference", sa.String(80), nullable=False),
    sa.Column("paid_amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("invoice_amount", sa.Numeric(18, 2), nullable=True),
    sa.Column("discount_amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("adjustment_amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("adjustment_codes", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("review", sa.String(16), nullable=False),
    sa.Column("rule", sa.String(16), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("invoice_number", sa.String(64), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("remittance_id", "line_index"),
    sa.Index(None, "review", "partner_id"),
)
"""One RMR line and the engine's decision (``status``: matched, partial, unmatched).

``review`` is ``auto`` (settled by the engine), ``open`` (in the AR review queue) or
``resolved`` (a person finished it); ``invoice_number`` is the invoice the engine chose."""

cash_applications = sa.Table(
    "cash_applications",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("line_id", _ID, sa.ForeignKey("remittance_lines.id"), nullable=True),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("open_item_id", _ID, sa.ForeignKey("open_items.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("reason_code", sa.String(16), nullable=True),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("reversed_at", UtcDateTime, nullable=True),
    sa.Column("reversed_by", sa.String(200), nullable=True),
    sa.Column("erp_state", sa.String(16), nullable=False),
    sa.Column("erp_reference", sa.String(128), nullable=True),
    sa.Column("erp_error", sa.Text, nullable=True),
    sa.Column("erp_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Index(None, "open_item_id"),
    sa.Index(None, "line_id"),
    sa.Index(None, "erp_state"),
    sa.Index(None, "partner_id", "effective_date"),
)
"""Money put against an invoice (or on account), by the engine (``actor`` ``auto``) or a person.

``kind``: ``payment``, ``discount``, ``deduction``, ``write_off`` or ``on_account``
(``open_item_id`` null). A reversal sets ``reversed_at``/``reversed_by`` and gives the
amount back to the invoice; rows are never deleted. ``erp_state``: ``pending`` (to push to
the ERP connector), ``pushed``, ``unsupported`` (the connector takes no payments) or
``failed`` (``erp_error`` says why; retried)."""

dso_snapshots = sa.Table(
    "dso_snapshots",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("as_of", sa.Date, primary_key=True),
    sa.Column("period_days", sa.Integer, primary_key=True),
    sa.Column("figures", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
"""The DSO figures of one partner (``*``: the portfolio) as of one day, taken daily."""

ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False, index=True),
)
"""Browser sessions, shared by every process of the web role: by the sha256 of the session id
(the cookie holds the id), the principal, CSRF token and pending notices in ``data``, and
``started``/``last_seen`` as Unix times."""

ui_login_failures = sa.Table(
    "ui_login_failures",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index(None, "key", "at"),
)
"""Failed sign-ins by throttle key (``user:<name>``, ``addr:<address>``) and Unix time, so that
every web process counts the same failures; rows older than the window are deleted."""
