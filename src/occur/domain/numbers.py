"""Numbers as occur stores them: the shortest plain decimal text, exact."""

from __future__ import annotations

import math
import re
from decimal import Context, Decimal, InvalidOperation

# No stored value is longer than this, so no plain decimal needs more digits.
MAX_PLAIN_DIGITS = 1024
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Decimal's default 28-digit precision would round long numbers while normalising them.
_EXACT = Context(prec=2 * MAX_PLAIN_DIGITS)


def plain_decimal(value: int | float | str) -> str:
    """Shortest plain decimal text: 1.0 → "1", 1.50 → "1.5", 1e3 → "1000", -0 → "0".

    Raises ValueError for text that is no decimal number (ASCII digits only, no `_`),
    NaN, infinities, and numbers whose plain form would exceed MAX_PLAIN_DIGITS.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not finite")
        number = Decimal(repr(value))  # repr is the shortest text that reads back the same
    else:
        if not _DECIMAL.fullmatch(value):
            raise ValueError("not a decimal number")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
    if number.is_zero():
        return "0"
    if abs(number.adjusted()) >= MAX_PLAIN_DIGITS:
        raise ValueError("too large or too small for a plain decimal")
    return format(number.normalize(_EXACT), "f")
