"""An import's request: reading HubSpot's importRequest JSON, checking it against the
event and the file's header, and keeping it in the import's row.

The request names columns by their header (`columnName`); occur keeps the exact
mapping it resolved (column positions, targets) beside HubSpot's shape, so that the
worker follows what was checked even if headers repeat.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from occur.domain.definitions import EventDefinition, object_type_id
from occur.domain.fields import FieldReader
from occur.domain.import_columns import (
    DEFAULT_LANGUAGE,
    EMAIL,
    HEADER_LANGUAGES,
    RECORD_ID_PROPERTY,
    ColumnMapping,
    PropertyChoice,
    Target,
    auto_map,
    mapping_problems,
    requirements,
)
from occur.domain.import_dates import DATE_FORMATS
from occur.domain.import_rows import ImportPlan
from occur.domain.objects import CONTACT
from occur.domain.timestamps import ms_from_text
from occur.errors import FieldError, collect
from occur.services import spreadsheets
from occur.store.imports import ImportRecord

DEFAULT_DATE_FORMAT = "MONTH_DAY_YEAR"  # HubSpot's default
MAX_NAME_CHARS = 200
_FILE_PAGE = "files[0].fileImportPage"
_LANGUAGES = {code for code, _name in HEADER_LANGUAGES}


@dataclass(frozen=True)
class ImportRequest:
    """What to import, as the wizard, the CLI and the API's importRequest all say it."""

    name: str
    definition_name: str  # the event's short name
    mappings: tuple[ColumnMapping, ...]
    date_format: str = DEFAULT_DATE_FORMAT
    time_zone: str = "UTC"
    fixed_occurred_at: int | None = None
    header_language: str = DEFAULT_LANGUAGE
    sheet: str | None = None


def read_import_request(
    body: object,
    definition: EventDefinition,
    headers: Sequence[str],
    *,
    default_name: str = "Import",
    default_time_zone: str = "UTC",
) -> ImportRequest:
    """HubSpot's importRequest JSON, read against the file's header; one 400 listing
    every problem. Without columnMappings the columns are mapped from their headers."""
    r = FieldReader()
    obj = r.obj(body, "importRequest") or {}
    name = r.text(obj, "name", "name", max_chars=MAX_NAME_CHARS) or default_name
    date_format = r.text(obj, "dateFormat", "dateFormat") or DEFAULT_DATE_FORMAT
    if date_format not in DATE_FORMATS:
        r.add("dateFormat", f"dateFormat must be one of {', '.join(DATE_FORMATS)}.", "INVALID")
    time_zone = r.text(obj, "timeZone", "timeZone") or default_time_zone
    if not _is_zone(time_zone):
        r.add("timeZone", f"{time_zone!r} is not an IANA time zone.", "INVALID")
    language = r.text(obj, "headerLanguage", "headerLanguage") or DEFAULT_LANGUAGE
    if language not in _LANGUAGES:
        r.add("headerLanguage", f"headerLanguage must be one of {sorted(_LANGUAGES)}.")
    fixed = _fixed_occurred_at(r, obj)
    page = _file_page(r, obj)
    raw = r.get(page, "columnMappings", list, f"{_FILE_PAGE}.columnMappings") or []
    mappings = _read_mappings(r, raw, definition, headers)
    collect(r.problems)
    if not raw:
        mappings = auto_map(
            headers,
            language,
            object_is_contact=definition.object_type is CONTACT,
            event_properties=[PropertyChoice(p.name, p.label) for p in definition.properties],
        )
    taken = {m.index for m in mappings}
    mappings += [ColumnMapping(i, h, Target.SKIP) for i, h in enumerate(headers) if i not in taken]
    return ImportRequest(
        name=name,
        definition_name=definition.name,
        mappings=tuple(mappings),
        date_format=date_format,
        time_zone=time_zone,
        fixed_occurred_at=fixed,
        header_language=language,
        sheet=sheet_name(body),
    )


def check(request: ImportRequest, definition: EventDefinition, header: Sequence[str]) -> None:
    """Every problem of a request against its event and its file's header, in one 400."""
    is_contact = definition.object_type is CONTACT
    choices = [PropertyChoice(p.name, p.label) for p in definition.properties]
    problems = [
        FieldError(p.message, in_=f"{_FILE_PAGE}.{p.in_}", code=p.code, context=p.context)
        for p in mapping_problems(
            request.mappings, object_is_contact=is_contact, event_properties=choices
        )
    ]
    for position, mapping in enumerate(request.mappings):
        if mapping.index >= len(header):
            problems.append(
                FieldError(
                    f"The file has {len(header)} columns; there is no column {mapping.index + 1}.",
                    in_=f"{_FILE_PAGE}.columnMappings[{position}]",
                    code="INVALID_COLUMN",
                )
            )
    for need in requirements(
        request.mappings,
        object_is_contact=is_contact,
        fixed_occurred_at=request.fixed_occurred_at is not None,
    ):
        problems.append(FieldError(need, in_=f"{_FILE_PAGE}.columnMappings", code="REQUIRED"))
    if request.date_format not in DATE_FORMATS:
        problems.append(FieldError("Unknown date format.", in_="dateFormat", code="INVALID"))
    if not _is_zone(request.time_zone):
        problems.append(FieldError("Unknown time zone.", in_="timeZone", code="INVALID"))
    collect(problems, "The import cannot start: " + "; ".join(p.message for p in problems[:3]))


