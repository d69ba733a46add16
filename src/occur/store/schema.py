"""Tables. Migrations under migrations/ build exactly this (a test compares them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

portals = Table(
    "portals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Index(None, "portal_id"),
)

event_definitions = Table(
    "event_definitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("label", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("object_type_id", String(16), nullable=False),
    Column("tracking_type", String(32), nullable=False),
    Column("matching_event_property", String(50), nullable=True),
    Column("matching_target_property", String(100), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Deleted definitions keep their row so that the name stays reserved forever.
    Column("deleted_at", BigInteger, nullable=True),
    UniqueConstraint("portal_id", "name"),
    Index(None, "portal_id", "deleted_at", "id"),
)

event_properties = Table(
    "event_properties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "definition_id",
        Integer,
        ForeignKey("event_definitions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(50), nullable=False),
    Column("label", String(50), nullable=False),
    Column("type", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("options", JSON, nullable=False),
    Column("hubspot_defined", Boolean, nullable=False),
    Column("display_order", Integer, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("definition_id", "name"),
)

crm_objects = Table(
    "crm_objects",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    Column("object_type_id", String(16), nullable=False),
    Column("properties", JSON, nullable=False),
    # Contacts only: lowercased email, unique per portal (NULLs do not collide).
    Column("email", String(320), nullable=True),
    Column("archived", Boolean, nullable=False),
    Column("archived_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("portal_id", "object_type_id", "email"),
    Index(None, "portal_id", "object_type_id", "archived", "id"),
)

events = Table(
    "events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    Column(
        "definition_id",
        Integer,
        ForeignKey("event_definitions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("uuid", String(64), nullable=False),
    Column("object_type_id", String(16), nullable=False),
    Column("object_id", BigInteger, nullable=True),
    Column("visitor_utk", String(64), nullable=True),
    Column("occurred_at", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("definition_id", "uuid"),
    Index(None, "portal_id", "object_type_id", "object_id", "occurred_at"),
    Index(None, "definition_id", "occurred_at"),
)
