"""The assembled tracking script is cached per portal until what it carries changes."""

from __future__ import annotations

import json

import pytest

from occur.errors import NotFound
from occur.services import definitions, tracking_settings
from occur.services.definitions import CUSTOM_SCRIPT
from occur.services.tracking_script import (
    ScriptCache,
    ScriptSettings,
    script_for,
    script_json,
)
from occur.store.db import Database
from tests.conftest import Tenant

SETTINGS = ScriptSettings("https://occur.example/tools")


def test_the_script_is_assembled_once_per_change(db: Database, tenant: Tenant) -> None:
    cache = ScriptCache()
    first = script_for(db, SETTINGS, cache, tenant.portal_id)
    assert script_for(db, SETTINGS, cache, tenant.portal_id) is first
    # Behind a path prefix: the collector keeps it, the picker's origin does not.
    assert f'"collector":"https://occur.example/tools/collect/{tenant.portal_id}"' in first.text
    assert '"origin":"https://occur.example"' in first.text

    made = definitions.create(
        db, tenant.portal_id, {"label": "Played", "primaryObject": "CONTACT"},
        max_definitions=10, tracking_type=CUSTOM_SCRIPT, code="played();",
    )  # fmt: skip
    second = script_for(db, SETTINGS, cache, tenant.portal_id)
    assert second is not first and "played();" in second.text
    assert script_for(db, SETTINGS, cache, tenant.portal_id) is second
    definitions.update(db, tenant.portal_id, made.name, {"label": "Played a video"})
    third = script_for(db, SETTINGS, cache, tenant.portal_id)
    assert third is not second and third.text == second.text and third.etag == second.etag
    tracking_settings.update_tracking_settings(
        db, tenant.portal_id, allowed_domains="", consent_required=True
    )
    assert '"consentRequired":true' in script_for(db, SETTINGS, cache, tenant.portal_id).text


def test_unknown_portals_are_not_found(db: Database, tenant: Tenant) -> None:
    for portal_id in (0, -1, tenant.portal_id + 1000, 2**31, 2**63):
        with pytest.raises(NotFound):
            script_for(db, SETTINGS, ScriptCache(), portal_id)


def test_configuration_json_is_safe_anywhere_in_a_script() -> None:
    text = script_json({"v": "</script><!-- \u2028\u2029 é"})
    assert text == '{"v":"\\u003c/script>\\u003c!-- \\u2028\\u2029 \\u00e9"}'
    assert json.loads(text) == {"v": "</script><!-- \u2028\u2029 é"}
