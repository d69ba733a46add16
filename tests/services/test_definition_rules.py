"""Definitions keep what the tracking script carries: valid code blocks only, and the
selector and URL rule of visual events."""

from __future__ import annotations

import pytest

from occur.domain.url_rules import TrackingRule, UrlRule
from occur.errors import ValidationError
from occur.services import definitions
from occur.services.definitions import CUSTOM_SCRIPT
from occur.store.db import Database
from tests.conftest import Tenant


def _body(label: str) -> dict[str, object]:
    return {"label": label, "primaryObject": "CONTACT"}


def test_a_code_block_that_is_not_valid_javascript_is_refused_with_where(
    db: Database, tenant: Tenant
) -> None:
    with pytest.raises(ValidationError) as refused:
        definitions.create(
            db, tenant.portal_id, _body("Played video"), max_definitions=10,
            tracking_type=CUSTOM_SCRIPT, code="ok();\nplay(",
        )  # fmt: skip
    assert refused.value.message == (
        "The code is not valid JavaScript. Line 2, column 1: unexpected 'play('."
    )
    (problem,) = refused.value.errors
    assert problem.in_ == "code" and "Line 2, column 1" in problem.message
    made = definitions.create(
        db, tenant.portal_id, _body("Played video"), max_definitions=10,
        tracking_type=CUSTOM_SCRIPT, code="ok();",
    )  # fmt: skip
    assert made.name == "played_video"  # the refused create took no name
    for escaping in ("}); evil(); (function(){", "await ready();"):
        with pytest.raises(ValidationError):
            definitions.set_code(db, tenant.portal_id, made.name, escaping)
    assert definitions.code(db, tenant.portal_id, made.name) == "ok();"


def test_visual_events_keep_their_rule(db: Database, tenant: Tenant) -> None:
    clicked = definitions.create(
        db, tenant.portal_id, _body("Clicked buy"), max_definitions=10,
        tracking_type="CLICKED_ELEMENT", tracking_rule={"selector": "#buy"},
    )  # fmt: skip
    assert definitions.tracking_rule(db, tenant.portal_id, clicked.name) == TrackingRule(
        "#buy", None
    )
    rule = {"selector": "a.buy", "url": {"op": "begins_with", "value": "/shop"}}
    saved = definitions.set_tracking_rule(db, tenant.portal_id, clicked.name, rule)
    assert saved == TrackingRule("a.buy", UrlRule("begins_with", "/shop"))
    assert definitions.tracking_rule(db, tenant.portal_id, clicked.fully_qualified_name) == saved
    assert definitions.get(db, tenant.portal_id, clicked.name).version == clicked.version + 1

    visited = definitions.create(
        db, tenant.portal_id, _body("Saw pricing"), max_definitions=10,
        tracking_type="VISITED_URL",
    )  # fmt: skip
    assert definitions.tracking_rule(db, tenant.portal_id, visited.name) is None
    with pytest.raises(ValidationError) as refused:
        definitions.set_tracking_rule(db, tenant.portal_id, visited.name, {"selector": "#a"})
    assert [e.in_ for e in refused.value.errors] == ["trackingRule.selector", "trackingRule.url"]


def test_only_visual_events_take_a_rule(db: Database, tenant: Tenant) -> None:
    with pytest.raises(ValidationError):
        definitions.create(
            db, tenant.portal_id, _body("Bad"), max_definitions=10,
            tracking_type="VISITED_URL", tracking_rule={"url": {"op": "near", "value": "/"}},
        )  # fmt: skip
    manual = definitions.create(db, tenant.portal_id, _body("Manual"), max_definitions=10)
    assert manual.name == "manual"
    with pytest.raises(ValidationError) as refused:
        rule = {"url": {"op": "is", "value": "/"}}
        definitions.set_tracking_rule(db, tenant.portal_id, manual.name, rule)
    assert "Only visual events" in refused.value.message
    assert definitions.tracking_rule(db, tenant.portal_id, manual.name) is None
