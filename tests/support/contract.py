"""Checking our HTTP answers against one of HubSpot's published OpenAPI files.

`Contract.load(path)` reads a spec file and builds two schema registries for it: the spec
as published (for request bodies: the test sends what a client built from the spec could
send) and a stricter copy (for what we answer). The stricter copy closes every object
schema under components/schemas (`additionalProperties: false`), so a field we send that
HubSpot does not declare, or a misspelt one, fails. `Error` also allows `status: "error"`,
which HubSpot's real error bodies hold but its schema leaves out. Formats are checked
(date-time, uuid, int32), which jsonschema skips unless told to.

Failures name the operation and list each problem by its path in the body.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

FORMATS = FormatChecker(formats=())
METHODS = frozenset({"get", "post", "patch", "delete", "put"})


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError(f"{value!r} has no time part")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def pointer(*parts: str) -> str:
    """A JSON pointer to parts, escaped (spec paths hold '/' and '{')."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def closed(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose object schemas allow only the properties they declare."""
    strict = copy.deepcopy(spec)
    schemas = strict["components"]["schemas"]
    for schema in schemas.values():
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    if "Error" in schemas:
        schemas["Error"]["properties"]["status"] = {"const": "error"}
    return strict


def validate(validator: Draft202012Validator, instance: Any, what: str) -> None:
    """Assert instance is valid, listing up to 8 problems by their path in it."""
    problems = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not problems, f"{what}: {len(problems)} problems: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
        for e in problems[:8]
    )


@dataclass(frozen=True)
class Contract:
    """One spec file: its operations, and validators for what they take and answer."""

    spec: dict[str, Any]
    uri: str
    strict: Registry[Any]
    loose: Registry[Any]

    @classmethod
    def load(cls, path: Path, relax: Callable[[dict[str, Any]], None] | None = None) -> Contract:
        """`relax` may edit the closed copy in place, for a detail of the spec that cannot
        be met; say why where it is called."""
        spec = json.loads(path.read_text())
        strict = closed(spec)
        if relax is not None:
            relax(strict)
        uri = f"urn:hubspot:{path.stem}"

        def registry(contents: dict[str, Any]) -> Registry[Any]:
            resource = Resource.from_contents(contents, default_specification=DRAFT202012)
            return Registry().with_resource(uri, resource)

        return cls(spec, uri, registry(strict), registry(spec))

    def operations(self, under: str = "") -> set[tuple[str, str]]:
        """(METHOD, spec path) of every operation whose path contains `under`."""
        return {
            (method.upper(), path)
            for path, item in self.spec["paths"].items()
            if under in path
            for method in item
            if method in METHODS
        }

    def operation(self, method: str, path: str) -> dict[str, Any]:
        found: dict[str, Any] = self.spec["paths"][path][method.lower()]
        return found

    def statuses(self, method: str, path: str) -> set[int]:
        """The status codes the operation documents (not `default`)."""
        return {int(c) for c in self.operation(method, path)["responses"] if c.isdigit()}

    def success_status(self, method: str, path: str) -> int:
        """The one 2xx status the operation documents, leaving aside 207 (Multi-Status),
        the partial-success answer, which a caller asks for by name."""
        codes = [c for c in self.statuses(method, path) if 200 <= c < 300 and c != 207]
        assert len(codes) == 1, f"{method} {path} documents {sorted(codes)}"
        return codes[0]

    def validator(self, at: str, *, strict: bool = True) -> Draft202012Validator:
        """A validator for the schema at JSON pointer `at` in the spec."""
        return Draft202012Validator(
            {"$ref": f"{self.uri}#{at}"},
            registry=self.strict if strict else self.loose,
            format_checker=FORMATS,
        )

    def schema(self, name: str) -> Draft202012Validator:
        """The closed components/schemas/`name`."""
        return self.validator(pointer("components", "schemas", name))

    def check_response(
        self, method: str, path: str, r: httpx2.Response, status: int | None = None
    ) -> None:
        """The status is the documented success (or `status`, which the operation must
        document) and the body validates against the closed schema given for it."""
        expected = self.success_status(method, path) if status is None else status
        what = f"{method} {path}"
        assert expected in self.statuses(method, path), f"{what} does not document {expected}"
        assert r.status_code == expected, f"{what}: {r.status_code} {r.text[:300]}"
        response = self.operation(method, path)["responses"][str(expected)]
        if "application/json" not in (response.get("content") or {}):
            assert r.content == b"", f"{what} answers {expected} with a body"
            return
        assert r.headers["content-type"].startswith("application/json"), what
        at = pointer(
            "paths",
            path,
            method.lower(),
            "responses",
            str(expected),
            "content",
            "application/json",
            "schema",
        )
        validate(self.validator(at), r.json(), what)

    def check_request(self, method: str, path: str, body: Any) -> None:
        """Our test body is one a client built from this spec could send."""
        at = pointer(
            "paths", path, method.lower(), "requestBody", "content", "application/json", "schema"
        )
        validate(self.validator(at, strict=False), body, f"request {method} {path}")

    def check_error(self, r: httpx2.Response) -> None:
        """An error status, with a body that validates against the closed `Error`."""
        assert r.status_code >= 400, f"{r.status_code} {r.text[:300]}"
        validate(self.schema("Error"), r.json(), f"error {r.status_code}")
