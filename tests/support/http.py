"""Assertions and drivers shared by the HTTP API tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Answer(Protocol):
    status_code: int
    text: str

    def json(self) -> Any: ...


def expect_error(
    r: Answer,
    status: int,
    category: str,
    in_: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Assert an error in HubSpot's shape; with `in_`, an errors[] entry names that field
    (and carries `code` when one is given). Returns the body."""
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert body["message"]
    assert body["correlationId"]
    if in_ is not None:
        entries = [e for e in body.get("errors", []) if e.get("in") == in_]
        assert entries, body
        if code is not None:
            assert code in [e.get("code") for e in entries], body
    return body


def at_once(count: int, call: Callable[[int], T]) -> list[T]:
    """Run call(0..count-1) in threads released together; return the results in order."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in results), "a thread failed"
    return [r for r in results if r is not None]
