"""JavaScript-code events keep their code block with the definition

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("custom_code", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 on): a batch copy would drop the table, which
    # with foreign keys on cascades into the rows that point at it.
    op.execute("ALTER TABLE event_definitions DROP COLUMN custom_code")
