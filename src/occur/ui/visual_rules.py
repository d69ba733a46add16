"""A visual event's rule as its form fields (the wizard's last step and the Details tab):
the choices shown, the rule built from the fields, and where each problem goes."""

from __future__ import annotations

from typing import Any

from occur.domain import url_rules

# (op, what the form says), in the order the select lists them.
URL_OP_CHOICES = (
    (url_rules.IS, "URL is"),
    (url_rules.CONTAINS, "URL contains"),
    (url_rules.BEGINS_WITH, "URL begins with"),
    (url_rules.MATCHES_WILDCARD, "URL matches (* for anything)"),
    (url_rules.QUERY_PARAM_IS, "Query parameter is"),
    (url_rules.QUERY_PARAM_CONTAINS, "Query parameter contains"),
)
RULE_FIELDS = ("selector", "url_op", "url_param", "url_value")
# The service's error paths, as the form field each belongs beside.
FIELD_OF_PATH = {
    "trackingRule.selector": "selector",
    "trackingRule.url": "url_op",
    "trackingRule.url.op": "url_op",
    "trackingRule.url.value": "url_value",
    "trackingRule.url.param": "url_param",
}


def rule_json(tracking_type: str, fields: dict[str, str]) -> dict[str, Any]:
    """The rule as the definitions service reads it (domain/url_rules.py); url_op ""
    means every page, which only clicks allow (the service says so otherwise)."""
    rule: dict[str, Any] = {}
    if tracking_type == url_rules.CLICKED_ELEMENT:
        rule["selector"] = fields.get("selector", "")
    op = fields.get("url_op", "")
    if op:
        url = {"op": op, "value": fields.get("url_value", "")}
        if op in url_rules.QUERY_OPS:
            url["param"] = fields.get("url_param", "")
        rule["url"] = url
    return rule
