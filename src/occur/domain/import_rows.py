"""One spreadsheet row turned into an event completion, or every reason it cannot be.

The rules are the HTTP API's (domain/occurrences.py for values, domain/identity.py for
which record a row names), read from text cells: numbers may be written the way the
header language writes them, enumerations may list several options separated by `;`,
dates follow the import's date format. Problems are reported per cell with HubSpot's
import error types, all of a row's problems at once, so that a person fixes a file in
one pass.

Each completion gets a uuid derived from what the row says (`row_uuid`), never from
where it stands in the file: importing the same file twice, or resuming an interrupted
import, finds the completions already stored and adds no duplicates.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from occur.domain.completions import Completion
from occur.domain.crm import MAX_VALUE_CHARS as MAX_CONTACT_VALUE_CHARS
from occur.domain.crm import normalise_email, parse_object_id
from occur.domain.definitions import EventDefinition
from occur.domain.identity import MISSING_IDENTIFIER, Identity, choose_identity
from occur.domain.import_columns import EMAIL, ColumnMapping, Target
from occur.domain.import_dates import (
    COULD_NOT_PARSE_DATE as COULD_NOT_PARSE_DATE,  # re-exported: an import error type
)
from occur.domain.import_dates import (
    CellError as CellError,  # re-exported: part of this module's contract
)
from occur.domain.import_dates import (
    parse_date_value,
    parse_datetime_value,
    parse_occurred_at,
)
from occur.domain.occurrences import (
    INVALID_BOOLEAN,
    INVALID_DATE,
    INVALID_DATETIME,
    INVALID_NUMBER,
    MAX_PROPERTIES_PER_OCCURRENCE,
    VALUE_TOO_LONG,
    InvalidValue,
    coerce_value,
    value_limit_chars,
)
from occur.domain.occurrences import (
    INVALID_ENUMERATION_OPTION as VALUE_NOT_AN_OPTION,
)
from occur.domain.properties import MULTI_VALUE_SEPARATOR, PropertySpec, PropertyType

# HubSpot's import error types (the `errorType` of an import error).
INCORRECT_NUMBER_OF_COLUMNS = "INCORRECT_NUMBER_OF_COLUMNS"
INVALID_EMAIL = "INVALID_EMAIL"
INVALID_OBJECT_ID = "INVALID_OBJECT_ID"
MISSING_EVENT_TIMESTAMP = "MISSING_EVENT_TIMESTAMP"
INVALID_ENUMERATION_OPTION = "INVALID_ENUMERATION_OPTION"
COULD_NOT_PARSE_NUMBER = "COULD_NOT_PARSE_NUMBER"
INVALID_PROPERTY_VALUE_FORMAT = "INVALID_PROPERTY_VALUE_FORMAT"
COLUMN_TOO_LARGE = "COLUMN_TOO_LARGE"
FAILED_VALIDATION = "FAILED_VALIDATION"
ERROR_TYPES = (
    INCORRECT_NUMBER_OF_COLUMNS,
    INVALID_EMAIL,
    INVALID_OBJECT_ID,
    COULD_NOT_PARSE_DATE,
    MISSING_EVENT_TIMESTAMP,
    INVALID_ENUMERATION_OPTION,
    COULD_NOT_PARSE_NUMBER,
    INVALID_PROPERTY_VALUE_FORMAT,
    COLUMN_TOO_LARGE,
    FAILED_VALIDATION,
)
# What a value rule's code becomes as an import error type.
_ERROR_TYPE_OF_CODE = {
    VALUE_TOO_LONG: COLUMN_TOO_LARGE,
    INVALID_NUMBER: COULD_NOT_PARSE_NUMBER,
    VALUE_NOT_AN_OPTION: INVALID_ENUMERATION_OPTION,
    INVALID_BOOLEAN: INVALID_PROPERTY_VALUE_FORMAT,
    INVALID_DATE: INVALID_PROPERTY_VALUE_FORMAT,
    INVALID_DATETIME: INVALID_PROPERTY_VALUE_FORMAT,
}
# A row error keeps at most this much of the cell; the error file keeps the whole row.
MAX_ERROR_VALUE_CHARS = 1024
_NAMESPACE = uuid.UUID("3b0e4f52-8c1e-5f7a-9d2c-6a4e1b7f0c93")  # of import completion uuids
# Yes and no as spreadsheets in the seven header languages write them (compared folded).
_BOOLEANS = {
    **dict.fromkeys(
        ("true", "yes", "1", "vrai", "oui", "wahr", "ja", "verdadero", "si", "sí", "verdadeiro",
         "sim", "vero", "waar"),
        "true",
    ),
    **dict.fromkeys(
        ("false", "no", "0", "faux", "non", "falsch", "nein", "falso", "não", "nao", "onwaar",
         "nee"),
        "false",
    ),
}  # fmt: skip
# Numbers as spreadsheets write them, keyed by decimal_comma: digits grouped by three
# with spaces (French uses no-break ones), apostrophes (Swiss) or the other mark.
_GROUPED = {
    comma: re.compile(
        rf"(?P<sign>[+-]?)(?P<integer>[0-9]{{1,3}}(?:[{group} \u00a0\u202f'][0-9]{{3}})+|[0-9]*)"
        rf"(?:{point}(?P<fraction>[0-9]+))?"
    )
    for comma, group, point in ((True, ".", ","), (False, ",", r"\."))
}
_NOT_DIGIT = re.compile(r"[^0-9]")
_NUL = "\x00"


@dataclass(frozen=True)
class RowError:
    """One problem with one row: which cell (`column` is its header, None for the whole
    row), what it held, HubSpot's error type and a sentence saying why."""

    line: int
    column: str | None
    value: str | None
    error_type: str
    message: str


