"""/crm/v3/imports answers checked against HubSpot's crm-imports-v3.json (closed schemas,
formats checked: tests/support/contract.py). Every operation the file lists is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_imports import GOOD, HEADER, post_import, start, wait
from tests.api.test_imports import demo as demo  # the fixture
from tests.support.contract import Contract

# occur's additions to PublicImportResponse (docs/api.md): the event's short name, the
# share of rows read (or removed, while reverting), whether a revert is under way, and
# why a FAILED import failed.
EXTENSIONS = {
    "eventName": {"type": "string"},
    "progress": {"type": "number"},
    "reverting": {"type": "boolean"},
    "reason": {"type": "string"},
}


def _relax(strict: dict[str, Any]) -> None:
    response = strict["components"]["schemas"]["PublicImportResponse"]["properties"]
    assert not EXTENSIONS.keys() & response.keys()  # still additions, not HubSpot's own
    response.update(EXTENSIONS)


@pytest.fixture
def contract(shared_dir: Path) -> Contract:
    return Contract.load(shared_dir / "spec" / "hubspot" / "crm-imports-v3.json", _relax)


def test_every_import_operation_answers_as_the_spec_says(
    api: TestClient, contract: Contract, demo: dict[str, Any]
) -> None:
    base = "/crm/v3/imports"
    called: set[tuple[str, str]] = set()
    r = post_import(api, "\n".join([HEADER, *GOOD, "bad,X,2026-03-01,,,,"]))
    contract.check_response("POST", base, r)
    called.add(("POST", base))
    import_id = r.json()["id"]
    wait(api, import_id)
    for path, url, params in [
        (base, base, {"limit": "1"}),
        (f"{base}/{{importId}}", f"{base}/{import_id}", {}),
        (f"{base}/{{importId}}/errors", f"{base}/{import_id}/errors", {"limit": "1"}),
    ]:
        contract.check_response("GET", path, api.get(url, params=params))
        called.add(("GET", path))
    api.app.state.ctx.worker.stop()  # type: ignore[attr-defined]
    running = start(api, [HEADER, *GOOD])
    r = api.post(f"{base}/{running}/cancel")
    contract.check_response("POST", f"{base}/{{importId}}/cancel", r)
    called.add(("POST", f"{base}/{{importId}}/cancel"))
    assert called == contract.operations()


def test_import_errors_answer_in_the_error_shape(
    api: TestClient, contract: Contract, demo: dict[str, Any]
) -> None:
    for r in [
        post_import(api, b""),
        post_import(api, "\n".join([HEADER, *GOOD]), {"name": "no event"}),
        api.get("/crm/v3/imports/12345"),
        api.post("/crm/v3/imports", json={}),
    ]:
        contract.check_error(r)
