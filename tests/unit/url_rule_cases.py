"""One table of URL rule cases, run against occur.domain.url_rules.matches (unit test)
and against tracker.js's urlMatches in Chromium (tests/e2e/test_url_rules_js.py): the
two implementations must agree on every row."""

from __future__ import annotations

from typing import Any

SHOP = "https://shop.example/pricing/?plan=Pro&utm_source=ads#faq"

# (rule, url, expected)
CASES: list[tuple[dict[str, Any] | None, str, bool]] = [
    # no rule: every page
    (None, SHOP, True),
    # is: whole URL, path-only or host-onwards; case and one trailing slash ignored
    ({"op": "is", "value": "https://shop.example/pricing"}, "https://shop.example/pricing/", True),
    ({"op": "is", "value": "https://shop.example/pricing/"}, "https://shop.example/pricing", True),
    ({"op": "is", "value": "HTTPS://Shop.Example/Pricing"}, "https://shop.example/pricing", True),
    (
        {"op": "is", "value": "https://shop.example/pricing"},
        "https://shop.example/pricing#top",
        True,
    ),
    (
        {"op": "is", "value": "https://shop.example/pricing"},
        "https://shop.example/pricing?a=1",
        False,
    ),
    ({"op": "is", "value": "https://shop.example/pricing"}, "http://shop.example/pricing", False),
    ({"op": "is", "value": "shop.example/pricing"}, "http://shop.example/pricing", True),
    ({"op": "is", "value": "/pricing"}, "https://shop.example/pricing", True),
    ({"op": "is", "value": "/pricing"}, "https://other.example/pricing/", True),
    ({"op": "is", "value": "/pricing"}, "https://shop.example/pricing/team", False),
    ({"op": "is", "value": "/"}, "https://shop.example", True),
    ({"op": "is", "value": "/"}, "https://shop.example/", True),
    ({"op": "is", "value": "/?a=1"}, "https://shop.example?a=1", True),
    # contains
    ({"op": "contains", "value": "pricing"}, SHOP, True),
    ({"op": "contains", "value": "PRICING"}, SHOP, True),
    ({"op": "contains", "value": "faq"}, SHOP, False),  # the fragment is not compared
    ({"op": "contains", "value": "utm_source=ads"}, SHOP, True),
    ({"op": "contains", "value": "https://"}, SHOP, True),
    ({"op": "contains", "value": "/blog"}, SHOP, False),
    # begins_with
    ({"op": "begins_with", "value": "/pricing"}, SHOP, True),
    ({"op": "begins_with", "value": "/blog"}, SHOP, False),
    ({"op": "begins_with", "value": "shop.example/pri"}, SHOP, True),
    ({"op": "begins_with", "value": "https://shop.example/p"}, SHOP, True),
    ({"op": "begins_with", "value": "http://shop.example/p"}, SHOP, False),
    ({"op": "begins_with", "value": "/pricing"}, "https://shop.example?pricing", False),
    # matches_wildcard: `*` is any run, everything else literal, the whole text
    ({"op": "matches_wildcard", "value": "/blog/*"}, "https://shop.example/blog/a-post", True),
    ({"op": "matches_wildcard", "value": "/blog/*"}, "https://shop.example/blog", False),
    (
        {"op": "matches_wildcard", "value": "/blog/*/comments"},
        "https://x.example/blog/1/comments",
        True,
    ),
    (
        {"op": "matches_wildcard", "value": "/blog/*/comments"},
        "https://x.example/blog/1/comments/2",
        False,
    ),
    ({"op": "matches_wildcard", "value": "*.example/*"}, SHOP, True),
    ({"op": "matches_wildcard", "value": "https://*.example/p?ricing*"}, SHOP, False),
    ({"op": "matches_wildcard", "value": "https://shop.example/pricing/?plan=pro*"}, SHOP, True),
    ({"op": "matches_wildcard", "value": "/a.b"}, "https://x.example/axb", False),
    (
        {"op": "matches_wildcard", "value": "/(x)[y]{2}$^|+\\"},
        "https://x.example/(x)[y]{2}$^|+\\",
        True,
    ),
    ({"op": "matches_wildcard", "value": "*"}, "https://x.example/anything\nat all", True),
    ({"op": "matches_wildcard", "value": "/**"}, "https://x.example/", True),
    # query parameters: exact name, decoded value, case-insensitive value
    ({"op": "query_param_is", "param": "plan", "value": "pro"}, SHOP, True),
    ({"op": "query_param_is", "param": "Plan", "value": "pro"}, SHOP, False),
    ({"op": "query_param_is", "param": "plan", "value": "pr"}, SHOP, False),
    ({"op": "query_param_contains", "param": "plan", "value": "R"}, SHOP, True),
    ({"op": "query_param_is", "param": "faq", "value": ""}, SHOP, False),
    ({"op": "query_param_is", "param": "q", "value": "a b"}, "https://x.example/?q=a+b", True),
    ({"op": "query_param_is", "param": "q", "value": "a b"}, "https://x.example/?q=a%20b", True),
    ({"op": "query_param_is", "param": "q", "value": "é"}, "https://x.example/?q=%C3%A9", True),
    ({"op": "query_param_is", "param": "q", "value": "%zz"}, "https://x.example/?q=%zz", True),
    ({"op": "query_param_is", "param": "q", "value": "%c3"}, "https://x.example/?q=%C3", True),
    ({"op": "query_param_is", "param": "a b", "value": "1"}, "https://x.example/?a%20b=1", True),
    ({"op": "query_param_is", "param": "q", "value": "2"}, "https://x.example/?q=1&q=2", True),
    ({"op": "query_param_is", "param": "q", "value": "=x"}, "https://x.example/?q==x", True),
    ({"op": "query_param_contains", "param": "q", "value": "x"}, "https://x.example/?q", False),
    ({"op": "query_param_is", "param": "q", "value": "1"}, "https://x.example/?&&q=1&", True),
    ({"op": "query_param_is", "param": "q", "value": "1"}, "https://x.example/#?q=1", False),
    ({"op": "query_param_is", "param": "q", "value": "1?x"}, "https://x.example/?q=1?x", True),
]
