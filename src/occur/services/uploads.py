"""Uploaded spreadsheets staged on disk until an import reads them.

An upload is written as it arrives, never held in memory, and refused once it passes
MAX_UPLOAD_BYTES, its partial file removed. Each staged file is named by a random id
(`{data_dir}/imports/{id}`), and the name the person gave it is kept in a side file
(`{id}.name`) only to show and to guess the file's kind from: no path a client sends is
ever opened, so `../../etc/passwd` as a filename names nothing.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from occur.errors import NotFound, PayloadTooLarge

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
MAX_FILENAME_CHARS = 255
IMPORTS_DIR = "imports"
_NAME_SUFFIX = ".name"
_ID_BYTES = 24  # 32 url-safe characters
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class StagedFile:
    id: str
    path: Path
    filename: str
    size: int


async def stage(
    data_dir: Path,
    filename: str,
    chunks: AsyncIterator[bytes],
    *,
    max_bytes: int | None = None,
) -> StagedFile:
    """Write an upload to disk as it streams in; PayloadTooLarge past the limit.

    Writes are plain blocking file writes: chunks arrive at network speed and a local
    write of one is far quicker than handing it to a thread. Whatever stops the upload
    (the limit, a client that goes away, a full disk) removes what was written.
    """
    limit = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    folder = data_dir / IMPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    staged_id = secrets.token_urlsafe(_ID_BYTES)
    path = folder / staged_id
    shown_name = clean_filename(filename)
    size = 0
    try:
        with path.open("xb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"A spreadsheet to import may be at most {_megabytes(limit)}; "
                        "split it into smaller files."
                    )
                out.write(chunk)
        _name_path(path).write_text(shown_name, encoding="utf-8")
    except BaseException:
        _remove(path)
        raise
    return StagedFile(staged_id, path, shown_name, size)


def find(data_dir: Path, staged_id: str) -> StagedFile:
    """A staged file by its id; NotFound for an unknown id or one that is not an id."""
    if not _ID.fullmatch(staged_id):
        raise NotFound("There is no uploaded file with this id.")
    path = data_dir / IMPORTS_DIR / staged_id
    try:
        size = path.stat().st_size
        filename = _name_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("There is no uploaded file with this id; upload it again.") from None
    return StagedFile(staged_id, path, filename, size)


def discard(data_dir: Path, staged_id: str) -> None:
    """Remove a staged file (after its import finished, or when abandoned); idempotent."""
    if _ID.fullmatch(staged_id):
        _remove(data_dir / IMPORTS_DIR / staged_id)


def discard_older_than(data_dir: Path, max_age_seconds: float, *, keep: set[str]) -> int:
    """Remove staged files older than `max_age_seconds` except the ids in `keep` (those
    an import still reads): uploads a person abandoned in the wizard. Returns how many."""
    folder = data_dir / IMPORTS_DIR
    if not folder.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    for path in folder.iterdir():
        if not _ID.fullmatch(path.name) or path.name in keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                _remove(path)
                removed += 1
    return removed


def clean_filename(filename: str) -> str:
    """The name to show: its last path part, without control characters, cut to 255."""
    last = re.split(r"[/\\]", filename)[-1]
    return _CONTROL.sub("", last).strip()[:MAX_FILENAME_CHARS] or "upload"


def _name_path(path: Path) -> Path:
    return path.with_name(path.name + _NAME_SUFFIX)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _name_path(path).unlink(missing_ok=True)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size} bytes"
