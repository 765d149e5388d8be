"""Failed sign-ins in the database, so that every web process throttles the same guesser.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``ui_login_failures``."""
    op.create_table(
        "ui_login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ui_login_failures"),
    )
    op.create_index("ix_ui_login_failures_key_at", "ui_login_failures", ["key", "at"])


def downgrade() -> None:
    """Drop ``ui_login_failures``."""
    op.drop_table("ui_login_failures")
