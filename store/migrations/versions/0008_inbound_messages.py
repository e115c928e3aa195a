"""inbound messages: each SMS reply's MessageSid takes effect once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Write revisions in plain SQLAlchemy (never import the app's models: they move on, a revision
must not).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("provider", "provider_id", name=op.f("uq_inbound_messages_provider_provider_id")),
    )


def downgrade() -> None:
    op.drop_table("inbound_messages")
