"""Reading untyped JSON input field by field, collecting every problem on the way.

msgspec stops at the first problem; HubSpot clients expect one `errors[]` entry per
problem, so validators read decoded JSON through a FieldReader that records each
problem under its `in` path and carries on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from occur.errors import FieldError

# PostgreSQL text cannot hold U+0000 and no label or description needs it: refusing it
# here keeps both stores able to save whatever the rules accept.
NUL = "\x00"

_JSON_TYPE = {
    str: "a string",
    bool: "true or false",
    int: "a whole number",
    list: "an array",
    dict: "an object",
}


def json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class FieldReader:
    """Collects problems while reading fields out of decoded JSON objects."""

    def __init__(self) -> None:
        self.problems: list[FieldError] = []

    def add(self, path: str | None, message: str, code: str = "INVALID") -> None:
        self.problems.append(FieldError(message=message, in_=path, code=code))

    def get(
        self,
        obj: Mapping[str, Any],
        key: str,
        kind: type,
        path: str,
        *,
        required: bool = False,
    ) -> Any:
        """Return obj[key] when it has the JSON type `kind`; else record why and return None."""
        if key not in obj or obj[key] is None:
            if required:
                self.add(path, f"{path} is required.", "REQUIRED")
            return None
        value = obj[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            self.add(
                path,
                f"{path} must be {_JSON_TYPE[kind]}, not {json_type_name(value)}.",
                "INVALID_TYPE",
            )
            return None
        return value

    def text(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        max_chars: int | None = None,
        allow_empty: bool = True,
    ) -> str | None:
        value: str | None = self.get(obj, key, str, path, required=required)
        if value is None:
            return None
        if not allow_empty and not value.strip():
            self.add(path, f"{path} must not be empty.", "REQUIRED")
            return None
        if NUL in value:
            self.add(path, f"{path} must not contain the NUL character (U+0000).", "INVALID")
            return None
        if max_chars is not None and len(value) > max_chars:
            self.add(
                path,
                f"{path} must be at most {max_chars} characters; it has {len(value)}.",
                "TOO_LONG",
            )
            return None
        return value

    def obj(self, value: object, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"{path} must be an object, not {json_type_name(value)}.", "INVALID_TYPE")
        return None
