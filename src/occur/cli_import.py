"""`occur import FILE --event NAME`: a spreadsheet import through the HTTP API, as any
HubSpot client would send it, with a progress bar.

The header is read here (services/spreadsheets.py) and auto-mapped by the same rules
as the web app (domain/import_columns.py); `--map` overrides a column. The request is
HubSpot's `POST /crm/v3/imports` (docs/api.md); then the import is polled until it
ends. Exit status: 0 every row imported, 1 some rows failed (or the import did), 2
the request was refused (bad flags, an unknown event, an unreadable file).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from occur.domain.import_columns import (
    HEADER_LANGUAGES,
    ColumnMapping,
    PropertyChoice,
    Target,
    auto_map,
    fold_header,
    requirements,
)
from occur.domain.import_dates import DATE_FORMATS, guess_date_format
from occur.domain.objects import find_object_type
from occur.errors import ValidationError
from occur.services import spreadsheets

POLL_SECONDS = 0.5
GUESS_ROWS = 20
DEFAULT_DATE_FORMAT = "MONTH_DAY_YEAR"  # HubSpot's
FINISHED = frozenset({"DONE", "FAILED", "CANCELED", "REVERTED"})
ERRORS_SHOWN = 50
# What the summary calls each counter, and its name in the API's metadata.counters.
SUMMARY = (
    ("Rows read", "PROCESSED_ROWS"),
    ("Contacts created", "CREATED_OBJECTS"),
    ("Contacts updated", "UPDATED_OBJECTS"),
    ("Completions created", "CREATED_EVENTS"),
    ("Rows with errors", "ROWS_WITH_ERRORS"),
)
ROWS_WITH_ERRORS = "ROWS_WITH_ERRORS"
REFUSED = 2
ROWS_FAILED = 1


class Refused(Exception):
    """The request cannot be made or was refused: exit 2 with this message."""


def parse_map(option: str, headers: Sequence[str]) -> tuple[int, Target, str | None]:
    """One `--map COLUMN=TARGET`: the column (by header, or 1-based number), where it goes."""
    column, sep, target = option.rpartition("=")
    if not sep or not column:
        raise Refused(f"--map {option!r}: write COLUMN=TARGET, like 'E-mail=contact.email'.")
    index = _column_index(column, headers)
    kind, _, prop = target.strip().partition(".")
    simple = {"record_id": Target.RECORD_ID, "occurred_at": Target.OCCURRED_AT,
              "skip": Target.SKIP}  # fmt: skip
    if kind in simple and not prop:
        return index, simple[kind], None
    if kind in ("contact", "event") and prop:
        return index, Target.CONTACT if kind == "contact" else Target.EVENT, prop.strip()
    raise Refused(
        f"--map {option!r}: the target is contact.PROPERTY, event.PROPERTY, record_id, "
        "occurred_at or skip."
    )


def _column_index(column: str, headers: Sequence[str]) -> int:
    if column in headers:
        return list(headers).index(column)
    folded = [fold_header(h) for h in headers]
    if fold_header(column) in folded:
        return folded.index(fold_header(column))
    if column.isdigit() and 1 <= int(column) <= len(headers):
        return int(column) - 1
    raise Refused(f"The file has no column {column!r}; its columns: {', '.join(headers)}.")


def mapped(
    headers: Sequence[str],
    language: str,
    definition: dict[str, Any],
    overrides: Sequence[str],
) -> list[ColumnMapping]:
    """Auto-mapped columns, then each --map applied over them."""
    choices = [
        PropertyChoice(p["name"], p.get("label", p["name"]))
        for p in definition.get("properties", [])
        if not p.get("hubspotDefined", False) and not p["name"].startswith("hs_")
    ]
    mappings = auto_map(
        headers, language, object_is_contact=_is_contact(definition), event_properties=choices
    )
    for option in overrides:
        index, target, prop = parse_map(option, headers)
        mappings[index] = ColumnMapping(index, headers[index], target, prop)
    return mappings


def _is_contact(definition: dict[str, Any]) -> bool:
    return str(definition.get("primaryObject", "CONTACT")).upper() == "CONTACT"


def import_request(
    name: str,
    definition: dict[str, Any],
    mappings: Sequence[ColumnMapping],
    *,
    file_name: str,
    kind: str,
    date_format: str,
    time_zone: str | None,
    language: str,
    sheet: str | None,
) -> dict[str, Any]:
    """HubSpot's importRequest for these mappings (docs/api.md, Imports)."""
    event_type = definition["objectTypeId"]
    contact_type = "0-1"
    columns: list[dict[str, Any]] = []
    for m in mappings:
        column: dict[str, Any] = {"columnName": m.header}
        if m.target is Target.SKIP:
            continue
        if m.target is Target.CONTACT:
            column.update(columnObjectTypeId=contact_type, propertyName=m.property_name)
            if m.property_name == "email":
                column["idColumnType"] = "HUBSPOT_ALTERNATE_ID"
        elif m.target is Target.RECORD_ID:
            found = find_object_type(str(definition.get("primaryObject", "CONTACT")))
            column.update(
                columnObjectTypeId=found.type_id if found else contact_type,
                propertyName="hs_object_id",
                idColumnType="HUBSPOT_OBJECT_ID",
            )
        elif m.target is Target.EVENT:
            column.update(columnObjectTypeId=event_type, propertyName=m.property_name)
        elif m.target is Target.OCCURRED_AT:
            column.update(columnObjectTypeId=event_type, columnType="EVENT_TIMESTAMP")
        columns.append(column)
    request: dict[str, Any] = {
        "name": name,
        "dateFormat": date_format,
        "headerLanguage": language,
        "files": [
            {
                "fileName": file_name,
                "fileFormat": "SPREADSHEET" if kind.lower() == "xlsx" else "CSV",
                "fileImportPage": {"hasHeader": True, "columnMappings": columns},
            }
        ],
    }
    if time_zone:
        request["timeZone"] = time_zone
    if sheet:
        request["sheetName"] = sheet
    return request


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--event", "event_name", required=True, help="The event to import into (its name).")
@click.option(
    "--map",
    "overrides",
    multiple=True,
    metavar="COLUMN=TARGET",
    help="Map a column (by header or number) to contact.PROP, event.PROP, record_id, "
    "occurred_at or skip; repeatable. Other columns are matched by their headers.",
)
@click.option(
    "--date-format",
    type=click.Choice(DATE_FORMATS),
    default=None,
    help="How the Occurred at column writes dates (the three day orders take a time too) "
    "[default: guessed from the first rows, else MONTH_DAY_YEAR].",
)
@click.option(
    "--time-zone", default=None, help="IANA zone of times with no offset [default: the portal's]."
)
@click.option("--name", default=None, help="The import's name [default: the file's name].")
@click.option("--sheet", default=None, help="The sheet of an Excel file [default: the first].")
@click.option(
    "--language",
    type=click.Choice([code for code, _ in HEADER_LANGUAGES]),
    default="en",
    show_default=True,
    help="Language of the column headers (and of numbers: 1.234,5 outside en).",
)
@click.option("--url", envvar="OCCUR_URL", default="http://127.0.0.1:8800", show_default=True,
              help="occur's address (or OCCUR_URL).")  # fmt: skip