@dataclass(frozen=True)
class ImportPlan:
    """Everything convert_row needs, fixed when the import starts.

    `decimal_comma` comes from the header language (DECIMAL_COMMA_LANGUAGES). Numeric
    XLSX cells reach the rules as plain decimals with a dot (services/spreadsheets.py);
    with decimal_comma a plain `1.5` still reads as one and a half, but `1.234` reads as
    one thousand two hundred and thirty-four, as a German CSV means it.
    """

    definition: EventDefinition
    mappings: tuple[ColumnMapping, ...]
    column_count: int  # header width
    date_format: str
    time_zone: str  # IANA
    fixed_occurred_at: int | None  # epoch ms for every row, else the OCCURRED_AT column
    decimal_comma: bool


@dataclass(frozen=True)
class ImportRow:
    """A row ready to store. `email` is the row's email (lower-case) even when a record
    id wins, for the contact upsert; `contact_values` never holds the email itself."""

    line: int
    email: str | None
    object_id: int | None
    contact_values: dict[str, str]
    completion: Completion


def convert_row(plan: ImportPlan, line: int, cells: Sequence[str]) -> ImportRow | list[RowError]:
    """The completion a data row stands for, or one RowError per failing cell.

    Cells are read trimmed of surrounding whitespace; an empty cell sets nothing.
    Cells past the header's width are allowed when empty (spreadsheet tools write
    trailing separators); a row of another width is refused as a whole, since its cells
    would land under the wrong headers.
    """
    width = len(cells)
    while width > plan.column_count and not cells[width - 1].strip():
        width -= 1
    if width != plan.column_count:
        return [
            RowError(
                line=line,
                column=None,
                value=None,
                error_type=INCORRECT_NUMBER_OF_COLUMNS,
                message=f"This row has {width} columns; the header has {plan.column_count}.",
            )
        ]
    reader = _RowReader(plan, line)
    for mapping in plan.mappings:
        if mapping.target is not Target.SKIP and 0 <= mapping.index < width:
            reader.read(mapping, cells[mapping.index].strip())
    return reader.finish()


def row_uuid(definition_id: int, parts: Sequence[tuple[str, str]]) -> str:
    """A completion uuid from what a row says: the same values give the same uuid.

    `parts` are (name, canonical value) pairs; they are sorted, so neither the order of
    the columns nor of the rows matters, and the line and the import are not part of it.
    """
    canonical = json.dumps([definition_id, sorted(parts)], ensure_ascii=False)
    return str(uuid.uuid5(_NAMESPACE, canonical))


