"""Portals and access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from occur.store.schema import access_tokens, portals


@dataclass(frozen=True)
class PortalRow:
    id: int
    name: str
    created_at: int
    time_zone: str = "UTC"
    week_start: str = "SUNDAY"


@dataclass(frozen=True)
class TokenRow:
    id: int
    portal_id: int
    hint: str
    name: str
    scopes: tuple[str, ...]
    created_at: int
    revoked_at: int | None


def insert_portal(conn: Connection, name: str, now_ms: int) -> PortalRow:
    portal_id = conn.execute(
        insert(portals).values(name=name, created_at=now_ms).returning(portals.c.id)
    ).scalar_one()
    return PortalRow(id=portal_id, name=name, created_at=now_ms)


def get_portal(conn: Connection, portal_id: int) -> PortalRow | None:
    row = conn.execute(select(portals).where(portals.c.id == portal_id)).first()
    if row is None:
        return None
    return PortalRow(row.id, row.name, row.created_at, row.time_zone, row.week_start)


def update_portal(
    conn: Connection, portal_id: int, *, name: str, time_zone: str, week_start: str
) -> None:
    conn.execute(
        update(portals)
        .where(portals.c.id == portal_id)
        .values(name=name, time_zone=time_zone, week_start=week_start)
    )


def first_portal(conn: Connection) -> PortalRow | None:
    portal_id = conn.execute(select(func.min(portals.c.id))).scalar_one()
    return None if portal_id is None else get_portal(conn, portal_id)


def count_portals(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(portals)).scalar_one())


def insert_token(
    conn: Connection,
    *,
    portal_id: int,
    token_hash: str,
    hint: str,
    name: str,
    scopes: tuple[str, ...],
    now_ms: int,
) -> TokenRow:
    token_id = conn.execute(
        insert(access_tokens)
        .values(
            portal_id=portal_id,
            token_hash=token_hash,
            hint=hint,
            name=name,
            scopes=" ".join(scopes),
            created_at=now_ms,
        )
        .returning(access_tokens.c.id)
    ).scalar_one()
    return TokenRow(token_id, portal_id, hint, name, scopes, now_ms, None)


def find_live_token(conn: Connection, token_hash: str) -> TokenRow | None:
    """The unrevoked token with this hash, if any."""
    row = conn.execute(
        select(access_tokens).where(
            access_tokens.c.token_hash == token_hash, access_tokens.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else _token(row)


def list_tokens(conn: Connection, portal_id: int) -> list[TokenRow]:
    rows = conn.execute(
        select(access_tokens)
        .where(access_tokens.c.portal_id == portal_id)
        .order_by(access_tokens.c.id)
    )
    return [_token(row) for row in rows]


def revoke_token(
    conn: Connection, token_id: int, now_ms: int, *, portal_id: int | None = None
) -> bool:
    """Revoke a live token; False when there is no such live token (in that portal)."""
    query = update(access_tokens).where(
        access_tokens.c.id == token_id, access_tokens.c.revoked_at.is_(None)
    )
    if portal_id is not None:
        query = query.where(access_tokens.c.portal_id == portal_id)
    return conn.execute(query.values(revoked_at=now_ms)).rowcount == 1


def _token(row: Row[Any]) -> TokenRow:
    return TokenRow(
        id=row.id,
        portal_id=row.portal_id,
        hint=row.hint,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
