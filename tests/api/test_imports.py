"""/crm/v3/imports through HTTP on both stores: a CSV import end to end, per-row errors,
refused files, cancel, revert, re-imports, scopes and tenant isolation.

The app's own worker runs the imports (the TestClient runs its lifespan); tests wait for
an import to finish by polling it with a deadline.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from starlette.testclient import TestClient

from occur.config import Settings
from occur.domain.scopes import CRM_IMPORT, EVENTS_SEND
from occur.services import uploads
from occur.store.db import Database
from occur.store.schema import import_errors, imports, jobs
from tests.api.test_crm_objects import create, token_with
from tests.conftest import Tenant
from tests.support.events import count, counts, define, send
from tests.support.http import expect_error

BASE = "/crm/v3/imports"
PROPERTIES = [
    {"label": "Plan", "name": "plan", "type": "enumeration",
     "options": [{"label": "Pro", "value": "pro"}, {"label": "Free", "value": "free"}]},
    {"label": "Seconds", "name": "seconds", "type": "number"},
    {"label": "Paid", "name": "paid", "type": "bool"},
    {"label": "Note", "name": "note", "type": "string"},
]  # fmt: skip
HEADER = "Email,First name,Date,Plan,Seconds,Paid,Note"
GOOD = [
    "ada@example.com,Ada,2026-03-01 10:00,Pro,12.5,yes,first",
    "bob@example.com,Bob,2026-03-02 11:30,free,3,no,",
    "ada@example.com,,2026-03-03 09:15,pro;free,1,true,again",
]
FINISHED = ("DONE", "FAILED", "CANCELED", "REVERTED")


@pytest.fixture
def demo(api: TestClient) -> dict[str, Any]:
    return define(api, {"label": "Watched demo", "name": "watched_demo",
                        "propertyDefinitions": PROPERTIES})  # fmt: skip


def _request(**extra: Any) -> dict[str, Any]:
    return {
        "name": "March demos",
        "eventName": "watched_demo",
        "dateFormat": "YEAR_MONTH_DAY",
        "timeZone": "Europe/Paris",
        **extra,
    }


def _mapped(*mappings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _request(files=[{"fileImportPage": {"columnMappings": list(mappings)}}], **extra)


def post_import(
    client: TestClient,
    data: bytes | str,
    request: dict[str, Any] | None = None,
    *,
    filename: str = "events.csv",
    headers: dict[str, str] | None = None,
) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    return client.post(
        BASE,
        data={"importRequest": json.dumps(request if request is not None else _request())},
        files={"files": (filename, raw, "text/csv")},
        headers=headers,
    )


def start(client: TestClient, lines: list[str], request: dict[str, Any] | None = None) -> str:
    r = post_import(client, "\n".join(lines) + "\n", request)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["state"] in ("STARTED", "PROCESSING", "DONE")
    return str(body["id"])


def wait(client: TestClient, import_id: str, seconds: float = 30.0) -> dict[str, Any]:
    """Poll the import until it has finished; the deadline fails a stuck import."""
    deadline = time.monotonic() + seconds
    while True:
        r = client.get(f"{BASE}/{import_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["state"] in FINISHED:
            return body
        assert time.monotonic() < deadline, f"import {import_id} still {body['state']}"
        time.sleep(0.05)


def counters(body: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = body["metadata"]["counters"]
    return found


def occurrences(client: TestClient, portal_id: int, **params: str) -> list[dict[str, Any]]:
    r = client.get(
        "/events/v3/events",
        params={"eventType": f"pe{portal_id}_watched_demo", "limit": "100", **params},
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["results"]
    return found


def all_errors(client: TestClient, import_id: str) -> list[dict[str, Any]]:
    r = client.get(f"{BASE}/{import_id}/errors", params={"limit": "1000"})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["results"]
    return found


def contact_by_email(client: TestClient, email: str) -> dict[str, Any]:
    r = client.get(
        f"/crm/v3/objects/contacts/{email}",
        params={"idProperty": "email", "properties": "email,firstname"},
    )
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


# --- end to end ----------------------------------------------------------------------


def test_a_csv_import_reaches_done_and_its_completions_read_back(
    api: TestClient, tenant: Tenant, demo: dict[str, Any]
) -> None:
    bob = create(api, "contacts", email="bob@example.com", firstname="Robert")
    import_id = start(api, [HEADER, *GOOD])
    body = wait(api, import_id)
    assert body["state"] == "DONE", body
    assert body["importName"] == "March demos"
    assert body["importSource"] == "API"
    assert body["progress"] == 1
    assert set(body["mappedObjectTypeIds"]) == {"0-1", demo["objectTypeId"]}
    assert counters(body) == {
        "TOTAL_ROWS": 3,
        "PROCESSED_ROWS": 3,
        "CREATED_OBJECTS": 1,  # ada; bob existed
        "UPDATED_OBJECTS": 1,  # bob's first name
        "CREATED_EVENTS": 3,
        "DUPLICATE_EVENTS": 0,
        "ROWS_WITH_ERRORS": 0,
    }
    ada = contact_by_email(api, "ada@example.com")
    assert ada["properties"]["firstname"] == "Ada"
    assert contact_by_email(api, "bob@example.com")["properties"]["firstname"] == "Bob"
    found = occurrences(api, tenant.portal_id, objectType="contact", objectId=ada["id"])
    by_time = sorted(found, key=lambda e: e["occurredAt"])
    assert [e["occurredAt"] for e in by_time] == [
        "2026-03-01T09:00:00.000Z",  # 10:00 in Paris
        "2026-03-03T08:15:00.000Z",
    ]
    assert by_time[0]["properties"] == {
        "plan": "pro",
        "seconds": "12.5",
        "paid": "true",
        "note": "first",
    }
    assert by_time[1]["properties"]["plan"] == "pro;free"
    [bobs] = occurrences(api, tenant.portal_id, objectType="contact", objectId=bob["id"])
    assert bobs["properties"] == {"plan": "free", "seconds": "3", "paid": "false"}
    listed = api.get(BASE).json()["results"]
    assert [i["id"] for i in listed] == [import_id]
    assert all_errors(api, import_id) == []


def test_column_mappings_in_hubspots_shape_and_a_record_id_column(
    api: TestClient, tenant: Tenant, demo: dict[str, Any]
) -> None:
    ada = create(api, "contacts", email="ada@example.com")
    event_type = demo["objectTypeId"]
    request = {
        "name": "By id",
        "dateFormat": "DAY_MONTH_YEAR",
        "files": [
            {
                "fileFormat": "CSV",
                "fileImportPage": {
                    "hasHeader": True,
                    "columnMappings": [
                        {"columnName": "Contact", "columnObjectTypeId": "0-1",
                         "idColumnType": "HUBSPOT_OBJECT_ID", "propertyName": "hs_object_id"},
                        {"columnName": "When", "columnObjectTypeId": event_type,
                         "columnType": "EVENT_TIMESTAMP"},
                        {"columnName": "Forfait", "columnObjectTypeId": event_type,
                         "propertyName": "plan"},
                        {"columnName": "Ignored"},
                    ],
                },
            }
        ],
    }  # fmt: skip
    import_id = start(
        api, ["Contact;When;Forfait;Ignored", f"{ada['id']};31/01/2026;Pro;x"], request
    )
    assert wait(api, import_id)["state"] == "DONE"
    [event] = occurrences(api, tenant.portal_id, objectType="contact", objectId=ada["id"])
    assert event["occurredAt"] == "2026-01-31T00:00:00.000Z"
    assert event["properties"] == {"plan": "pro"}


# --- per-row errors ------------------------------------------------------------------


def test_every_kind_of_bad_row_is_reported_and_the_good_rows_stored(
    api: TestClient, tenant: Tenant, demo: dict[str, Any]
) -> None:
    long_note = "n" * 257
    lines = [
        HEADER,
        "ok@example.com,Ok,2026-03-01,Pro,1,yes,fine",  # line 2
        "short@example.com,Short,2026-03-01",  # 3 INCORRECT_NUMBER_OF_COLUMNS
        "not-an-email,X,2026-03-01,Pro,1,yes,",  # 4 INVALID_EMAIL
        "d@example.com,X,tomorrow,Pro,1,yes,",  # 5 COULD_NOT_PARSE_DATE
        "e@example.com,X,,Pro,1,yes,",  # 6 MISSING_EVENT_TIMESTAMP
        "f@example.com,X,2026-03-01,Gold,1,yes,",  # 7 INVALID_ENUMERATION_OPTION
        "g@example.com,X,2026-03-01,Pro,lots,yes,",  # 8 COULD_NOT_PARSE_NUMBER
        "h@example.com,X,2026-03-01,Pro,1,maybe,",  # 9 INVALID_PROPERTY_VALUE_FORMAT
        f"i@example.com,X,2026-03-01,Pro,1,yes,{long_note}",  # 10 COLUMN_TOO_LARGE
        "j@example.com,X,2026-03-01,Gold,many,yes,",  # 11 two problems in one row
    ]
    import_id = start(api, lines)
    body = wait(api, import_id)
    assert body["state"] == "DONE"
    assert counters(body)["ROWS_WITH_ERRORS"] == 9
    assert counters(body)["CREATED_EVENTS"] == 1
    found = all_errors(api, import_id)
    by_line = [(e["sourceData"]["lineNumber"], e["errorType"]) for e in found]
    assert by_line == [
        (3, "INCORRECT_NUMBER_OF_COLUMNS"),
        (4, "INVALID_EMAIL"),
        (5, "COULD_NOT_PARSE_DATE"),
        (6, "MISSING_EVENT_TIMESTAMP"),
        (7, "INVALID_ENUMERATION_OPTION"),
        (8, "COULD_NOT_PARSE_NUMBER"),
        (9, "INVALID_PROPERTY_VALUE_FORMAT"),
        (10, "COLUMN_TOO_LARGE"),
        (11, "INVALID_ENUMERATION_OPTION"),
        (11, "COULD_NOT_PARSE_NUMBER"),
    ]
    plan_error = found[4]
    assert plan_error["invalidValue"] == "Gold"
    assert plan_error["knownColumnNumber"] == 3
    assert plan_error["errorMessage"]
    assert plan_error["sourceData"]["rowData"] == lines[6].split(",")
    bare = api.get(
        f"{BASE}/{import_id}/errors",
        params={"includeErrorMessage": "false", "includeRowData": "false", "limit": "3"},
    ).json()
    assert len(bare["results"]) == 3 and "errorMessage" not in bare["results"][0]
    assert bare["results"][0]["sourceData"]["rowData"] == []
    second = api.get(
        f"{BASE}/{import_id}/errors", params={"after": bare["paging"]["next"]["after"]}
    )
    assert [e["sourceData"]["lineNumber"] for e in second.json()["results"]][:1] == [6]
    assert len(occurrences(api, tenant.portal_id)) == 1


def test_an_unknown_record_id_is_a_row_error_not_a_failed_chunk(
    api: TestClient, tenant: Tenant, demo: dict[str, Any]
) -> None:
    ada = create(api, "contacts", email="ada@example.com")
    request = _request(
        files=[{"fileImportPage": {"columnMappings": [
            {"columnName": "Id", "columnObjectTypeId": "0-1", "idColumnType": "HUBSPOT_OBJECT_ID"},
            {"columnName": "Date", "columnObjectTypeId": demo["objectTypeId"],
             "columnType": "EVENT_TIMESTAMP"},
        ]}}]
    )  # fmt: skip
    import_id = start(
        api, ["Id,Date", f"{ada['id']},2026-03-01", "999999,2026-03-01", "x,2026-03-01"], request
    )
    body = wait(api, import_id)
    assert (counters(body)["CREATED_EVENTS"], counters(body)["ROWS_WITH_ERRORS"]) == (1, 2)
    found = all_errors(api, import_id)
    assert [(e["sourceData"]["lineNumber"], e["errorType"]) for e in found] == [
        (3, "INVALID_OBJECT_ID"),
        (4, "INVALID_OBJECT_ID"),
    ]
    assert found[0]["invalidValue"] == "999999"
    assert found[0]["knownColumnNumber"] == 0


def test_the_error_file_holds_each_failing_row_once_with_its_reasons(
    api: TestClient, demo: dict[str, Any]
) -> None:
    lines = [HEADER, GOOD[0], "j@example.com,X,2026-03-01,Gold,many,yes,", "bad,X,2026-03-01,,,,"]
    import_id = start(api, lines)
    wait(api, import_id)
    r = api.get(f"{BASE}/{import_id}/errors.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = text.lstrip("\ufeff").splitlines()
    assert rows[0] == HEADER + ",Error"
    assert len(rows) == 3
    assert rows[1].startswith("j@example.com,X,2026-03-01,Gold,many,yes,,")
    assert "Plan" in rows[1] and "Seconds" in rows[1]
    assert rows[2].startswith("bad,")


# --- refused before anything exists ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY_FILE"),
        (HEADER.encode() + b"\n", "EMPTY_FILE"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "INVALID_FILE_TYPE"),
        (bytes(range(0, 32)) * 40, "INVALID_FILE_TYPE"),
        (b"PK\x03\x04 not really a zip", "INVALID_FILE_TYPE"),
    ],
)
def test_an_unreadable_file_is_refused_and_creates_nothing(
    api: TestClient, db: Database, settings: Settings, demo: dict[str, Any], data: bytes, code: str
) -> None:
    r = post_import(api, data)
    expect_error(r, 400, "VALIDATION_ERROR", in_="files", code=code)
    _nothing_created(api, db, settings)


def test_a_request_that_does_not_fit_the_file_is_refused_and_creates_nothing(
    api: TestClient, db: Database, settings: Settings, demo: dict[str, Any]
) -> None:
    csv = "\n".join([HEADER, *GOOD])
    page = "files[0].fileImportPage"
    no_such_column = _mapped({"columnName": "Mail", "columnObjectTypeId": "0-1",
                              "propertyName": "email"})  # fmt: skip
    r = post_import(api, csv, no_such_column)
    expect_error(r, 400, "VALIDATION_ERROR", in_=f"{page}.columnMappings[0].columnName")
    no_time = _mapped({"columnName": "Email", "columnObjectTypeId": "0-1",
                       "propertyName": "email"})  # fmt: skip
    r = post_import(api, csv, no_time)
    expect_error(r, 400, "VALIDATION_ERROR", in_=f"{page}.columnMappings", code="REQUIRED")
    r = post_import(api, csv, _request(dateFormat="SOMETIMES", timeZone="Mars/Olympus"))
    body = expect_error(r, 400, "VALIDATION_ERROR", in_="dateFormat")
    assert "timeZone" in [e["in"] for e in body["errors"]]
    expect_error(post_import(api, csv, _request(eventName="nope")), 404, "OBJECT_NOT_FOUND")
    r = post_import(api, csv, {"name": "No event"})
    expect_error(r, 400, "VALIDATION_ERROR", in_="eventName")
    r = api.post(BASE, files={"importRequest": (None, json.dumps(_request()))})
    expect_error(r, 400, "VALIDATION_ERROR", in_="files")
    r = api.post(BASE, files={"files": ("a.csv", csv.encode(), "text/csv")})
    expect_error(r, 400, "VALIDATION_ERROR", in_="importRequest")
    r = api.post(BASE, files={"files": ("a.csv", csv.encode())}, data={"importRequest": "{"})
    expect_error(r, 400, "VALIDATION_ERROR", in_="body", code="MALFORMED_JSON")
    r = api.post(BASE, json=_request())
    expect_error(r, 415, "VALIDATION_ERROR")
    _nothing_created(api, db, settings)


def test_an_upload_over_the_limit_is_413_and_leaves_no_file(
    api: TestClient,
    db: Database,
    settings: Settings,
    demo: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1_000)
    big = "\n".join([HEADER] + [GOOD[0]] * 100)
    r = post_import(api, big)
    expect_error(r, 413, "VALIDATION_ERROR")
    declared = api.post(
        BASE,
        content=b"x",
        headers={
            "content-type": "multipart/form-data; boundary=b",
            "content-length": str(1_000 + 2 * 1024 * 1024),
        },
    )
    expect_error(declared, 413, "VALIDATION_ERROR")
    _nothing_created(api, db, settings)


def _nothing_created(api: TestClient, db: Database, settings: Settings) -> None:
    assert api.get(BASE).json()["results"] == []
    assert (count(db, imports), count(db, jobs), count(db, import_errors)) == (0, 0, 0)
    assert counts(db)["events"] == 0
    staged = settings.data_dir / uploads.IMPORTS_DIR
    assert not staged.exists() or list(staged.iterdir()) == []


# --- cancel, revert, re-import -------------------------------------------------------


def test_cancel_before_the_worker_starts_it_stores_nothing(
    client: TestClient, api: TestClient, db: Database, settings: Settings, demo: dict[str, Any]
) -> None:
    worker = client.app.state.ctx.worker  # type: ignore[attr-defined]
    worker.stop()
    import_id = start(api, [HEADER, *GOOD])
    r = api.post(f"{BASE}/{import_id}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CANCELED"
    assert set(r.json()) >= {"status", "startedAt", "completedAt"}
    again = api.post(f"{BASE}/{import_id}/cancel")
    expect_error(again, 409, "CONFLICT")
    worker.start()
    worker.wake()
    deadline = time.monotonic() + 10
    while list((settings.data_dir / uploads.IMPORTS_DIR).iterdir()):
        assert time.monotonic() < deadline, "the canceled import's file was never removed"
        time.sleep(0.05)
    body = api.get(f"{BASE}/{import_id}").json()
    assert body["state"] == "CANCELED"
    assert counters(body)["PROCESSED_ROWS"] == 0
    assert counts(db)["events"] == 0


def test_revert_removes_its_completions_and_the_contacts_only_it_made(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any]
) -> None:
    bob = create(api, "contacts", email="bob@example.com")
    send(api, {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": bob["id"]})
    lines = [HEADER, *GOOD, "cy@example.com,Cy,2026-03-04,Pro,1,yes,"]
    import_id = start(api, lines)
    assert counters(wait(api, import_id))["CREATED_OBJECTS"] == 2  # ada, cy
    cy = contact_by_email(api, "cy@example.com")
    send(api, {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": cy["id"]})
    assert len(occurrences(api, tenant.portal_id)) == 6
    expect_error(api.post(f"{BASE}/{import_id}/cancel"), 409, "CONFLICT")
    r = api.post(f"{BASE}/{import_id}/revert")
    assert r.status_code == 200, r.text
    assert r.json()["state"] in ("PROCESSING", "REVERTED")  # a job removes the rows
    done = wait(api, import_id)
    assert done["state"] == "REVERTED" and done["reverting"] is False
    assert counters(done)["REMOVED_EVENTS"] == 4
    assert counters(done)["CREATED_EVENTS"] == 4  # what the import did stays told
    left = occurrences(api, tenant.portal_id)
    assert sorted(e["objectId"] for e in left) == sorted([bob["id"], cy["id"]])
    r = api.get("/crm/v3/objects/contacts/ada@example.com", params={"idProperty": "email"})
    assert r.status_code == 404  # created by the import and holding nothing else
    contact_by_email(api, "cy@example.com")  # created by it, but has a completion sent since
    contact_by_email(api, "bob@example.com")  # existed before
    assert api.post(f"{BASE}/{import_id}/revert").json()["state"] == "REVERTED"


def test_a_revert_is_a_job_the_import_reads_processing_until_it_ends(
    client: TestClient, api: TestClient, db: Database, demo: dict[str, Any]
) -> None:
    import_id = start(api, [HEADER, *GOOD])
    assert counters(wait(api, import_id))["CREATED_EVENTS"] == 3
    worker = client.app.state.ctx.worker  # type: ignore[attr-defined]
    worker.stop()
    r = api.post(f"{BASE}/{import_id}/revert")
    assert r.status_code == 200, r.text
    body = r.json()
    # HubSpot's enum has no state for it: PROCESSING, with occur's `reverting`.
    assert (body["state"], body["reverting"], body["progress"]) == ("PROCESSING", True, 0)
    assert counters(body)["REMOVED_EVENTS"] == 0
    assert counts(db)["events"] == 3  # nothing removed in the request
    again = api.post(f"{BASE}/{import_id}/revert")
    assert again.status_code == 200 and again.json()["reverting"] is True
    refused = expect_error(api.post(f"{BASE}/{import_id}/cancel"), 409, "CONFLICT")
    assert "being reverted" in refused["message"] and "REVERTING" not in refused["message"]
    with db.read() as conn:
        queued = conn.execute(jobs.select().where(jobs.c.kind == "import-revert")).all()
    assert len(queued) == 1  # asked twice, queued once
    worker.start()
    worker.wake()
    done = wait(api, import_id)
    assert done["state"] == "REVERTED" and done["progress"] == 1
    assert counters(done)["REMOVED_EVENTS"] == 3
    assert counts(db)["events"] == 0


def test_a_running_import_cannot_be_reverted(
    client: TestClient, api: TestClient, demo: dict[str, Any]
) -> None:
    client.app.state.ctx.worker.stop()  # type: ignore[attr-defined]
    import_id = start(api, [HEADER, *GOOD])
    expect_error(api.post(f"{BASE}/{import_id}/revert"), 409, "CONFLICT")


def test_importing_a_file_again_stores_no_duplicates(
    api: TestClient, tenant: Tenant, demo: dict[str, Any]
) -> None:
    first = wait(api, start(api, [HEADER, *GOOD]))
    assert counters(first)["CREATED_EVENTS"] == 3
    second = wait(api, start(api, [HEADER, *GOOD]))
    assert second["state"] == "DONE"
    assert counters(second)["CREATED_EVENTS"] == 0
    assert counters(second)["DUPLICATE_EVENTS"] == 3
    assert counters(second)["ROWS_WITH_ERRORS"] == 0
    assert len(occurrences(api, tenant.portal_id)) == 3


def test_a_fixed_error_file_imports_only_the_rows_that_failed(
    api: TestClient, tenant: Tenant, demo: dict[str, Any]
) -> None:
    bad = "dee@example.com,Dee,2026-03-05,Gold,2,yes,"
    import_id = start(api, [HEADER, *GOOD, bad])
    assert counters(wait(api, import_id))["ROWS_WITH_ERRORS"] == 1
    error_csv = api.get(f"{BASE}/{import_id}/errors.csv").content.decode("utf-8-sig")
    lines = error_csv.splitlines()
    fixed = [",".join(lines[0].split(",")[:-1]), bad.replace("Gold", "Pro")]
    again = wait(api, start(api, [*fixed, *GOOD]))
    assert counters(again)["CREATED_EVENTS"] == 1
    assert counters(again)["DUPLICATE_EVENTS"] == 3
    assert len(occurrences(api, tenant.portal_id)) == 4


# --- scopes and tenants --------------------------------------------------------------


def test_every_import_route_needs_the_crm_import_scope(
    client: TestClient, api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any]
) -> None:
    import_id = wait(api, start(api, [HEADER, *GOOD]))["id"]
    sender = token_with(db, tenant, EVENTS_SEND)
    importer = token_with(db, tenant, CRM_IMPORT)
    calls = [
        ("GET", BASE),
        ("GET", f"{BASE}/{import_id}"),
        ("GET", f"{BASE}/{import_id}/errors"),
        ("GET", f"{BASE}/{import_id}/errors.csv"),
        ("POST", f"{BASE}/{import_id}/cancel"),
        ("POST", f"{BASE}/{import_id}/revert"),
    ]
    for method, url in calls:
        r = client.request(method, url, headers=sender)
        body = expect_error(r, 403, "MISSING_SCOPES")
        assert body["context"] == {"requiredScopes": [CRM_IMPORT]}
    r = post_import(client, "\n".join([HEADER, *GOOD]), headers=sender)
    expect_error(r, 403, "MISSING_SCOPES")
    r = post_import(client, "\n".join([HEADER, *GOOD]), headers=importer)
    assert r.status_code == 200, r.text
    assert client.get(f"{BASE}/{import_id}", headers=importer).status_code == 200


def test_another_portal_cannot_see_or_cancel_the_import(
    client: TestClient, api: TestClient, db: Database, other_tenant: Tenant, demo: dict[str, Any]
) -> None:
    client.app.state.ctx.worker.stop()  # type: ignore[attr-defined]
    import_id = start(api, [HEADER, *GOOD])
    h = other_tenant.headers
    assert client.get(BASE, headers=h).json()["results"] == []
    for method, url in [
        ("GET", f"{BASE}/{import_id}"),
        ("GET", f"{BASE}/{import_id}/errors"),
        ("GET", f"{BASE}/{import_id}/errors.csv"),
        ("POST", f"{BASE}/{import_id}/cancel"),
        ("POST", f"{BASE}/{import_id}/revert"),
    ]:
        expect_error(client.request(method, url, headers=h), 404, "OBJECT_NOT_FOUND")
    assert api.get(f"{BASE}/{import_id}").json()["state"] == "STARTED"
    # Nor may another portal import into this portal's event, named by its objectTypeId.
    borrowed = _request(eventName=None, files=[{"fileImportPage": {"columnMappings": [
        {"columnName": "Date", "columnObjectTypeId": demo["objectTypeId"],
         "columnType": "EVENT_TIMESTAMP"}]}}])  # fmt: skip
    r = post_import(client, "\n".join([HEADER, *GOOD]), borrowed, headers=h)
    expect_error(r, 404, "OBJECT_NOT_FOUND")


def test_list_pages_newest_first(api: TestClient, demo: dict[str, Any], tmp_path: Path) -> None:
    ids = [start(api, [HEADER, GOOD[i]]) for i in range(3)]
    first = api.get(BASE, params={"limit": "2"}).json()
    assert [i["id"] for i in first["results"]] == [ids[2], ids[1]]
    rest = api.get(BASE, params={"limit": "2", "after": first["paging"]["next"]["after"]}).json()
    assert [i["id"] for i in rest["results"]] == [ids[0]]
    assert "paging" not in rest
    expect_error(api.get(BASE, params={"after": "x"}), 400, "VALIDATION_ERROR", in_="after")
    expect_error(api.get(f"{BASE}/999999"), 404, "OBJECT_NOT_FOUND")


def test_an_xlsx_sheet_imports_with_its_typed_cells(
    api: TestClient, tenant: Tenant, demo: dict[str, Any], tmp_path: Path
) -> None:
    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Demos")
    sheet.append(["Email", "Date", "Plan", "Seconds", "Paid"])
    sheet.append(["ada@example.com", datetime(2026, 3, 1, 10, 0), "Pro", 12.5, True])
    sheet.append(["bob@example.com", datetime(2026, 3, 2, 11, 30), "free", 3, False])
    path = tmp_path / "demos.xlsx"
    book.save(path)
    request = _request(sheetName="Demos", dateFormat="DAY_MONTH_YEAR", timeZone="UTC")
    r = post_import(api, path.read_bytes(), request, filename="demos.xlsx")
    assert r.status_code == 200, r.text
    body = wait(api, r.json()["id"])
    assert body["state"] == "DONE", body
    assert counters(body)["CREATED_EVENTS"] == 2
    assert body["importRequestJson"]["sheetName"] == "Demos"
    found = sorted(occurrences(api, tenant.portal_id), key=lambda e: e["occurredAt"])
    assert [e["occurredAt"] for e in found] == [
        "2026-03-01T10:00:00.000Z",
        "2026-03-02T11:30:00.000Z",
    ]
    assert found[0]["properties"] == {"plan": "pro", "seconds": "12.5", "paid": "true"}
    missing = post_import(api, path.read_bytes(), _request(sheetName="Nope"), filename="d.xlsx")
    expect_error(missing, 400, "VALIDATION_ERROR", in_="files", code="SHEET_NOT_FOUND")


def test_a_second_file_or_a_broken_form_is_refused_and_leaves_no_file(
    api: TestClient, db: Database, settings: Settings, demo: dict[str, Any]
) -> None:
    csv = "\n".join([HEADER, *GOOD]).encode()
    two = api.post(
        BASE,
        data={"importRequest": json.dumps(_request())},
        files=[("files", ("a.csv", csv, "text/csv")), ("files", ("b.csv", csv, "text/csv"))],
    )
    expect_error(two, 400, "VALIDATION_ERROR", in_="files")
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.csv"\r\n\r\n'
        + csv
        + b"\r\n--b\r\nContent-Disposition: form-da"  # cut off mid-part
    )
    cut = api.post(BASE, content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert cut.status_code == 400, cut.text
    _nothing_created(api, db, settings)