@click.option("--token", envvar="OCCUR_TOKEN", required=True,
              help="An access token with the crm.import scope (or OCCUR_TOKEN).")  # fmt: skip
def import_command(
    file: Path,
    event_name: str,
    overrides: tuple[str, ...],
    date_format: str | None,
    time_zone: str | None,
    name: str | None,
    sheet: str | None,
    language: str,
    url: str,
    token: str,
) -> None:
    """Import the rows of FILE (CSV or .xlsx) as completions of an event, through the
    HTTP API, and wait for the import to end.

    Prints the results and every row that failed; exits 1 when a row failed, 2 when the
    import was refused.
    """
    # No markup: headers and values come from the file and the server.
    console = Console(stderr=True, markup=False, highlight=False)
    out = Console(markup=False, highlight=False)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=60) as client:
            view = _run(client, console, file, event_name, overrides, date_format, time_zone,
                        name, sheet, language)  # fmt: skip
            errors = _errors(client, view) if _counter(view, ROWS_WITH_ERRORS) else []
    except Refused as exc:
        _refuse(console, str(exc))
    except httpx.TransportError as exc:
        _refuse(console, f"Cannot reach occur at {url}: {exc}")
    _summary(out, view, errors)
    if view.get("state") != "DONE" or _counter(view, ROWS_WITH_ERRORS):
        sys.exit(ROWS_FAILED)


