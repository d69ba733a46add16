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
    false,
    text,
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
    # Every chart buckets days and weeks in the portal's zone, from its first weekday.
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("week_start", String(8), nullable=False, server_default="SUNDAY"),
    # The tracking script's collector accepts pages on these hosts (and their
    # subdomains), one per line; empty: any site. docs/tracking.md.
    Column("allowed_domains", Text, nullable=False, server_default=""),
    # The script sets no cookie and sends nothing until the page reports consent.
    Column("consent_required", Boolean, nullable=False, server_default=false()),
)

# People who sign in to the web app. Email is stored lowercased (one account per address).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("password_changed_at", BigInteger, nullable=False),
)

# Which portals a user may see, and as what: "admin" or "member".
memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "portal_id"),
)

# Signed-in browsers. The cookie holds a random secret; only its SHA-256 is stored, so a
# copy of the database cannot be used to sign in.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "user_id"),
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
    # Bumped by every change to the definition or its properties: ingestion validates
    # against a cached copy and the writer re-checks this number before storing.
    Column("version", Integer, nullable=False, server_default="1"),
    # Deleted definitions keep their row so that the name stays reserved forever.
    Column("deleted_at", BigInteger, nullable=True),
    # JavaScript-code events (trackingType CUSTOM_SCRIPT): the block the tracking script
    # runs on every page. Kept out of EventDefinition: the send path never needs it.
    Column("custom_code", Text, nullable=True),
    # Visual events (CLICKED_ELEMENT, VISITED_URL): the selector and URL rule the tracking
    # script binds, as JSON (domain/url_rules.py reads and writes it).
    Column("tracking_rule", Text, nullable=True),
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

