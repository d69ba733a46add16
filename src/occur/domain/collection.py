"""The collector's rules (the lenient path, DESIGN §1): which completions a beacon
stores, with which values, and what is counted on the *Rejected completions* page.

A beacon is never refused for what a page put in it: an event the portal does not
define is dropped and counted, a value that does not read as its property's type is
dropped and counted, everything else is stored. The property rules are occurrences.py's,
shared with the strict HTTP path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from occur.domain.beacons import Beacon, EventKind, TrackedEvent
from occur.domain.completions import Completion
from occur.domain.definitions import EventDefinition, fully_qualified_name
from occur.domain.fields import NUL, json_type_name
from occur.domain.identity import Identity, IdentityKind
from occur.domain.names import MAX_NAME_CHARS, NAME_PATTERN, fold_key
from occur.domain.objects import CONTACT
from occur.domain.occurrences import (
    INVALID_TYPE,
    MS_PER_DAY,
    InvalidValue,
    coerce_value,
    truncate_properties,
)

UNKNOWN_EVENT = "UNKNOWN_EVENT"
NOT_A_CONTACT_EVENT = "NOT_A_CONTACT_EVENT"
INVALID_EMAIL = "INVALID_EMAIL"
# What the page names a rejected `identify` under, on the Rejected completions page.
IDENTIFY = "(identify)"
# rejected_completions column widths (store/schema.py).
MAX_REJECTED_NAME_CHARS = 100
MAX_EXAMPLE_CHARS = 256
# A browser clock a day ahead is wrong, not early: such times are stored as received.
MAX_FUTURE_MS = MS_PER_DAY


@dataclass(frozen=True, slots=True)
class Rejection:
    """One thing dropped: a whole completion (`property_name` "") or one value."""

    event_name: str
    reason: str
    property_name: str = ""
    example: str = ""


@dataclass(frozen=True, slots=True)
class PageView:
    """A page view as page_views stores it (its visitor is the beacon's utk)."""

    uuid: str
    url: str
    title: str
    referrer: str
    occurred_at: int


@dataclass(frozen=True, slots=True)
class Visit:
    """What a beacon stores besides its completions: its visitor's page views, and what
    was dropped (counted on the Rejected completions page)."""

    utk: str
    page_views: tuple[PageView, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    # The contact the visitor is to be tied to first (identify), if any.
    email: str | None = None


def plan_beacon(
    portal_id: int,
    beacon: Beacon,
    definitions: Mapping[str, EventDefinition],
    context: Mapping[str, str],
    received_at: int,
) -> tuple[list[Completion], Visit]:
    """The completions and page views a beacon stores, and what it has rejected.

    `definitions` holds the portal's live definitions by fully qualified name (those the
    beacon names); `context` the page-context values every completion gets. Completions
    belong to the beacon's visitor: a matching rule is not consulted, since a page's
    property naming a record that does not exist must not lose the completion.
    """
    identity = Identity(IdentityKind.UTK, beacon.utk, "utk")
    completions: list[Completion] = []
    views: list[PageView] = []
    rejections: list[Rejection] = []
    if beacon.unreadable_email is not None:
        rejections.append(rejected_event(IDENTIFY, INVALID_EMAIL, beacon.unreadable_email))
    for event in beacon.events:
        at = occurred_at(event.at, received_at)
        if event.kind is EventKind.PAGEVIEW:
            views.append(_page_view(event, beacon, at))
            continue
        definition = definitions.get(qualified_event_name(portal_id, event.name))
        if definition is None or definition.object_type is not CONTACT:
            reason = UNKNOWN_EVENT if definition is None else NOT_A_CONTACT_EVENT
            rejections.append(rejected_event(event.name, reason, beacon.page.url))
            continue
        values, dropped = lenient_values(definition, event.properties or {})
        rejections.extend(dropped)
        completions.append(
            Completion(
                definition_id=definition.id,
                definition_version=definition.version,
                object_type_id=definition.object_type.type_id,
                identity=identity,
                uuid=event.id,
                occurred_at=at,
                values=with_context(values, context),
            )
        )
    return completions, Visit(beacon.utk, tuple(views), tuple(rejections), beacon.email)


def _page_view(event: TrackedEvent, beacon: Beacon, at: int) -> PageView:
    page = beacon.page
    return PageView(event.id, page.url, page.title, page.referrer, at)


def may_be_defined(portal_id: int, qualified: str) -> bool:
    """Whether a qualified name could name a definition at all: only those are looked up
    in the store, so a page sending made-up names costs no queries."""
    prefix = fully_qualified_name(portal_id, "")
    return (
        qualified.startswith(prefix)
        and NAME_PATTERN.fullmatch(qualified[len(prefix) :]) is not None
    )


def qualified_event_name(portal_id: int, sent: str) -> str:
    """The fully qualified name for what a page sent: `pe{portal}_{name}` as is, or the
    short name qualified (HubSpot's script takes the full one; people write the short)."""
    prefix = fully_qualified_name(portal_id, "")
    return sent if sent.startswith(prefix) else prefix + sent


def lenient_values(
    definition: EventDefinition, raw: Mapping[str, object]
) -> tuple[dict[str, str], list[Rejection]]:
    """The values to store for what a page sent, and the values dropped on the way.

    truncate_properties folds, cuts and keeps at most 50; each value of a property the
    event defines must then read as that property's type, or it is dropped and reported.
    Names the event does not define are kept as cut (hidden until defined, DESIGN §3b).
    A defined property sent as an object, array or null (truncate_properties drops those
    without a word) is reported too.
    """
    values: dict[str, str] = {}
    dropped = _not_scalars(definition, raw)
    for name, text in truncate_properties(raw).items():
        spec = definition.property_named(name)
        if spec is None:
            values[name] = text
            continue
        try:
            values[name] = coerce_value(spec, text)
        except InvalidValue as invalid:
            dropped.append(_rejected_value(definition, name, invalid.code, text))
    return values, dropped


def _not_scalars(definition: EventDefinition, raw: Mapping[str, object]) -> list[Rejection]:
    dropped: list[Rejection] = []
    for name, value in raw.items():
        if isinstance(value, str | bool | int | float):
            continue
        short = fold_key(name).replace(NUL, "")[:MAX_NAME_CHARS]
        if definition.property_named(short) is not None:
            dropped.append(_rejected_value(definition, short, INVALID_TYPE, json_type_name(value)))
    return dropped


def _rejected_value(definition: EventDefinition, name: str, code: str, example: str) -> Rejection:
    return Rejection(definition.fully_qualified_name, code, name, example[:MAX_EXAMPLE_CHARS])


def with_context(values: Mapping[str, str], context: Mapping[str, str]) -> dict[str, str]:
    """The page's own values, then the collector's context values for names it left out."""
    return {**context, **values}


def rejected_event(sent_name: str, reason: str, example: str = "") -> Rejection:
    """A completion dropped whole, under the name the page sent (cut to fit)."""
    return Rejection(
        event_name=sent_name[:MAX_REJECTED_NAME_CHARS],
        reason=reason,
        example=example[:MAX_EXAMPLE_CHARS],
    )


def occurred_at(at: int, received_at: int) -> int:
    """When a completion happened: the browser's time, unless it is a day or more ahead."""
    return received_at if at > received_at + MAX_FUTURE_MS else at
