"""Which spreadsheet column goes where: header synonyms, automatic mapping, its checks.

People export spreadsheets from tools in their own language, so a header is compared
with synonyms in the language the importer chose and then in English, after folding
away case, accents and punctuation (`E-Mail-Adresse` and `e_mail adresse` are one key).
The mapping a person ends with is checked twice: `requirements` says in plain sentences
what is still missing (the wizard's guide, empty when the import may start) and
`mapping_problems` lists what is wrong with a mapping sent over the API.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from occur.domain.objects import CONTACT, writable_properties
from occur.errors import FieldError

HEADER_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("en", "English"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("pt", "Portuguese"),
    ("it", "Italian"),
    ("nl", "Dutch"),
)
# Languages whose spreadsheets write 1.234,5 (decimal comma, dot or space grouping).
DECIMAL_COMMA_LANGUAGES: frozenset[str] = frozenset({"fr", "de", "es", "pt", "it", "nl"})
DEFAULT_LANGUAGE = "en"
CONTACT_PROPERTIES: frozenset[str] = writable_properties(CONTACT)
EMAIL = "email"
RECORD_ID_PROPERTY = "hs_object_id"

PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
DUPLICATE_MAPPING = "DUPLICATE_MAPPING"
CONTACTS_ONLY = "CONTACTS_ONLY"
MISSING_PROPERTY_NAME = "MISSING_PROPERTY_NAME"
INVALID_COLUMN = "INVALID_COLUMN"


class Target(StrEnum):
    CONTACT = "contact"
    RECORD_ID = "record_id"
    EVENT = "event"
    OCCURRED_AT = "occurred_at"
    SKIP = "skip"


@dataclass(frozen=True)
class ColumnMapping:
    """Where one column goes. `property_name` names the contact property (CONTACT) or the
    event property (EVENT); the other targets carry none."""

    index: int  # 0-based column
    header: str
    target: Target
    property_name: str | None = None


@dataclass(frozen=True)
class PropertyChoice:
    """An event property a column may fill: matched by its name or its label."""

    name: str
    label: str


# The keys are what a folded header maps to: a contact property name, or the two
# non-property targets. Each language lists the headers its tools write (HubSpot's own
# export headers included, e.g. `Record ID`, `ID de l'enregistrement`).
_RECORD_ID = "@record_id"
_OCCURRED_AT = "@occurred_at"
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        _RECORD_ID: ("hs_object_id", "Record ID", "Object ID", "Contact ID", "HubSpot ID"),
        "email": ("Email", "E-mail", "Email address", "E-mail address", "Mail"),
        "firstname": ("First name", "Firstname", "Given name", "Forename"),
        "lastname": ("Last name", "Lastname", "Surname", "Family name"),
        "phone": ("Phone", "Phone number", "Telephone", "Mobile", "Mobile phone number"),
        "company": ("Company", "Company name", "Organization", "Organisation"),
        "lifecyclestage": ("Lifecycle stage", "Lifecyclestage", "Stage"),
        _OCCURRED_AT: (
            "occurred_at",
            "Occurred at",
            "Occurred on",
            "Date",
            "Date time",
            "Datetime",
            "Timestamp",
            "Event date",
            "Event timestamp",
            "Time",
            "When",
        ),
    },
    "fr": {
        _RECORD_ID: ("ID de l'enregistrement", "ID d'enregistrement", "ID du contact"),
        "email": ("Adresse e-mail", "Adresse email", "Adresse mail", "Courriel", "E-mail"),
        "firstname": ("Prénom",),
        "lastname": ("Nom", "Nom de famille"),
        "phone": ("Téléphone", "Numéro de téléphone", "Portable", "Mobile"),
        "company": ("Entreprise", "Société", "Nom de l'entreprise", "Organisation"),
        "lifecyclestage": ("Phase du cycle de vie", "Étape du cycle de vie"),
        _OCCURRED_AT: (
            "Survenu le",
            "Date de l'événement",
            "Date",
            "Date et heure",
            "Horodatage",
            "Quand",
        ),
    },
    "de": {
        _RECORD_ID: ("Datensatz-ID", "Kontakt-ID", "Objekt-ID"),
        "email": ("E-Mail-Adresse", "E-Mail", "Mailadresse"),
        "firstname": ("Vorname",),
        "lastname": ("Nachname", "Familienname"),
        "phone": ("Telefonnummer", "Telefon", "Mobiltelefon", "Handy"),
        "company": ("Unternehmen", "Firma", "Firmenname", "Unternehmensname"),
        "lifecyclestage": ("Lifecycle-Phase", "Lebenszyklusphase"),
        _OCCURRED_AT: ("Datum", "Aufgetreten am", "Zeitpunkt", "Zeitstempel", "Ereignisdatum"),
    },
    "es": {
        _RECORD_ID: ("ID de registro", "ID del registro", "ID del contacto"),
        "email": ("Correo electrónico", "Correo", "Email", "Dirección de correo electrónico"),
        "firstname": ("Nombre",),
        "lastname": ("Apellidos", "Apellido"),
        "phone": ("Número de teléfono", "Teléfono", "Móvil"),
        "company": ("Empresa", "Nombre de la empresa", "Compañía"),
        "lifecyclestage": ("Etapa del ciclo de vida", "Fase del ciclo de vida"),
        _OCCURRED_AT: (
            "Fecha",
            "Ocurrido el",
            "Fecha del evento",
            "Marca de tiempo",
            "Fecha y hora",
        ),
    },
    "pt": {
        _RECORD_ID: ("ID do registro", "ID do registo", "ID do contato"),
        "email": ("Endereço de e-mail", "E-mail", "Email"),
        "firstname": ("Nome", "Primeiro nome", "Nome próprio"),
        "lastname": ("Sobrenome", "Apelido", "Último nome"),
        "phone": ("Número de telefone", "Telefone", "Celular", "Telemóvel"),
        "company": ("Empresa", "Nome da empresa"),
        "lifecyclestage": ("Fase do ciclo de vida", "Estágio do ciclo de vida"),
        _OCCURRED_AT: (
            "Data",
            "Ocorreu em",
            "Data do evento",
            "Carimbo de data/hora",
            "Data e hora",
        ),
    },
    "it": {
        _RECORD_ID: ("ID record", "ID del record", "ID contatto"),
        "email": ("Indirizzo email", "Indirizzo e-mail", "E-mail", "Email", "Posta elettronica"),
        "firstname": ("Nome",),
        "lastname": ("Cognome",),
        "phone": ("Numero di telefono", "Telefono", "Cellulare"),
        "company": ("Azienda", "Società", "Nome azienda"),
        "lifecyclestage": ("Fase del ciclo di vita",),
        _OCCURRED_AT: ("Data", "Avvenuto il", "Data evento", "Data e ora", "Timestamp"),
    },
    "nl": {
        _RECORD_ID: ("Record-ID", "Record ID", "Contact-ID"),
        "email": ("E-mailadres", "E-mail", "Emailadres"),
        "firstname": ("Voornaam",),
        "lastname": ("Achternaam",),
        "phone": ("Telefoonnummer", "Telefoon", "Mobiel nummer"),
        "company": ("Bedrijf", "Bedrijfsnaam", "Organisatie"),
        "lifecyclestage": ("Levenscyclusfase",),
        _OCCURRED_AT: ("Datum", "Opgetreden op", "Tijdstip", "Tijdstempel", "Datum en tijd"),
    },
}


def fold_header(text: str) -> str:
    """The key two headers share when they mean the same: no case, accents or punctuation.

    Everything but letters and digits goes (not only spaces, `-`, `_` and `.`), so that
    apostrophes and brackets in exported headers (`ID de l'enregistrement`) compare too.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def _synonym_table() -> dict[str, dict[str, str]]:
    """Per language: folded synonym → key. Built once; a language's own order decides
    when one folded header is listed under two keys (the first listed wins)."""
    table: dict[str, dict[str, str]] = {}
    for language, keys in _SYNONYMS.items():
        folded: dict[str, str] = {}
        for key, synonyms in keys.items():
            for synonym in synonyms:
                folded.setdefault(fold_header(synonym), key)
        table[language] = folded
    return table


