"""the event-type index also holds the record columns, so unique counts read it only

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NAME = "ix_events_definition_id_occurred_at_id"


def upgrade() -> None:
    op.drop_index(_NAME, table_name="events")
    op.create_index(
        _NAME, "events", ["definition_id", "occurred_at", "id", "object_id", "visitor_id"]
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="events")
    op.create_index(_NAME, "events", ["definition_id", "occurred_at", "id"])
