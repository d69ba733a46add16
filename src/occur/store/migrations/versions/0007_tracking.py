"""the tracking script: allowed domains and consent per portal, visual event rules,
rejected completions, page views, picker tokens

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch (copy and rename) of portals on SQLite would drop the
    # old table, and with foreign keys on that cascades into every portal's data.
    op.add_column(
        "portals", sa.Column("allowed_domains", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "portals",
        sa.Column("consent_required", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("event_definitions", sa.Column("tracking_rule", sa.Text(), nullable=True))
    op.create_table(
        "rejected_completions",
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("event_name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("property_name", sa.String(length=50), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("example", sa.String(length=256), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_rejected_completions_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "portal_id",
            "event_name",
            "reason",
            "property_name",
            name=op.f("pk_rejected_completions"),
        ),
    )
    op.create_table(
        "page_views",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.BigInteger(), nullable=False),
        sa.Column("uuid", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("referrer", sa.String(length=1024), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_page_views_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_page_views_visitor_id_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_views")),
        sa.UniqueConstraint("visitor_id", "uuid", name=op.f("uq_page_views_visitor_id_uuid")),
    )
    op.create_index(
        op.f("ix_page_views_portal_id_occurred_at"), "page_views", ["portal_id", "occurred_at"]
    )
    op.create_table(
        "picker_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("page_url", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_picker_tokens_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_picker_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_picker_tokens")),
    )


def downgrade() -> None:
    op.drop_table("picker_tokens")
    op.drop_index(op.f("ix_page_views_portal_id_occurred_at"), table_name="page_views")
    op.drop_table("page_views")
    op.drop_table("rejected_completions")
    # ALTER TABLE … DROP COLUMN on both engines (SQLite 3.35 on), for the reason above.
    op.execute("ALTER TABLE event_definitions DROP COLUMN tracking_rule")
    op.execute("ALTER TABLE portals DROP COLUMN consent_required")
    op.execute("ALTER TABLE portals DROP COLUMN allowed_domains")
