"""Event property types, their limits, and the 32 HubSpot-defined default properties."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from occur.domain.languages import iso_639_1

MAX_PROPERTY_LABEL_CHARS = 50
MAX_CUSTOM_PROPERTIES = 50
MAX_VALUE_CHARS = 256
MAX_LONG_VALUE_CHARS = 1024
MAX_DESCRIPTION_CHARS = 2000
MULTI_VALUE_SEPARATOR = ";"
EVENT_PROPERTY_GROUP = "event_properties"


class PropertyType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    ENUMERATION = "enumeration"
    DATETIME = "datetime"
    DATE = "date"
    BOOL = "bool"

    @property
    def field_type(self) -> str:
        """The HubSpot `fieldType` that goes with this type."""
        return _FIELD_TYPES[self]


_FIELD_TYPES = {
    PropertyType.STRING: "text",
    PropertyType.NUMBER: "number",
    PropertyType.ENUMERATION: "select",
    PropertyType.DATETIME: "date",
    PropertyType.DATE: "date",
    PropertyType.BOOL: "radio",
}

PROPERTY_TYPE_NAMES = tuple(t.value for t in PropertyType)


@dataclass(frozen=True)
class Option:
    label: str
    value: str
    display_order: int
    hidden: bool = False
    description: str = ""


@dataclass(frozen=True)
class PropertySpec:
    """A property as a definition holds it (custom or HubSpot-defined)."""

    name: str
    label: str
    type: PropertyType
    description: str = ""
    options: tuple[Option, ...] = ()
    hubspot_defined: bool = False
    display_order: int = -1
    hidden: bool = False

    @cached_property
    def option_values(self) -> frozenset[str]:
        """The options' values as a set, built once per definition read rather than once
        per value checked (an enumeration may hold a thousand options, an import a million
        values)."""
        return frozenset(option.value for option in self.options)


def _options(*pairs: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(
        Option(label=label, value=value, display_order=i) for i, (value, label) in enumerate(pairs)
    )


_DEVICE_TYPES = (
    "Game Console",
    "PDA",
    "Personal Computer",
    "Desktop",
    "Smartphone",
    "Smart TV",
    "Tablet",
    "Wearable Computer",
    "Unknown",
)
_PAGE_CONTENT_TYPES = (
    ("BLOG_POST", "Blog Post"),
    ("KNOWLEDGE_ARTICLE", "Knowledge Article"),
    ("LANDING_PAGE", "Landing Page"),
    ("LISTING_PAGE", "Listing Page"),
    ("STANDARD_PAGE", "Standard Page"),
    ("WEB_INTERACTIVE", "Web Interactive"),
)

_S, _N, _E = PropertyType.STRING, PropertyType.NUMBER, PropertyType.ENUMERATION
_DEFAULTS: tuple[tuple[str, str, PropertyType, tuple[Option, ...]], ...] = (
    ("hs_asset_description", "Asset description", _S, ()),
    ("hs_asset_type", "Asset type", _S, ()),
    ("hs_browser", "Browser", _S, ()),
    ("hs_campaign_id", "Campaign ID", _S, ()),
    ("hs_city", "City", _S, ()),
    ("hs_country", "Country", _S, ()),
    ("hs_device_name", "Device name", _S, ()),
    ("hs_device_type", "Device type", _E, _options(*((d, d) for d in _DEVICE_TYPES))),
    ("hs_element_class", "Element class", _S, ()),
    ("hs_element_id", "Element ID", _S, ()),
    ("hs_element_text", "Element text", _S, ()),
    # ISO 639-1 codes, labelled with the language's English name (domain/languages.py).
    ("hs_language", "Language", _E, _options(*iso_639_1())),
    ("hs_link_href", "Link href", _S, ()),
    ("hs_operating_system", "Operating system", _S, ()),
    ("hs_operating_version", "Operating version", _S, ()),
    ("hs_page_content_type", "Page content type", _E, _options(*_PAGE_CONTENT_TYPES)),
    ("hs_page_id", "Page ID", _S, ()),
    ("hs_page_title", "Page title", _S, ()),
    ("hs_page_url", "Page URL", _S, ()),
    ("hs_parent_module_id", "Parent Module ID", _S, ()),
    ("hs_referrer", "Referrer", _S, ()),
    ("hs_region", "Region", _S, ()),
    ("hs_screen_height", "Screen height", _N, ()),
    ("hs_screen_width", "Screen width", _N, ()),
    ("hs_touchpoint_source", "Touchpoint source", _S, ()),
    ("hs_tracking_name", "Tracking name", _S, ()),
    ("hs_user_agent", "User agent", _S, ()),
    ("hs_utm_campaign", "UTM Campaign", _S, ()),
    ("hs_utm_content", "UTM Content", _S, ()),
    ("hs_utm_medium", "UTM Medium", _S, ()),
    ("hs_utm_source", "UTM Source", _S, ()),
    ("hs_utm_term", "UTM Term", _S, ()),
)

DEFAULT_PROPERTIES: tuple[PropertySpec, ...] = tuple(
    PropertySpec(
        name=name,
        label=label,
        type=ptype,
        options=options,
        hubspot_defined=True,
        display_order=-1,
    )
    for name, label, ptype, options in _DEFAULTS
)
DEFAULT_PROPERTY_NAMES = frozenset(p.name for p in DEFAULT_PROPERTIES)
