"""Web app accounts: the first user, adding people to portals, signing in and out,
passwords, roles, and a portal's settings.

Sessions are server side: the browser's cookie holds a random secret whose SHA-256 names
a `web_sessions` row, so signing out, changing a password or removing a user ends the
session at once (a cookie that merely carried signed claims could not be taken back).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from occur.domain import accounts as rules
from occur.errors import Conflict, FieldError, NotFound, ValidationError
from occur.services.access import hash_token
from occur.services.clock import now_ms
from occur.services.passwords import hash_password, needs_rehash, verify_password
from occur.store import access as portal_store
from occur.store import accounts as store
from occur.store.access import PortalRow
from occur.store.accounts import MembershipRow, UserRow
from occur.store.db import Database

SESSION_DAYS = 14
_DAY_MS = 86_400_000
# Unambiguous characters (no 0/O, 1/I/L, U/V): read off a terminal and typed by hand.
_SETUP_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
SETUP_CODE_CHARS = 12
SETUP_CODE_MAX_FAILURES = 20


class SetupCode:
    """The one-time code `occur serve` prints while no user exists. Whoever reaches the
    port first cannot create the first (admin) user without it. 12 characters of 29 are
    58 bits, and after 20 wrong tries the code stops working until the server restarts."""

    def __init__(self, code: str | None = None) -> None:
        self.code = code or "".join(
            secrets.choice(_SETUP_ALPHABET) for _ in range(SETUP_CODE_CHARS)
        )
        self.failures = 0

    @property
    def display(self) -> str:
        """Grouped by four for reading aloud: ABCD-EFGH-JKMN."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    @property
    def exhausted(self) -> bool:
        return self.failures >= SETUP_CODE_MAX_FAILURES

    def accepts(self, attempt: str) -> bool:
        if self.exhausted:
            return False
        typed = "".join(c for c in attempt.upper() if c.isalnum())
        if secrets.compare_digest(typed.encode(), self.code.encode()):
            return True
        self.failures += 1
        return False


@dataclass(frozen=True)
class NewUser:
    user: UserRow
    portal_id: int
    created: bool  # False: the address had an account, which joined the portal


def has_users(db: Database) -> bool:
    with db.read() as conn:
        return store.count_users(conn) > 0


def account_exists(db: Database, email: str) -> bool:
    address = rules.account_email(email)
    with db.read() as conn:
        return address is not None and store.user_by_email(conn, address) is not None


def set_up_first_user(db: Database, email: str, password: str, portal_name: str) -> NewUser:
    """The instance's first user, admin of the existing portal (or of a new one named
    `portal_name` when there is none). Refused once anyone has an account."""
    address = _checked(email, password)
    password_hash = hash_password(password)
    with db.write() as conn:
        if store.count_users(conn) > 0:
            raise Conflict("This instance is set up already; sign in instead.")
        portal = portal_store.first_portal(conn)
        if portal is None:
            name = portal_name.strip() or "My portal"
            portal = portal_store.insert_portal(conn, name[:200], now_ms())
        user = store.insert_user(conn, address, password_hash, now_ms())
        store.add_membership(conn, user.id, portal.id, rules.ADMIN, now_ms())
    return NewUser(user, portal.id, created=True)


def add_user(db: Database, portal_id: int, email: str, password: str | None, role: str) -> NewUser:
    """Give `email` access to the portal, creating the account when there is none.

    An existing account keeps its password (`password` is then not needed): one person,
    one account, several portals.
    """
    if role not in rules.ROLES:
        raise ValidationError(f"A role is one of {', '.join(rules.ROLES)}.", errors=[
            FieldError(f"Unknown role {role!r}.", in_="role")])  # fmt: skip
    address = _address(email)
    with db.write() as conn:
        if portal_store.get_portal(conn, portal_id) is None:
            raise NotFound(f"No portal {portal_id}.")
        user = store.user_by_email(conn, address)
        created = user is None
        if user is None:
            if password is None:
                raise _field("Choose a password for the new account.", "password")
            problem = rules.password_problem(password, address)
            if problem:
                raise _field(problem, "password")
            user = store.insert_user(conn, address, hash_password(password), now_ms())
        try:
            with conn.begin_nested():
                store.add_membership(conn, user.id, portal_id, role, now_ms())
        except IntegrityError:
            raise Conflict(f"{address} is already a user of this portal.") from None
    return NewUser(user, portal_id, created)


def authenticate(db: Database, email: str, password: str) -> UserRow | None:
    """The user these credentials name, or None (unknown email and wrong password look
    the same, in answer and in time)."""
    address = rules.account_email(email) or ""
    with db.read() as conn:
        user = store.user_by_email(conn, address)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    if needs_rehash(user.password_hash):
        with db.write() as conn:
            store.set_password_hash(conn, user.id, hash_password(password), now_ms())
    return user


