"""An import's rows converted a piece at a time, in a child process for a big file.

Converting a row (domain/import_rows.convert_row) is pure Python, about 65 µs a row. On
the worker thread it held the server's one GIL against the writer's thread and the HTTP
event loop: sends waited for it, and the writer's own Python waited too. A child process
converts on the machine's other core instead, reading the file itself, and hands the
worker each piece as plain tuples (pickled tuples of strings load in a few µs a row;
dataclasses took 15-40). At most AHEAD_ROWS converted rows wait for the worker, plus
what the pipe holds: the child waits while the worker is behind, so memory stays bounded
whatever the file's size.

A small file is converted on the worker thread: starting a process costs more than
converting a few thousand rows.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path

from occur.domain.import_columns import Target
from occur.domain.import_rows import ImportPlan, ImportRow, RowError, convert_row
from occur.services import spreadsheets

# A file of at least this many rows is converted in a child process.
CHILD_FROM_ROWS = 5_000
# Rows converted ahead of the runner at most (two of the largest chunks).
AHEAD_ROWS = 2_000
_SPAWN = multiprocessing.get_context("spawn")  # never fork a threaded server

# A converted row: (line, cells, contact values, identity kind, identity value, identity
# path, may_create, uuid, occurred at, event values).
RowTuple = tuple[
    int, tuple[str, ...], dict[str, str], str, str, str, bool, str, int, dict[str, str]
]
# A failing cell: (line, column name, column index, value, error type, message, cells).
ErrorTuple = tuple[int, str | None, int | None, str | None, str, str, tuple[str, ...]]


@dataclass(frozen=True)
class Piece:
    """A few rows read from the file, converted."""

    rows: list[RowTuple]
    errors: list[ErrorTuple]
    rows_read: int
    failed_rows: int
    first_line: int
    next_line: int


# What the receiving thread hands the runner: a piece, the end (None), or what went wrong.
_Message = Piece | BaseException | None


def convert_piece(plan: ImportPlan, raw: Sequence[tuple[int, list[str]]]) -> Piece:
    """Rows as (line, cells) converted: completions as tuples, failing cells as errors."""
    columns = _column_indexes(plan)
    rows: list[RowTuple] = []
    errors: list[ErrorTuple] = []
    failed = 0
    for line, cells in raw:
        outcome = convert_row(plan, line, cells)
        kept = tuple(cells)
        if isinstance(outcome, ImportRow):
            c = outcome.completion
            i = c.identity
            assert c.uuid is not None and c.occurred_at is not None
            rows.append(
                (line, kept, outcome.contact_values, i.kind.value, i.value, i.path,
                 i.may_create, c.uuid, c.occurred_at, c.values)
            )  # fmt: skip
            continue
        failed += 1
        errors.extend(_error(e, kept, columns) for e in outcome)
    return Piece(rows, errors, len(raw), failed, raw[0][0], raw[-1][0] + 1)


def pieces(
    plan: ImportPlan, raw: Iterable[tuple[int, list[str]]], piece_rows: int
) -> Generator[Piece, None, None]:
    """The rows converted `piece_rows` at a time (the runner's smallest chunk: a chunk is
    whole pieces)."""
    iterator = iter(raw)
    while batch := list(islice(iterator, piece_rows)):
        yield convert_piece(plan, batch)
        time.sleep(0)  # on a worker thread: let the event loop and the writer have the GIL


class InlineConverter:
    """ChildConverter's work done on the calling thread (a small file)."""

    def __init__(self, path: Path, fmt: spreadsheets.SheetFormat, plan: ImportPlan,
                 start_line: int, piece_rows: int) -> None:  # fmt: skip
        rows = spreadsheets.rows(path, fmt, start_line=start_line)
        self._pieces = pieces(plan, rows, piece_rows)

    def pieces(self) -> Iterator[Piece]:
        return self._pieces

    def close(self) -> None:
        self._pieces.close()


class ChildConverter:
    """A child process that reads the file from `start_line` and converts it with `plan`;
    `pieces()` yields what it converted, in file order. Close it when done (it is also
    ended when the worker's process ends).

    A thread of ours receives the pieces as they come, up to AHEAD_ROWS rows ahead of
    the runner: the child then keeps converting while the writer commits, and the
    runner takes the next chunk only once the writer is free, sized for that moment.
    """

    def __init__(self, path: Path, fmt: spreadsheets.SheetFormat, plan: ImportPlan,
                 start_line: int, piece_rows: int) -> None:  # fmt: skip
        self._receiver, sender = _SPAWN.Pipe(duplex=False)
        self._process = _SPAWN.Process(
            target=_convert_file,
            args=(path, fmt, plan, start_line, piece_rows, sender),
            name="occur-import-convert",
            daemon=True,
        )
        self._process.start()
        sender.close()  # the child holds its own end: EOF once it exits
        self._ahead: queue.Queue[_Message] = queue.Queue(max(1, AHEAD_ROWS // piece_rows))
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=self._receive, name="occur-import-receive", daemon=True
        )
        self._thread.start()

    def pieces(self) -> Iterator[Piece]:
        while True:
            message = self._ahead.get()
            if message is None:
                return
            if isinstance(message, BaseException):
                raise message
            yield message

    def close(self) -> None:
        self._closed.set()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(5)
        self._thread.join(5)
        self._receiver.close()

    def _receive(self) -> None:
        while not self._closed.is_set():
            message: _Message
            try:
                received = self._receiver.recv()
            except (EOFError, OSError):
                message = RuntimeError("the import's converting process ended unexpectedly")
            else:
                if isinstance(received, tuple):  # (code, message): the file is unreadable
                    message = spreadsheets.UnreadableFile(*received)
                else:
                    message = received
            if not self._put(message) or not isinstance(message, Piece):
                return

    def _put(self, message: _Message) -> bool:
        """Queued, waiting while the runner is behind; False once closed."""
        while not self._closed.is_set():
            try:
                self._ahead.put(message, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False


def _convert_file(
    path: Path,
    fmt: spreadsheets.SheetFormat,
    plan: ImportPlan,
    start_line: int,
    piece_rows: int,
    sender: Connection,
) -> None:
    """The child's work: every piece sent in order, then None."""
    try:
        rows = spreadsheets.rows(path, fmt, start_line=start_line)
        for piece in pieces(plan, rows, piece_rows):
            sender.send(piece)
        sender.send(None)
    except spreadsheets.UnreadableFile as exc:
        sender.send((exc.code, exc.message))
    except (BrokenPipeError, OSError):
        pass  # the worker closed its end: it stopped or the import was canceled
    finally:
        sender.close()


def _column_indexes(plan: ImportPlan) -> dict[str, int]:
    found: dict[str, int] = {}
    for m in plan.mappings:
        if m.target is not Target.SKIP:
            found.setdefault(m.header, m.index)
    return found


def _error(e: RowError, cells: tuple[str, ...], columns: dict[str, int]) -> ErrorTuple:
    index = columns.get(e.column) if e.column is not None else None
    return (e.line, e.column, index, e.value, e.error_type, e.message, cells)
