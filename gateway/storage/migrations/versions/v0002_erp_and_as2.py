"""ERP and AS2: open items, ERP cursors, AS2 messages, and the outbound ack deadline.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``open_items``, ``erp_cursors``, ``as2_messages``; add ``documents.ack_due_at``."""
    op.create_table(
        "open_items",
        sa.Column("id", _ID, nullable=False),
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
        sa.Column("document_id", _ID, nullable=True),
        sa.Column("erp_invoice_id", sa.String(64), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_open_items"),
        sa.UniqueConstraint(
            "partner_id", "invoice_number", name="uq_open_items_partner_id_invoice_number"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_open_items_document_id_documents"
        ),
    )
    op.create_index("ix_open_items_po_number", "open_items", ["po_number"])
    op.create_index("ix_open_items_status_due_date", "open_items", ["status", "due_date"])
    op.create_table(
        "erp_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("cursor", sa.String(256), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_erp_cursors"),
    )
    op.create_table(
        "as2_messages",
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("document_id", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("mic", sa.String(128), nullable=True),
        sa.Column("mdn", sa.LargeBinary, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("direction", "message_id", name="pk_as2_messages"),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("ack_due_at", _TS, nullable=True))
        batch.create_index("ix_documents_ack_due_at", ["ack_due_at"])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_ack_due_at")
        batch.drop_column("ack_due_at")
    for table in ("as2_messages", "erp_cursors", "open_items"):
        op.drop_table(table)
