"""Which column goes where: header synonyms in seven languages, auto-mapping, checks."""

from __future__ import annotations

import pytest

from occur.domain.import_columns import (
    CONTACT_PROPERTIES,
    CONTACTS_ONLY,
    DECIMAL_COMMA_LANGUAGES,
    DUPLICATE_MAPPING,
    HEADER_LANGUAGES,
    INVALID_COLUMN,
    MISSING_PROPERTY_NAME,
    PROPERTY_DOESNT_EXIST,
    ColumnMapping,
    PropertyChoice,
    Target,
    auto_map,
    fold_header,
    language_code,
    mapping_problems,
    requirements,
    uses_decimal_comma,
)

C, R, E, OCC, S = Target.CONTACT, Target.RECORD_ID, Target.EVENT, Target.OCCURRED_AT, Target.SKIP
PROPERTIES = (
    PropertyChoice("plan", "Plan"),
    PropertyChoice("amount_eur", "Amount (EUR)"),
    PropertyChoice("hs_page_url", "Page URL"),
    PropertyChoice(
        "company", "Company of the seller"
    ),  # an event property named like a contact one
)


def targets(
    headers: list[str], language: str, *, contact: bool = True
) -> list[tuple[str, str | None]]:
    found = auto_map(headers, language, object_is_contact=contact, event_properties=PROPERTIES)
    assert [m.index for m in found] == list(range(len(headers)))
    assert [m.header for m in found] == headers
    return [(m.target.value, m.property_name) for m in found]


def test_languages_and_decimal_commas() -> None:
    assert [code for code, _ in HEADER_LANGUAGES] == ["en", "fr", "de", "es", "pt", "it", "nl"]
    assert {code for code, _ in HEADER_LANGUAGES} - DECIMAL_COMMA_LANGUAGES == {"en"}
    assert CONTACT_PROPERTIES == {
        "email",
        "firstname",
        "lastname",
        "phone",
        "company",
        "lifecyclestage",
    }