_FOLDED = _synonym_table()


def language_code(language: str) -> str:
    """The two-letter code of a language as a browser or a person writes it: `de-DE`,
    `pt_BR` and `FR` are `de`, `pt` and `fr` (header synonyms and number formats are
    per language, not per country)."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def uses_decimal_comma(language: str) -> bool:
    """Whether spreadsheets in this language write numbers as 1.234,5."""
    return language_code(language) in DECIMAL_COMMA_LANGUAGES


def header_key(header: str, language: str) -> str | None:
    """What a header means by its synonyms: a contact property, `@record_id`,
    `@occurred_at`, or None. The chosen language is tried first, then English."""
    folded = fold_header(header)
    if not folded:
        return None
    for table in (_FOLDED.get(language_code(language), {}), _FOLDED[DEFAULT_LANGUAGE]):
        if folded in table:
            return table[folded]
    return None


def auto_map(
    headers: Sequence[str],
    language: str,
    *,
    object_is_contact: bool,
    event_properties: Sequence[PropertyChoice],
) -> list[ColumnMapping]:
    """A first mapping for every column, which the person then corrects.

    Per column, in this order: a record-id synonym; for contact events, the email
    synonyms (the identifier matters most); an occurred-at synonym; an event property
    by name or label; for contact events, the other contact properties. A target an
    earlier column took is not used again (the later column is skipped), so an
    automatic mapping never fails `mapping_problems`.
    """
    by_name = {fold_header(p.name): p.name for p in reversed(event_properties)}
    by_label = {fold_header(p.label): p.name for p in reversed(event_properties)}
    used: set[tuple[Target, str | None]] = set()
    mappings: list[ColumnMapping] = []
    for index, header in enumerate(headers):
        choice = _guess(header, language, object_is_contact, by_name, by_label)
        if choice is None or choice in used:
            mappings.append(ColumnMapping(index, header, Target.SKIP))
            continue
        used.add(choice)
        mappings.append(ColumnMapping(index, header, choice[0], choice[1]))
    return mappings


def _guess(
    header: str,
    language: str,
    object_is_contact: bool,
    by_name: dict[str, str],
    by_label: dict[str, str],
) -> tuple[Target, str | None] | None:
    key = header_key(header, language)
    folded = fold_header(header)
    if key == _RECORD_ID:
        return Target.RECORD_ID, None
    if key == EMAIL and object_is_contact:
        return Target.CONTACT, EMAIL
    if key == _OCCURRED_AT:
        return Target.OCCURRED_AT, None
    event_property = by_name.get(folded) or by_label.get(folded)
    if event_property is not None:
        return Target.EVENT, event_property
    if key in CONTACT_PROPERTIES and object_is_contact:
        return Target.CONTACT, key
    return None


def requirements(
    mappings: Sequence[ColumnMapping], *, object_is_contact: bool, fixed_occurred_at: bool
) -> list[str]:
    """What the mapping still lacks, as sentences for the wizard's guide; [] = ready.

    Every row must name its record (a record id, or for contacts an email) and a time
    (an occurred-at column, unless one fixed time was chosen for all rows).
    """
    targets = {(m.target, m.property_name) for m in mappings}
    has_record_id = (Target.RECORD_ID, None) in targets
    needs: list[str] = []
    if object_is_contact and not (has_record_id or (Target.CONTACT, EMAIL) in targets):
        needs.append(
            "Import a column as the contact's email (or as the record ID) so that each row "
            "names its contact."
        )
    elif not object_is_contact and not has_record_id:
        needs.append("Import a column as the record ID so that each row names its record.")
    if not fixed_occurred_at and not any(m.target is Target.OCCURRED_AT for m in mappings):
        needs.append(
            "Import a column as the time the event occurred, or choose one time for every row."
        )
    return needs


def mapping_problems(
    mappings: Sequence[ColumnMapping],
    *,
    object_is_contact: bool,
    event_properties: Sequence[PropertyChoice],
) -> list[FieldError]:
    """Every problem with a mapping, each under `columnMappings[i]` (its position here).

    A record id next to an email is fine on a contact event: the record id wins for the
    row, as objectId wins over email in HubSpot's precedence (domain/identity.py).
    """
    known_events = {p.name for p in event_properties}
    problems: list[FieldError] = []
    seen_targets: dict[tuple[Target, str | None], int] = {}
    seen_columns: dict[int, int] = {}
    for position, mapping in enumerate(mappings):
        path = f"columnMappings[{position}]"
        problem = _target_problem(mapping, object_is_contact, known_events)
        if problem is not None:
            problems.append(FieldError(message=problem[1], in_=path, code=problem[0]))
        if mapping.index < 0 or mapping.index in seen_columns:
            problems.append(
                FieldError(
                    message=f"Column {mapping.index + 1} ({mapping.header!r}) is mapped twice."
                    if mapping.index >= 0
                    else f"Column index {mapping.index} does not exist.",
                    in_=path,
                    code=INVALID_COLUMN,
                )
            )
        seen_columns.setdefault(mapping.index, position)
        if mapping.target is Target.SKIP:
            continue
        key = (mapping.target, mapping.property_name)
        if key in seen_targets:
            earlier = mappings[seen_targets[key]].header
            problems.append(
                FieldError(
                    message=f"{mapping.header!r} and {earlier!r} are both imported as "
                    f"{_target_words(mapping)}; import one of them.",
                    in_=path,
                    code=DUPLICATE_MAPPING,
                )
            )
        else:
            seen_targets[key] = position
    return problems


def _target_problem(
    mapping: ColumnMapping, object_is_contact: bool, known_events: set[str]
) -> tuple[str, str] | None:
    name = mapping.property_name
    header = repr(mapping.header)
    if mapping.target is Target.CONTACT:
        if not object_is_contact:
            return CONTACTS_ONLY, f"{header}: contact properties apply to contact events only."
        if not name:
            return MISSING_PROPERTY_NAME, f"{header}: name the contact property to import into."
        if name not in CONTACT_PROPERTIES:
            allowed = ", ".join(sorted(CONTACT_PROPERTIES))
            return (
                PROPERTY_DOESNT_EXIST,
                f"{header}: contacts have no property {name!r} to import into ({allowed}).",
            )
    elif mapping.target is Target.EVENT:
        if not name:
            return MISSING_PROPERTY_NAME, f"{header}: name the event property to import into."
        if name not in known_events:
            return PROPERTY_DOESNT_EXIST, f"{header}: the event has no property {name!r}."
    return None


def _target_words(mapping: ColumnMapping) -> str:
    match mapping.target:
        case Target.CONTACT:
            return f"the contact property {mapping.property_name}"
        case Target.EVENT:
            return f"the event property {mapping.property_name}"
        case Target.RECORD_ID:
            return "the record ID"
        case _:
            return "the time the event occurred"