def start_session(db: Database, user_id: int) -> str:
    """A new session's secret, for the cookie only: the store keeps its hash."""
    secret = secrets.token_urlsafe(32)
    now = now_ms()
    with db.write() as conn:
        store.delete_expired_sessions(conn, now)
        store.insert_session(conn, hash_token(secret), user_id, now, now + SESSION_DAYS * _DAY_MS)
    return secret


def session_user(db: Database, secret: str) -> UserRow | None:
    with db.read() as conn:
        return store.session_user(conn, hash_token(secret), now_ms())


def end_session(db: Database, secret: str) -> None:
    with db.write() as conn:
        store.delete_session(conn, hash_token(secret))


def memberships(db: Database, user_id: int) -> list[MembershipRow]:
    with db.read() as conn:
        return store.memberships_of_user(conn, user_id)


def portal_users(db: Database, portal_id: int) -> list[MembershipRow]:
    with db.read() as conn:
        return store.memberships_of_portal(conn, portal_id)


def change_password(
    db: Database, user: UserRow, current: str, new: str, keep_session: str | None
) -> None:
    """Change one's own password; every other session of the user ends."""
    if not verify_password(user.password_hash, current):
        raise _field("That is not your current password.", "current_password")
    problem = rules.password_problem(new, user.email)
    if problem:
        raise _field(problem, "new_password")
    with db.write() as conn:
        store.set_password_hash(conn, user.id, hash_password(new), now_ms())
        keep = hash_token(keep_session) if keep_session else None
        store.delete_sessions_of_user(conn, user.id, keep=keep)


def reset_password(db: Database, portal_id: int, user_id: int, new: str) -> None:
    """An admin sets another user's password; that user is signed out everywhere."""
    with db.write() as conn:
        target = _member(conn, portal_id, user_id)
        problem = rules.password_problem(new, target.email)
        if problem:
            raise _field(problem, "new_password")
        store.set_password_hash(conn, user_id, hash_password(new), now_ms())
        store.delete_sessions_of_user(conn, user_id)


def set_role(db: Database, portal_id: int, user_id: int, role: str) -> None:
    if role not in rules.ROLES:
        raise _field(f"Unknown role {role!r}.", "role")
    with db.write() as conn:
        member = _member(conn, portal_id, user_id)
        if member.role == rules.ADMIN and role != rules.ADMIN:
            _keep_an_admin(conn, portal_id)
        store.set_role(conn, user_id, portal_id, role)


def remove_user(db: Database, portal_id: int, user_id: int) -> None:
    """Take a user out of the portal (the account stays for their other portals)."""
    with db.write() as conn:
        member = _member(conn, portal_id, user_id)
        if member.role == rules.ADMIN:
            _keep_an_admin(conn, portal_id)
        store.remove_membership(conn, user_id, portal_id)
        if not store.memberships_of_user(conn, user_id):
            store.delete_sessions_of_user(conn, user_id)


def portal(db: Database, portal_id: int) -> PortalRow:
    with db.read() as conn:
        found = portal_store.get_portal(conn, portal_id)
    if found is None:
        raise NotFound(f"No portal {portal_id}.")
    return found


def update_portal(
    db: Database, portal_id: int, *, name: str, time_zone: str, week_start: str
) -> None:
    problems: list[FieldError] = []
    name = name.strip()
    if not name or len(name) > 200:
        problems.append(FieldError("A portal name is 1 to 200 characters.", in_="name"))
    if not rules.is_time_zone(time_zone):
        problems.append(FieldError(f"{time_zone!r} is not an IANA time zone.", in_="time_zone"))
    if week_start not in rules.WEEK_STARTS:
        problems.append(FieldError("The week starts on Sunday or Monday.", in_="week_start"))
    if problems:
        raise ValidationError("Some settings are not valid.", errors=problems)
    with db.write() as conn:
        portal_store.update_portal(
            conn, portal_id, name=name, time_zone=time_zone, week_start=week_start
        )


def _checked(email: str, password: str) -> str:
    address = _address(email)
    problem = rules.password_problem(password, address)
    if problem:
        raise _field(problem, "password")
    return address


def _address(email: str) -> str:
    address = rules.account_email(email)
    if address is None:
        raise _field("Enter an email address like name@example.com.", "email")
    return address


def _member(conn: Connection, portal_id: int, user_id: int) -> MembershipRow:
    for member in store.memberships_of_portal(conn, portal_id):
        if member.user_id == user_id:
            return member
    raise NotFound("No such user in this portal.")


def _keep_an_admin(conn: Connection, portal_id: int) -> None:
    if store.count_admins(conn, portal_id) <= 1:
        raise Conflict("A portal keeps at least one admin; make someone else admin first.")


def _field(message: str, field: str) -> ValidationError:
    return ValidationError(message, errors=[FieldError(message, in_=field)])