@pytest.mark.parametrize(
    ("header", "folded"),
    [
        ("E-Mail-Adresse", "emailadresse"),
        ("e_mail adresse", "emailadresse"),
        ("Correo electrónico", "correoelectronico"),
        ("ID de l'enregistrement", "iddelenregistrement"),
        ("  Prénom. ", "prenom"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold
        ("", ""),
    ],
)
def test_fold_header(header: str, folded: str) -> None:
    assert fold_header(header) == folded


# (language, header, expected target, property) — at least email, first and last name,
# phone, company, lifecycle stage, record id and occurred at in every language.
SYNONYMS = [
    ("en", "E-mail", "contact", "email"),
    ("en", "Email address", "contact", "email"),
    ("en", "First name", "contact", "firstname"),
    ("en", "Last Name", "contact", "lastname"),
    ("en", "Phone number", "contact", "phone"),
    ("en", "Company name", "contact", "company"),
    ("en", "Lifecycle stage", "contact", "lifecyclestage"),
    ("en", "Record ID", "record_id", None),
    ("en", "hs_object_id", "record_id", None),
    ("en", "Occurred at", "occurred_at", None),
    ("en", "Timestamp", "occurred_at", None),
    ("en", "Date", "occurred_at", None),
    ("fr", "Adresse e-mail", "contact", "email"),
    ("fr", "Courriel", "contact", "email"),
    ("fr", "Prénom", "contact", "firstname"),
    ("fr", "Nom", "contact", "lastname"),
    ("fr", "Téléphone", "contact", "phone"),
    ("fr", "Entreprise", "contact", "company"),
    ("fr", "Phase du cycle de vie", "contact", "lifecyclestage"),
    ("fr", "ID de l'enregistrement", "record_id", None),
    ("fr", "Survenu le", "occurred_at", None),
    ("fr", "Date de l'événement", "occurred_at", None),
    ("de", "E-Mail-Adresse", "contact", "email"),
    ("de", "Vorname", "contact", "firstname"),
    ("de", "Nachname", "contact", "lastname"),
    ("de", "Telefonnummer", "contact", "phone"),
    ("de", "Unternehmen", "contact", "company"),
    ("de", "Lebenszyklusphase", "contact", "lifecyclestage"),
    ("de", "Datensatz-ID", "record_id", None),
    ("de", "Datum", "occurred_at", None),
    ("es", "Correo electrónico", "contact", "email"),
    ("es", "Nombre", "contact", "firstname"),
    ("es", "Apellidos", "contact", "lastname"),
    ("es", "Teléfono", "contact", "phone"),
    ("es", "Empresa", "contact", "company"),
    ("es", "Etapa del ciclo de vida", "contact", "lifecyclestage"),
    ("es", "ID de registro", "record_id", None),
    ("es", "Fecha", "occurred_at", None),
    ("pt", "Endereço de e-mail", "contact", "email"),
    ("pt", "Nome", "contact", "firstname"),
    ("pt", "Sobrenome", "contact", "lastname"),
    ("pt", "Telefone", "contact", "phone"),
    ("pt", "Empresa", "contact", "company"),
    ("pt", "Fase do ciclo de vida", "contact", "lifecyclestage"),
    ("pt", "ID do registro", "record_id", None),
    ("pt", "Data", "occurred_at", None),
    ("it", "Indirizzo email", "contact", "email"),
    ("it", "Nome", "contact", "firstname"),
    ("it", "Cognome", "contact", "lastname"),
    ("it", "Telefono", "contact", "phone"),
    ("it", "Azienda", "contact", "company"),
    ("it", "Fase del ciclo di vita", "contact", "lifecyclestage"),
    ("it", "ID record", "record_id", None),
    ("it", "Data", "occurred_at", None),
    ("nl", "E-mailadres", "contact", "email"),
    ("nl", "Voornaam", "contact", "firstname"),
    ("nl", "Achternaam", "contact", "lastname"),
    ("nl", "Telefoonnummer", "contact", "phone"),
    ("nl", "Bedrijf", "contact", "company"),
    ("nl", "Levenscyclusfase", "contact", "lifecyclestage"),
    ("nl", "Record-ID", "record_id", None),
    ("nl", "Datum", "occurred_at", None),
]


@pytest.mark.parametrize(("language", "header", "target", "prop"), SYNONYMS)
def test_header_synonyms_in_each_language(
    language: str, header: str, target: str, prop: str | None
) -> None:
    found = auto_map([header], language, object_is_contact=True, event_properties=())
    assert (found[0].target.value, found[0].property_name) == (target, prop)


@pytest.mark.parametrize(("language", "header", "target", "prop"), SYNONYMS)
def test_spelling_does_not_matter(
    language: str, header: str, target: str, prop: str | None
) -> None:
    messy = f"  {header.upper().replace(' ', '_')}. "
    found = auto_map([messy], language, object_is_contact=True, event_properties=())
    assert (found[0].target.value, found[0].property_name) == (target, prop)


@pytest.mark.parametrize("language", [code for code, _ in HEADER_LANGUAGES])
def test_english_headers_are_understood_in_every_language(language: str) -> None:
    assert targets(["Email", "Record ID", "Occurred at"], language) == [
        ("contact", "email"),
        ("record_id", None),
        ("occurred_at", None),
    ]


def test_the_chosen_language_comes_before_english() -> None:
    # "Nome" is nobody in English; Portuguese and Italian read it as the first name,
    # and French "Nom" is the last name.
    assert targets(["Nome"], "it") == [("contact", "firstname")]
    assert targets(["Nom"], "fr") == [("contact", "lastname")]
    assert targets(["Nom"], "en") == [("skip", None)]


def test_an_unknown_language_falls_back_to_english() -> None:
    assert targets(["Email", "Vorname"], "xx") == [("contact", "email"), ("skip", None)]


def test_event_properties_match_by_name_or_label() -> None:
    assert targets(["plan", "AMOUNT (EUR)", "page-url", "Amount_EUR", "colour"], "en") == [
        ("event", "plan"),
        ("event", "amount_eur"),
        ("event", "hs_page_url"),
        ("skip", None),  # the amount is already taken by an earlier column
        ("skip", None),
    ]


def test_an_event_property_wins_over_a_contact_property_of_the_same_name() -> None:
    assert targets(["Company"], "en") == [("event", "company")]
    assert targets(["Entreprise"], "fr") == [("contact", "company")]


def test_identity_and_time_win_over_event_properties() -> None:
    props = (PropertyChoice("email", "Email"), PropertyChoice("date", "Date"))
    found = auto_map(["Email", "Date"], "en", object_is_contact=True, event_properties=props)
    assert [m.target for m in found] == [C, OCC]


def test_later_duplicates_are_skipped() -> None:
    assert targets(["Email", "E-mail", "Date", "Timestamp", "Record ID", "hs_object_id"], "en") == [
        ("contact", "email"),
        ("skip", None),
        ("occurred_at", None),
        ("skip", None),
        ("record_id", None),
        ("skip", None),
    ]


def test_other_objects_take_no_contact_properties() -> None:
    assert targets(["Email", "First name", "Record ID", "Date", "Plan"], "en", contact=False) == [
        ("skip", None),
        ("skip", None),
        ("record_id", None),
        ("occurred_at", None),
        ("event", "plan"),
    ]


def test_empty_and_unknown_headers_are_skipped() -> None:
    assert targets(["", "  ", "Notes", "—"], "en") == [("skip", None)] * 4


def test_an_automatic_mapping_never_has_problems() -> None:
    headers = [h for _, h, _, _ in SYNONYMS] + ["plan", "Plan", "Amount (EUR)"]
    for contact in (True, False):
        found = auto_map(headers, "en", object_is_contact=contact, event_properties=PROPERTIES)
        assert mapping_problems(found, object_is_contact=contact, event_properties=PROPERTIES) == []


# --- requirements --------------------------------------------------------------------


def m(index: int, target: Target, prop: str | None = None, header: str = "") -> ColumnMapping:
    return ColumnMapping(index, header or f"col{index}", target, prop)


@pytest.mark.parametrize(
    ("mappings", "contact", "fixed", "needs"),
    [
        ([m(0, C, "email"), m(1, OCC)], True, False, []),
        ([m(0, R), m(1, OCC)], True, False, []),
        ([m(0, R), m(1, OCC)], False, False, []),
        ([m(0, C, "email")], True, True, []),
        ([m(0, C, "email"), m(1, R), m(2, OCC)], True, False, []),
        ([m(0, C, "firstname"), m(1, OCC)], True, False, ["email"]),
        ([m(0, C, "email", "E"), m(1, S)], True, False, ["time"]),
        ([m(0, S)], True, False, ["email", "time"]),
        ([m(0, C, "email"), m(1, OCC)], False, False, ["record ID"]),
        ([], False, True, ["record ID"]),
    ],
)
def test_requirements_say_what_is_missing(
    mappings: list[ColumnMapping], contact: bool, fixed: bool, needs: list[str]
) -> None:
    found = requirements(mappings, object_is_contact=contact, fixed_occurred_at=fixed)
    assert len(found) == len(needs)
    for sentence, word in zip(found, needs, strict=True):
        assert word in sentence and sentence.endswith(".")


# --- mapping_problems ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mappings", "contact", "expected"),
    [
        ([m(0, C, "email"), m(1, R), m(2, OCC), m(3, E, "plan"), m(4, S), m(5, S)], True, []),
        ([m(0, C, "favourite_colour")], True, [("columnMappings[0]", PROPERTY_DOESNT_EXIST)]),
        ([m(0, C, "hs_object_id")], True, [("columnMappings[0]", PROPERTY_DOESNT_EXIST)]),
        ([m(0, C, "createdate")], True, [("columnMappings[0]", PROPERTY_DOESNT_EXIST)]),
        ([m(0, C, None)], True, [("columnMappings[0]", MISSING_PROPERTY_NAME)]),
        ([m(0, E, "")], True, [("columnMappings[0]", MISSING_PROPERTY_NAME)]),
        ([m(0, E, "nope")], True, [("columnMappings[0]", PROPERTY_DOESNT_EXIST)]),
        ([m(0, C, "email")], False, [("columnMappings[0]", CONTACTS_ONLY)]),
        ([m(0, E, "plan"), m(1, E, "plan")], True, [("columnMappings[1]", DUPLICATE_MAPPING)]),
        ([m(0, C, "phone"), m(1, C, "phone")], True, [("columnMappings[1]", DUPLICATE_MAPPING)]),
        ([m(0, OCC), m(1, S), m(2, OCC)], True, [("columnMappings[2]", DUPLICATE_MAPPING)]),
        ([m(0, R), m(1, R)], False, [("columnMappings[1]", DUPLICATE_MAPPING)]),
        ([m(0, R), m(0, OCC)], False, [("columnMappings[1]", INVALID_COLUMN)]),
        ([m(-1, OCC)], False, [("columnMappings[0]", INVALID_COLUMN)]),
        (
            [m(0, E, "nope"), m(1, E, "plan"), m(2, E, "plan"), m(3, OCC), m(4, OCC)],
            True,
            [
                ("columnMappings[0]", PROPERTY_DOESNT_EXIST),
                ("columnMappings[2]", DUPLICATE_MAPPING),
                ("columnMappings[4]", DUPLICATE_MAPPING),
            ],
        ),
    ],
)
def test_mapping_problems_list_every_problem(
    mappings: list[ColumnMapping], contact: bool, expected: list[tuple[str, str]]
) -> None:
    found = mapping_problems(mappings, object_is_contact=contact, event_properties=PROPERTIES)
    assert [(p.in_, p.code) for p in found] == expected
    assert all(p.message for p in found)


def test_a_duplicate_names_both_columns() -> None:
    found = mapping_problems(
        [m(0, OCC, header="Date"), m(1, OCC, header="Timestamp")],
        object_is_contact=True,
        event_properties=(),
    )
    assert "'Timestamp'" in found[0].message and "'Date'" in found[0].message


@pytest.mark.parametrize(
    ("given", "code", "comma"),
    [("de", "de", True), ("de-DE", "de", True), ("pt_BR", "pt", True), (" FR ", "fr", True),
     ("en-GB", "en", False), ("en", "en", False), ("", "", False)],
)  # fmt: skip
def test_languages_as_browsers_write_them(given: str, code: str, comma: bool) -> None:
    assert language_code(given) == code
    assert uses_decimal_comma(given) is comma


def test_a_regional_language_finds_its_synonyms() -> None:
    assert targets(["Vorname"], "de-AT") == [("contact", "firstname")]
