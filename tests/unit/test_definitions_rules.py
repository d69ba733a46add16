"""Definition rules without a store: what a create, change or property request may hold."""

from __future__ import annotations

from typing import Any

import pytest

from occur.domain import definitions as rules
from occur.domain.objects import COMPANY, CONTACT
from occur.domain.properties import (
    DEFAULT_PROPERTIES,
    MAX_CUSTOM_PROPERTIES,
    PropertySpec,
    PropertyType,
)
from occur.errors import Conflict, ValidationError


def problems(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str | None, str | None]:
    """`in` → code for every problem reported."""
    return {e.in_: e.code for e in exc.value.errors}


def prop(name: str, ptype: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "type": ptype, **extra}


def test_minimal_create_gets_defaults_contact_and_a_name_to_derive() -> None:
    draft = rules.read_definition_create({"label": "Viewed Car"})
    assert draft.name is None
    assert draft.object_type is CONTACT
    assert draft.properties == DEFAULT_PROPERTIES
    assert draft.matching_rule is None
    assert draft.description == ""


def test_defaults_come_first_then_custom_in_the_order_sent() -> None:
    draft = rules.read_definition_create(
        {"label": "E", "propertyDefinitions": [prop("b"), prop("a")]}
    )
    names = [p.name for p in draft.properties]
    assert names[: len(DEFAULT_PROPERTIES)] == [p.name for p in DEFAULT_PROPERTIES]
    assert names[len(DEFAULT_PROPERTIES) :] == ["b", "a"]
    custom = draft.properties[len(DEFAULT_PROPERTIES) :]
    assert [p.display_order for p in custom] == [0, 1]
    assert not any(p.hubspot_defined for p in custom)


def test_include_default_properties_false_leaves_only_custom() -> None:
    draft = rules.read_definition_create(
        {"label": "E", "includeDefaultProperties": False, "propertyDefinitions": [prop("a")]}
    )
    assert [p.name for p in draft.properties] == ["a"]


@pytest.mark.parametrize("body", [None, [], "x", 1, True])
def test_a_body_that_is_not_an_object_is_one_problem_in_body(body: object) -> None:
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create(body)
    assert problems(exc) == {"body": "INVALID_TYPE"}


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    body = {
        "label": "x" * 101,
        "name": "Bad Name",
        "primaryObject": "LEAD",
        "includeDefaultProperties": "yes",
        "propertyDefinitions": [
            prop("ok"),
            prop("kind", "boolean"),
            "not an object",
            prop("Upper"),
            prop("pick", "enumeration"),
            prop("hs_browser"),
            prop("ok"),
        ],
    }
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create(body)
    assert problems(exc) == {
        "label": "TOO_LONG",
        "name": "INVALID_NAME",
        "primaryObject": "INVALID_ENUM",
        "includeDefaultProperties": "INVALID_TYPE",
        "propertyDefinitions[1].type": "INVALID_ENUM",
        "propertyDefinitions[2]": "INVALID_TYPE",
        "propertyDefinitions[3].name": "INVALID_NAME",
        "propertyDefinitions[4].options": "REQUIRED",
        "propertyDefinitions[5].name": "DUPLICATE_NAME",
        "propertyDefinitions[6].name": "DUPLICATE_NAME",
    }
    assert exc.value.message.startswith("10 problems")


def test_derived_property_names_avoid_defaults_and_each_other() -> None:
    body = {
        "label": "E",
        "propertyDefinitions": [
            {"label": "Color", "type": "string"},
            {"label": "color", "type": "string"},
            {"label": "HS Browser", "type": "string"},
            {"label": "日本", "type": "string"},
        ],
    }
    draft = rules.read_definition_create(body)
    custom = [p.name for p in draft.properties if not p.hubspot_defined]
    assert custom == ["color", "color_2", "hs_browser_2", "property"]


