"""`occur demo` through click's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from occur.cli import main
from occur.store.db import open_database
from occur.store.schema import event_definitions, events


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "OCCUR_DATA_DIR": str(tmp_path / "data"),
        "OCCUR_DATABASE_URL": database_url,
        "OCCUR_SECRET_KEY": "",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def _counts(url: str, portal_id: int) -> tuple[int, int]:
    db = open_database(url)
    try:
        with db.read() as conn:
            defs = conn.execute(
                select(func.count())
                .select_from(event_definitions)
                .where(event_definitions.c.portal_id == portal_id)
            ).scalar_one()
            stored = conn.execute(
                select(func.count()).select_from(events).where(events.c.portal_id == portal_id)
            ).scalar_one()
    finally:
        db.dispose()
    return defs, stored


def test_demo_creates_a_portal_and_a_repeat_adds_nothing(env: dict[str, str]) -> None:
    code, out, err = run(env, "demo", "--contacts", "60", "--days", "21", "--seed", "3")
    assert code == 0, err
    found = re.search(r"Created portal (\d+)", out)
    assert found, out
    portal_id = int(found.group(1))
    assert "Token (shown once): occur-pat-" in out
    line = re.search(r"completions: ([\d,]+) stored", out)
    assert line, out
    stored = int(line.group(1).replace(",", ""))
    assert stored > 0
    assert _counts(env["OCCUR_DATABASE_URL"], portal_id) == (8, stored)

    args = ("demo", "--portal", str(portal_id), "--contacts", "60", "--days", "21", "--seed", "3")
    code, out, err = run(env, *args)
    assert code == 0, err
    assert "Created portal" not in out
    assert "completions: 0 stored" in out
    assert "pass another --seed" in out
    assert _counts(env["OCCUR_DATABASE_URL"], portal_id) == (8, stored)


def test_demo_refuses_an_unknown_portal(env: dict[str, str]) -> None:
    code, _, err = run(env, "demo", "--portal", "4242", "--contacts", "5", "--days", "2")
    assert code == 1
    assert "No portal 4242" in err


def test_demo_help_says_what_a_second_run_does() -> None:
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0
    assert "--seed" in result.stdout
    assert "again" in result.stdout
