"""Bad input to the definitions API: always a 4xx in HubSpot's error shape, never a 500."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_definitions import DEFS, VIEWED_CAR
from tests.support.http import expect_error

MiB = 1024 * 1024


def prepared(api: TestClient) -> None:
    """A definition with an enumeration and a string property to aim changes at."""
    r = api.post(DEFS, json={**VIEWED_CAR, "name": "e"})
    assert r.status_code == 201


# --- malformed bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"label": "x",}', b"label=x", b"\xff\xfe{}", b"{'label': 'x'}", b'{"label": NaN}'],
)
def test_malformed_json_is_400_in_body(api: TestClient, raw: bytes) -> None:
    r = api.post(DEFS, content=raw, headers={"Content-Type": "application/json"})
    body = expect_error(r, 400, "VALIDATION_ERROR", "body")
    assert body["errors"][0]["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize("raw", [b"", b"   \n"])
def test_a_missing_body_is_400(api: TestClient, raw: bytes) -> None:
    expect_error(api.post(DEFS, content=raw), 400, "VALIDATION_ERROR", "body")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", ""), ("PATCH", "/e"), ("POST", "/e/property"), ("PATCH", "/e/property/condition")],
)
def test_malformed_json_on_every_body_route(api: TestClient, method: str, path: str) -> None:
    prepared(api)
    r = api.request(method, DEFS + path, content=b'{"label": ')
    expect_error(r, 400, "VALIDATION_ERROR", "body")


# --- wrong JSON types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"label": 5}, "label"),
        ({"label": ["Viewed"]}, "label"),
        ({"name": 5}, "name"),
        ({"description": {}}, "description"),
        ({"includeDefaultProperties": "false"}, "includeDefaultProperties"),
        ({"propertyDefinitions": {}}, "propertyDefinitions"),
        ({"propertyDefinitions": "condition"}, "propertyDefinitions"),
        ({"propertyDefinitions": [None]}, "propertyDefinitions[0]"),
        ({"propertyDefinitions": [[]]}, "propertyDefinitions[0]"),
        ({"customMatchingId": 1}, "customMatchingId"),
        ({"primaryObject": ["CONTACT"]}, "primaryObject"),
    ],
)
def test_wrong_types_on_create_name_the_field(
    api: TestClient, change: dict[str, Any], where: str
) -> None:
    r = api.post(DEFS, json={**VIEWED_CAR, **change})
    body = expect_error(r, 400, "VALIDATION_ERROR", where)
    assert body["errors"][0]["code"] in {"INVALID_TYPE", "REQUIRED"}


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("label", 1, "label"),
        ("type", True, "type"),
        ("name", [], "name"),
        ("description", 2, "description"),
        ("options", "new,used", "options"),
        ("options", {"label": "N", "value": "n"}, "options"),
        ("options", [1], "options[0]"),
        ("options", [{"label": 1, "value": "n"}], "options[0].label"),
        ("options", [{"label": "N", "value": 1}], "options[0].value"),
        ("options", [{"label": "N", "value": "n", "displayOrder": "1"}], "options[0].displayOrder"),
        ("options", [{"label": "N", "value": "n", "displayOrder": 1.5}], "options[0].displayOrder"),
        ("options", [{"label": "N", "value": "n", "hidden": "no"}], "options[0].hidden"),
    ],
)
def test_wrong_types_in_a_property_name_the_field(
    api: TestClient, field: str, value: Any, where: str
) -> None:
    good = copy.deepcopy(VIEWED_CAR["propertyDefinitions"][0])
    good[field] = value
    r = api.post(DEFS, json={**VIEWED_CAR, "propertyDefinitions": [good]})
    expect_error(r, 400, "VALIDATION_ERROR", f"propertyDefinitions[0].{where}")
    prepared(api)
    r = api.post(
        f"{DEFS}/e/property",
        json={"name": "other", **good} if field == "name" else {**good, "name": "other"},
    )
    expect_error(r, 400, "VALIDATION_ERROR", where)


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/e", {"label": 5}, "label"),
        ("/e", {"description": []}, "description"),
        ("/e", [], "body"),
        ("/e/property/condition", {"options": "new"}, "options"),
        ("/e/property/condition", {"label": False}, "label"),
        ("/e/property/condition", {"options": [{"value": "v"}]}, "options[0].label"),
        ("/e/property/condition", None, "body"),
    ],
)
def test_wrong_types_on_changes_name_the_field(
    api: TestClient, path: str, body: Any, where: str
) -> None:
    prepared(api)
    r = api.patch(DEFS + path, content=json.dumps(body).encode())
    expect_error(r, 400, "VALIDATION_ERROR", where)
    # Nothing changed.
    d = api.get(f"{DEFS}/e").json()
    assert d["labels"]["singular"] == "Viewed Car"
    condition = d["properties"][-2]
    assert (condition["label"], [o["value"] for o in condition["options"]]) == (
        "Condition",
        ["new", "used"],
    )


def test_every_problem_gets_its_own_entry(api: TestClient) -> None:
    body = {
        "label": "",
        "primaryObject": "LEAD",
        "propertyDefinitions": [
            {"name": "ok", "label": "Ok", "type": "string"},
            {"name": "kind", "label": "Kind", "type": "boolean"},
            {"name": "pick", "label": "Pick", "type": "enumeration", "options": []},
            {"name": "Bad-Name", "label": "Bad", "type": "string"},
            {
                "name": "dup",
                "label": "D",
                "type": "enumeration",
                "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "a"}],
            },
        ],
    }
    err = expect_error(api.post(DEFS, json=body), 400, "VALIDATION_ERROR")
    assert sorted(e["in"] for e in err["errors"]) == sorted(
        [
            "label",
            "primaryObject",
            "propertyDefinitions[1].type",
            "propertyDefinitions[2].options",
            "propertyDefinitions[3].name",
            "propertyDefinitions[4].options[1].value",
        ]
    )
    assert all(e["message"] and e["code"] for e in err["errors"])
    assert api.get(DEFS).json()["total"] == 0


# --- text that no store can hold -------------------------------------------------------


@pytest.mark.parametrize("field", ["label", "description"])
def test_a_nul_character_is_400_not_a_store_failure(api: TestClient, field: str) -> None:
    r = api.post(DEFS, json={**VIEWED_CAR, field: "a\x00b"})
    expect_error(r, 400, "VALIDATION_ERROR", field)
    prepared(api)
    expect_error(api.patch(f"{DEFS}/e", json={field: "\x00"}), 400, "VALIDATION_ERROR", field)
    r = api.patch(f"{DEFS}/e/property/condition", json={field: "x\x00"})
    expect_error(r, 400, "VALIDATION_ERROR", field)
    r = api.patch(
        f"{DEFS}/e/property/condition", json={"options": [{"label": "N\x00", "value": "n"}]}
    )
    expect_error(r, 400, "VALIDATION_ERROR", "options[0].label")


def test_non_ascii_text_round_trips(api: TestClient) -> None:
    label = "Café 🚗 - 日本"
    r = api.post(DEFS, json={"label": label, "name": "e", "description": "naïve\ttab"})
    assert r.status_code == 201
    d = api.get(f"{DEFS}/e").json()
    assert (d["labels"]["singular"], d["description"]) == (label, "naïve\ttab")
    assert d["name"] == "e"


# --- size ------------------------------------------------------------------------------


def test_a_body_over_1_mib_is_413(api: TestClient) -> None:
    raw = json.dumps({"label": "E", "description": "x" * MiB}).encode()
    assert len(raw) > MiB
    expect_error(api.post(DEFS, content=raw), 413, "VALIDATION_ERROR")
    prepared(api)
    expect_error(api.patch(f"{DEFS}/e", content=raw), 413, "VALIDATION_ERROR")


def test_a_streamed_body_over_1_mib_is_413(api: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"label": "E", "description": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    expect_error(api.post(DEFS, content=chunks()), 413, "VALIDATION_ERROR")


def test_a_body_just_under_1_mib_is_read(api: TestClient) -> None:
    head = json.dumps({"label": "Big", "name": "big", "propertyDefinitions": []})
    raw = (head[:-1] + " " * (MiB - len(head)) + "}").encode()
    assert len(raw) == MiB
    assert api.post(DEFS, content=raw).status_code == 201


# --- fuzz ------------------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    [],
    "x",
    "",
    1,
    -1,
    0.5,
    2**64,
    True,
    {},
    [None],
    [[]],
    [{}],
    {"a": {"b": [1, {"c": None}]}},
    "\x00",
    "a" * 5000,
    [{"label": {}, "value": []}],
]
ODD_BODIES: list[Any] = [*ODD_VALUES, [VIEWED_CAR], {"": ""}, {"propertyDefinitions": [1] * 60}]


def mutations(base: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every path into `base` (objects and arrays), for swapping in an odd value."""
    if isinstance(base, dict):
        for key, value in base.items():
            yield (*path, key), value
            yield from mutations(value, (*path, key))
    elif isinstance(base, list):
        for index, value in enumerate(base):
            yield (*path, index), value
            yield from mutations(value, (*path, index))


