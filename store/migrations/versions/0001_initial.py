"""initial: incidents, timeline events, outbox messages

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The read model as crisisflow first shipped it. A database made before migrations existed (by
``create_all``) has exactly these tables: ``crisis db upgrade`` adopts it at this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("scenario", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("projected_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_phase"), "incidents", ["phase"])
    op.create_index(op.f("ix_incidents_playbook"), "incidents", ["playbook"])
    op.create_index(op.f("ix_incidents_scenario"), "incidents", ["scenario"])
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"])

    op.create_table(
        "timeline_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_events")),
        sa.UniqueConstraint("incident_id", "seq", name=op.f("uq_timeline_events_incident_id_seq")),
    )
    op.create_index(op.f("ix_timeline_events_incident_id"), "timeline_events", ["incident_id"])

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ledger_key", sa.String(length=300), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("ledger_key", name=op.f("uq_outbox_messages_ledger_key")),
    )
    op.create_index(op.f("ix_outbox_messages_incident_id"), "outbox_messages", ["incident_id"])


def downgrade() -> None:
    op.drop_table("outbox_messages")
    op.drop_table("timeline_events")
    op.drop_table("incidents")
