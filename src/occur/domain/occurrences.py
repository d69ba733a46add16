"""The properties of one event completion: which are kept, and as what text.

Two callers share these rules and differ only in what they do on a breach (DESIGN §1):
the HTTP send path rejects (`validate_properties`, every problem collected with its
`in` path), the tracking script's collector truncates (`truncate_properties`). Both
start from `fold_properties`, so the two paths always keep the same one of several
names that are equal after lowercasing.

Every stored value is text in a canonical form (DESIGN §3b), so that reads, filters
and charts compare like with like whichever JSON type a client chose to send.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date

from occur.domain.definitions import EventDefinition
from occur.domain.fields import json_type_name
from occur.domain.names import MAX_NAME_CHARS, fold_key, takes_long_values
from occur.domain.numbers import plain_decimal
from occur.domain.properties import (
    MAX_LONG_VALUE_CHARS,
    MAX_VALUE_CHARS,
    MULTI_VALUE_SEPARATOR,
    PropertySpec,
    PropertyType,
)
from occur.domain.timestamps import MAX_DATETIME_MS, MIN_DATETIME_MS, iso_from_ms, ms_from_iso
from occur.errors import FieldError

MAX_PROPERTIES_PER_OCCURRENCE = 50
# HubSpot's duplicates rule looks only at the first 50 names in ascending order.
DUPLICATE_WINDOW_NAMES = 50
MS_PER_DAY = 86_400_000
# Enough bits for any integer whose decimal text fits the longest value (1,024 chars);
# also keeps str(int) far below Python's 4,300-digit conversion guard.
_MAX_INT_BITS = 3_403
_NUL = "\x00"

PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
TOO_MANY_PROPERTIES = "TOO_MANY_PROPERTIES"
INVALID_TYPE = "INVALID_TYPE"
VALUE_TOO_LONG = "VALUE_TOO_LONG"
INVALID_CHARACTER = "INVALID_CHARACTER"
INVALID_NUMBER = "INVALID_NUMBER"
INVALID_BOOLEAN = "INVALID_BOOLEAN"
INVALID_DATETIME = "INVALID_DATETIME"
INVALID_DATE = "INVALID_DATE"
INVALID_ENUMERATION_OPTION = "INVALID_ENUMERATION_OPTION"

# ASCII digits only: str.isdigit() also accepts superscripts (int() refuses them) and
# other scripts' digits (int() reads them).
_INTEGER = re.compile(r"-?[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHOWN_CHARS = 40
_SHOWN_OPTIONS = 10


class InvalidValue(ValueError):
    """A property value that cannot be stored as its property's type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def value_limit_chars(property_name: str) -> int:
    """Longest value a property takes: 1,024 for URL, referrer and link ones, else 256."""
    return MAX_LONG_VALUE_CHARS if takes_long_values(property_name) else MAX_VALUE_CHARS


def fold_properties(raw: Mapping[str, object]) -> dict[str, object]:
    """Lowercase the names and keep one value per lowercased name, as HubSpot does.

    hubspot-facts §3: "sort ascending lexicographically, keep the last seen among the
    first 50". Read precisely: sort the names *as sent* by code point (so "Color" sorts
    before "color", and "COLOR" before both); walk them in that order, a later name
    replacing an earlier one with the same lowercase form ("last seen"), but only the
    first 50 names of that order may replace. A lowercased name none of whose spellings
    is among the first 50 still keeps its last spelling: dropping it here would hide it
    from the strict path's 50-properties check (DESIGN §3b counts after folding).

    The result is ordered by lowercased name, so callers iterate deterministically.
    """
    chosen: dict[str, str] = {}  # lowercased name -> the spelling whose value is kept
    in_window: set[str] = set()
    for position, name in enumerate(sorted(raw)):
        key = fold_key(name)
        if position < DUPLICATE_WINDOW_NAMES:
            chosen[key] = name
            in_window.add(key)
        elif key not in in_window:
            chosen[key] = name
    return {key: raw[chosen[key]] for key in sorted(chosen)}