def plan(
    request: ImportRequest,
    definition: EventDefinition,
    header: Sequence[str],
    fmt: spreadsheets.SheetFormat,
) -> ImportPlan:
    """What the runner converts rows with."""
    return ImportPlan(
        definition=definition,
        mappings=request.mappings,
        column_count=len(header),
        date_format=request.date_format,
        time_zone=request.time_zone,
        fixed_occurred_at=request.fixed_occurred_at,
        decimal_comma=spreadsheets.decimal_comma(fmt, request.header_language),
    )


def stored_request(record: ImportRecord) -> ImportRequest:
    """The request an import was started with, as kept in its row (see request_json)."""
    kept = record.request.get("occur", {})
    return ImportRequest(
        name=record.name,
        definition_name=record.definition_name,
        mappings=tuple(
            ColumnMapping(m["index"], m["header"], Target(m["target"]), m.get("propertyName"))
            for m in kept.get("mappings", [])
        ),
        date_format=kept.get("dateFormat", DEFAULT_DATE_FORMAT),
        time_zone=kept.get("timeZone", "UTC"),
        fixed_occurred_at=kept.get("fixedOccurredAt"),
        header_language=kept.get("headerLanguage", DEFAULT_LANGUAGE),
        sheet=kept.get("sheet"),
    )


def request_json(
    request: ImportRequest, definition: EventDefinition, header: Sequence[str], sheet: str | None
) -> dict[str, Any]:
    """The request in HubSpot's importRequest shape (what importRequestJson returns),
    plus under `occur` the exact mapping the runner follows."""
    event_type = object_type_id(definition.id)
    mapped = [m for m in request.mappings if m.target is not Target.SKIP]
    body: dict[str, Any] = {
        "name": request.name,
        "dateFormat": request.date_format,
        "timeZone": request.time_zone,
        "headerLanguage": request.header_language,
        "files": [
            {
                "fileFormat": "CSV" if sheet is None else "SPREADSHEET",
                "fileImportPage": {
                    "hasHeader": True,
                    "columnMappings": [_wire_mapping(m, definition, event_type) for m in mapped],
                },
            }
        ],
        "occur": {
            "mappings": [
                {
                    "index": m.index,
                    "header": m.header,
                    "target": m.target.value,
                    "propertyName": m.property_name,
                }
                for m in request.mappings
            ],
            "dateFormat": request.date_format,
            "timeZone": request.time_zone,
            "fixedOccurredAt": request.fixed_occurred_at,
            "headerLanguage": request.header_language,
            "sheet": sheet,
            "columns": len(header),
        },
    }
    if request.fixed_occurred_at is not None:
        body["eventTimestamp"] = request.fixed_occurred_at
    if sheet is not None:
        body["sheetName"] = sheet
    return body


def _read_mappings(
    r: FieldReader, raw: Sequence[object], definition: EventDefinition, headers: Sequence[str]
) -> list[ColumnMapping]:
    """HubSpot's columnMappings[] as ColumnMappings, in the order given (so that
    mapping_problems' positions name the same entries)."""
    event_type = object_type_id(definition.id)
    unused = list(range(len(headers)))
    mappings: list[ColumnMapping] = []
    for position, item in enumerate(raw):
        path = f"{_FILE_PAGE}.columnMappings[{position}]"
        entry = r.obj(item, path)
        if entry is None:
            continue
        column = r.text(entry, "columnName", f"{path}.columnName", required=True)
        if column is None:
            continue
        index = _column_index(column, headers, unused)
        if index is None:
            r.add(
                f"{path}.columnName",
                f"The file has no column {column!r} (its columns: {', '.join(headers)}).",
                "INVALID_COLUMN",
            )
            continue
        unused.remove(index)
        target = _target(r, entry, path, event_type)
        if target is not None:
            mappings.append(ColumnMapping(index, headers[index], *target))
    return mappings


