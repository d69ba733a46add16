"""The official hubspot-api-client (v12) against a live occur: contacts and deals."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.deals import PublicObjectSearchRequest as DealSearchRequest
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealInput

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def hubspot(live_server: LiveServer) -> HubSpot:
    return HubSpot(access_token=live_server.token, host=live_server.base_url)


@pytest.fixture
def email() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def raw_get(live_server: LiveServer, path: str, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {live_server.token}"}
    return httpx.get(live_server.base_url + path, params=params, headers=headers, timeout=10)


def test_the_sdk_talks_to_occur(hubspot: HubSpot, live_server: LiveServer) -> None:
    assert hubspot.crm.contacts.basic_api.api_client.configuration.host == live_server.base_url
    # occur's own token format: HubSpot would refuse it, so a success proves it is occur.
    assert live_server.token.startswith("occur-pat-")


def test_create_read_search_and_update_a_contact(
    hubspot: HubSpot, live_server: LiveServer, email: str
) -> None:
    contacts = hubspot.crm.contacts
    created = contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": email, "firstname": "Ada"}
        )
    )
    assert created.id.isdigit()
    assert created.properties["email"] == email
    assert created.properties["hs_object_id"] == created.id
    assert created.archived is False

    # the record lives in occur: a plain HTTP read finds it
    direct = raw_get(live_server, f"/crm/v3/objects/contacts/{created.id}")
    assert direct.status_code == 200 and direct.json()["properties"]["email"] == email

    by_id = contacts.basic_api.get_by_id(contact_id=created.id, properties=["firstname", "phone"])
    assert by_id.properties["firstname"] == "Ada"
    assert by_id.properties["phone"] is None
    by_email = contacts.basic_api.get_by_id(contact_id=email.upper(), id_property="email")
    assert by_email.id == created.id

    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
        properties=["email", "firstname"],
        limit=10,
    )
    found = contacts.search_api.do_search(public_object_search_request=request)
    assert found.total == 1
    assert [r.id for r in found.results] == [created.id]

    updated = contacts.basic_api.update(
        contact_id=created.id,
        simple_public_object_input=SimplePublicObjectInput(properties={"lastname": "Lovelace"}),
    )
    assert updated.properties["lastname"] == "Lovelace"
    assert updated.updated_at >= created.updated_at
    again = contacts.basic_api.get_by_id(contact_id=created.id, properties=["lastname"])
    assert again.properties["lastname"] == "Lovelace"


def test_errors_reach_the_sdk_as_api_exceptions(hubspot: HubSpot, email: str) -> None:
    contacts = hubspot.crm.contacts
    body = SimplePublicObjectInputForCreate(properties={"email": email})
    first = contacts.basic_api.create(simple_public_object_input_for_create=body)
    with pytest.raises(ApiException) as conflict:
        contacts.basic_api.create(simple_public_object_input_for_create=body)
    assert conflict.value.status == 409
    assert f"Existing ID: {first.id}" in (conflict.value.body or "")
    with pytest.raises(ApiException) as missing:
        contacts.basic_api.get_by_id(contact_id="987654321")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as invalid:
        contacts.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"favourite_colour": "blue"}
            )
        )
    assert invalid.value.status == 400
    assert "PROPERTY_DOESNT_EXIST" in (invalid.value.body or "")


def test_deals_with_numbers_and_dates(hubspot: HubSpot) -> None:
    tag = uuid.uuid4().hex[:8]
    deals = hubspot.crm.deals
    for amount in ("1500.00", "9", "10.5"):
        deals.basic_api.create(
            simple_public_object_input_for_create=DealInput(
                properties={
                    "dealname": f"deal-{tag} {amount}",
                    "amount": amount,
                    "closedate": "2024-01-15",
                }
            )
        )
    request = DealSearchRequest(
        filter_groups=[
            {
                "filters": [
                    {
                        "propertyName": "dealname",
                        "operator": "CONTAINS_TOKEN",
                        "value": f"deal-{tag}",
                    },
                    {"propertyName": "amount", "operator": "GT", "value": "9"},
                ]
            }
        ],
        sorts=[{"propertyName": "amount", "direction": "DESCENDING"}],
        properties=["amount", "closedate"],
    )
    found = deals.search_api.do_search(public_object_search_request=request)
    assert [r.properties["amount"] for r in found.results] == ["1500", "10.5"]
    assert found.results[0].properties["closedate"] == "2024-01-15T00:00:00.000Z"