@pytest.mark.parametrize(
    ("ptype", "field_type"),
    [
        ("string", "text"),
        ("number", "number"),
        ("enumeration", "select"),
        ("datetime", "date"),
        ("date", "date"),
        ("bool", "radio"),
    ],
)
def test_the_six_types_and_their_field_types(ptype: str, field_type: str) -> None:
    extra = {"options": [{"label": "A", "value": "a"}]} if ptype == "enumeration" else {}
    draft = rules.read_definition_create(
        {
            "label": "E",
            "includeDefaultProperties": False,
            "propertyDefinitions": [prop("p", ptype, **extra)],
        }
    )
    (spec,) = draft.properties
    assert spec.type is PropertyType(ptype)
    assert spec.type.field_type == field_type


def test_options_default_their_order_and_hidden_flag() -> None:
    options = [{"label": "A", "value": "a"}, {"label": "B", "value": "b", "displayOrder": 7}]
    draft = rules.read_definition_create(
        {
            "label": "E",
            "includeDefaultProperties": False,
            "propertyDefinitions": [prop("p", "enumeration", options=options)],
        }
    )
    (spec,) = draft.properties
    assert [(o.value, o.display_order, o.hidden) for o in spec.options] == [
        ("a", 0, False),
        ("b", 7, False),
    ]


@pytest.mark.parametrize(
    ("options", "where", "code"),
    [
        (
            [{"label": "A", "value": "a"}, {"label": "B", "value": "a"}],
            "[1].value",
            "DUPLICATE_OPTION",
        ),
        ([{"label": "A", "value": "a;b"}], "[0].value", "INVALID"),
        ([{"label": "A", "value": ""}], "[0].value", "REQUIRED"),
        ([{"label": "A"}], "[0].value", "REQUIRED"),
        ([{"label": "A", "value": "a", "displayOrder": 2**31}], "[0].displayOrder", "OUT_OF_RANGE"),
        ([{"label": "A", "value": "a", "displayOrder": -2}], "[0].displayOrder", "OUT_OF_RANGE"),
        ([{"label": "A", "value": "a", "hidden": "no"}], "[0].hidden", "INVALID_TYPE"),
        ([5], "[0]", "INVALID_TYPE"),
    ],
)
def test_bad_options_are_named(options: list[Any], where: str, code: str) -> None:
    body = {"label": "E", "propertyDefinitions": [prop("p", "enumeration", options=options)]}
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create(body)
    assert problems(exc) == {f"propertyDefinitions[0].options{where}": code}


def test_display_order_at_the_int32_edges_is_accepted() -> None:
    options = [
        {"label": "A", "value": "a", "displayOrder": -1},
        {"label": "B", "value": "b", "displayOrder": 2**31 - 1},
    ]
    body = {"label": "E", "propertyDefinitions": [prop("p", "enumeration", options=options)]}
    draft = rules.read_definition_create(body)
    assert [o.display_order for o in draft.properties[-1].options] == [-1, 2**31 - 1]


def test_text_with_a_nul_character_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create({"label": "a\x00b", "description": "\x00"})
    assert problems(exc) == {"label": "INVALID", "description": "INVALID"}


def test_options_on_a_type_without_them_are_refused() -> None:
    body = {
        "label": "E",
        "propertyDefinitions": [prop("p", options=[{"label": "A", "value": "a"}])],
    }
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create(body)
    assert problems(exc) == {"propertyDefinitions[0].options": "INVALID"}


def test_fifty_custom_properties_fit_and_fifty_one_do_not() -> None:
    fifty = [prop(f"p{i}") for i in range(MAX_CUSTOM_PROPERTIES)]
    draft = rules.read_definition_create({"label": "E", "propertyDefinitions": fifty})
    assert len(draft.properties) == len(DEFAULT_PROPERTIES) + MAX_CUSTOM_PROPERTIES
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create(
            {"label": "E", "propertyDefinitions": [*fifty, prop("one_more")]}
        )
    assert problems(exc) == {"propertyDefinitions": "TOO_MANY_PROPERTIES"}


