"""The visual event picker, server side: a one-time token ties the page the wizard
opens to the wizard that opened it.

The wizard asks for a token and opens the customer's page with it in the URL fragment
(never sent to the customer's server). The tracking script on that page shows the
picker and posts the chosen selector back to the wizard's window, naming occur's origin
as the only receiver; the wizard then redeems the token here with the selector. A token
works once, for the user and portal it was made for, for ten minutes: a page that
replays a message, or another site that learned a token, gets nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from occur.domain import url_rules
from occur.errors import FieldError, ValidationError
from occur.services.access import hash_token
from occur.services.clock import now_ms
from occur.store import picker as store
from occur.store.db import Database

TOKEN_TTL_MS = 10 * 60_000
FRAGMENT_KEY = "occur-picker"
MAX_PAGE_URL_CHARS = 1_024


@dataclass(frozen=True)
class PickerStart:
    token: str
    open_url: str  # the page with the token in its fragment
    page_origin: str  # the only origin whose message the wizard accepts


def start(db: Database, portal_id: int, user_id: int, page_url: str) -> PickerStart:
    page = _page_url(page_url)
    token = secrets.token_urlsafe(24)
    now = now_ms()
    with db.write() as conn:
        store.delete_expired(conn, now - TOKEN_TTL_MS)
        store.insert_token(
            conn,
            token_hash=hash_token(token),
            portal_id=portal_id,
            user_id=user_id,
            page_url=page,
            now_ms=now,
            expires_at=now + TOKEN_TTL_MS,
        )
    parts = urlsplit(page)
    return PickerStart(token, f"{page}#{FRAGMENT_KEY}={token}", f"{parts.scheme}://{parts.netloc}")


def redeem(db: Database, portal_id: int, user_id: int, token: str, selector: str) -> str:
    """The selector the picker sent, once it is checked to be a usable selector and the
    token valid; the token is spent either way only when it was valid."""
    rule = url_rules.read_rule({"selector": selector}, url_rules.CLICKED_ELEMENT, in_="picked")
    with db.write() as conn:
        page = store.redeem_token(
            conn,
            token_hash=hash_token(token),
            portal_id=portal_id,
            user_id=user_id,
            now_ms=now_ms(),
        )
    if page is None:
        message = "This pick has expired or was used already; pick the element again."
        raise ValidationError(message, errors=[FieldError(message, in_="token")])
    assert rule.selector is not None
    return rule.selector


def _page_url(raw: str) -> str:
    """An http(s) page address without its fragment."""
    text = raw.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(text) > MAX_PAGE_URL_CHARS:
        message = "Give the full address of a page of your site, starting with https://."
        raise ValidationError(message, errors=[FieldError(message, in_="page_url")])
    return text.split("#", 1)[0]
