"""hs_language offers the ISO 639-1 codes on every definition, not only on new ones

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import pycountry
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_properties = sa.table(
    "event_properties",
    sa.column("definition_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("hubspot_defined", sa.Boolean),
    sa.column("options", sa.JSON),
)
_definitions = sa.table(
    "event_definitions", sa.column("id", sa.Integer), sa.column("version", sa.Integer)
)


def _languages() -> list[dict[str, object]]:
    """As domain/languages.py and domain/properties.py list them today, written out here
    so that this migration keeps doing what it did."""
    found = {
        language.alpha_2: language.name
        for language in pycountry.languages
        if getattr(language, "alpha_2", None)
    }
    ordered = sorted(found.items(), key=lambda pair: (pair[1], pair[0]))
    return [
        {"label": name, "value": code, "displayOrder": i, "hidden": False, "description": ""}
        for i, (code, name) in enumerate(ordered)
    ]


def _set(options: list[dict[str, object]]) -> None:
    is_language = sa.and_(
        _properties.c.name == "hs_language", _properties.c.hubspot_defined == sa.true()
    )
    op.execute(_properties.update().where(is_language).values(options=options))
    # Definitions are cached by version (ingestion re-reads a definition whose version moved).
    changed = sa.select(_properties.c.definition_id).where(is_language)
    op.execute(
        _definitions.update()
        .where(_definitions.c.id.in_(changed))
        .values(version=_definitions.c.version + 1)
    )


def upgrade() -> None:
    _set(_languages())


def downgrade() -> None:
    _set([])
