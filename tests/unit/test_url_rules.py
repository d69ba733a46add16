"""Visual events' rules: reading, storing, and which URLs a rule picks."""

from __future__ import annotations

from typing import Any

import pytest

from occur.domain.url_rules import (
    CLICKED_ELEMENT,
    VISITED_URL,
    TrackingRule,
    UrlRule,
    decode_rule,
    encode_rule,
    matches,
    read_rule,
)
from occur.errors import ValidationError
from tests.unit.url_rule_cases import CASES


def _rule(raw: dict[str, Any] | None) -> UrlRule | None:
    if raw is None:
        return None
    return UrlRule(raw["op"], raw["value"], raw.get("param"))


@pytest.mark.parametrize(("rule", "url", "expected"), CASES)
def test_matches_the_shared_table(rule: dict[str, Any] | None, url: str, expected: bool) -> None:
    assert matches(_rule(rule), url) is expected


def test_a_clicked_element_rule_is_read_encoded_and_decoded() -> None:
    raw = {"selector": "  #buy  ", "url": {"op": "contains", "value": " /pricing "}}
    rule = read_rule(raw, CLICKED_ELEMENT)
    assert rule == TrackingRule("#buy", UrlRule("contains", "/pricing"))
    text = encode_rule(rule)
    assert text == '{"selector":"#buy","url":{"op":"contains","value":"/pricing"}}'
    assert decode_rule(text, CLICKED_ELEMENT) == rule
    # Any page: no URL rule at all.
    assert read_rule({"selector": "button.buy"}, CLICKED_ELEMENT) == TrackingRule(
        "button.buy", None
    )


def test_a_visited_url_rule_takes_a_query_parameter() -> None:
    raw = {"url": {"op": "query_param_is", "param": "utm_source", "value": "ads"}}
    rule = read_rule(raw, VISITED_URL)
    assert rule == TrackingRule(None, UrlRule("query_param_is", "ads", "utm_source"))
    assert decode_rule(encode_rule(rule), VISITED_URL) == rule


def _problems(raw: object, tracking_type: str) -> list[tuple[str | None, str]]:
    with pytest.raises(ValidationError) as caught:
        read_rule(raw, tracking_type)
    return [(e.in_, e.message) for e in caught.value.errors]


def test_every_problem_is_listed_with_its_path() -> None:
    found = _problems(
        {"selector": " ", "url": {"op": "near", "value": "", "param": "x"}, "extra": 1},
        CLICKED_ELEMENT,
    )
    assert [path for path, _ in found] == [
        "trackingRule.extra",
        "trackingRule.selector",
        "trackingRule.url",
        "trackingRule.url.value",
        "trackingRule.url.param",
    ]
    assert "one of is, contains, begins_with" in found[2][1]


@pytest.mark.parametrize(
    ("raw", "tracking_type", "path"),
    [
        ("#buy", CLICKED_ELEMENT, "trackingRule"),
        ({}, CLICKED_ELEMENT, "trackingRule.selector"),
        ({"selector": "a" * 1001}, CLICKED_ELEMENT, "trackingRule.selector"),
        ({"selector": 5}, CLICKED_ELEMENT, "trackingRule.selector"),
        ({}, VISITED_URL, "trackingRule.url"),
        ({"url": "/x"}, VISITED_URL, "trackingRule.url"),
        (
            {"selector": "#a", "url": {"op": "is", "value": "/"}},
            VISITED_URL,
            "trackingRule.selector",
        ),
        ({"url": {"op": "query_param_is", "value": "x"}}, VISITED_URL, "trackingRule.url.param"),
        ({"url": {"op": "is", "value": "x" * 1025}}, VISITED_URL, "trackingRule.url.value"),
        ({"url": {"op": "is", "value": "/", "extra": 1}}, VISITED_URL, "trackingRule.url.extra"),
        ({"url": {"op": "is", "value": "/"}}, "MANUAL", "trackingRule"),
    ],
)
def test_invalid_rules_are_refused(raw: object, tracking_type: str, path: str) -> None:
    assert path in [p for p, _ in _problems(raw, tracking_type)]


def test_a_stored_rule_that_no_longer_reads_binds_nothing() -> None:
    assert decode_rule(None, VISITED_URL) is None
    assert decode_rule("", VISITED_URL) is None
    assert decode_rule("{not json", VISITED_URL) is None
    assert decode_rule('{"url": {"op": "gone", "value": "/"}}', VISITED_URL) is None
    assert decode_rule('{"selector": "#a"}', VISITED_URL) is None