def _target(
    r: FieldReader, entry: Mapping[str, Any], path: str, event_type: str
) -> tuple[Target, str | None] | None:
    kind = r.text(entry, "columnObjectTypeId", f"{path}.columnObjectTypeId") or ""
    prop = r.text(entry, "propertyName", f"{path}.propertyName") or None
    column_type = (
        r.text(entry, "columnType", f"{path}.columnType")
        or r.text(entry, "idColumnType", f"{path}.idColumnType")
        or ""
    ).upper()
    if column_type == "EVENT_TIMESTAMP":
        return Target.OCCURRED_AT, None
    if column_type == "HUBSPOT_OBJECT_ID" or prop == RECORD_ID_PROPERTY:
        return Target.RECORD_ID, None
    if column_type == "HUBSPOT_ALTERNATE_ID":
        return Target.CONTACT, prop or EMAIL
    if prop is None:
        return Target.SKIP, None
    if kind.upper() in (CONTACT.type_id, "CONTACT", "CONTACTS"):
        return Target.CONTACT, prop
    if kind in ("", event_type):
        return Target.EVENT, prop
    message = (
        f"One import stores one event: {kind!r} is not {event_type}."
        if kind.startswith("6-")
        else f"columnObjectTypeId must be {CONTACT.type_id} (a contact property) or "
        f"{event_type} (this event's property); got {kind!r}."
    )
    r.add(f"{path}.columnObjectTypeId", message, "INVALID")
    return None


def _column_index(column: str, headers: Sequence[str], unused: Sequence[int]) -> int | None:
    """The first unused column of that header (exactly, else ignoring case and spaces)."""
    for i in unused:
        if headers[i] == column:
            return i
    folded = column.strip().casefold()
    for i in unused:
        if headers[i].strip().casefold() == folded:
            return i
    return None


def _file_page(r: FieldReader, obj: Mapping[str, Any]) -> Mapping[str, Any]:
    files = r.get(obj, "files", list, "files")
    if not files:
        return {}
    if len(files) > 1:
        r.add("files", "occur imports one file per import.", "INVALID")
    entry = r.obj(files[0], "files[0]") or {}
    file_format = r.text(entry, "fileFormat", "files[0].fileFormat")
    if file_format is not None and file_format.upper() not in ("CSV", "SPREADSHEET"):
        r.add("files[0].fileFormat", "fileFormat must be CSV or SPREADSHEET.", "INVALID")
    page = r.obj(entry.get("fileImportPage", {}), _FILE_PAGE) or {}
    if page.get("hasHeader") is False:
        r.add(
            f"{_FILE_PAGE}.hasHeader",
            "The file's first line must hold the column headers (hasHeader: true).",
            "INVALID",
        )
    return page


def _fixed_occurred_at(r: FieldReader, obj: Mapping[str, Any]) -> int | None:
    raw = obj.get("eventTimestamp")
    if raw is None:
        return None
    fixed = ms_from_text(str(raw)) if isinstance(raw, str | int) and raw is not True else None
    if fixed is None or fixed < 0:
        r.add(
            "eventTimestamp",
            "eventTimestamp must be an ISO-8601 time or epoch milliseconds after 1970.",
            "INVALID",
        )
    return fixed


def sheet_name(body: object) -> str | None:
    if isinstance(body, dict):
        sheet = body.get("sheetName")
        if isinstance(sheet, str) and sheet.strip():
            return sheet
    return None


def event_types(body: Mapping[str, Any]) -> Iterator[str]:
    files = body.get("files")
    if not isinstance(files, list):
        return
    for entry in files:
        page = entry.get("fileImportPage") if isinstance(entry, dict) else None
        mappings = page.get("columnMappings") if isinstance(page, dict) else None
        for m in mappings if isinstance(mappings, list) else []:
            kind = m.get("columnObjectTypeId") if isinstance(m, dict) else None
            if isinstance(kind, str) and kind.startswith("6-"):
                yield kind


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _wire_mapping(m: ColumnMapping, definition: EventDefinition, event_type: str) -> dict[str, Any]:
    if m.target is Target.RECORD_ID:
        return {
            "columnName": m.header,
            "columnObjectTypeId": definition.object_type.type_id,
            "idColumnType": "HUBSPOT_OBJECT_ID",
            "propertyName": RECORD_ID_PROPERTY,
        }
    if m.target is Target.OCCURRED_AT:
        return {
            "columnName": m.header,
            "columnObjectTypeId": event_type,
            "columnType": "EVENT_TIMESTAMP",
        }
    if m.target is Target.CONTACT:
        entry = {
            "columnName": m.header,
            "columnObjectTypeId": CONTACT.type_id,
            "propertyName": m.property_name,
        }
        if m.property_name == EMAIL:
            entry["idColumnType"] = "HUBSPOT_ALTERNATE_ID"
        return entry
    return {
        "columnName": m.header,
        "columnObjectTypeId": event_type,
        "propertyName": m.property_name,
    }