def test_matching_rule_names_an_event_property_and_a_unique_target() -> None:
    body = {
        "label": "E",
        "propertyDefinitions": [prop("user_email")],
        "customMatchingId": {
            "primaryObjectRule": {
                "eventPropertyName": "user_email",
                "targetObjectPropertyName": "email",
            }
        },
    }
    draft = rules.read_definition_create(body)
    assert draft.matching_rule == rules.MatchingRule("user_email", "email")


def test_matching_rule_target_must_be_unique_on_the_primary_object() -> None:
    rule = {"eventPropertyName": "hs_page_id", "targetObjectPropertyName": "email"}
    body = {
        "label": "E",
        "primaryObject": "COMPANY",
        "customMatchingId": {"primaryObjectRule": rule},
    }
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_create(body)
    assert problems(exc) == {
        "customMatchingId.primaryObjectRule.targetObjectPropertyName": ("NOT_UNIQUE_PROPERTY")
    }
    rule["targetObjectPropertyName"] = "hs_object_id"
    draft = rules.read_definition_create(body)
    assert draft.object_type is COMPANY
    assert draft.matching_rule == rules.MatchingRule("hs_page_id", "hs_object_id")


def test_change_reads_only_label_and_description() -> None:
    change = rules.read_definition_change({"label": "New", "name": "ignored", "propertyOrder": []})
    assert change == rules.DefinitionChange(label="New", description=None)
    with pytest.raises(ValidationError) as exc:
        rules.read_definition_change({"label": ""})
    assert problems(exc) == {"label": "REQUIRED"}


def _existing(count: int) -> tuple[PropertySpec, ...]:
    custom = tuple(
        PropertySpec(name=f"p{i}", label="P", type=PropertyType.STRING, display_order=i)
        for i in range(count)
    )
    return (*DEFAULT_PROPERTIES, *custom)


def test_a_new_property_goes_after_the_last_custom_one() -> None:
    existing = (*DEFAULT_PROPERTIES, *_existing(3)[len(DEFAULT_PROPERTIES) + 1 :])  # p0 deleted
    spec = rules.read_property_create(prop("q"), existing)
    assert spec.display_order == 3


def test_a_property_name_the_event_has_is_a_conflict() -> None:
    with pytest.raises(Conflict) as exc:
        rules.read_property_create(prop("p1"), _existing(2))
    assert [(e.in_, e.code) for e in exc.value.errors] == [("name", "DUPLICATE_NAME")]
    with pytest.raises(Conflict):
        rules.read_property_create(prop("hs_browser"), _existing(0))


def test_a_taken_name_among_other_problems_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as exc:
        rules.read_property_create({"name": "p1", "label": "", "type": "x"}, _existing(2))
    assert problems(exc) == {"name": "DUPLICATE_NAME", "label": "REQUIRED", "type": "INVALID_ENUM"}


def test_the_fifty_first_custom_property_is_refused() -> None:
    assert rules.read_property_create(prop("q"), _existing(49)).name == "q"
    with pytest.raises(ValidationError) as exc:
        rules.read_property_create(prop("q"), _existing(50))
    assert problems(exc) == {None: "TOO_MANY_PROPERTIES"}


def test_property_change_options_replace_and_must_not_be_empty() -> None:
    current = PropertySpec(name="p", label="P", type=PropertyType.ENUMERATION)
    change = rules.read_property_change({"options": [{"label": "Z", "value": "z"}]}, current)
    assert change.options is not None
    assert [o.value for o in change.options] == ["z"]
    with pytest.raises(ValidationError) as exc:
        rules.read_property_change({"options": []}, current)
    assert problems(exc) == {"options": "REQUIRED"}


def test_hubspot_defined_properties_cannot_change() -> None:
    browser = next(p for p in DEFAULT_PROPERTIES if p.name == "hs_browser")
    with pytest.raises(ValidationError) as exc:
        rules.read_property_change({"label": "Mine"}, browser)
    assert problems(exc) == {"propertyName": "READ_ONLY"}
