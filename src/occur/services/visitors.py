"""Identifying an anonymous visitor: its utk becomes a contact, and its earlier
occurrences move to that contact.

The tracking script's `identify` calls this (issue 5); it is built with ingestion so
that utk-only completions have somewhere to go from the first day. The visitor row is
locked first: on PostgreSQL the writer holds a shared lock on the visitors it stores
occurrences for, so a completion being stored while its visitor is identified is
either moved by this transaction or stored after it with the contact already known.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from occur.domain.crm import normalise_email
from occur.domain.objects import CONTACT
from occur.errors import FieldError, ValidationError
from occur.services.clock import now_ms
from occur.store import crm as crm_store
from occur.store import events as event_store
from occur.store import visitors as visitor_store
from occur.store.db import Database

_ATTEMPTS = 2


@dataclass(frozen=True)
class Identified:
    contact_id: int
    contact_created: bool
    occurrences_moved: int


def identify(db: Database, portal_id: int, utk: str, email: str) -> Identified:
    """Tie the visitor `utk` to the contact with `email`, creating either when new."""
    address = normalise_email(email)
    if address is None:
        raise ValidationError(
            f"{email[:60]!r} is not an email address.",
            errors=[FieldError("Not an email address.", in_="email", code="INVALID_EMAIL")],
        )
    for attempt in range(_ATTEMPTS):
        try:
            return _identify(db, portal_id, utk, address)
        except IntegrityError:  # another process created the visitor or contact just now
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _identify(db: Database, portal_id: int, utk: str, address: str) -> Identified:
    with db.write() as conn:
        return identify_in(conn, portal_id, utk, address, now_ms())


def identify_in(conn: Connection, portal_id: int, utk: str, address: str, now: int) -> Identified:
    """identify inside a write transaction the caller holds: the collector's writer runs
    it in the transaction that stores the beacon's completions (services/collect.py),
    `address` already read by normalise_email."""
    key = address.lower()
    found = visitor_store.find_visitors(conn, portal_id, [utk], lock=True, exclusive=True)
    visitor = found.get(utk) or visitor_store.insert_visitors(conn, portal_id, [utk], now)[utk]
    contacts = crm_store.contact_ids_by_email(conn, portal_id, CONTACT, [key])
    created = key not in contacts
    if created:
        record = crm_store.insert_objects(conn, portal_id, CONTACT, [{"email": address}], now)
        contacts[key] = record[0].id
    contact_id = contacts[key]
    if visitor.contact_id != contact_id:
        visitor_store.set_contact(conn, visitor.id, contact_id, now)
    moved = event_store.attach_visitor_events(conn, visitor.id, contact_id)
    return Identified(contact_id, created, moved)
