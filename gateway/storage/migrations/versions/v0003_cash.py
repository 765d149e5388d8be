"""Cash application and DSO: remittances, their lines, applications, DSO snapshots.

Also renames the browser role ``ar_clerk`` to ``ar`` (``o2c users create --role ar``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(18, 2)


def upgrade() -> None:
    """Create the cash and DSO tables; rename role ``ar_clerk`` to ``ar``."""
    op.create_table(
        "remittances",
        sa.Column("id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("trace_number", sa.String(80), nullable=False),
        sa.Column("payer_id", sa.String(80), nullable=True),
        sa.Column("payment_amount", _MONEY, nullable=False),
        sa.Column("lines_total", _MONEY, nullable=False),
        sa.Column("unapplied_amount", _MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("payment_date", sa.Date, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remittances"),
        sa.UniqueConstraint("document_id", name="uq_remittances_document_id"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_remittances_document_id_documents"
        ),
    )
    op.create_index(
        "ix_remittances_partner_id_trace_number", "remittances", ["partner_id", "trace_number"]
    )
    op.create_table(
        "remittance_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("remittance_id", _ID, nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("line_index", sa.Integer, nullable=False),
        sa.Column("reference_qualifier", sa.String(8), nullable=True),
        sa.Column("reference", sa.String(80), nullable=False),
        sa.Column("paid_amount", _MONEY, nullable=False),
        sa.Column("invoice_amount", _MONEY, nullable=True),
        sa.Column("discount_amount", _MONEY, nullable=False),
        sa.Column("adjustment_amount", _MONEY, nullable=False),
        sa.Column("adjustment_codes", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("review", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("invoice_number", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remittance_lines"),
        sa.UniqueConstraint(
            "remittance_id", "line_index", name="uq_remittance_lines_remittance_id_line_index"
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name="fk_remittance_lines_remittance_id_remittances",
        ),
    )
    op.create_index(
        "ix_remittance_lines_review_partner_id", "remittance_lines", ["review", "partner_id"]
    )
    op.create_table(
        "cash_applications",
        sa.Column("id", _ID, nullable=False),
        sa.Column("line_id", _ID, nullable=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("open_item_id", _ID, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("reason_code", sa.String(16), nullable=True),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("reversed_at", _TS, nullable=True),
        sa.Column("reversed_by", sa.String(200), nullable=True),
        sa.Column("erp_state", sa.String(16), nullable=False),
        sa.Column("erp_reference", sa.String(128), nullable=True),
        sa.Column("erp_error", sa.Text, nullable=True),
        sa.Column("erp_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_cash_applications"),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["remittance_lines.id"],
            name="fk_cash_applications_line_id_remittance_lines",
        ),
        sa.ForeignKeyConstraint(
            ["open_item_id"],
            ["open_items.id"],
            name="fk_cash_applications_open_item_id_open_items",
        ),
    )
    op.create_index("ix_cash_applications_open_item_id", "cash_applications", ["open_item_id"])
    op.create_index("ix_cash_applications_line_id", "cash_applications", ["line_id"])
    op.create_index("ix_cash_applications_erp_state", "cash_applications", ["erp_state"])
    op.create_index(
        "ix_cash_applications_partner_id_effective_date",
        "cash_applications",
        ["partner_id", "effective_date"],
    )
    op.create_table(
        "dso_snapshots",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("period_days", sa.Integer, nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "as_of", "period_days", name="pk_dso_snapshots"),
    )
    op.execute("UPDATE users SET role = 'ar' WHERE role = 'ar_clerk'")
    op.execute("UPDATE api_keys SET role = 'ar' WHERE role = 'ar_clerk'")


def downgrade() -> None:
    """Drop what :func:`upgrade` added; rename role ``ar`` back to ``ar_clerk``."""
    op.execute("UPDATE users SET role = 'ar_clerk' WHERE role = 'ar'")
    op.execute("UPDATE api_keys SET role = 'ar_clerk' WHERE role = 'ar'")
    for table in ("dso_snapshots", "cash_applications", "remittance_lines", "remittances"):
        op.drop_table(table)
