"""`occur import` against a live `occur serve`, as a user runs it: a real process that
speaks HTTP only, its summary and errors, and its exit status (0 all rows, 1 some rows
failed, 2 refused)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from tests.e2e.conftest import create_portal, server_env, start_server, stop_server

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Live:
    base_url: str
    token: str

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("import-cli")
    env = server_env(data_dir / "data")
    _portal_id, token = create_portal(env, "Import CLI")
    process, base_url = start_server(env, data_dir / "server.log")
    try:
        yield Live(base_url, token)
    finally:
        stop_server(process)


def event(live: Live, label: str, properties: list[dict[str, Any]]) -> str:
    with live.api() as api:
        created = api.post("/events/v3/event-definitions",
                           json={"label": label, "propertyDefinitions": properties})  # fmt: skip
    assert created.status_code == 201, created.text
    return str(created.json()["name"])


def occur_import(
    live: Live, *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCCUR_")}
    env.update(OCCUR_URL=live.base_url, OCCUR_TOKEN=token or live.token, COLUMNS="160")
    return subprocess.run(
        [sys.executable, "-m", "occur", "import", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def completions(live: Live, name: str) -> list[dict[str, Any]]:
    with live.api() as api:
        fqn = api.get("/events/v3/event-definitions/" + name).json()["fullyQualifiedName"]
        read = api.get("/events/v3/events", params={"eventType": fqn, "limit": 100})
    results: list[dict[str, Any]] = read.json()["results"]
    return results


def test_a_file_is_imported_and_summarised(live: Live, tmp_path: Path) -> None:
    name = event(live, "Paid invoice", [{"name": "amount", "label": "Amount", "type": "number"}])
    data = tmp_path / "invoices.csv"
    data.write_text(
        "E-mail,Paid on,Amount,Notes\n"
        "ann@example.com,2025-02-01T10:00:00Z,120.5,first\n"
        "bob@example.com,2025-02-02T11:00:00Z,80,second\n"
    )
    done = occur_import(live, str(data), "--event", name, "--map", "Paid on=occurred_at")
    assert done.returncode == 0, done.stderr
    assert "(invoices.csv): DONE" in done.stdout and "Completions created:" in done.stdout
    lines = {line.split(":")[0].strip(): line.split(":")[1].strip() for line in
             done.stdout.splitlines() if ":" in line and line.startswith("  ")}  # fmt: skip
    assert lines["Rows read"] == "2" and lines["Completions created"] == "2"
    assert lines["Contacts created"] == "2" and lines["Rows with errors"] == "0"
    assert "Paid on=occurred_at" in done.stderr  # the mapping it used, said before it runs
    found = completions(live, name)
    assert sorted(c["properties"]["amount"] for c in found) == ["120.5", "80"]
    # The same file again: the rows are the same completions, not stored twice.
    again = occur_import(live, str(data), "--event", name, "--map", "Paid on=occurred_at")
    assert again.returncode == 0, again.stderr
    assert len(completions(live, name)) == 2


def test_failing_rows_are_printed_and_exit_1(live: Live, tmp_path: Path) -> None:
    name = event(live, "Attended webinar", [])
    data = tmp_path / "webinar.csv"
    data.write_text(
        "Courriel;Date de l'événement\n"
        "ann@example.com;01/02/2025 09:30\n"
        "pas-un-courriel;02/02/2025 09:30\n",
        encoding="utf-8",
    )
    done = occur_import(
        live, str(data), "--event", name, "--language", "fr",
        "--date-format", "DAY_MONTH_YEAR", "--time-zone", "Europe/Paris",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "INVALID_EMAIL" in done.stdout and "pas-un-courriel" in done.stdout
    [stored] = completions(live, name)
    assert stored["occurredAt"].startswith("2025-02-01T08:30")  # 09:30 in Paris


def test_a_refused_import_exits_2_and_says_why(live: Live, tmp_path: Path) -> None:
    name = event(live, "Opened app", [])
    data = tmp_path / "app.csv"
    data.write_text("Email,When\nann@example.com,2025-01-01\n")
    unknown = occur_import(live, str(data), "--event", "no_such_event")
    assert unknown.returncode == 2 and "no event named" in unknown.stderr
    bad_map = occur_import(live, str(data), "--event", name, "--map", "Nope=occurred_at")
    assert bad_map.returncode == 2 and "no column 'Nope'" in bad_map.stderr
    no_email = occur_import(live, str(data), "--event", name, "--map", "Email=skip")
    assert no_email.returncode == 2 and "email" in no_email.stderr
    bad_token = occur_import(live, str(data), "--event", name, token="occur-pat-nope")
    assert bad_token.returncode == 2 and "401" in bad_token.stderr
    assert completions(live, name) == []


def test_import_help_names_every_option() -> None:
    shown = subprocess.run([sys.executable, "-m", "occur", "import", "--help"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    for option in ("--event", "--map", "--date-format", "--time-zone", "--name", "--sheet",
                   "--language", "--url", "--token"):  # fmt: skip
        assert option in shown.stdout


def test_a_workbooks_sheet_is_named_with_sheet(live: Live, tmp_path: Path) -> None:
    name = event(live, "Booked demo", [{"name": "seats", "label": "Seats", "type": "number"}])
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Cover"
    cover.append(["Nothing here"])
    sheet = workbook.create_sheet("Demos")
    sheet.append(["Email", "Date", "Seats"])
    sheet.append(["ann@example.com", datetime(2025, 4, 1, 9, 30), 4])
    data = tmp_path / "demos.xlsx"
    workbook.save(data)
    done = occur_import(live, str(data), "--event", name, "--sheet", "Demos")
    assert done.returncode == 0, done.stdout + done.stderr
    [stored] = completions(live, name)
    assert stored["properties"]["seats"] == "4"
    assert stored["occurredAt"].startswith("2025-04-01T09:30")
    missing = occur_import(live, str(data), "--event", name, "--sheet", "Nope")
    assert missing.returncode == 2 and "Nope" in missing.stderr
