"""Records: lists of contacts, companies, deals and tickets, and a record's page with its
properties and its activity timeline (completed custom events, newest first).

The list pages over the CRM services the API uses: browsing is keyset paging by id
(`services.crm.list_page`), a search is the API's search (`services.crm.search`), whose
cursor is an offset, so its pages can link both ways. The timeline pages by a keyset
cursor on (occurredAt, id); "Load more" fetches `…/timeline`, the same rows as a fragment,
and static/timeline.js appends them; without JavaScript the link opens the next page.
Members may read every page here: nothing on them changes data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.domain.crm import CrmObject
from occur.domain.event_cursors import Position, decode_cursor, encode_cursor
from occur.domain.objects import OBJECT_TYPES, ObjectType, ValueKind
from occur.domain.timestamps import ms_from_text
from occur.errors import NotFound, OccurError
from occur.services import crm, timeline
from occur.services.timeline import Timeline
from occur.ui.web import PageError, PortalPage, error_page, portal_page, redirect, render

LIST_PAGE_SIZE = 25
MAX_SEARCH_CHARS = 200
MAX_CHOSEN_TYPES = 500  # a portal's definitions limit by default; more is not a real filter
_BY_PLURAL = {t.plural: t for t in OBJECT_TYPES}

# What people call each CRM property (HubSpot's own labels where it has them).
PROPERTY_LABELS = {
    "email": "Email",
    "firstname": "First name",
    "lastname": "Last name",
    "phone": "Phone number",
    "company": "Company name",
    "lifecyclestage": "Lifecycle stage",
    "name": "Company name",
    "domain": "Company domain name",
    "dealname": "Deal name",
    "amount": "Amount",
    "dealstage": "Deal stage",
    "pipeline": "Pipeline",
    "closedate": "Close date",
    "subject": "Ticket name",
    "content": "Ticket description",
    "hs_pipeline_stage": "Ticket status",
    "createdate": "Create date",
    "lastmodifieddate": "Last modified date",
    "hs_object_id": "Record ID",
}


@dataclass(frozen=True)
class Column:
    """A list column beside the record's name: which property, under what heading."""

    label: str
    name: str
    numeric: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    "contacts": (Column("Email", "email"), Column("Create date", "createdate")),
    "companies": (Column("Domain", "domain"), Column("Create date", "createdate")),
    "deals": (
        Column("Amount", "amount", numeric=True),
        Column("Deal stage", "dealstage"),
        Column("Close date", "closedate"),
    ),
    "tickets": (Column("Status", "hs_pipeline_stage"), Column("Create date", "createdate")),
}
NAME_HEADINGS = {"contacts": "Name", "companies": "Name", "deals": "Deal", "tickets": "Subject"}


@dataclass(frozen=True)
class Cell:
    """A property value as shown: text, and epoch ms when it is a time (which app.js
    shows in the reader's own time zone)."""

    text: str
    ms: int | None = None


def cell(record: CrmObject, name: str) -> Cell:
    value = record.value(name) or ""
    kind = record.object_type.properties.get(name)
    if value and kind is ValueKind.DATETIME:
        return Cell(value, ms_from_text(value))
    return Cell(value)


def record_title(record: CrmObject) -> str:
    """The name a person knows a record by, falling back to what identifies it."""
    values = record.values
    if record.object_type.plural == "contacts":
        full = " ".join(v for v in (values.get("firstname"), values.get("lastname")) if v)
        title = full or values.get("email", "")
    else:
        key = {"companies": "name", "deals": "dealname", "tickets": "subject"}
        title = values.get(key[record.object_type.plural], "")
        if not title and record.object_type.plural == "companies":
            title = values.get("domain", "")
    return title.strip() or f"{record.object_type.singular.capitalize()} {record.id}"


async def records_home(request: Request) -> Response:
    await portal_page(request)
    return redirect(f"/app/{request.path_params['portal_id']}/records/contacts")


async def record_list(request: Request) -> Response:
    page = await portal_page(request)
    object_type = _object_type(request)
    search = request.query_params.get("q", "").strip()[:MAX_SEARCH_CHARS]
    after = request.query_params.get("after") or None
    db, properties = page.ctx.db, list(object_type.properties)
    try:
        if search:
            body = {
                "query": search,
                "limit": LIST_PAGE_SIZE,
                "after": after or "0",
                "properties": properties,
            }
            found = await run_in_threadpool(crm.search, db, page.portal_id, object_type, body)
        else:
            found = await run_in_threadpool(
                lambda: crm.list_page(
                    db,
                    page.portal_id,
                    object_type,
                    limit=LIST_PAGE_SIZE,
                    after=after,
                    archived=False,
                    properties=properties,
                )
            )
    except OccurError:
        return _broken_link(request)
    base = f"/app/{page.portal_id}/records/{object_type.plural}"
    offset = int(after) if search and after else 0
    return render(
        request,
        "records_list.html",
        {
            "object_type": object_type,
            "types": OBJECT_TYPES,
            "records": [v.record for v in found.results],
            "columns": COLUMNS[object_type.plural],
            "name_heading": NAME_HEADINGS[object_type.plural],
            "search": search,
            "base": base,
            "offset": offset,
            "total": found.total,
            "next_link": _list_link(base, search, found.next_after),
            "prev_link": _prev_link(base, search, offset, after),
            "title": record_title,
            "cell": cell,
            "public_url": page.ctx.settings.public_url,
        },
        page=page,
    )


