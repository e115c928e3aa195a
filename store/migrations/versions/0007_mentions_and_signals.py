"""mentions and signals: what listening ingests and what it detects

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Write revisions in plain SQLAlchemy (never import the app's models: they move on, a revision
must not).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("negative", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentions")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_mentions_platform_external_id")),
    )
    op.create_index("ix_mentions_topic_created_at", "mentions", ["topic", "created_at"])
    op.create_table(
        "signals",
        sa.Column("id", sa.String(length=150), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_mention_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stream_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
    )
    op.create_index(op.f("ix_signals_topic"), "signals", ["topic"])
    op.create_index(op.f("ix_signals_status"), "signals", ["status"])
    op.create_index(op.f("ix_signals_incident_id"), "signals", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signals_incident_id"), table_name="signals")
    op.drop_index(op.f("ix_signals_status"), table_name="signals")
    op.drop_index(op.f("ix_signals_topic"), table_name="signals")
    op.drop_table("signals")
    op.drop_index("ix_mentions_topic_created_at", table_name="mentions")
    op.drop_table("mentions")
