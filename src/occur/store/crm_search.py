"""CRM search as SQL that SQLite and PostgreSQL both run.

Client-set values are read out of the JSON column (`properties[name].as_string()`):
text compares lowercased, numbers cast to FLOAT (every stored number is plain decimal
text, so the cast cannot fail), datetimes as their stored ISO-8601 text, which orders
like time. `hs_object_id`, `createdate` and `lastmodifieddate` are the columns id,
created_at and updated_at.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Text,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from occur.domain.crm import CrmObject
from occur.domain.crm_search import Comparable, Filter, Operator, SearchRequest, token_pattern
from occur.domain.objects import ObjectType, ValueKind
from occur.domain.timestamps import iso_from_ms
from occur.store.crm import row_object, scope
from occur.store.schema import crm_objects as t

_COLUMNS: dict[str, ColumnElement[Any]] = {
    "hs_object_id": t.c.id,
    "createdate": t.c.created_at,
    "lastmodifieddate": t.c.updated_at,
}
_TEXT = {ValueKind.STRING, ValueKind.ENUMERATION}
_COMPARE: dict[Operator, Callable[[ColumnElement[Any], Comparable], ColumnElement[bool]]] = {
    Operator.EQ: operator.eq,
    Operator.GT: operator.gt,
    Operator.GTE: operator.ge,
    Operator.LT: operator.lt,
    Operator.LTE: operator.le,
}


@dataclass(frozen=True)
class SearchPage:
    total: int
    objects: list[CrmObject]


def search(
    conn: Connection, portal_id: int, object_type: ObjectType, request: SearchRequest
) -> SearchPage:
    """Live records matching the request, one page of them, and how many match in all."""
    where = scope(portal_id, object_type, archived=False)
    if request.groups:
        where.append(or_(*(and_(true(), *(_condition(f) for f in g)) for g in request.groups)))
    if request.query:
        where.append(_query(object_type, request.query))
    total = conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
    order = [
        (
            _value(s.property_name, s.kind).desc()
            if s.descending
            else _value(s.property_name, s.kind).asc()
        ).nulls_last()
        for s in request.sorts
    ]
    query = (
        select(t).where(*where).order_by(*order, t.c.id).offset(request.offset).limit(request.limit)
    )
    rows = conn.execute(query).all()
    return SearchPage(int(total), [row_object(row, object_type) for row in rows])


def _value(name: str, kind: ValueKind) -> ColumnElement[Any]:
    """The comparable expression for a property."""
    column = _COLUMNS.get(name)
    if column is not None:
        return column
    text: ColumnElement[Any] = t.c.properties[name].as_string()
    if kind is ValueKind.NUMBER:
        return cast(text, Float)
    if kind in _TEXT:
        return func.lower(text)
    return text


def _bound(f: Filter, value: Comparable) -> Comparable:
    """A filter value in the form the property's expression compares with."""
    if f.property_name in _COLUMNS:
        return value
    if f.kind is ValueKind.DATETIME:
        assert isinstance(value, int)
        return iso_from_ms(value)
    if f.kind in _TEXT:
        assert isinstance(value, str)
        return value.lower()
    return value


def _condition(f: Filter) -> ColumnElement[bool]:
    expr = _value(f.property_name, f.kind)
    values = [_bound(f, v) for v in f.values]
    unset = false() if f.property_name in _COLUMNS else expr.is_(None)
    op = f.operator
    compare = _COMPARE.get(op)
    if compare is not None:
        return compare(expr, values[0])
    if op is Operator.HAS_PROPERTY:
        return not_(unset)
    if op is Operator.NOT_HAS_PROPERTY:
        return unset
    if op is Operator.NEQ:
        return or_(unset, expr != values[0])
    if op is Operator.IN:
        return expr.in_(values)
    if op is Operator.NOT_IN:
        return or_(unset, expr.not_in(values))
    if op is Operator.BETWEEN:
        return and_(expr >= values[0], expr <= values[1])
    words = literal(" ") + expr + literal(" ")
    matches = words.like(token_pattern(str(f.values[0])), escape="\\")
    if op is Operator.CONTAINS_TOKEN:
        return matches
    return or_(unset, not_(matches))


def _query(object_type: ObjectType, query: str) -> ColumnElement[bool]:
    """`query`: a case-insensitive substring of any text property.

    Reading each property out of the JSON parses the document once per property: ten
    parses per row cost PostgreSQL 450 ms for 20,000 contacts (bench/pages.py). So a
    cheap necessary condition goes first: the needle within the document's own text,
    which holds every value verbatim wherever the needle holds no character that JSON
    escapes (quotes, backslashes, control and non-ASCII characters; the column's writer
    escapes non-ASCII). Only the few rows that pass are read property by property."""
    needle = query.lower()
    exact = or_(
        *(
            func.lower(t.c.properties[name].as_string()).contains(needle, autoescape=True)
            for name, kind in object_type.properties.items()
            if kind in _TEXT and name not in _COLUMNS
        )
    )
    if not _VERBATIM_IN_JSON.fullmatch(needle):
        return exact
    document = func.lower(cast(t.c.properties, Text))
    return and_(document.contains(needle, autoescape=True), exact)


# Characters that json.dumps writes as themselves: printable ASCII but `"` and `\`.
_VERBATIM_IN_JSON = re.compile(r"[ !#-\[\]-~]+")
