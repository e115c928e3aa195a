"""action tokens remember the statement version an approval link decides on

Revision ID: 0003
Revises: 0002

Write revisions in plain SQLAlchemy (never import the app's models: they move on, a revision
must not). SQLite cannot ALTER most things: inside ``op.batch_alter_table`` it rebuilds the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_tokens") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_tokens") as batch:
        batch.drop_column("version")
