"""Bearer tokens: hashed at rest, 401 without a valid one, 403 without the scope."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from occur.domain.scopes import EVENT_DEFINITIONS
from occur.errors import InvalidAuthentication
from occur.services import access
from occur.store.db import Database
from occur.store.schema import access_tokens
from tests.conftest import Tenant

DEFS = "/events/v3/event-definitions"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer occur-pat-not-a-real-token"],
)
def test_missing_or_invalid_token_is_401(client: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = client.get(DEFS, headers=headers)
    assert r.status_code == 401
    body = r.json()
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["status"] == "error"
    assert body["correlationId"]


def test_token_without_the_scope_is_403_naming_it(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    issued = access.create_token(db, tenant.portal_id, ["crm.objects.contacts.read"])
    r = client.get(DEFS, headers={"Authorization": f"Bearer {issued.secret}"})
    assert r.status_code == 403
    body = r.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["context"]["requiredScopes"] == [EVENT_DEFINITIONS]


def test_token_with_the_scope_is_let_in(client: TestClient, db: Database, tenant: Tenant) -> None:
    issued = access.create_token(db, tenant.portal_id, [EVENT_DEFINITIONS])
    r = client.get(DEFS, headers={"Authorization": f"bearer {issued.secret}"})
    assert r.status_code == 200
    assert r.json()["total"] == 0


def test_tokens_are_stored_only_as_a_sha256_hash(db: Database, tenant: Tenant) -> None:
    with db.read() as conn:
        rows = conn.execute(select(access_tokens)).all()
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0])
    assert tenant.token not in stored
    secret_part = tenant.token.removeprefix(access.TOKEN_PREFIX)
    assert secret_part[:12] not in stored
    assert rows[0].token_hash == hashlib.sha256(tenant.token.encode()).hexdigest()
    # 32 random bytes: well over the 128 bits asked for.
    assert len(secret_part) >= 43


def test_two_tokens_differ(db: Database, tenant: Tenant) -> None:
    first = access.create_token(db, tenant.portal_id, [EVENT_DEFINITIONS])
    second = access.create_token(db, tenant.portal_id, [EVENT_DEFINITIONS])
    assert first.secret != second.secret


def test_a_revoked_token_stops_working_once_the_cache_expires(db: Database, tenant: Tenant) -> None:
    issued = access.create_token(db, tenant.portal_id, [EVENT_DEFINITIONS])
    header = f"Bearer {issued.secret}"
    cached = access.Authenticator(db, cache_seconds=60)
    uncached = access.Authenticator(db, cache_seconds=0)
    assert cached.authenticate(header).token_id == issued.row.id
    access.revoke_token(db, issued.row.id)
    # Within its window the cache still answers; a fresh look-up refuses.
    assert cached.cached(header) is not None
    with pytest.raises(InvalidAuthentication):
        uncached.authenticate(header)


def test_revoked_token_is_401_over_http(client: TestClient, db: Database, tenant: Tenant) -> None:
    issued = access.create_token(db, tenant.portal_id, [EVENT_DEFINITIONS])
    access.revoke_token(db, issued.row.id)
    r = client.get(DEFS, headers={"Authorization": f"Bearer {issued.secret}"})
    assert r.status_code == 401
