"""Users of the web app, their portal memberships, and their signed-in sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from occur.store.schema import memberships, portals, users, web_sessions


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    password_hash: str
    created_at: int


@dataclass(frozen=True)
class MembershipRow:
    user_id: int
    portal_id: int
    portal_name: str
    role: str
    email: str


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def insert_user(conn: Connection, email: str, password_hash: str, now_ms: int) -> UserRow:
    user_id = conn.execute(
        insert(users)
        .values(
            email=email, password_hash=password_hash, created_at=now_ms, password_changed_at=now_ms
        )
        .returning(users.c.id)
    ).scalar_one()
    return UserRow(user_id, email, password_hash, now_ms)


def user_by_email(conn: Connection, email: str) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.email == email)).first()
    return None if row is None else UserRow(row.id, row.email, row.password_hash, row.created_at)


def user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return None if row is None else UserRow(row.id, row.email, row.password_hash, row.created_at)


def set_password_hash(conn: Connection, user_id: int, password_hash: str, now_ms: int) -> None:
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now_ms)
    )


def add_membership(conn: Connection, user_id: int, portal_id: int, role: str, now_ms: int) -> None:
    conn.execute(
        insert(memberships).values(
            user_id=user_id, portal_id=portal_id, role=role, created_at=now_ms
        )
    )


def set_role(conn: Connection, user_id: int, portal_id: int, role: str) -> bool:
    result = conn.execute(
        update(memberships)
        .where(memberships.c.user_id == user_id, memberships.c.portal_id == portal_id)
        .values(role=role)
    )
    return result.rowcount == 1


def remove_membership(conn: Connection, user_id: int, portal_id: int) -> bool:
    result = conn.execute(
        delete(memberships).where(
            memberships.c.user_id == user_id, memberships.c.portal_id == portal_id
        )
    )
    return result.rowcount == 1


_MEMBERSHIP = select(
    memberships.c.user_id,
    memberships.c.portal_id,
    portals.c.name.label("portal_name"),
    memberships.c.role,
    users.c.email,
).select_from(memberships.join(portals).join(users))


def memberships_of_user(conn: Connection, user_id: int) -> list[MembershipRow]:
    query = _MEMBERSHIP.where(memberships.c.user_id == user_id).order_by(portals.c.id)
    return [MembershipRow(*row) for row in conn.execute(query)]


def memberships_of_portal(conn: Connection, portal_id: int) -> list[MembershipRow]:
    query = _MEMBERSHIP.where(memberships.c.portal_id == portal_id).order_by(users.c.email)
    return [MembershipRow(*row) for row in conn.execute(query)]


def count_admins(conn: Connection, portal_id: int) -> int:
    query = select(func.count()).where(
        memberships.c.portal_id == portal_id, memberships.c.role == "admin"
    )
    return int(conn.execute(query).scalar_one())


def insert_session(
    conn: Connection, token_hash: str, user_id: int, now_ms: int, expires_at: int
) -> None:
    conn.execute(
        insert(web_sessions).values(
            token_hash=token_hash, user_id=user_id, created_at=now_ms, expires_at=expires_at
        )
    )


def session_user(conn: Connection, token_hash: str, now_ms: int) -> UserRow | None:
    """The user of a live session; expired sessions name nobody."""
    query = (
        select(users)
        .join(web_sessions, web_sessions.c.user_id == users.c.id)
        .where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > now_ms)
    )
    row = conn.execute(query).first()
    return None if row is None else UserRow(row.id, row.email, row.password_hash, row.created_at)


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))


def delete_sessions_of_user(conn: Connection, user_id: int, keep: str | None = None) -> None:
    query = delete(web_sessions).where(web_sessions.c.user_id == user_id)
    if keep is not None:
        query = query.where(web_sessions.c.token_hash != keep)
    conn.execute(query)


def delete_expired_sessions(conn: Connection, now_ms: int) -> int:
    return conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now_ms)).rowcount