def _run(
    client: httpx.Client,
    console: Console,
    file: Path,
    event_name: str,
    overrides: Sequence[str],
    date_format: str | None,
    time_zone: str | None,
    name: str | None,
    sheet: str | None,
    language: str,
) -> dict[str, Any]:
    try:
        fmt = spreadsheets.detect(file, file.name, sheet)
        columns = spreadsheets.header(file, fmt)
    except ValidationError as exc:
        raise Refused(f"{file}: {exc.message}") from None
    found = client.get(f"/events/v3/event-definitions/{event_name}")
    if found.status_code == 404:
        raise Refused(f"There is no event named {event_name!r}.")
    definition = _json(found)
    mappings = mapped(columns, language, definition, overrides)
    needs = requirements(mappings, object_is_contact=_is_contact(definition),
                         fixed_occurred_at=False)  # fmt: skip
    if needs:
        raise Refused(" ".join(needs) + " Use --map COLUMN=TARGET.")
    if date_format is None:
        date_format = _guessed_format(file, fmt, mappings, time_zone)
    request = import_request(
        name or file.name, definition, mappings, file_name=file.name, kind=fmt.kind,
        date_format=date_format, time_zone=time_zone, language=language, sheet=fmt.sheet,
    )  # fmt: skip
    with file.open("rb") as data:
        started = client.post(
            "/crm/v3/imports",
            data={"importRequest": json.dumps(request)},
            files={"files": (file.name, data, "application/octet-stream")},
        )
    view = _json(started)
    console.print(f"Import {view['id']} started ({date_format}): {_describe(mappings)}")
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("Importing", total=1.0, rows=0)
        while view.get("state") not in FINISHED:
            time.sleep(POLL_SECONDS)
            view = _json(client.get(f"/crm/v3/imports/{view['id']}"))
            progress.update(
                task, completed=_progress(view), rows=f"{_counter(view, 'PROCESSED_ROWS'):,}"
            )
        progress.update(task, completed=1.0 if view.get("state") == "DONE" else _progress(view))
    return view


def _guessed_format(
    file: Path, fmt: spreadsheets.SheetFormat, mappings: Sequence[ColumnMapping], zone: str | None
) -> str:
    """The date format that reads the first rows' Occurred at cells, as the wizard guesses."""
    column = next((m.index for m in mappings if m.target is Target.OCCURRED_AT), None)
    if column is None:
        return DEFAULT_DATE_FORMAT
    samples = [r[column] for r in spreadsheets.preview(file, fmt, GUESS_ROWS) if len(r) > column]
    return guess_date_format(samples, zone or "UTC") or DEFAULT_DATE_FORMAT


def _describe(mappings: Sequence[ColumnMapping]) -> str:
    shown = []
    for m in mappings:
        if m.target is Target.SKIP:
            continue
        where = m.target.value + (f".{m.property_name}" if m.property_name else "")
        shown.append(f"{m.header}={where}")
    return ", ".join(shown)


def _errors(client: httpx.Client, view: dict[str, Any]) -> list[dict[str, Any]]:
    params = {"limit": str(ERRORS_SHOWN), "includeRowData": "false"}
    answer = _json(client.get(f"/crm/v3/imports/{view['id']}/errors", params=params))
    results: list[dict[str, Any]] = answer.get("results", [])
    return results


def _summary(out: Console, view: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    out.print(f"Import {view['id']} ({view.get('importName', '')}): {view.get('state')}")
    for label, key in SUMMARY:
        out.print(f"  {label + ':':<21}{_counter(view, key):>10,}")
    if not errors:
        return
    table = Table("Row", "Column", "Value", "Error type", "Error", title="Rows with errors")
    for error in errors:
        table.add_row(
            str(error.get("sourceData", {}).get("lineNumber", "")),
            str(error.get("extraContext", "")),
            str(error.get("invalidValue", "")),
            str(error.get("errorType", "")),
            str(error.get("errorMessage", "")),
        )
    out.print(table)
    more = _counter(view, ROWS_WITH_ERRORS) - len(errors)
    if more > 0:
        out.print(f"… and {more:,} more; GET /crm/v3/imports/{view['id']}/errors.csv has them all.")


def _counter(view: dict[str, Any], key: str) -> int:
    counters = view.get("metadata", {}).get("counters", {})
    return int(counters.get(key, 0))


def _progress(view: dict[str, Any]) -> float:
    return float(view.get("progress", 0.0))


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            message = response.json().get("message", response.text)
            details = [e.get("message", "") for e in response.json().get("errors", [])]
        except ValueError:
            message, details = response.text, []
        raise Refused("\n  - ".join([f"{response.status_code}: {message}", *details]))
    answer: dict[str, Any] = response.json()
    return answer


def _refuse(console: Console, message: str) -> NoReturn:
    console.print(f"error: {message}", markup=False, highlight=False)
    sys.exit(REFUSED)
