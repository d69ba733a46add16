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

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
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
# Per column, the distinct short cell texts whose stored value is remembered: enough for
# any enumeration or yes/no column, little memory (50 columns hold at most ~10 MB).
_MEMO_ENTRIES = 1000
_MEMO_CHARS = 100
# A row error keeps at most this much of the cell; the error file keeps the whole row.
MAX_ERROR_VALUE_CHARS = 1024
_NAMESPACE = uuid.UUID("3b0e4f52-8c1e-5f7a-9d2c-6a4e1b7f0c93")  # of import completion uuids
_NAMESPACE_SHA1 = hashlib.sha1(_NAMESPACE.bytes)
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
# Characters that make a number need _GROUPED: its grouping marks and decimal comma.
_GROUPING_MARKS = {
    True: frozenset(".,' \u00a0\u202f"),
    False: frozenset(",' \u00a0\u202f"),
}
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

    `decimal_comma`: numbers are written as the header language writes them, for a CSV
    (services/spreadsheets.decimal_comma decides). Then a plain `1.5` still reads as one
    and a half, but `1.234` as one thousand two hundred and thirty-four, as a German CSV
    means it. XLSX number cells reach the rules with a dot: False for a workbook.
    """

    definition: EventDefinition
    mappings: tuple[ColumnMapping, ...]
    column_count: int  # header width
    date_format: str
    time_zone: str  # IANA
    fixed_occurred_at: int | None  # epoch ms for every row, else the OCCURRED_AT column
    decimal_comma: bool

    @cached_property
    def _columns(self) -> tuple[_Column, ...]:
        """The mapped columns with what reading them needs looked up once per import,
        not once per row (a million-row import converts a million rows)."""
        return tuple(
            _Column.of(mapping, self.definition)
            for mapping in self.mappings
            if mapping.target is not Target.SKIP
            and not (mapping.target is Target.OCCURRED_AT and self.fixed_occurred_at is not None)
        )

    @cached_property
    def _zone(self) -> ZoneInfo | None:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory
            return None

    def zone(self) -> ZoneInfo:
        """The import's time zone; CellError when the name is none (checked per cell, so
        that a plan built from a stored request still reports rather than crashes)."""
        zone = self._zone
        if zone is None:
            raise CellError(
                error_type=FAILED_VALIDATION, message=f"{self.time_zone!r} is not a time zone."
            )
        return zone

    @cached_property
    def _column_of(self) -> dict[Target, str]:
        """The header of the first column mapped to each identity target."""
        found: dict[Target, str] = {}
        for column in self._columns:
            if column.kind == _EMAIL:
                found.setdefault(Target.CONTACT, column.header)
            elif column.kind == _RECORD_ID:
                found.setdefault(Target.RECORD_ID, column.header)
        return found


# What a mapped column is read as (ints: compared once per cell of a million rows).
_RECORD_ID, _EMAIL, _CONTACT_VALUE, _OCCURRED_AT, _EVENT_VALUE, _UNKNOWN_PROPERTY = range(6)


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    kind: int
    name: str
    spec: PropertySpec | None = None
    limit: int = 0
    options: dict[str, str] | None = None  # option value or label, folded → value
    # Cell text → stored value, for the values a column repeats (a plan, a yes/no, a
    # source): most of an import's cells are one of a few, and the value rules then
    # run once per distinct text instead of once per row. Bounded, see _MEMO_ENTRIES.
    memo: dict[str, str] = field(default_factory=dict, compare=False)

    @staticmethod
    def of(mapping: ColumnMapping, definition: EventDefinition) -> _Column:
        name = mapping.property_name or ""
        if mapping.target is Target.RECORD_ID:
            return _Column(mapping.index, mapping.header, _RECORD_ID, name)
        if mapping.target is Target.OCCURRED_AT:
            return _Column(mapping.index, mapping.header, _OCCURRED_AT, name)
        if mapping.target is Target.CONTACT:
            kind = _EMAIL if name == EMAIL else _CONTACT_VALUE
            return _Column(mapping.index, mapping.header, kind, name)
        spec = definition.property_named(name)
        if spec is None:
            return _Column(mapping.index, mapping.header, _UNKNOWN_PROPERTY, name)
        options: dict[str, str] | None = None
        if spec.type is PropertyType.ENUMERATION:
            options = {}
            for option in spec.options:
                options.setdefault(option.value.casefold(), option.value)
                options.setdefault(option.label.casefold(), option.value)
            for option in spec.options:  # an exact value wins over another's label
                options[option.value] = option.value
        return _Column(
            mapping.index,
            mapping.header,
            _EVENT_VALUE,
            name,
            spec,
            value_limit_chars(name),
            options,
        )


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
    for column in plan._columns:
        if 0 <= column.index < width:
            reader.read(column, cells[column.index].strip())
    if not reader.errors and not _is_text("".join(cells)):
        # An unpaired UTF-16 surrogate: no store can hold it. The readers never make one
        # (they decode strictly); a caller with its own cells might.
        return [
            RowError(
                line,
                c.header,
                None,
                FAILED_VALIDATION,
                "This cell holds a character that is not text (an unpaired UTF-16 surrogate).",
            )
            for c in plan._columns
            if 0 <= c.index < width and not _is_text(cells[c.index])
        ] or reader.finish()
    return reader.finish()


def _is_text(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def row_uuid(definition_id: int, parts: Sequence[tuple[str, str]]) -> str:
    """A completion uuid from what a row says: the same values give the same uuid.

    `parts` are (name, canonical value) pairs; they are sorted, so neither the order of
    the columns nor of the rows matters, and the line and the import are not part of it.
    It is uuid5 (SHA-1 under a namespace of occur's own) of the id and the pairs joined
    by NUL, which no name or stored value holds (the value rules refuse it), so two
    different rows never join to the same text. The namespace's hash state is computed
    once and copied: building a SHA-1 from scratch for each of a million rows cost more
    than the rest of the uuid.
    """
    hashed = _NAMESPACE_SHA1.copy()
    text = str(definition_id)
    for name, value in sorted(parts):
        text += f"\x00{name}\x00{value}"
    hashed.update(text.encode())
    return str(uuid.UUID(bytes=hashed.digest()[:16], version=5))


class _RowReader:
    """Reads one row's cells, collecting values and errors; `finish` decides."""

    __slots__ = (
        "contact_values",
        "email",
        "errors",
        "line",
        "object_id",
        "occurred_at",
        "occurred_at_read",
        "plan",
        "values",
    )

    def __init__(self, plan: ImportPlan, line: int) -> None:
        self.plan = plan
        self.line = line
        self.errors: list[RowError] = []
        self.email: str | None = None
        self.object_id: int | None = None
        self.occurred_at = plan.fixed_occurred_at
        self.occurred_at_read = False
        self.contact_values: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def read(self, column: _Column, text: str) -> None:
        kind = column.kind
        try:
            if kind == _EVENT_VALUE:
                if text:
                    self._event_value(column, text)
            elif kind == _EMAIL:
                if text:
                    self._email(text)
            elif kind == _OCCURRED_AT:
                self._occurred_at(text)
            elif kind == _RECORD_ID:
                if text:
                    self._record_id(text)
            elif kind == _CONTACT_VALUE:
                if text:
                    self._contact_value(column, text)
            elif text:
                raise CellError(
                    error_type=FAILED_VALIDATION,
                    message=f"{self.plan.definition.name} has no property {column.name!r}.",
                )
        except CellError as error:
            shown = text[:MAX_ERROR_VALUE_CHARS]
            self.errors.append(
                RowError(self.line, column.header, shown, error.error_type, error.message)
            )

    def _record_id(self, text: str) -> None:
        self.object_id = parse_object_id(text)
        if self.object_id is None:
            raise CellError(
                error_type=INVALID_OBJECT_ID,
                message=f"{_shown(text)} is not a record ID (a positive whole number).",
            )

    def _email(self, text: str) -> None:
        email = normalise_email(text)
        if email is None or _NUL in email:
            raise CellError(
                error_type=INVALID_EMAIL, message=f"{_shown(text)} is not an email address."
            )
        self.email = email.lower()

    def _occurred_at(self, text: str) -> None:
        self.occurred_at_read = True
        if not text:
            raise CellError(
                error_type=MISSING_EVENT_TIMESTAMP,
                message="The time the event occurred is empty.",
            )
        self.occurred_at = parse_occurred_at(text, self.plan.date_format, self.plan.zone())

    def _contact_value(self, column: _Column, text: str) -> None:
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
        self.contact_values[column.name] = text

    def _event_value(self, column: _Column, text: str) -> None:
        spec = column.spec
        assert spec is not None
        if len(text) > column.limit:
            raise CellError(
                error_type=COLUMN_TOO_LARGE,
                message=f"{spec.name} takes values of at most {column.limit} characters; "
                f"this one has {len(text)}.",
            )
        memo = column.memo
        known = memo.get(text)
        if known is not None:
            self.values[spec.name] = known
            return
        try:
            value = coerce_value(spec, self._prepared(column, spec, text))
        except InvalidValue as invalid:
            raise CellError(
                error_type=_ERROR_TYPE_OF_CODE.get(invalid.code, FAILED_VALIDATION),
                message=invalid.message,
            ) from None
        if len(memo) < _MEMO_ENTRIES and len(text) <= _MEMO_CHARS:
            memo[text] = value
        self.values[spec.name] = value

    def _prepared(self, column: _Column, spec: PropertySpec, text: str) -> str:
        """The cell as the API's value rules expect it: spreadsheet spellings undone."""
        kind = spec.type
        if kind is PropertyType.STRING:
            return text
        if kind is PropertyType.NUMBER:
            return _number_text(text, decimal_comma=self.plan.decimal_comma)
        if kind is PropertyType.BOOL:
            return _BOOLEANS.get(text.casefold(), text)
        if kind is PropertyType.ENUMERATION:
            return _options_text(column.options or {}, text)
        try:
            if kind is PropertyType.DATE:
                return parse_date_value(text, self.plan.date_format)
            ms = parse_datetime_value(text, self.plan.date_format, self.plan.zone())
            return str(ms)
        except CellError as error:
            if error.error_type != COULD_NOT_PARSE_DATE:
                raise
            raise CellError(
                error_type=INVALID_PROPERTY_VALUE_FORMAT,
                message=f"{spec.name}: {_shown(text)} is not a date in the chosen format.",
            ) from None

    def finish(self) -> ImportRow | list[RowError]:
        identity = self._identity()
        if self.occurred_at is None and not self.occurred_at_read and not self.errors:
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
        parts = [("event." + name, value) for name, value in self.values.items()]
        parts.append(("identity." + identity.kind.value, identity.value))
        parts.append(("occurredAt", str(self.occurred_at)))
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
        columns = self.plan._column_of
        if identity is not None:
            target = _TARGET_OF_PATH.get(identity.path)
            column = columns.get(target) if target is not None else None
            if column is None:
                return identity
            return Identity(identity.kind, identity.value, column, identity.may_create)
        email_column = columns.get(Target.CONTACT)
        header: str | None
        for problem in problems:
            if problem.code == MISSING_IDENTIFIER and email_column is not None:
                error_type, header = INVALID_EMAIL, email_column
                message = "The email is empty, and no record ID names the contact."
            elif problem.code == MISSING_IDENTIFIER:
                error_type, header = INVALID_OBJECT_ID, columns.get(Target.RECORD_ID)
                message = "The record ID is empty."
            else:
                error_type, header, message = FAILED_VALIDATION, None, problem.message
            self.errors.append(RowError(self.line, header, "", error_type, message))
        return None


# choose_identity's paths (prefix "") → the column that gave the identifier.
_TARGET_OF_PATH = {"objectId": Target.RECORD_ID, "email": Target.CONTACT}


def _number_text(text: str, *, decimal_comma: bool) -> str:
    """A spreadsheet number as plain decimal text (`1 234,5` → `1234.5`), or the cell
    unchanged when it is written otherwise, for the value rules to read or refuse.

    Grouping separators count only between groups of three digits: with a decimal dot,
    `1,5` is no number rather than fifteen; with a decimal comma, `1.5` (how an XLSX
    number cell reads) stays one and a half while `1.234` is a thousand and more.
    """
    if not _GROUPING_MARKS[decimal_comma].intersection(text):
        return text  # plain already (the common case): the value rules read it as is
    match = _GROUPED[decimal_comma].fullmatch(text)
    if match is None or not (match["integer"] or match["fraction"]):
        return text
    integer = _NOT_DIGIT.sub("", match["integer"]) or "0"
    fraction = f".{match['fraction']}" if match["fraction"] else ""
    return f"{match['sign']}{integer}{fraction}"


def _options_text(options: dict[str, str], text: str) -> str:
    """`;`-separated options trimmed, each written as its value or its label (any case),
    as the value the property stores; unknown pieces are left for the rules to report."""
    if text in options:
        return options[text]
    pieces = [piece.strip() for piece in text.split(MULTI_VALUE_SEPARATOR)]
    return MULTI_VALUE_SEPARATOR.join(
        options.get(p) or options.get(p.casefold(), p) for p in pieces if p
    )


def _shown(text: str) -> str:
    quoted = repr(text)
    return quoted if len(quoted) <= 40 else quoted[:39] + "…"
