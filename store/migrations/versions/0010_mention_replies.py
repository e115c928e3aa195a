"""mentions.incident_id and statement_version: a reply to (or quote of) one of our published posts, tied to its statement

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Write revisions in plain SQLAlchemy (never import the app's models: they move on, a revision
must not).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("statement_version", sa.Integer(), nullable=True))
        batch_op.create_index("ix_mentions_incident_id", ["incident_id"])


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_incident_id")
        batch_op.drop_column("statement_version")
        batch_op.drop_column("incident_id")