class _RowReader:
    """Reads one row's cells, collecting values and errors; `finish` decides."""

    def __init__(self, plan: ImportPlan, line: int) -> None:
        self.plan = plan
        self.line = line
        self.errors: list[RowError] = []
        self.email: str | None = None
        self.email_column: str | None = None
        self.object_id: int | None = None
        self.record_id_column: str | None = None
        self.occurred_at = plan.fixed_occurred_at
        self.occurred_at_column: str | None = None
        self.contact_values: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def fail(self, mapping: ColumnMapping, text: str | None, error_type: str, message: str) -> None:
        shown = None if text is None else text[:MAX_ERROR_VALUE_CHARS]
        self.errors.append(RowError(self.line, mapping.header, shown, error_type, message))

    def read(self, mapping: ColumnMapping, text: str) -> None:
        try:
            match mapping.target:
                case Target.RECORD_ID:
                    self._record_id(mapping, text)
                case Target.OCCURRED_AT:
                    self._occurred_at(mapping, text)
                case Target.CONTACT if mapping.property_name == EMAIL:
                    self._email(mapping, text)
                case Target.CONTACT:
                    self._contact_value(mapping, text)
                case Target.EVENT:
                    self._event_value(mapping, text)
        except CellError as error:
            self.fail(mapping, text, error.error_type, error.message)

    def _record_id(self, mapping: ColumnMapping, text: str) -> None:
        self.record_id_column = mapping.header
        if not text:
            return
        self.object_id = parse_object_id(text)
        if self.object_id is None:
            raise CellError(
                error_type=INVALID_OBJECT_ID,
                message=f"{_shown(text)} is not a record ID (a positive whole number).",
            )

    def _email(self, mapping: ColumnMapping, text: str) -> None:
        self.email_column = mapping.header
        if not text:
            return
        email = normalise_email(text)
        if email is None or _NUL in email:
            raise CellError(
                error_type=INVALID_EMAIL, message=f"{_shown(text)} is not an email address."
            )
        self.email = email.lower()

    def _occurred_at(self, mapping: ColumnMapping, text: str) -> None:
        if self.plan.fixed_occurred_at is not None:
            return  # one time was chosen for every row
        self.occurred_at_column = mapping.header
        if not text:
            raise CellError(
                error_type=MISSING_EVENT_TIMESTAMP,
                message="The time the event occurred is empty.",
            )
        self.occurred_at = parse_occurred_at(text, self.plan.date_format, _zone(self.plan))

    def _contact_value(self, mapping: ColumnMapping, text: str) -> None:
        if not text:
            return
        if len(text) > MAX_CONTACT_VALUE_CHARS:
            raise CellError(
                error_type=COLUMN_TOO_LARGE,
                message=f"A contact property takes at most {MAX_CONTACT_VALUE_CHARS} "
                f"characters; this value has {len(text)}.",
            )
        if _NUL in text:
            raise CellError(
                error_type=FAILED_VALIDATION,
                message="The value must not contain the NUL character (U+0000).",
            )
        assert mapping.property_name is not None
        self.contact_values[mapping.property_name] = text

    def _event_value(self, mapping: ColumnMapping, text: str) -> None:
        if not text:
            return
        name = mapping.property_name or ""
        spec = self.plan.definition.property_named(name)
        if spec is None:
            raise CellError(
                error_type=FAILED_VALIDATION,
                message=f"{self.plan.definition.name} has no property {name!r}.",
            )
        limit = value_limit_chars(spec.name)
        if len(text) > limit:
            raise CellError(
                error_type=COLUMN_TOO_LARGE,
                message=f"{spec.name} takes values of at most {limit} characters; "
                f"this one has {len(text)}.",
            )
        try:
            self.values[spec.name] = coerce_value(spec, self._prepared(spec, text))
        except InvalidValue as invalid:
            raise CellError(
                error_type=_ERROR_TYPE_OF_CODE.get(invalid.code, FAILED_VALIDATION),
                message=invalid.message,
            ) from None

    def _prepared(self, spec: PropertySpec, text: str) -> str:
        """The cell as the API's value rules expect it: spreadsheet spellings undone.

        A cell longer than the property's limit is passed on unchanged, so the limit is
        judged on what the person wrote and reported as COLUMN_TOO_LARGE.
        """
        match spec.type:
            case PropertyType.NUMBER:
                return _number_text(text, decimal_comma=self.plan.decimal_comma)
            case PropertyType.BOOL:
                return _BOOLEANS.get(text.casefold(), text)
            case PropertyType.ENUMERATION:
                return _options_text(spec, text)
            case PropertyType.DATE:
                return self._date_text(text, parse_date_value, spec)
            case PropertyType.DATETIME:
                return self._date_text(text, self._datetime_ms, spec)
            case _:
                return text

    def _datetime_ms(self, text: str, date_format: str) -> str:
        return str(parse_datetime_value(text, date_format, _zone(self.plan)))

    def _date_text(self, text: str, parse: Callable[[str, str], str], spec: PropertySpec) -> str:
        try:
            return parse(text, self.plan.date_format)
        except CellError as error:
            if error.error_type != COULD_NOT_PARSE_DATE:
                raise
            raise CellError(
                error_type=INVALID_PROPERTY_VALUE_FORMAT,
                message=f"{spec.name}: {_shown(text)} is not a date in the chosen format.",
            ) from None

    def finish(self) -> ImportRow | list[RowError]:
        identity = self._identity()
        if self.occurred_at is None and self.occurred_at_column is None and not self.errors:
            # requirements() keeps an import from starting like this; say so anyway.
            self.errors.append(
                RowError(
                    self.line,
                    None,
                    None,
                    MISSING_EVENT_TIMESTAMP,
                    "No column gives the time the event occurred.",
                )
            )
        if len(self.values) > MAX_PROPERTIES_PER_OCCURRENCE:
            self.errors.append(
                RowError(
                    self.line,
                    None,
                    None,
                    FAILED_VALIDATION,
                    f"An event completion holds at most {MAX_PROPERTIES_PER_OCCURRENCE} "
                    f"properties; this row fills {len(self.values)}.",
                )
            )
        if self.errors or identity is None or self.occurred_at is None:
            return self.errors
        definition = self.plan.definition
        parts = [(f"event.{name}", value) for name, value in self.values.items()]
        parts += [(f"identity.{identity.kind.value}", identity.value)]
        parts += [("occurredAt", str(self.occurred_at))]
        completion = Completion(
            definition_id=definition.id,
            definition_version=definition.version,
            object_type_id=definition.object_type.type_id,
            identity=identity,
            uuid=row_uuid(definition.id, parts),
            occurred_at=self.occurred_at,
            values=self.values,
        )
        return ImportRow(self.line, self.email, self.object_id, self.contact_values, completion)

    def _identity(self) -> Identity | None:
        """The identifier HubSpot's precedence picks (a matching rule, then the record
        id, then the email), with its column as the path an unknown-record error names."""
        if self.errors:
            return None
        identity, problems = choose_identity(
            self.plan.definition,
            object_id=self.object_id,
            email=self.email,
            utk=None,
            values=self.values,
            prefix="",
        )
        if identity is not None:
            column = {
                "objectId": self.record_id_column,
                "email": self.email_column,
            }.get(identity.path)
            return replace(identity, path=column or identity.path)
        for problem in problems:
            if problem.code == MISSING_IDENTIFIER and self.email_column is not None:
                error_type, column = INVALID_EMAIL, self.email_column
                message = "The email is empty, and no record ID names the contact."
            elif problem.code == MISSING_IDENTIFIER:
                error_type, column = INVALID_OBJECT_ID, self.record_id_column
                message = "The record ID is empty."
            else:
                error_type, column, message = FAILED_VALIDATION, None, problem.message
            self.errors.append(RowError(self.line, column, "", error_type, message))
        return None


