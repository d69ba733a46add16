"""The bench's printed table: one row per measure, each beside its ceiling and target."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HEADER = ("backend", "measure", "rate", "p50", "p99", "ceiling", "ratio", "target")


@dataclass(frozen=True)
class Row:
    """One measure's figures; the ratio is worked out here so every row does it alike."""

    backend: str
    key: str  # "(a)" … "(d)": how other rows and the notes name this one
    measure: str
    rate: float
    unit: str  # "req/s" or "ev/s"
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    ceiling: Row | None = None  # the measure this one is compared with
    target: float | None = None  # the least ratio to the ceiling issue 3 asks for
    also: tuple[Row, ...] = ()  # further ceilings, each compared on a line of its own

    @property
    def ratio(self) -> float | None:
        return self.rate / self.ceiling.rate if self.ceiling and self.ceiling.rate else None

    @property
    def missed(self) -> bool:
        return self.target is not None and (self.ratio or 0.0) < self.target

    def lines(self) -> list[tuple[str, ...]]:
        further = [
            ("", "", "", "", "", f"{c.key} {c.rate:,.0f}", f"{self.rate / c.rate:.2f}", "-")
            for c in self.also
            if c.rate
        ]
        return [self._cells(), *further]

    def _cells(self) -> tuple[str, ...]:
        ratio = self.ratio
        return (
            self.backend,
            f"{self.key} {self.measure}",
            f"{self.rate:,.0f} {self.unit}",
            _ms(self.p50_ms),
            _ms(self.p99_ms),
            f"{self.ceiling.key} {self.ceiling.rate:,.0f}" if self.ceiling else "-",
            f"{ratio:.2f}" if ratio is not None else "-",
            f">= {self.target:.2f}{'  MISSED' if self.missed else ''}" if self.target else "-",
        )


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def table(rows: Sequence[Row]) -> str:
    """Plain text, columns padded to their widest cell; numbers right-aligned."""
    lines = [HEADER, *(line for row in rows for line in row.lines())]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    left = {0, 1}
    rendered = [
        "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)
