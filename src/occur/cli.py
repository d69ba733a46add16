"""The `occur` command: a thin layer over services, settings built once here."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from occur.cli_import import import_command
from occur.config import Settings, SettingsError
from occur.domain.accounts import ADMIN, ROLES
from occur.errors import OccurError
from occur.services import access, accounts
from occur.store import migrate as migrations
from occur.store.db import Database, open_database


def _settings(host: str | None = None, port: int | None = None) -> Settings:
    try:
        return Settings.from_env(host=host, port=port).with_secret_key()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def _migrated(settings: Settings) -> Database:
    """The store, migrated; its connections close when the command ends."""
    db = open_database(settings.database_url)
    click.get_current_context().call_on_close(db.dispose)
    migrations.upgrade(db)
    return db


def _fail(exc: OccurError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    for detail in exc.errors:
        click.echo(f"  - {detail.message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """occur: self-hostable, HubSpot-compatible custom behavioral events.

    Settings come from OCCUR_* environment variables (see docs/settings.md).
    """


@main.command()
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: 8800].")
def serve(host: str | None, port: int | None) -> None:
    """Run migrations, then serve the API on HOST:PORT."""
    import uvicorn

    from occur.app import create_app

    settings = _settings(host, port)
    db = _migrated(settings)
    if not access.has_portal(db):
        portal, token = access.create_portal(db, "Default portal")
        _print_welcome(settings, portal.id, token.secret)
    setup_code = None
    if not accounts.has_users(db):
        setup_code = accounts.SetupCode()
        click.echo(
            f"\nNo one can sign in yet. Open {settings.public_url}/setup and enter this "
            f"one-time set-up code to create the first user:\n\n    {setup_code.display}\n",
            err=True,
        )
    click.echo(f"occur serving on http://{settings.host}:{settings.port}", err=True)
    uvicorn.run(
        create_app(settings, db, setup_code),
        host=settings.host,
        port=settings.port,
        proxy_headers=settings.trust_proxy,
        log_level="info",
    )


@main.command()
def worker() -> None:
    """Run durable jobs (imports) in this process until stopped (Ctrl-C, SIGTERM).

    `occur serve` already runs one worker; start more with this command to share the work
    (PostgreSQL; each claims jobs the others skip). It reads uploaded files from
    OCCUR_DATA_DIR, so it needs the same data dir as the server. A stop finishes the chunk
    being written; the job resumes from there later.
    """
    import signal
    import threading

    from occur.app import ingest_for, job_worker

    settings = _settings()
    db = _migrated(settings)
    ingest = ingest_for(db, settings)
    jobs = job_worker(db, ingest, settings)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    jobs.start()
    click.echo(f"occur worker {jobs.worker_id} running; Ctrl-C stops it", err=True)
    while not stopping.wait(1.0):
        pass
    click.echo("stopping: finishing the chunk being written…", err=True)
    jobs.stop()
    ingest.close()


def _print_welcome(settings: Settings, portal_id: int, secret: str) -> None:
    base = settings.public_url
    click.echo(
        f"""
Created portal {portal_id} (portal id: {portal_id}; event names start pe{portal_id}_)
with an access token that holds every scope. The token is shown only this once; store it now:

    {secret}

Try it:

    curl -s -X POST {base}/events/v3/event-definitions \\
      -H 'Authorization: Bearer {secret}' \\
      -H 'Content-Type: application/json' \\
      -d '{{"label": "Watched demo", "propertyDefinitions": []}}'
