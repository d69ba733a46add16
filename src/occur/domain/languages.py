"""ISO 639-1 language codes: the options of `hs_language` and what the collector fills.

The list comes from pycountry (a maintained copy of the ISO tables, installed from the
package registry) rather than a list of our own, so that it follows the standard.
A browser reports languages as BCP 47 tags (`en-US`, `pt_BR` from older ones); HubSpot
stores the two-letter language code only.
"""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def iso_639_1() -> tuple[tuple[str, str], ...]:
    """(code, English name) of every language that has a two-letter code, by name."""
    found = {
        language.alpha_2: language.name
        for language in pycountry.languages
        if getattr(language, "alpha_2", None)
    }
    return tuple(sorted(found.items(), key=lambda pair: (pair[1], pair[0])))


@cache
def _codes() -> frozenset[str]:
    return frozenset(code for code, _ in iso_639_1())


def language_code(tag: str) -> str | None:
    """The ISO 639-1 code a language tag starts with (`en-US` → `en`), or None."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in _codes() else None
