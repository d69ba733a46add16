"""Access-token scopes, named as HubSpot names them."""

from __future__ import annotations

EVENT_DEFINITIONS = "behavioral_events.event_definitions.read_write"
EVENTS_SEND = "analytics.behavioral_events.send"
CRM_IMPORT = "crm.import"
AUTOMATION = "automation"


def crm_read(plural: str) -> str:
    return f"crm.objects.{plural}.read"


def crm_write(plural: str) -> str:
    return f"crm.objects.{plural}.write"


ALL_SCOPES: tuple[str, ...] = (
    EVENT_DEFINITIONS,
    EVENTS_SEND,
    *(
        scope
        for plural in ("contacts", "companies", "deals", "tickets")
        for scope in (crm_read(plural), crm_write(plural))
    ),
    CRM_IMPORT,
    AUTOMATION,
)


def unknown_scopes(scopes: list[str]) -> list[str]:
    """The scopes in a request that occur does not know, in the order given."""
    known = set(ALL_SCOPES)
    return [s for s in scopes if s not in known]
