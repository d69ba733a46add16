"""Visual events' rules: which element a click must land on and which pages count.

A rule is stored as JSON in `event_definitions.tracking_rule`:

    {"selector": "#buy", "url": {"op": "contains", "value": "/pricing"}}
    {"url": {"op": "query_param_is", "param": "utm_source", "value": "ads"}}

`matches` here and `urlMatches` in src/occur/tracking/tracker.js give the same answer
for every URL (tests/unit/url_rule_cases.py is their shared table): the server can
then say which pages a rule picks without a browser, and the browser decides alone.

Semantics (docs/tracking.md):
- The page URL is compared without its `#fragment`, lowercased, and so is the value.
- A value that starts with `/` is compared with the path and query only; a value with no
  `://` is compared with the URL without its `scheme://`; otherwise the whole URL.
- `is`: equal, a single trailing `/` on either side ignored. `contains`, `begins_with`:
  as said. `matches_wildcard`: the whole text, `*` standing for any run of characters.
- `query_param_is` / `query_param_contains`: some query parameter of that name (exact,
  after percent-decoding) has a value equal to / containing the value (lowercased).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from occur.errors import FieldError, ValidationError, collect

CLICKED_ELEMENT = "CLICKED_ELEMENT"
VISITED_URL = "VISITED_URL"
VISUAL_TRACKING_TYPES = (CLICKED_ELEMENT, VISITED_URL)

IS = "is"
CONTAINS = "contains"
BEGINS_WITH = "begins_with"
MATCHES_WILDCARD = "matches_wildcard"
QUERY_PARAM_IS = "query_param_is"
QUERY_PARAM_CONTAINS = "query_param_contains"
URL_OPS = (IS, CONTAINS, BEGINS_WITH, MATCHES_WILDCARD, QUERY_PARAM_IS, QUERY_PARAM_CONTAINS)
QUERY_OPS = (QUERY_PARAM_IS, QUERY_PARAM_CONTAINS)

MAX_SELECTOR_CHARS = 1_000
MAX_RULE_VALUE_CHARS = 1_024
MAX_PARAM_CHARS = 256
# A percent sign that does not start an escape makes decodeURIComponent throw: the
# tracker then keeps the raw text, and so must we.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class UrlRule:
    op: str
    value: str
    param: str | None = None


@dataclass(frozen=True)
class TrackingRule:
    """What a visual event binds: a selector (clicks only) and pages (None: every page)."""

    selector: str | None
    url: UrlRule | None


def read_rule(raw: object, tracking_type: str, *, in_: str = "trackingRule") -> TrackingRule:
    """A valid rule for this tracking type from decoded JSON, or one ValidationError
    that lists every problem (paths under `in_`)."""
    if tracking_type not in VISUAL_TRACKING_TYPES:
        message = "Only visual events (clicked element, visited URL) carry a tracking rule."
        raise ValidationError(message, errors=[FieldError(message, in_)])
    problems: list[FieldError] = []
    if not isinstance(raw, Mapping):
        raise ValidationError(
            f"{in_} must be an object.", errors=[FieldError(f"{in_} must be an object.", in_)]
        )
    unknown = sorted(str(k) for k in raw if k not in ("selector", "url"))
    for key in unknown:
        problems.append(FieldError(f"{in_} has no field {key!r}.", f"{in_}.{key}"))
    selector = _read_selector(raw.get("selector"), tracking_type, f"{in_}.selector", problems)
    url = _read_url(raw.get("url"), tracking_type, f"{in_}.url", problems)
    collect(problems)
    return TrackingRule(selector, url)


def _read_selector(
    raw: object, tracking_type: str, in_: str, problems: list[FieldError]
) -> str | None:
    if tracking_type != CLICKED_ELEMENT:
        if raw is not None:
            problems.append(FieldError("Only clicked-element events take a selector.", in_))
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.append(FieldError("Give the CSS selector of the element to track.", in_))
        return None
    selector = raw.strip()
    if len(selector) > MAX_SELECTOR_CHARS or "\x00" in selector:
        problems.append(
            FieldError(f"A selector holds at most {MAX_SELECTOR_CHARS:,} characters.", in_)
        )
        return None
    return selector


def _read_url(
    raw: object, tracking_type: str, in_: str, problems: list[FieldError]
) -> UrlRule | None:
    if raw is None:
        if tracking_type == VISITED_URL:
            problems.append(FieldError("Say which pages count: give a URL rule.", in_))
        return None
    if not isinstance(raw, Mapping):
        problems.append(FieldError("The URL rule must be an object.", in_))
        return None
    before = len(problems)
    op = raw.get("op")
    if op not in URL_OPS:
        problems.append(FieldError("The URL rule's op must be one of " + ", ".join(URL_OPS), in_))
    value = _text(raw.get("value"), MAX_RULE_VALUE_CHARS, f"{in_}.value", problems,
                  "The URL rule needs a value.")  # fmt: skip
    param = raw.get("param")
    if op in QUERY_OPS:
        param = _text(param, MAX_PARAM_CHARS, f"{in_}.param", problems,
                      "Name the query parameter.")  # fmt: skip
    elif param is not None:
        problems.append(FieldError("Only query parameter rules name a parameter.", f"{in_}.param"))
    for key in sorted(str(k) for k in raw if k not in ("op", "value", "param")):
        problems.append(FieldError(f"The URL rule has no field {key!r}.", f"{in_}.{key}"))
    if len(problems) > before:
        return None
    assert isinstance(op, str) and value is not None
    return UrlRule(op, value, param if isinstance(param, str) else None)


def _text(
    raw: object, max_chars: int, in_: str, problems: list[FieldError], missing: str
) -> str | None:
    """A non-blank string of at most `max_chars`, stripped."""
    if not isinstance(raw, str) or not raw.strip():
        problems.append(FieldError(missing, in_))
        return None
    if len(raw) > max_chars or "\x00" in raw:
        problems.append(FieldError(f"At most {max_chars:,} characters, without NUL.", in_))
        return None
    return raw.strip()


def encode_rule(rule: TrackingRule) -> str:
    """The JSON stored in `tracking_rule` (and, with the event's name, sent to browsers)."""
    return json.dumps(rule_json(rule), separators=(",", ":"), sort_keys=True)


def rule_json(rule: TrackingRule) -> dict[str, object]:
    found: dict[str, object] = {}
    if rule.selector is not None:
        found["selector"] = rule.selector
    if rule.url is not None:
        url: dict[str, str] = {"op": rule.url.op, "value": rule.url.value}
        if rule.url.param is not None:
            url["param"] = rule.url.param
        found["url"] = url
    return found


def decode_rule(text: str | None, tracking_type: str) -> TrackingRule | None:
    """The stored rule, or None when there is none or it no longer reads as valid (a
    broken rule binds nothing rather than breaking a portal's script)."""
    if not text:
        return None
    try:
        return read_rule(json.loads(text), tracking_type)
    except (ValueError, ValidationError):
        return None


def matches(rule: UrlRule | None, url: str) -> bool:
    """Whether a page URL satisfies the rule (None: every page). Mirrors tracker.js."""
    if rule is None:
        return True
    page = url.split("#", 1)[0]
    if rule.op in QUERY_OPS:
        wanted = rule.value.lower()
        for name, value in _query_pairs(page):
            if name != rule.param:
                continue
            if value.lower() == wanted if rule.op == QUERY_PARAM_IS else wanted in value.lower():
                return True
        return False
    value = rule.value.lower()
    subject = _subject(page, value).lower()
    if rule.op == IS:
        return _strip_slash(subject) == _strip_slash(value)
    if rule.op == CONTAINS:
        return value in subject
    if rule.op == BEGINS_WITH:
        return subject.startswith(value)
    if rule.op == MATCHES_WILDCARD:
        pattern = ".*".join(re.escape(part) for part in value.split("*"))
        return re.fullmatch(pattern, subject, re.DOTALL) is not None
    return False


def _subject(page: str, value: str) -> str:
    """The part of the URL a value speaks of: path and query, host onwards, or all."""
    scheme_end = page.find("://")
    if value.startswith("/"):
        if scheme_end < 0:
            return page
        rest = page[scheme_end + 3 :]
        cut = next((i for i, ch in enumerate(rest) if ch in "/?"), -1)
        if cut < 0:
            return "/"
        return "/" + rest[cut:] if rest[cut] == "?" else rest[cut:]
    if "://" not in value and scheme_end >= 0:
        return page[scheme_end + 3 :]
    return page


def _strip_slash(text: str) -> str:
    return text[:-1] if text.endswith("/") else text


def _query_pairs(page: str) -> list[tuple[str, str]]:
    """Query parameters as a browser's tracker reads them: `+` is a space, and text
    that does not percent-decode is kept as written."""
    if "?" not in page:
        return []
    pairs = []
    for part in page.split("?", 1)[1].split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_decode(name), _decode(value)))
    return pairs


def _decode(text: str) -> str:
    text = text.replace("+", " ")
    if _BAD_ESCAPE.search(text):
        return text
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return text
