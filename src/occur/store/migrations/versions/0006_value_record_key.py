"""event_values copies each occurrence's record, and the lookup index carries it, so
unique-record counts by property value read the index alone

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEX = "ix_event_values_lookup"
_KEY = ["definition_id", "name", "value_key", "occurred_at", "event_id"]


def upgrade() -> None:
    op.add_column("event_values", sa.Column("record_key", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE event_values SET record_key = ("
        " SELECT coalesce(e.object_id, -e.visitor_id) FROM events e"
        " WHERE e.id = event_values.event_id)"
    )
    op.drop_index(_INDEX, table_name="event_values")
    op.create_index(_INDEX, "event_values", [*_KEY, "record_key"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="event_values")
    op.create_index(_INDEX, "event_values", _KEY)
    with op.batch_alter_table("event_values") as batch_op:
        batch_op.drop_column("record_key")
