"""GET /js/{portalId}.js: the portal's tracking script, its caching and what it carries."""

from __future__ import annotations

import json
import re
from typing import Any

import tree_sitter_javascript
from starlette.testclient import TestClient
from tree_sitter import Language, Parser

from occur.config import Settings
from occur.domain.code_blocks import wrap
from occur.services import definitions, tracking_settings
from occur.services.definitions import CUSTOM_SCRIPT
from occur.services.tracking_script import tracker_source
from occur.store import definitions as definition_store
from occur.store.db import Database
from tests.conftest import Tenant

GOOD = "_hsq.push(['trackCustomBehavioralEvent', {name: 'pe1_played_video'}]);"
LATER = "window.occurLater = 1;"
BAD = "}); document.title = 'escaped'; (function(){"
_JS = Parser(Language(tree_sitter_javascript.language()))


def _config(text: str) -> dict[str, Any]:
    found = re.search(r"\}\)\(\n(\{.*\}),\n\[\n", text)
    assert found, text[-500:]
    config: dict[str, Any] = json.loads(found[1])
    return config


def _parses(text: str) -> bool:
    return not _JS.parse(text.encode()).root_node.has_error


def _code_event(db: Database, tenant: Tenant, label: str, code: str) -> str:
    made = definitions.create(
        db, tenant.portal_id, {"label": label, "primaryObject": "CONTACT"},
        max_definitions=50, tracking_type=CUSTOM_SCRIPT, code=code,
    )  # fmt: skip
    return made.name


def test_the_script_is_the_tracker_applied_to_the_portal_configuration(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    answer = client.get(f"/js/{tenant.portal_id}.js", headers={"Accept-Encoding": "identity"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/javascript; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert answer.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in answer.headers
    assert re.fullmatch(r'"[0-9a-f]{32}"', answer.headers["etag"])
    assert "content-security-policy" not in answer.headers  # the site's policy rules
    # Gzipped for browsers that take it (the test client unzips): the same text.
    zipped = client.get(f"/js/{tenant.portal_id}.js", headers={"Accept-Encoding": "br, gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == answer.headers["etag"][:-1] + '-gzip"'
    assert zipped.text == answer.text
    assert int(zipped.headers["content-length"]) < len(answer.content) / 2
    refused = {"Accept-Encoding": "gzip;q=0, deflate"}
    assert (
        "content-encoding" not in client.get(f"/js/{tenant.portal_id}.js", headers=refused).headers
    )
    assert answer.text.startswith(tracker_source().rstrip())
    assert _config(answer.text) == {
        "portalId": tenant.portal_id,
        "collector": f"{settings.public_url}/collect/{tenant.portal_id}",
        "origin": settings.public_url,
        "consentRequired": False,
        "visual": [],
    }
    assert _parses(answer.text)


def test_etag_answers_304_and_changes_with_what_the_script_carries(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    url = f"/js/{tenant.portal_id}.js"
    first = client.get(url).headers["etag"]
    for sent in (first, f"W/{first}", f'"other", {first}', "*"):
        again = client.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.headers["etag"] == first and again.content == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200

    tracking_settings.update_tracking_settings(
        db, tenant.portal_id, allowed_domains="", consent_required=True
    )
    consent = client.get(url, headers={"If-None-Match": first})
    assert consent.status_code == 200 and consent.headers["etag"] != first
    assert _config(consent.text)["consentRequired"] is True

    name = _code_event(db, tenant, "Played video", GOOD)
    with_code = client.get(url)
    assert with_code.headers["etag"] != consent.headers["etag"]
    definitions.set_code(db, tenant.portal_id, name, LATER)
    changed = client.get(url)
    assert changed.headers["etag"] != with_code.headers["etag"]
    assert wrap(LATER) in changed.text and GOOD not in changed.text
    definitions.delete(db, tenant.portal_id, name)
    assert LATER not in client.get(url).text


def test_unknown_portals_are_not_found(client: TestClient, tenant: Tenant) -> None:
    for path in ("/js/999999.js", "/js/0.js", "/js/99999999999999.js", "/js/abc.js"):
        assert client.get(path).status_code == 404, path


def test_code_blocks_are_compiled_in_and_a_bad_one_is_left_out(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    good = _code_event(db, tenant, "Played video", GOOD)
    bad = _code_event(db, tenant, "Escaper", "// replaced below")
    later = _code_event(db, tenant, "Later", LATER)
    # Saved before the syntax check existed: the store takes what the service refuses.
    bad_id = definitions.get(db, tenant.portal_id, bad).id
    with db.write() as conn:
        definition_store.set_code(conn, bad_id, BAD, 1)
    text = client.get(f"/js/{tenant.portal_id}.js").text
    portal = tenant.portal_id
    assert f"// pe{portal}_{good}\n{wrap(GOOD)},\n// pe{portal}_{later}\n{wrap(LATER)}\n]);" in text
    assert "escaped" not in text
    assert _parses(text)


def test_visual_rules_are_in_the_configuration(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    body = {"label": "Clicked buy", "primaryObject": "CONTACT"}
    rule = {"selector": "#buy", "url": {"op": "contains", "value": "/pricing"}}
    clicked = definitions.create(
        db, tenant.portal_id, body, max_definitions=50, tracking_type="CLICKED_ELEMENT",
        tracking_rule=rule,
    )  # fmt: skip
    visited = definitions.create(
        db, tenant.portal_id, {"label": "Saw pricing", "primaryObject": "CONTACT"},
        max_definitions=50, tracking_type="VISITED_URL",
    )  # fmt: skip
    url = f"/js/{tenant.portal_id}.js"
    assert _config(client.get(url).text)["visual"] == [
        {"name": clicked.fully_qualified_name, "type": "CLICKED_ELEMENT", **rule}
    ]
    pricing = {"url": {"op": "query_param_is", "param": "plan", "value": "pro</script>"}}
    definitions.set_tracking_rule(db, tenant.portal_id, visited.name, pricing)
    text = client.get(url).text
    assert "</script>" not in text  # `<` is escaped in the configuration
    assert _config(text)["visual"][1] == {
        "name": visited.fully_qualified_name, "type": "VISITED_URL", **pricing
    }  # fmt: skip
