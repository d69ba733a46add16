"""What a portal's tracking script carries: its consent setting, code blocks and visual
rules, and a cheap number that changes whenever any of them may have changed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from occur.store.schema import event_definitions as defs
from occur.store.schema import portals

CUSTOM_SCRIPT = "CUSTOM_SCRIPT"
VISUAL_TYPES = ("CLICKED_ELEMENT", "VISITED_URL")


@dataclass(frozen=True)
class ScriptVersion:
    """Changes with every change to the portal's definitions or its consent setting:
    every definition change bumps its `version` (store/definitions.touch), a new or
    deleted definition changes the count or a version, so their sum and count do too."""

    consent_required: bool
    definitions: int
    version_sum: int
    last_updated_at: int


@dataclass(frozen=True)
class CodeBlock:
    name: str
    code: str


@dataclass(frozen=True)
class VisualRule:
    name: str
    tracking_type: str
    rule_json: str


@dataclass(frozen=True)
class ScriptSource:
    portal_id: int
    consent_required: bool
    code_blocks: tuple[CodeBlock, ...]
    visual_rules: tuple[VisualRule, ...]


def script_version(conn: Connection, portal_id: int) -> ScriptVersion | None:
    """One aggregate over the portal's definitions (None: no such portal)."""
    row = conn.execute(
        select(
            portals.c.consent_required,
            func.count(defs.c.id),
            func.coalesce(func.sum(defs.c.version), 0),
            func.coalesce(func.max(defs.c.updated_at), 0),
        )
        .select_from(portals.outerjoin(defs, defs.c.portal_id == portals.c.id))
        .where(portals.c.id == portal_id)
        .group_by(portals.c.id, portals.c.consent_required)
    ).first()
    if row is None:
        return None
    return ScriptVersion(bool(row[0]), int(row[1]), int(row[2]), int(row[3]))


def script_source(conn: Connection, portal_id: int) -> ScriptSource | None:
    """The portal's live code blocks and visual rules, oldest definition first."""
    consent = conn.execute(
        select(portals.c.consent_required).where(portals.c.id == portal_id)
    ).first()
    if consent is None:
        return None
    rows = conn.execute(
        select(defs.c.name, defs.c.tracking_type, defs.c.custom_code, defs.c.tracking_rule)
        .where(
            defs.c.portal_id == portal_id,
            defs.c.deleted_at.is_(None),
            defs.c.tracking_type.in_((CUSTOM_SCRIPT, *VISUAL_TYPES)),
        )
        .order_by(defs.c.id)
    ).all()
    blocks = tuple(
        CodeBlock(r.name, r.custom_code)
        for r in rows
        if r.tracking_type == CUSTOM_SCRIPT and r.custom_code
    )
    visual = tuple(
        VisualRule(r.name, r.tracking_type, r.tracking_rule)
        for r in rows
        if r.tracking_type in VISUAL_TYPES and r.tracking_rule
    )
    return ScriptSource(portal_id, bool(consent[0]), blocks, visual)