def _list_link(base: str, search: str, after: str | None) -> str | None:
    if after is None:
        return None
    params = [("q", search)] if search else []
    return f"{base}?{urlencode([*params, ('after', after)])}"


def _prev_link(base: str, search: str, offset: int, after: str | None) -> str | None:
    """A search page links back by offset; browsing links back to the first page (its
    keyset cursor runs one way)."""
    if not after:
        return None
    if not search:
        return base
    previous = max(offset - LIST_PAGE_SIZE, 0)
    params: list[tuple[str, str]] = [("q", search)]
    if previous:
        params.append(("after", str(previous)))
    return f"{base}?{urlencode(params)}"


async def record_page(request: Request) -> Response:
    page = await portal_page(request)
    object_type = _object_type(request)
    found, requested = await _timeline(request, page, object_type, with_counts=True)
    base = _record_base(page, object_type, found)
    record = found.record
    return render(
        request,
        "record.html",
        {
            **_timeline_values(request, base, found, requested),
            "object_type": object_type,
            "record": record,
            "title": record_title(record),
            "properties": [
                (PROPERTY_LABELS.get(name, name), cell(record, name))
                for name in object_type.properties
            ],
        },
        page=page,
    )


async def timeline_fragment(request: Request) -> Response:
    """The next page of a timeline as bare rows and its own "Load more" link."""
    page = await portal_page(request)
    object_type = _object_type(request)
    found, requested = await _timeline(request, page, object_type, with_counts=False)
    base = _record_base(page, object_type, found)
    return render(
        request,
        "_timeline_fragment.html",
        # appended below the newest rows, so its pager needs no "newest" link
        {**_timeline_values(request, base, found, requested), "paged": False},
        page=page,
    )


async def _timeline(
    request: Request, page: PortalPage, object_type: ObjectType, *, with_counts: bool
) -> tuple[Timeline, list[str]]:
    """The record in the path with one page of its timeline, and the event names the
    filter asked for; the not-found page for archived, unknown or other portals' ids."""
    requested = [
        n[:200] for n in request.query_params.getlist("event")[:MAX_CHOSEN_TYPES] if n.strip()
    ]
    after: Position | None = None
    raw_after = request.query_params.get("after")
    if raw_after:
        after = decode_cursor(raw_after[:200])
        if after is None:
            raise PageError(_broken_link(request))
    try:
        found = await run_in_threadpool(
            lambda: timeline.record_timeline(
                page.ctx.db,
                page.portal_id,
                object_type,
                request.path_params["record_id"],
                event_names=requested,
                after=after,
                with_counts=with_counts,
            )
        )
    except NotFound:
        raise PageError(_no_such_record(request, object_type)) from None
    return found, requested


def _timeline_values(
    request: Request, base: str, found: Timeline, requested: list[str]
) -> dict[str, Any]:
    """What the timeline templates (record.html and the fragment) show."""
    filter_params = [("event", name) for name in found.chosen]
    next_link = next_fragment = None
    if found.next_after is not None:
        query = urlencode([*filter_params, ("after", encode_cursor(found.next_after))])
        next_link, next_fragment = f"{base}?{query}", f"{base}/timeline?{query}"
    return {
        "timeline": found,
        "base": base,
        "filtering": bool(requested),
        "chosen": set(found.chosen),
        "chosen_labels": [t.label for t in found.event_types if t.name in found.chosen],
        "paged": bool(request.query_params.get("after")),
        "first_link": f"{base}?{urlencode(filter_params)}" if filter_params else base,
        "next_link": next_link,
        "next_fragment": next_fragment,
    }


def _record_base(page: PortalPage, object_type: ObjectType, found: Timeline) -> str:
    return f"/app/{page.portal_id}/records/{object_type.plural}/{found.record.id}"


def _object_type(request: Request) -> ObjectType:
    found = _BY_PLURAL.get(request.path_params["object_type"])
    if found is None:
        raise PageError(error_page(request, 404, "Not found", "There is no such kind of record."))
    return found


def _no_such_record(request: Request, object_type: ObjectType) -> Response:
    return error_page(
        request,
        404,
        "Not found",
        f"There is no such {object_type.singular}: it may have been deleted or archived.",
    )


def _broken_link(request: Request) -> Response:
    return error_page(
        request, 400, "Bad link", "That page link is broken; go back to the list and start again."
    )


_R = "/app/{portal_id:int}/records"
_RECORD = _R + "/{object_type:str}/{record_id:str}"
routes = [
    Route(_R, records_home, methods=["GET"]),
    Route(_R + "/{object_type:str}", record_list, methods=["GET"]),
    Route(_RECORD, record_page, methods=["GET"]),
    Route(_RECORD + "/timeline", timeline_fragment, methods=["GET"]),
]
