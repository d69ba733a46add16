"""A code block with a syntax error is refused where it is typed, with where and why."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from occur.services import definitions
from occur.services.definitions import CUSTOM_SCRIPT, ListQuery
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import Person, post_form, sign_in
from tests.ui.test_wizard import JS_FORM, create

_ERROR = re.compile(r'<p class="error" id="e-code">([^<]*)</p>')


def test_the_details_page_shows_the_syntax_error_beside_the_code(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    made = definitions.create(
        db, tenant.portal_id, {"label": "Played video", "primaryObject": "CONTACT"},
        max_definitions=50, tracking_type=CUSTOM_SCRIPT, code="// first",
    )  # fmt: skip
    tab = f"/app/{tenant.portal_id}/events/{made.fully_qualified_name}/details"
    sign_in(browser, admin.email)
    refused = post_form(browser, tab, tab.replace("/details", "/code"), {"code": "go(\n"})
    assert refused.status_code == 400
    found = _ERROR.search(refused.text)
    assert found and "Line 1, column 1: unexpected" in found.group(1)
    assert ">go(\n</textarea>" in refused.text  # what was typed is kept
    assert definitions.code(db, tenant.portal_id, made.name) == "// first"


def test_the_wizard_refuses_a_block_that_escapes_its_function(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    refused = create(browser, tenant, {**JS_FORM, "code": "}); steal(); (function(){"})
    assert refused.status_code == 400
    found = _ERROR.search(refused.text)
    assert found and "closes the function the block runs in" in found.group(1)
    everything = ListQuery(None, 100, None, include_properties=False, descending=False)
    assert definitions.list_page(db, tenant.portal_id, everything).definitions == []
