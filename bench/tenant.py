"""A portal to send to: made through occur's own CLI and HTTP API, as a user would.

The portal and tokens come from `occur portal create` and `occur token create` before the
server starts (so it does not print its first-start welcome); the event definition and
the contact the events attach to are created over HTTP on the live server. The load uses
a token that holds only the send scope, like an integration's.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .served import ROOT
from .workload import DEFINITION

SEND_SCOPE = "analytics.behavioral_events.send"


@dataclass(frozen=True)
class Tokens:
    portal_id: int
    admin: str  # every scope: for the set-up calls
    send: str  # the send scope only: for the load


@dataclass(frozen=True)
class Tenant:
    portal_id: int
    send_token: str
    contact_id: str


def _cli(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "occur", *args, "--json"],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"occur {' '.join(args)} failed:\n{done.stderr}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def create_tokens(env: Mapping[str, str]) -> Tokens:
    """A portal (with its every-scope token) and a send-only token, through the CLI."""
    portal = _cli(env, "portal", "create", "--name", "Bench")
    portal_id = int(portal["portalId"])
    send = _cli(env, "token", "create", "--portal", str(portal_id), "--scopes", SEND_SCOPE)
    return Tokens(portal_id, str(portal["token"]), str(send["token"]))


def post_json(port: int, path: str, token: str, body: object) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request("POST", path, json.dumps(body), headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _created(port: int, path: str, token: str, body: object) -> dict[str, Any]:
    status, data = post_json(port, path, token, body)
    if status != 201:
        raise RuntimeError(f"POST {path}: {status} {data[:500]!r}")
    answer: dict[str, Any] = json.loads(data)
    return answer


def populate(port: int, tokens: Tokens) -> Tenant:
    """The event definition and one contact, over HTTP on the live server."""
    _created(port, "/events/v3/event-definitions", tokens.admin, DEFINITION)
    contact = _created(
        port,
        "/crm/v3/objects/contacts",
        tokens.admin,
        {"properties": {"email": "bench@example.com", "firstname": "Bench"}},
    )
    return Tenant(tokens.portal_id, tokens.send, str(contact["id"]))