def with_value(base: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(base)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def assert_answered(r: Any, what: str) -> None:
    assert r.status_code < 500, f"{what} → {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        body = r.json()
        assert body["status"] == "error" and body["category"] and body["correlationId"], what


ROUTE_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "",
        {
            **VIEWED_CAR,
            "name": "fuzzed",
            "customMatchingId": {
                "primaryObjectRule": {
                    "eventPropertyName": "year",
                    "targetObjectPropertyName": "email",
                }
            },
        },
    ),
    ("PATCH", "/e", {"label": "L", "description": "D"}),
    ("POST", "/e/property", VIEWED_CAR["propertyDefinitions"][0] | {"name": "fuzzed"}),
    ("PATCH", "/e/property/condition", {"label": "L", "options": [{"label": "A", "value": "a"}]}),
]


@pytest.mark.parametrize(("method", "path", "base"), ROUTE_BODIES)
def test_odd_bodies_never_cause_a_server_error(
    api: TestClient, method: str, path: str, base: dict[str, Any]
) -> None:
    prepared(api)
    url = DEFS + path
    for body in ODD_BODIES:
        assert_answered(api.request(method, url, json=body), f"{method} {path} {body!r:.80}")
    for where, _ in list(mutations(base)):
        for value in ODD_VALUES:
            body = with_value(base, where, value)
            r = api.request(method, url, json=body)
            assert_answered(r, f"{method} {path} {where}={value!r:.60}")
            if method == "POST" and path == "" and r.status_code == 201:
                api.delete(f"{DEFS}/{r.json()['name']}")


