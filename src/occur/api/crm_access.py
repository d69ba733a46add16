"""Who may touch which CRM object type: shared by the record and batch handlers."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from occur.api.context import principal
from occur.domain.objects import ObjectType, find_object_type
from occur.domain.scopes import crm_read, crm_write
from occur.errors import NotFound
from occur.store.db import Database


@dataclass(frozen=True)
class Access:
    db: Database
    portal_id: int
    object_type: ObjectType


async def access(request: Request, *, write: bool) -> Access:
    """Authenticate, resolve `{objectType}` (404 when unknown), then check the scope."""
    ctx, who = await principal(request)
    raw = request.path_params["object_type"]
    object_type = find_object_type(raw)
    if object_type is None:
        raise NotFound(
            f"Unknown CRM object type {raw!r}: use contacts, companies, deals or tickets "
            "(or 0-1, 0-2, 0-3, 0-5)."
        )
    write_scope = crm_write(object_type.plural)
    if write:
        who.require_any(write_scope)
    else:
        who.require_any(crm_read(object_type.plural), write_scope)
    return Access(ctx.db, who.portal_id, object_type)
