"""events carry their properties (JSON and indexed values) and anonymous visitors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The 0001 events table was never written to (no route stored occurrences before this
revision), so it is rebuilt rather than altered.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("event_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_portal_id_object_type_id_object_id_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_events_definition_id_occurred_at"))
    op.drop_table("events")

    op.create_table(
        "visitors",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("utk", sa.String(length=100), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("identified_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_objects.id"],
            name=op.f("fk_visitors_contact_id_crm_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_visitors_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitors")),
        sa.UniqueConstraint("portal_id", "utk", name=op.f("uq_visitors_portal_id_utk")),
    )
    op.create_table(
        "events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=100), nullable=False),
        sa.Column("object_type_id", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=True),
        sa.Column("visitor_id", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["event_definitions.id"],
            name=op.f("fk_events_definition_id_event_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_events_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_events_visitor_id_visitors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("definition_id", "uuid", name=op.f("uq_events_definition_id_uuid")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_definition_id_occurred_at_id"),
            ["definition_id", "occurred_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_portal_id_object_type_id_object_id_occurred_at_id"),
            ["portal_id", "object_type_id", "object_id", "occurred_at", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_events_visitor_id"), ["visitor_id"], unique=False)

    op.create_table(
        "event_values",
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("value_key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_values_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "name", name=op.f("pk_event_values")),
    )
    with op.batch_alter_table("event_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_values_lookup",
            ["definition_id", "name", "value_key", "occurred_at", "event_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("event_definitions", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.drop_table("event_values")
    op.drop_table("events")
    op.drop_table("visitors")
    op.create_table(
        "events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("object_type_id", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=True),
        sa.Column("visitor_utk", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["event_definitions.id"],
            name=op.f("fk_events_definition_id_event_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_events_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("definition_id", "uuid", name=op.f("uq_events_definition_id_uuid")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_definition_id_occurred_at"),
            ["definition_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_portal_id_object_type_id_object_id_occurred_at"),
            ["portal_id", "object_type_id", "object_id", "occurred_at"],
            unique=False,
        )