def coerce_value(spec: PropertySpec, value: object) -> str:
    """The canonical text for `value` as `spec`'s type, or InvalidValue saying why not.

    JSON strings, numbers and booleans are accepted (clients send numbers although the
    spec types values as strings); objects, arrays and null are not (DESIGN §3b). The
    length limit applies to the value as sent: a string's own length, or for a number or
    boolean the text it renders as, since its JSON spelling is gone once decoded.
    """
    limit = value_limit_chars(spec.name)
    if isinstance(value, str):
        sent = value
    elif isinstance(value, bool | int | float):
        sent = _scalar_text(spec, value, limit)
    else:
        raise InvalidValue(
            INVALID_TYPE,
            f"{spec.name} takes a string, number or boolean, not {json_type_name(value)}.",
        )
    if len(sent) > limit:
        raise InvalidValue(
            VALUE_TOO_LONG,
            f"{spec.name} takes values of at most {limit} characters; this one has {len(sent)}.",
        )
    if _NUL in sent:
        # PostgreSQL text cannot hold U+0000.
        raise InvalidValue(
            INVALID_CHARACTER, f"{spec.name} must not contain the NUL character (U+0000)."
        )
    match spec.type:
        case PropertyType.STRING:
            return sent
        case PropertyType.NUMBER:
            return _number(spec, value)
        case PropertyType.BOOL:
            return _bool(spec, value)
        case PropertyType.DATETIME:
            return iso_from_ms(_epoch_ms(spec, value, INVALID_DATETIME, "a date-time"))
        case PropertyType.DATE:
            return _date(spec, value)
        case PropertyType.ENUMERATION:
            return _enumeration(spec, sent)


def validate_properties(
    definition: EventDefinition, raw: Mapping[str, object], prefix: str
) -> tuple[dict[str, str], list[FieldError]]:
    """The strict (HTTP send) path: canonical values, or every problem with its `in` path.

    DESIGN §3b order: fold names, then each must be a property of the definition, at
    most 50 may remain, and each value must coerce to its property's type. Checks do
    not stop at the first problem, so a client can fix a request in one round trip.
    `prefix` places the paths inside a larger body, e.g. "inputs[3].".
    """
    folded = fold_properties(raw)
    problems: list[FieldError] = []
    known: list[tuple[PropertySpec, object]] = []
    for name, value in folded.items():
        spec = definition.property_named(name)
        if spec is None:
            problems.append(
                FieldError(
                    message=f"{name!r} is not a property of {definition.name}.",
                    in_=f"{prefix}properties.{name}",
                    code=PROPERTY_DOESNT_EXIST,
                )
            )
        else:
            known.append((spec, value))
    if len(folded) > MAX_PROPERTIES_PER_OCCURRENCE:
        problems.append(
            FieldError(
                message=(
                    f"An event completion holds at most {MAX_PROPERTIES_PER_OCCURRENCE} "
                    f"properties; {len(folded)} were sent (names equal after lowercasing "
                    "count once)."
                ),
                in_=f"{prefix}properties",
                code=TOO_MANY_PROPERTIES,
            )
        )
    values: dict[str, str] = {}
    for spec, value in known:
        try:
            values[spec.name] = coerce_value(spec, value)
        except InvalidValue as invalid:
            problems.append(
                FieldError(
                    message=invalid.message,
                    in_=f"{prefix}properties.{spec.name}",
                    code=invalid.code,
                )
            )
    return ({} if problems else values), problems


def truncate_properties(raw: Mapping[str, object]) -> dict[str, str]:
    """The lenient (tracking script) path: keep what fits, never refuse.

    Fold as the strict path does; cut names to 50 characters and values to 256 (1,024
    for URL, referrer and link names, judged on the cut name); render booleans and
    numbers as their canonical text; drop null, objects, arrays and numbers that have no
    finite decimal form; remove NUL characters, which no store can hold. When cutting
    makes two names equal, the one whose full name sorts last wins, as in the duplicates
    rule. Of what remains, the 50 names first in ascending order are kept: the same
    window HubSpot's duplicates rule uses. Whether a name is defined is not checked here
    (DESIGN §3b keeps undefined ones hidden until defined).
    """
    kept: dict[str, str] = {}
    for name, value in fold_properties(raw).items():
        short = name.replace(_NUL, "")[:MAX_NAME_CHARS]
        text = _lenient_text(value)
        if not short or text is None:
            continue
        kept[short] = text.replace(_NUL, "")[: value_limit_chars(short)]
    return {name: kept[name] for name in sorted(kept)[:MAX_PROPERTIES_PER_OCCURRENCE]}


def _lenient_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            return plain_decimal(value)
        except ValueError:
            return None
    return None