def test_random_json_like_text_never_causes_a_server_error(api: TestClient) -> None:
    rng = random.Random(20260301)
    prepared(api)
    alphabet = '{}[]":,0123456789-.eE truefalsnul\\\x00éa🚗'
    for _ in range(200):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))).encode()
        for method, path in (("POST", ""), ("PATCH", "/e"), ("POST", "/e/property")):
            assert_answered(
                api.request(method, DEFS + path, content=raw), f"{method} {path} {raw!r}"
            )


@pytest.mark.parametrize(
    "segment", ["%00", "%ff", "a" * 2000, "pe1_", "%F0%9F%9A%97", "a%2Fb", "%20"]
)
def test_odd_path_segments_are_404(api: TestClient, segment: str) -> None:
    prepared(api)
    for method, tail in (("GET", ""), ("DELETE", ""), ("PATCH", "/property/x")):
        r = api.request(method, f"{DEFS}/{segment}{tail}", json={"label": "x"})
        assert r.status_code == 404, (method, segment, r.text)
    r = api.request("PATCH", f"{DEFS}/e/property/{segment}", json={"label": "x"})
    assert r.status_code == 404


def test_odd_query_parameters_never_cause_a_server_error(api: TestClient) -> None:
    prepared(api)
    odd = ["", "%", "_", "\x00", "9" * 30, "-5", "1e3", "true", "é", "a" * 3000, "[]"]
    for name in ("limit", "after", "searchString", "includeProperties", "sortOrder"):
        for value in odd:
            r = api.get(DEFS, params={name: value})
            assert_answered(r, f"{name}={value!r:.40}")


def test_deeply_nested_json_is_a_400(api: TestClient) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    expect_error(api.post(DEFS, content=raw), 400, "VALIDATION_ERROR", "body")


def test_invalid_utf8_inside_a_string_is_a_400(api: TestClient) -> None:
    r = api.post(DEFS, content=b'{"label": "caf\xe9"}')
    expect_error(r, 400, "VALIDATION_ERROR", "body")