"""
    )


@main.command()
def migrate() -> None:
    """Bring the database schema up to date, then exit."""
    settings = _settings()
    db = _migrated(settings)
    click.echo(f"schema at revision {migrations.current_revision(db)}")


@main.group()
def portal() -> None:
    """Manage portals (HubSpot accounts)."""


@portal.command("create")
@click.option("--name", required=True, help="The portal's display name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line.")
def portal_create(name: str, as_json: bool) -> None:
    """Create a portal and an access token with every scope."""
    db = _migrated(_settings())
    try:
        created, token = access.create_portal(db, name)
    except OccurError as exc:
        _fail(exc)
        return
    _emit(
        as_json,
        {"portalId": created.id, "name": created.name, "token": token.secret},
        f"Portal {created.id} ({created.name})\nToken (shown once): {token.secret}",
    )


@main.group()
def token() -> None:
    """Manage access tokens."""


@token.command("create")
@click.option("--portal", "portal_id", type=int, required=True, help="The portal id.")
@click.option("--scopes", required=True, help="Comma-separated scopes.")
@click.option("--name", default="", help="A name to recognise the token by.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line.")
def token_create(portal_id: int, scopes: str, name: str, as_json: bool) -> None:
    """Create an access token for a portal with the given scopes."""
    db = _migrated(_settings())
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    try:
        issued = access.create_token(db, portal_id, wanted, name)
    except OccurError as exc:
        _fail(exc)
        return
    _emit(
        as_json,
        {
            "tokenId": issued.row.id,
            "portalId": portal_id,
            "scopes": list(issued.row.scopes),
            "token": issued.secret,
        },
        f"Token {issued.row.id} for portal {portal_id} (shown once): {issued.secret}",
    )


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke the token with id TOKEN_ID (it stops working within seconds)."""
    db = _migrated(_settings())
    try:
        access.revoke_token(db, token_id)
    except OccurError as exc:
        _fail(exc)
        return
    click.echo(f"Token {token_id} revoked.")


@main.group()
def user() -> None:
    """Manage the people who sign in to the web app."""


@user.command("create")
@click.option("--portal", "portal_id", type=int, required=True, help="The portal id.")
@click.option("--email", required=True, help="The address the user signs in with.")
@click.option(
    "--role", type=click.Choice(ROLES), default=ADMIN, show_default=True, help="Their role."
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def user_create(portal_id: int, email: str, role: str, password_stdin: bool) -> None:
    """Create a user of portal PORTAL (or give an existing user access to it).

    The password is asked for twice, or read from standard input's first line with
    --password-stdin. An existing account keeps its password.
    """
    db = _migrated(_settings())
    if password_stdin:
        password: str | None = sys.stdin.readline().rstrip("\r\n")
    elif accounts.account_exists(db, email):
        password = None
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        added = accounts.add_user(db, portal_id, email, password, role)
    except OccurError as exc:
        _fail(exc)
        return
    if added.created:
        click.echo(f"Created user {added.user.email} ({role} of portal {portal_id}).")
    else:
        click.echo(f"{added.user.email} already had an account; now {role} of portal {portal_id}.")


def _emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data) if as_json else text)


@main.command()
@click.option("--portal", "portal_id", type=int, default=None, help="Load into this portal.")
@click.option(
    "--contacts",
    type=click.IntRange(1, 1_000_000),
    default=3_000,
    show_default=True,
    help="How many contacts (a company per dozen).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3_650),
    default=180,
    show_default=True,
    help="How many days of completions, up to now.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
def demo(portal_id: int | None, contacts: int, days: int, seed: int) -> None:
    """Load a realistic demo dataset: 8 event types (a funnel from pricing-page views to
    purchases, videos, webinars, product use, support tickets, company onboarding),
    contacts with companies, and months of completions (about 100,000 by default).

    Without --portal a new portal "Demo portal" is created; its id and a token are
    printed. Running it again on a portal is safe: the demo's event types are reused,
    contacts are matched by email, companies by domain, and completions loaded before
    with the same --seed are not stored twice. So a repeat adds nothing (a day later,
    only the few that the moved window brings in); another --seed adds a fresh batch.
    """
    import time

    from occur.services import demo as demo_data
    from occur.services.clock import now_ms

    settings = _settings()
    db = _migrated(settings)
    began = time.monotonic()
    try:
        if portal_id is None:
            created, issued = access.create_portal(db, "Demo portal")
            portal_id = created.id
            click.echo(f"Created portal {portal_id} (Demo portal).")
            click.echo(f"Token (shown once): {issued.secret}")
        click.echo(f"Loading {contacts:,} contacts and {days} days of events (seed {seed})…")
        done = demo_data.load(
            db,
            portal_id,
            contacts=contacts,
            days=days,
            seed=seed,
            now_ms=now_ms(),
            max_definitions=settings.max_definitions,
        )
    except OccurError as exc:
        _fail(exc)
        return
    for line in demo_data.summary(done):
        click.echo(line)
    click.echo(f"Done in {time.monotonic() - began:.1f} s.")


main.add_command(import_command)