def _zone(plan: ImportPlan) -> ZoneInfo:
    try:
        return ZoneInfo(plan.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(
            error_type=FAILED_VALIDATION, message=f"{plan.time_zone!r} is not a time zone."
        ) from None


def _number_text(text: str, *, decimal_comma: bool) -> str:
    """A spreadsheet number as plain decimal text (`1 234,5` → `1234.5`), or the cell
    unchanged when it is written otherwise, for the value rules to read or refuse.

    Grouping separators count only between groups of three digits: with a decimal dot,
    `1,5` is no number rather than fifteen; with a decimal comma, `1.5` (how an XLSX
    number cell reads) stays one and a half while `1.234` is a thousand and more.
    """
    match = _GROUPED[decimal_comma].fullmatch(text)
    if match is None or not (match["integer"] or match["fraction"]):
        return text
    integer = _NOT_DIGIT.sub("", match["integer"]) or "0"
    fraction = f".{match['fraction']}" if match["fraction"] else ""
    return f"{match['sign']}{integer}{fraction}"


def _options_text(spec: PropertySpec, text: str) -> str:
    """`;`-separated options trimmed, each written as its value or its label (any case),
    as the value the property stores; unknown pieces are left for the rules to report."""
    by_label: dict[str, str] = {}
    for option in spec.options:
        by_label.setdefault(option.value.casefold(), option.value)
        by_label.setdefault(option.label.casefold(), option.value)
    exact = {option.value for option in spec.options}
    pieces = [piece.strip() for piece in text.split(MULTI_VALUE_SEPARATOR) if piece.strip()]
    chosen = [p if p in exact else by_label.get(p.casefold(), p) for p in pieces]
    return MULTI_VALUE_SEPARATOR.join(chosen)


def _shown(text: str) -> str:
    quoted = repr(text)
    return quoted if len(quoted) <= 40 else quoted[:39] + "…"
