"""Domain values → HubSpot's JSON shapes (camelCase, timestamps as ISO-8601)."""

from __future__ import annotations

from typing import Any

from occur.domain.definitions import EventDefinition, object_type_id
from occur.domain.properties import EVENT_PROPERTY_GROUP, PropertySpec
from occur.domain.timestamps import iso_from_ms


def definition(d: EventDefinition, *, include_properties: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(d.id),
        "name": d.name,
        "fullyQualifiedName": d.fully_qualified_name,
        "labels": {"singular": d.label, "plural": d.label},
        "description": d.description,
        "primaryObject": d.object_type.primary_object,
        "objectTypeId": object_type_id(d.id),
        "primaryObjectId": d.object_type.type_id,
        "trackingType": d.tracking_type,
        "properties": [prop(p) for p in d.properties] if include_properties else [],
        "associations": [],
        "archived": False,
        "createdAt": iso_from_ms(d.created_at),
        "updatedAt": iso_from_ms(d.updated_at),
    }
    if d.matching_rule is not None:
        body["customMatchingId"] = {
            "primaryObjectRule": {
                "eventPropertyName": d.matching_rule.event_property_name,
                "targetObjectPropertyName": d.matching_rule.target_object_property_name,
            }
        }
    return body


def prop(p: PropertySpec) -> dict[str, Any]:
    return {
        "name": p.name,
        "label": p.label,
        "type": p.type.value,
        "fieldType": p.type.field_type,
        "groupName": EVENT_PROPERTY_GROUP,
        "description": p.description,
        "options": [
            {
                "label": o.label,
                "value": o.value,
                "displayOrder": o.display_order,
                "hidden": o.hidden,
                "description": o.description,
            }
            for o in p.options
        ],
        "displayOrder": p.display_order,
        "hidden": p.hidden,
        "hubspotDefined": p.hubspot_defined,
        "archived": False,
        "calculated": False,
        "externalOptions": False,
        "formField": False,
        "hasUniqueValue": False,
        "modificationMetadata": {
            "archivable": not p.hubspot_defined,
            "readOnlyDefinition": p.hubspot_defined,
            "readOnlyValue": False,
        },
    }
