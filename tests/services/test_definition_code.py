"""JavaScript-code events keep their code block with the definition."""

from __future__ import annotations

import pytest

from occur.errors import NotFound, ValidationError
from occur.services import definitions
from occur.services.definitions import CUSTOM_SCRIPT, MAX_CODE_CHARS
from occur.store.db import Database
from tests.conftest import Tenant

BODY = {"label": "Played video", "primaryObject": "CONTACT", "propertyDefinitions": []}
BLOCK = "_hsq.push(['trackCustomBehavioralEvent', {name: 'pe1_played_video'}]);"


def test_code_is_stored_read_back_and_replaced(db: Database, tenant: Tenant) -> None:
    made = definitions.create(
        db, tenant.portal_id, BODY, max_definitions=10, tracking_type=CUSTOM_SCRIPT, code=BLOCK
    )
    assert made.tracking_type == CUSTOM_SCRIPT
    assert definitions.code(db, tenant.portal_id, made.name) == BLOCK
    definitions.set_code(db, tenant.portal_id, made.name, "// nothing yet")
    assert definitions.code(db, tenant.portal_id, made.name) == "// nothing yet"
    assert definitions.get(db, tenant.portal_id, made.name).version == made.version + 1


def test_code_limits_and_kinds(db: Database, tenant: Tenant, other_tenant: Tenant) -> None:
    with pytest.raises(ValidationError):
        too_long = "x" * (MAX_CODE_CHARS + 1)
        definitions.create(
            db,
            tenant.portal_id,
            BODY,
            max_definitions=10,
            tracking_type=CUSTOM_SCRIPT,
            code=too_long,
        )
    api_made = definitions.create(db, tenant.portal_id, BODY, max_definitions=10)
    assert api_made.name == "played_video"  # the refused create took no name
    assert definitions.code(db, tenant.portal_id, api_made.name) is None
    with pytest.raises(ValidationError):
        definitions.set_code(db, tenant.portal_id, api_made.name, BLOCK)
    with pytest.raises(NotFound):
        definitions.code(db, other_tenant.portal_id, api_made.name)
