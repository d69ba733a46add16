"""Internal names of events and properties: the rule, and names derived from labels."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

MAX_NAME_CHARS = 50
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_LONG_VALUE_WORDS = ("url", "referrer", "link")


def name_problem(name: str) -> str | None:
    """Say what is wrong with an internal name, or None when it is valid."""
    if not name:
        return "The name must not be empty."
    if len(name) > MAX_NAME_CHARS:
        return f"The name must be at most {MAX_NAME_CHARS} characters; it has {len(name)}."
    if not name[0].isascii() or not name[0].isalpha() or not name[0].islower():
        return "The name must start with a lowercase letter (a-z)."
    # fullmatch, not match: `$` also matches before a trailing newline, so "abc\n" passed.
    if not NAME_PATTERN.fullmatch(name):
        return "The name may hold only lowercase letters a-z, digits 0-9 and underscores."
    return None


def fold_key(name: str) -> str:
    """The key under which two names count as the same: equal after lowercasing."""
    return name.lower()


def derive_name(label: str, is_taken: Callable[[str], bool], *, fallback: str = "event") -> str:
    """Derive an internal name from a label (DESIGN §3b).

    Fold to ASCII, lowercase, turn runs of other characters into `_`, prefix a letter when
    it would start with a digit, cut to 50; add `_2`, `_3` … until the name is free.
    A label with nothing left after folding (say, all CJK) takes `fallback` as its base.
    """
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = _NON_WORD.sub("_", ascii_label.lower()).strip("_") or fallback
    if not base[0].isalpha():
        base = "n_" + base
    base = base[:MAX_NAME_CHARS].rstrip("_")
    candidate = base
    suffix = 2
    while is_taken(candidate):
        tail = f"_{suffix}"
        candidate = base[: MAX_NAME_CHARS - len(tail)].rstrip("_") + tail
        suffix += 1
    return candidate


def takes_long_values(property_name: str) -> bool:
    """URL, referrer and link properties hold values up to 1,024 characters, not 256."""
    lowered = property_name.lower()
    return any(word in lowered for word in _LONG_VALUE_WORDS)
