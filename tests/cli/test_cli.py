"""The `occur` command through its public interface (click's runner, and real processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from occur.cli import main
from occur.domain.scopes import ALL_SCOPES
from occur.services import access, accounts
from occur.store.db import open_database


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


def test_every_command_has_help() -> None:
    commands = [
        [],
        ["serve"],
        ["migrate"],
        ["portal"],
        ["portal", "create"],
        ["token"],
        ["token", "create"],
        ["token", "revoke"],
        ["user"],
        ["user", "create"],
    ]
    for command in commands:
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage:" in result.stdout
        assert len(result.stdout.splitlines()) > 3


def test_python_m_occur_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "occur", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "migrate", "portal", "token"):
        assert command in done.stdout


def test_portal_create_json_prints_one_line_with_a_working_token(env: dict[str, str]) -> None:
    code, out, _ = run(env, "portal", "create", "--name", "Acme Inc", "--json")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    created = json.loads(lines[0])
    assert set(created) == {"portalId", "name", "token"}
    assert created["name"] == "Acme Inc"
    assert isinstance(created["portalId"], int)
    db = open_database(env["OCCUR_DATABASE_URL"])
    try:
        who = access.Authenticator(db).authenticate(f"Bearer {created['token']}")
    finally:
        db.dispose()
    assert who.portal_id == created["portalId"]
    assert who.scopes == frozenset(ALL_SCOPES)


def test_portal_create_rejects_an_empty_name(env: dict[str, str]) -> None:
    code, _, err = run(env, "portal", "create", "--name", "   ")
    assert code == 1
    assert "portal name" in err


def test_token_create_and_revoke(env: dict[str, str]) -> None:
    _, out, _ = run(env, "portal", "create", "--name", "Acme", "--json")
    portal_id = json.loads(out)["portalId"]
    scopes = "analytics.behavioral_events.send,crm.objects.contacts.read"
    code, out, _ = run(
        env, "token", "create", "--portal", str(portal_id), "--scopes", scopes, "--json"
    )
    assert code == 0
    issued = json.loads(out)
    assert issued["scopes"] == scopes.split(",")
    db = open_database(env["OCCUR_DATABASE_URL"])
    try:
        who = access.Authenticator(db, cache_seconds=0).authenticate(f"Bearer {issued['token']}")
        assert who.scopes == frozenset(scopes.split(","))
        code, out, _ = run(env, "token", "revoke", str(issued["tokenId"]))
        assert code == 0
        with pytest.raises(access.InvalidAuthentication):
            access.Authenticator(db).authenticate(f"Bearer {issued['token']}")
    finally:
        db.dispose()
    code, _, err = run(env, "token", "revoke", str(issued["tokenId"]))
    assert code == 1
    assert "No live token" in err


def test_token_create_refuses_unknown_scopes_and_portals(env: dict[str, str]) -> None:
    _, out, _ = run(env, "portal", "create", "--name", "Acme", "--json")
    portal_id = json.loads(out)["portalId"]
    code, _, err = run(
        env,
        "token",
        "create",
        "--portal",
        str(portal_id),
        "--scopes",
        "crm.objects.contacts.read,crm.objects.planets.read",
    )
    assert code == 1
    assert "crm.objects.planets.read" in err
    code, _, err = run(
        env, "token", "create", "--portal", str(portal_id + 999), "--scopes", "crm.import"
    )
    assert code == 1
    assert "No portal" in err


def test_migrate_reports_the_head_revision(env: dict[str, str]) -> None:
    code, out, _ = run(env, "migrate")
    assert code == 0
    from occur.store.migrate import head_revision

    assert out.strip() == f"schema at revision {head_revision()}"


def test_a_bad_setting_is_a_usage_error(env: dict[str, str]) -> None:
    code, _, err = run({**env, "OCCUR_MAX_DEFINITIONS": "lots"}, "migrate")
    assert code == 2
    assert "OCCUR_MAX_DEFINITIONS" in err


def test_user_create_makes_an_account_that_signs_in(env: dict[str, str], database_url: str) -> None:
    _, out, _ = run(env, "portal", "create", "--name", "Acme", "--json")
    portal_id = json.loads(out)["portalId"]
    runner = CliRunner()
    args = ["user", "create", "--portal", str(portal_id), "--email", "Ann@Example.com"]
    made = runner.invoke(main, [*args, "--password-stdin"], env=env, input="a long passphrase\n")
    assert made.exit_code == 0, made.stderr
    assert "Created user ann@example.com (admin of portal" in made.stdout
    db = open_database(database_url)
    try:
        user = accounts.authenticate(db, "ann@example.com", "a long passphrase")
        assert user is not None
        assert [(m.portal_id, m.role) for m in accounts.memberships(db, user.id)] == [
            (portal_id, "admin")
        ]
    finally:
        db.dispose()


def test_user_create_asks_for_the_password_twice(env: dict[str, str]) -> None:
    _, out, _ = run(env, "portal", "create", "--name", "Acme", "--json")
    portal_id = str(json.loads(out)["portalId"])
    args = [
        "user",
        "create",
        "--portal",
        portal_id,
        "--email",
        "bob@example.com",
        "--role",
        "member",
    ]
    typed = "first passphrase\nfirst passphrase\n"
    made = CliRunner().invoke(main, args, env=env, input=typed)
    assert made.exit_code == 0, made.stderr
    assert "Created user bob@example.com (member of portal" in made.stdout


def test_user_create_refuses_bad_input_clearly(env: dict[str, str]) -> None:
    _, out, _ = run(env, "portal", "create", "--name", "Acme", "--json")
    portal_id = str(json.loads(out)["portalId"])

    def create(portal: str, email: str, password: str) -> tuple[int, str]:
        args = ["user", "create", "--portal", portal, "--email", email, "--password-stdin"]
        done = CliRunner().invoke(main, args, env=env, input=password + "\n")
        return done.exit_code, done.stderr

    code, err = create(portal_id, "a@b.co", "short")
    assert code == 1 and "at least 8 characters" in err
    code, err = create(portal_id, "not-an-email", "long enough pass")
    assert code == 1 and "email address" in err
    code, err = create("99999", "a@b.co", "long enough pass")
    assert code == 1 and "No portal 99999" in err
