"""mentions.ingested_by: the API key that posted each mention, named when a topic declares directly

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Write revisions in plain SQLAlchemy (never import the app's models: they move on, a revision
must not).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ingested_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("ingested_by")