def _scalar_text(spec: PropertySpec, value: bool | int | float, limit: int) -> str:
    """The text a decoded JSON number or boolean stands for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise InvalidValue(
            VALUE_TOO_LONG, f"{spec.name} takes values of at most {limit} characters."
        )
    try:
        return plain_decimal(value)
    except ValueError:
        raise InvalidValue(
            INVALID_NUMBER, f"{spec.name}: {value!r} is not a finite number."
        ) from None


def _number(spec: PropertySpec, value: object) -> str:
    if isinstance(value, bool):
        raise InvalidValue(INVALID_NUMBER, f"{spec.name} takes a number, not a boolean.")
    text = value.strip() if isinstance(value, str) else value
    assert isinstance(text, str | int | float)
    try:
        number = plain_decimal(text)
    except ValueError:
        raise InvalidValue(
            INVALID_NUMBER, f"{spec.name} takes a number; {_shown(value)} is not one."
        ) from None
    limit = value_limit_chars(spec.name)
    if len(number) > limit:
        raise InvalidValue(
            INVALID_NUMBER,
            f"{spec.name}: {_shown(value)} written out has more than {limit} characters.",
        )
    return number


def _bool(spec: PropertySpec, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise InvalidValue(
        INVALID_BOOLEAN, f"{spec.name} takes true or false; {_shown(value)} is neither."
    )


def _epoch_ms(spec: PropertySpec, value: object, code: str, kind: str) -> int:
    """Epoch milliseconds from a whole JSON number, an all-digit string or ISO-8601."""
    ms: int | None = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        ms = value
    elif isinstance(value, float):
        ms = int(value) if math.isfinite(value) and value.is_integer() else None
    elif isinstance(value, str):
        text = value.strip()
        ms = int(text) if _INTEGER.fullmatch(text) else ms_from_iso(text)
    if ms is None:
        raise InvalidValue(
            code,
            f"{spec.name} takes {kind} as ISO-8601 or epoch milliseconds; "
            f"{_shown(value)} is neither.",
        )
    if not MIN_DATETIME_MS <= ms <= MAX_DATETIME_MS:
        raise InvalidValue(code, f"{spec.name}: {_shown(value)} is outside the years 1000 to 9999.")
    return ms


def _date(spec: PropertySpec, value: object) -> str:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        text = value.strip()
        try:
            date.fromisoformat(text)
        except ValueError:
            raise InvalidValue(
                INVALID_DATE, f"{spec.name}: {_shown(value)} is not a calendar date."
            ) from None
        return text
    if isinstance(value, str) and not _INTEGER.fullmatch(value.strip()):
        # A date takes YYYY-MM-DD or epoch ms, not other ISO-8601 forms with a time.
        raise InvalidValue(
            INVALID_DATE,
            f"{spec.name} takes a date as YYYY-MM-DD or epoch milliseconds at UTC "
            f"midnight; {_shown(value)} is neither.",
        )
    ms = _epoch_ms(spec, value, INVALID_DATE, "a date")
    if ms % MS_PER_DAY:
        raise InvalidValue(
            INVALID_DATE,
            f"{spec.name} takes a date: epoch milliseconds must fall on UTC midnight; "
            f"{_shown(value)} does not.",
        )
    return iso_from_ms(ms)[:10]


def _enumeration(spec: PropertySpec, text: str) -> str:
    """One option value, or several joined by `;`; kept in the given order, once each."""
    allowed = spec.option_values
    chosen = list(dict.fromkeys(text.split(MULTI_VALUE_SEPARATOR)))
    unknown = [piece for piece in chosen if piece not in allowed]
    if unknown:
        listed = ", ".join(repr(o.value) for o in spec.options[:_SHOWN_OPTIONS])
        more = ", …" if len(spec.options) > _SHOWN_OPTIONS else ""
        options = f"one of {listed}{more}" if listed else "no options yet"
        raise InvalidValue(
            INVALID_ENUMERATION_OPTION,
            f"{spec.name} takes {options} (several separated by "
            f"{MULTI_VALUE_SEPARATOR!r}); "
            + ", ".join(_shown(piece) for piece in unknown)
            + (" is not an option." if len(unknown) == 1 else " are not options."),
        )
    return MULTI_VALUE_SEPARATOR.join(chosen)


def _shown(value: object) -> str:
    """A value quoted for a message, cut so one long value cannot flood the error body."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
