"""Reading one send input and choosing its record: pure rules, no store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from occur.domain.completions import (
    CompletionInput,
    prepare,
    read_batch,
    read_completion,
)
from occur.domain.definitions import EventDefinition, MatchingRule
from occur.domain.fields import FieldReader
from occur.domain.identity import IdentityKind, choose_identity
from occur.domain.objects import CONTACT, DEAL
from occur.domain.rate_limits import TokenBuckets, retry_after_seconds
from occur.errors import ValidationError
from tests.unit.test_occurrences import definition, spec


def read(raw: object, prefix: str = "") -> tuple[CompletionInput | None, list[str]]:
    r = FieldReader()
    found = read_completion(r, raw, prefix)
    return found, [f"{p.in_}:{p.code}" for p in r.problems]


def test_a_full_input_is_read_with_its_fields_normalised() -> None:
    found, problems = read({
        "eventName": " pe7_viewed_car ", "objectId": "42", "email": " Ada@Example.com ",
        "utk": " abc ", "uuid": "u-1", "occurredAt": "2026-01-01T00:00:00Z",
        "properties": {"a": 1}, "unknownField": True,
    })  # fmt: skip
    assert problems == []
    assert found == CompletionInput(
        event_name="pe7_viewed_car", object_id=42, email="Ada@Example.com", utk="abc",
        uuid="u-1", occurred_at=1767225600000, properties={"a": 1},
    )  # fmt: skip


def test_every_field_problem_is_recorded_and_the_rest_still_read() -> None:
    found, problems = read({"eventName": "pe7_x", "objectId": "0", "email": "nope",
                            "utk": "", "uuid": 5, "occurredAt": "soon"}, "inputs[2].")  # fmt: skip
    assert problems == [
        "inputs[2].objectId:INVALID_OBJECT_ID",
        "inputs[2].email:INVALID_EMAIL",
        "inputs[2].utk:REQUIRED",
        "inputs[2].uuid:INVALID_TYPE",
        "inputs[2].occurredAt:INVALID_OCCURRED_AT",
    ]
    assert found is not None and not found.identifiers_ok and found.properties == {}


@pytest.mark.parametrize("raw", [[], "x", None, 3])
def test_an_input_that_is_not_an_object_is_unreadable(raw: object) -> None:
    found, problems = read(raw, "inputs[0].")
    assert found is None and problems == ["inputs[0]:INVALID_TYPE"]


def test_uuid_and_utk_are_bounded() -> None:
    _, problems = read({"eventName": "e", "uuid": "u" * 101, "utk": "t" * 101})
    assert problems == ["utk:TOO_LONG", "uuid:TOO_LONG"]
    found, problems = read({"eventName": "e", "uuid": "u" * 100, "utk": "t" * 100})
    assert problems == [] and found is not None


@pytest.mark.parametrize(
    ("body", "code"),
    [({}, "REQUIRED"), ({"inputs": []}, "REQUIRED"), ({"inputs": {}}, "INVALID_TYPE"),
     ({"inputs": [{}] * 501}, "TOO_MANY_INPUTS")],
)  # fmt: skip
def test_a_batch_holds_one_to_500_inputs(body: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_batch(body)
    assert [(e.in_, e.code) for e in caught.value.errors] == [("inputs", code)]
    assert len(read_batch({"inputs": [{}] * 500})) == 500


def choose(d: EventDefinition, **given: object) -> tuple[str | None, list[str]]:
    identity, problems = choose_identity(
        d,
        object_id=given.get("object_id"),  # type: ignore[arg-type]
        email=given.get("email"),  # type: ignore[arg-type]
        utk=given.get("utk"),  # type: ignore[arg-type]
        values=given.get("values", {}),  # type: ignore[arg-type]
        prefix="",
    )
    shown = f"{identity.kind}={identity.value}@{identity.path}" if identity else None
    return shown, [f"{p.in_}:{p.code}" for p in problems]


def test_precedence_is_object_id_then_email_then_utk() -> None:
    d = definition()
    assert choose(d, object_id=5, email="A@b.co", utk="t") == ("objectId=5@objectId", [])
    assert choose(d, email="A@b.co", utk="t") == ("email=a@b.co@email", [])
    assert choose(d, utk="t") == ("utk=t@utk", [])
    assert choose(d) == (None, ["None:MISSING_IDENTIFIER"])


def test_a_matching_rule_wins_when_its_property_is_sent() -> None:
    d = replace(definition(spec("buyer")), matching_rule=MatchingRule("buyer", "email"))
    assert choose(d, object_id=5, values={"buyer": "Ann@x.io"}) == (
        "email=ann@x.io@properties.buyer", [])  # fmt: skip
    assert choose(d, object_id=5) == ("objectId=5@objectId", [])
    assert choose(d, values={"buyer": "not mail"}) == (
        None, ["properties.buyer:INVALID_MATCHING_VALUE"])  # fmt: skip
    by_id = replace(d, matching_rule=MatchingRule("buyer", "hs_object_id"))
    assert choose(by_id, values={"buyer": "77"}) == ("objectId=77@properties.buyer", [])


def test_a_matching_email_never_creates_a_contact_but_a_sent_email_may() -> None:
    d = replace(definition(spec("buyer")), matching_rule=MatchingRule("buyer", "email"))
    matched, _ = choose_identity(d, object_id=None, email=None, utk=None,
                                 values={"buyer": "a@b.co"}, prefix="")  # fmt: skip
    sent, _ = choose_identity(d, object_id=None, email="a@b.co", utk=None, values={}, prefix="")
    assert matched is not None and not matched.may_create
    assert sent is not None and sent.may_create and sent.kind is IdentityKind.EMAIL


def test_email_and_utk_name_contacts_only() -> None:
    deal = replace(definition(), object_type=DEAL)
    assert choose(deal, object_id=5, email="a@b.co", utk="t") == (
        None, ["email:CONTACTS_ONLY", "utk:CONTACTS_ONLY"])  # fmt: skip
    assert choose(deal, object_id=5) == ("objectId=5@objectId", [])
    assert choose(deal)[1] == ["None:MISSING_IDENTIFIER"]
    assert definition().object_type is CONTACT


def test_prepare_keeps_the_identity_of_a_refused_completion() -> None:
    d = definition(spec("n"))
    found, _ = read({"eventName": "pe7_viewed_car", "objectId": "9", "properties": {"x": 1}})
    assert found is not None
    prepared = prepare(d, found, "")
    assert prepared.completion is None
    assert [p.code for p in prepared.problems] == ["PROPERTY_DOESNT_EXIST"]
    assert prepared.identity is not None and prepared.identity.object_id == 9


def test_token_buckets_allow_a_burst_then_the_rate() -> None:
    buckets = TokenBuckets(2)
    assert [buckets.take(1, 0.0) for _ in range(2)] == [0.0, 0.0]
    assert buckets.take(1, 0.0) == pytest.approx(0.5)
    assert buckets.take(2, 0.0) == 0.0  # keys are independent
    assert buckets.take(1, 0.5) == 0.0  # refilled one token in half a second
    assert buckets.take(1, 100.0) == 0.0 and buckets.take(1, 100.0) == 0.0  # capped burst
    assert buckets.take(1, 100.0) > 0
    assert [retry_after_seconds(w) for w in (0.01, 1.0, 1.2)] == [1, 1, 2]
