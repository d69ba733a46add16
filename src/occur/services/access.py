"""Portals and access tokens: creating them, and turning a bearer token into a Principal."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection

from occur.domain.access import Principal
from occur.domain.scopes import ALL_SCOPES, unknown_scopes
from occur.errors import FieldError, InvalidAuthentication, NotFound, ValidationError
from occur.services.clock import now_ms
from occur.store import access as store
from occur.store.access import PortalRow, TokenRow
from occur.store.db import Database

TOKEN_PREFIX = "occur-pat-"
TOKEN_CACHE_SECONDS = 5.0
MAX_PORTAL_NAME_CHARS = 200


@dataclass(frozen=True)
class IssuedToken:
    """A token as shown once: the secret itself never reaches the store."""

    secret: str
    row: TokenRow


def hash_token(secret: str) -> str:
    """SHA-256 is enough for 256-bit random secrets and cheap on every request."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_portal(db: Database, name: str) -> tuple[PortalRow, IssuedToken]:
    """Create a portal and a token that holds every scope."""
    name = name.strip()
    if not name or len(name) > MAX_PORTAL_NAME_CHARS:
        raise ValidationError(
            f"A portal name must be 1 to {MAX_PORTAL_NAME_CHARS} characters.",
            errors=[FieldError("Invalid portal name.", in_="name")],
        )
    with db.write() as conn:
        portal = store.insert_portal(conn, name, now_ms())
        token = _issue(conn, portal.id, ALL_SCOPES, "Full access (created with the portal)")
    return portal, token


def create_token(db: Database, portal_id: int, scopes: list[str], name: str = "") -> IssuedToken:
    unknown = unknown_scopes(scopes)
    if unknown or not scopes:
        raise ValidationError(
            "Unknown scope(s): " + ", ".join(unknown) if unknown else "Name at least one scope.",
            errors=[FieldError(f"Unknown scope {s!r}.", in_="scopes") for s in unknown],
            context={"knownScopes": list(ALL_SCOPES)},
        )
    with db.write() as conn:
        if store.get_portal(conn, portal_id) is None:
            raise NotFound(f"No portal {portal_id}.")
        ordered = tuple(s for s in ALL_SCOPES if s in set(scopes))
        return _issue(conn, portal_id, ordered, name or "Access token")


def revoke_token(db: Database, token_id: int, portal_id: int | None = None) -> None:
    """Revoke a live token; with `portal_id`, only one of that portal's (the web app)."""
    with db.write() as conn:
        if not store.revoke_token(conn, token_id, now_ms(), portal_id=portal_id):
            raise NotFound(f"No live token {token_id}.")


def portal_tokens(db: Database, portal_id: int) -> list[TokenRow]:
    with db.read() as conn:
        return store.list_tokens(conn, portal_id)


def has_portal(db: Database) -> bool:
    with db.read() as conn:
        return store.count_portals(conn) > 0


def _issue(conn: Connection, portal_id: int, scopes: tuple[str, ...], name: str) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = store.insert_token(
        conn,
        portal_id=portal_id,
        token_hash=hash_token(secret),
        hint=secret[-4:],
        name=name,
        scopes=scopes,
        now_ms=now_ms(),
    )
    return IssuedToken(secret=secret, row=row)


class Authenticator:
    """Bearer token → Principal, with a short cache so most requests skip the store.

    A revoked token stops working within TOKEN_CACHE_SECONDS, also when it was revoked
    from another process (the CLI).
    """

    def __init__(self, db: Database, cache_seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self._db = db
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, authorization: str | None) -> Principal | None:
        """The principal for this header if it was checked recently; never touches the store."""
        if not authorization:
            return None
        scheme, _, secret = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        with self._lock:
            hit = self._cache.get(hash_token(secret.strip()))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def authenticate(self, authorization: str | None) -> Principal:
        secret = _bearer(authorization)
        digest = hash_token(secret)
        now = time.monotonic()
        with self._db.read() as conn:
            row = store.find_live_token(conn, digest)
        if row is None:
            with self._lock:
                self._cache.pop(digest, None)
            raise InvalidAuthentication("The access token is not valid (unknown or revoked).")
        principal = Principal(row.portal_id, row.id, frozenset(row.scopes))
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self._cache_seconds, principal)
        return principal


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise InvalidAuthentication()
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise InvalidAuthentication("Send the token as `Authorization: Bearer <token>`.")
    return secret.strip()