visitors = Table(
    "visitors",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    # The hubspotutk cookie value that names an anonymous browser.
    Column("utk", String(100), nullable=False),
    # The contact the visitor turned out to be, once identified.
    Column(
        "contact_id", BigInteger, ForeignKey("crm_objects.id", ondelete="CASCADE"), nullable=True
    ),
    Column("created_at", BigInteger, nullable=False),
    Column("identified_at", BigInteger, nullable=True),
    UniqueConstraint("portal_id", "utk"),
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
    Column("uuid", String(100), nullable=False),
    Column("object_type_id", String(16), nullable=False),
    # NULL while the occurrence belongs to an anonymous visitor only.
    Column("object_id", BigInteger, nullable=True),
    Column("visitor_id", BigInteger, ForeignKey("visitors.id", ondelete="SET NULL"), nullable=True),
    Column("occurred_at", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    # {name: canonical text} as JSON, written and read by store/events.py only.
    Column("properties", Text, nullable=False),
    # The spreadsheet import that stored the occurrence (revert deletes by it); NULL for
    # sends and the tracking script.
    Column("import_id", BigInteger, nullable=True),
    UniqueConstraint("definition_id", "uuid"),
    Index(None, "portal_id", "object_type_id", "object_id", "occurred_at", "id"),
    # Keyed (definition, time, id) for ranges and keyset pages. The record columns ride
    # along so that unique-record counts read the index only: a busy type's rows are
    # spread over the whole table among other types', and fetching each one cost more
    # than the count (bench/pages.py). The name keeps its key prefix, as plans cite it.
    Index(
        "ix_events_definition_id_occurred_at_id",
        "definition_id",
        "occurred_at",
        "id",
        "object_id",
        "visitor_id",
    ),
    Index(None, "visitor_id"),
    # Partial: the send path's rows (import_id NULL) add no index entry.
    Index(
        "ix_events_import_id",
        "import_id",
        sqlite_where=text("import_id IS NOT NULL"),
        postgresql_where=text("import_id IS NOT NULL"),
    ),
)

# One row per property value of an occurrence, so that `property.{name}=value` reads are
# index lookups instead of JSON scans. `value_key` is the value's first 200 characters:
# the indexed column stays within PostgreSQL's btree row limit even for 1,024-character
# URLs in four-byte UTF-8, and `value` holds the whole text for the exact comparison.
# `record_key` copies the occurrence's record (object id, or minus the visitor id while
# anonymous) so that unique-record counts by property value read this index alone instead
# of joining every events row (bench/pages.py); store/events.py keeps it in step.
event_values = Table(
    "event_values",
    metadata,
    Column(
        "event_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("events.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(50), primary_key=True),
    Column("definition_id", Integer, nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("value_key", String(200), nullable=False),
    Column("value", Text, nullable=False),
    Column("record_key", BigInteger, nullable=True),
    Index(
        "ix_event_values_lookup",
        "definition_id",
        "name",
        "value_key",
        "occurred_at",
        "event_id",
        "record_key",
    ),
)

# Completions the tracking script sent that could not be stored as sent: an event name the
# portal does not define (the completion is dropped) or a property value that does not
# read as its type (the value is dropped). Counted per (name, reason, property) so that
# a busy site's mistake costs one row, not one per page view.
rejected_completions = Table(
    "rejected_completions",
    metadata,
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), primary_key=True),
    Column("event_name", String(100), primary_key=True),
    Column("reason", String(40), primary_key=True),
    # "" when the whole completion was dropped.
    Column("property_name", String(50), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    # An example of what was sent, cut short, to help find the page that sent it.
    Column("example", String(256), nullable=False, server_default=""),
)

# Page views the tracking script reported (trackPageView), for timelines and attribution.
page_views = Table(
    "page_views",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_id", BigInteger, ForeignKey("visitors.id", ondelete="CASCADE"), nullable=False),
    Column("uuid", String(100), nullable=False),
    Column("url", String(1024), nullable=False),
    Column("title", String(256), nullable=False),
    Column("referrer", String(1024), nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("visitor_id", "uuid"),
    Index(None, "portal_id", "occurred_at"),
)

# One-time tokens of the visual event picker: the wizard opens the customer's page with
# the token, the page's script posts the chosen selector back to the wizard, which
# redeems the token once (hashed at rest, like every other secret).
picker_tokens = Table(
    "picker_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("portal_id", Integer, ForeignKey("portals.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("page_url", String(1024), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
)

# Durable jobs (DESIGN §2): the worker claims due rows (PostgreSQL: FOR UPDATE SKIP
# LOCKED), beats while it runs one, and a running row whose heartbeat is older than the
# lease is claimed again, so a crashed worker's job resumes elsewhere. store/jobs.py.
jobs = Table(
    "jobs",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("kind", String(50), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("run_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("locked_by", String(100), nullable=True),
    Column("heartbeat_at", BigInteger, nullable=True),
    # At most one job per key, ever (e.g. "import:42").
    Column("dedupe_key", String(200), nullable=True, unique=True),
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Index(None, "state", "run_at"),
)

# Spreadsheet imports (docs/imports.md): one row per import, its counters moved in the
# same transaction as the rows they count, so a resumed import neither loses nor repeats.
imports = Table(
    "imports",
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
    Column("name", String(200), nullable=False),
    # STARTED | PROCESSING | DONE | FAILED | CANCELED | REVERTING | REVERTED
    Column("state", String(16), nullable=False),
    Column("source", String(16), nullable=False),  # API | CRM_UI | CLI
    Column("request_json", Text, nullable=False),
    # The file's header row as JSON, kept for the error file once the upload is gone.
    Column("header_json", Text, nullable=False),
    Column("staged_id", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("total_rows", BigInteger, nullable=False),
    Column("next_line", BigInteger, nullable=False),
    Column("rows_read", BigInteger, nullable=False, server_default="0"),
    Column("contacts_created", BigInteger, nullable=False, server_default="0"),
    Column("contacts_updated", BigInteger, nullable=False, server_default="0"),
    Column("completions_created", BigInteger, nullable=False, server_default="0"),
    Column("duplicates", BigInteger, nullable=False, server_default="0"),
    Column("rows_with_errors", BigInteger, nullable=False, server_default="0"),
    # What a revert removed so far (its progress); the counters above stay as imported.
    Column("completions_removed", BigInteger, nullable=False, server_default="0"),
    Column("reason", Text, nullable=True),
    Column("created_by_user_id", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Index(None, "portal_id", "id"),
)

# One row per problem with a row of an import's file (a row may have several).
import_errors = Table(
    "import_errors",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column(
        "import_id",
        BigInteger,
        ForeignKey("imports.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("line", BigInteger, nullable=False),
    Column("column_name", Text, nullable=True),
    Column("column_index", Integer, nullable=True),
    Column("value", Text, nullable=True),
    Column("error_type", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("cells", Text, nullable=False),  # the row's cells as JSON, for the error file
    Column("created_at", BigInteger, nullable=False),
    Index(None, "import_id", "id"),
)

# Contacts an import created: revert removes those left with nothing else.
import_records = Table(
    "import_records",
    metadata,
    Column(
        "import_id",
        BigInteger,
        ForeignKey("imports.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("object_id", BigInteger, primary_key=True),
)
