"""The visual event picker's one-time tokens (picker_tokens), stored by hash."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from occur.store.schema import picker_tokens


def insert_token(
    conn: Connection,
    *,
    token_hash: str,
    portal_id: int,
    user_id: int,
    page_url: str,
    now_ms: int,
    expires_at: int,
) -> None:
    conn.execute(
        insert(picker_tokens).values(
            token_hash=token_hash,
            portal_id=portal_id,
            user_id=user_id,
            page_url=page_url,
            created_at=now_ms,
            expires_at=expires_at,
        )
    )


def redeem_token(
    conn: Connection, *, token_hash: str, portal_id: int, user_id: int, now_ms: int
) -> str | None:
    """Mark the token used and return its page URL; None when it is unknown, another
    portal's or user's, used already or expired. One UPDATE decides, so two redemptions
    racing cannot both succeed."""
    t = picker_tokens.c
    used = conn.execute(
        update(picker_tokens)
        .where(
            t.token_hash == token_hash,
            t.portal_id == portal_id,
            t.user_id == user_id,
            t.used_at.is_(None),
            t.expires_at > now_ms,
        )
        .values(used_at=now_ms)
    )
    if used.rowcount != 1:
        return None
    page_url: str = conn.execute(select(t.page_url).where(t.token_hash == token_hash)).scalar_one()
    return page_url


def delete_expired(conn: Connection, before_ms: int) -> None:
    conn.execute(picker_tokens.delete().where(picker_tokens.c.expires_at < before_ms))
