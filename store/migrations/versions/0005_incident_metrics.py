"""incident metrics

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:40:00

Write revisions in plain SQLAlchemy (never import the app's models: they move on, a revision
must not). SQLite cannot ALTER most things: inside ``op.batch_alter_table`` it rebuilds the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_metrics",
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("scenario", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_to_detect_s", sa.Float(), nullable=True),
        sa.Column("time_to_acknowledge_s", sa.Float(), nullable=True),
        sa.Column("time_to_assessment_s", sa.Float(), nullable=True),
        sa.Column("time_to_first_statement_s", sa.Float(), nullable=True),
        sa.Column("time_to_resolve_s", sa.Float(), nullable=True),
        sa.Column("deadlines_met", sa.Integer(), nullable=False),
        sa.Column("deadlines_missed", sa.Integer(), nullable=False),
        sa.Column("highest_escalation_level", sa.Integer(), nullable=False),
        sa.Column("approval_rounds", sa.Integer(), nullable=False),
        sa.Column("feedback_count", sa.Integer(), nullable=False),
        sa.Column("feedback_mean", sa.Float(), nullable=True),
        sa.Column("projected_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_metrics")),
    )
    with op.batch_alter_table("incident_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_metrics_playbook"), ["playbook"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_metrics_scenario"), ["scenario"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_metrics_scenario"))
        batch_op.drop_index(batch_op.f("ix_incident_metrics_playbook"))

    op.drop_table("incident_metrics")
