"""Staging uploads on disk: streamed in, refused past the limit with nothing left
behind, found and discarded by id only."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from occur.errors import NotFound, PayloadTooLarge
from occur.services import uploads
from occur.services.uploads import (
    MAX_UPLOAD_BYTES,
    StagedFile,
    clean_filename,
    discard,
    discard_older_than,
    find,
    stage,
)


async def chunks_of(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


def staged(data_dir: Path, filename: str, parts: Iterable[bytes], **kw: int) -> StagedFile:
    return asyncio.run(stage(data_dir, filename, chunks_of(parts), **kw))


def files_in(data_dir: Path) -> list[str]:
    folder = data_dir / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_limit_is_512_megabytes() -> None:
    assert MAX_UPLOAD_BYTES == 536_870_912


def test_an_upload_is_written_as_it_arrives_and_found_again(tmp_path: Path) -> None:
    parts = [b"Email,Date\r\n", b"a@example.com,", b"2024-03-05\r\n"]
    found = staged(tmp_path, "people.csv", parts)
    assert found.path == tmp_path / "imports" / found.id
    assert found.path.read_bytes() == b"".join(parts)
    assert (found.filename, found.size) == ("people.csv", 38)
    assert len(found.id) == 32 and found.id.replace("-", "").replace("_", "").isalnum()
    assert find(tmp_path, found.id) == found


def test_ids_are_random(tmp_path: Path) -> None:
    ids = {staged(tmp_path, "a.csv", [b"x"]).id for _ in range(20)}
    assert len(ids) == 20


def test_an_empty_upload_is_staged_for_the_reader_to_refuse(tmp_path: Path) -> None:
    assert staged(tmp_path, "empty.csv", []).size == 0


def test_over_the_limit_the_partial_file_is_removed(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        staged(tmp_path, "big.csv", [b"x" * 60, b"y" * 60], max_bytes=100)
    assert "100 bytes" in caught.value.message
    assert caught.value.status == 413
    assert files_in(tmp_path) == []


def test_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    assert staged(tmp_path, "edge.csv", [b"x" * 60, b"y" * 40], max_bytes=100).size == 100


def test_the_module_limit_applies_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(PayloadTooLarge):
        staged(tmp_path, "big.csv", [b"0123456789", b"!"])
    assert files_in(tmp_path) == []


def test_a_client_that_goes_away_leaves_nothing(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"Email\r\n"
        raise ConnectionResetError("client disconnected")

    with pytest.raises(ConnectionResetError):
        asyncio.run(stage(tmp_path, "a.csv", broken()))
    assert files_in(tmp_path) == []


def test_the_memory_held_is_one_chunk(tmp_path: Path) -> None:
    """Chunks are written as they come (beyond the file's small write buffer): the
    file grows while the upload is running."""
    sizes: list[int] = []

    async def watched() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"z" * 10_000
            folder = tmp_path / "imports"
            sizes.append(sum(p.stat().st_size for p in folder.iterdir()))

    asyncio.run(stage(tmp_path, "a.csv", watched()))
    assert sizes == [10_000, 20_000, 30_000, 40_000, 50_000]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("people.csv", "people.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\Desktop\\Événements.xlsx", "Événements.xlsx"),
        ("bad\x00name\n.csv", "badname.csv"),
        ("", "upload"),
        ("dir/", "upload"),
        ("x" * 300 + ".csv", "x" * 255),
    ],
)
def test_the_filename_is_kept_only_to_show(tmp_path: Path, given: str, kept: str) -> None:
    assert clean_filename(given) == kept
    found = staged(tmp_path, given, [b"a"])
    assert found.filename == kept
    assert found.path.parent == tmp_path / "imports"
    assert find(tmp_path, found.id).filename == kept


@pytest.mark.parametrize(
    "bad_id",
    ["", "nope", "../imports", "a" * 31, "a" * 33, "a" * 31 + "/", "a" * 31 + "."],
)
def test_find_takes_only_ids(tmp_path: Path, bad_id: str) -> None:
    staged(tmp_path, "a.csv", [b"a"])
    with pytest.raises(NotFound):
        find(tmp_path, bad_id)


def test_an_unknown_or_discarded_id_is_not_found(tmp_path: Path) -> None:
    found = staged(tmp_path, "a.csv", [b"a"])
    with pytest.raises(NotFound):
        find(tmp_path, "A" * 32)
    discard(tmp_path, found.id)
    assert files_in(tmp_path) == []
    with pytest.raises(NotFound):
        find(tmp_path, found.id)
    discard(tmp_path, found.id)  # twice is fine
    discard(tmp_path, "../../etc/passwd")  # not an id: nothing happens


def test_abandoned_uploads_are_swept_except_those_kept(tmp_path: Path) -> None:
    assert discard_older_than(tmp_path, 60, keep=set()) == 0  # no folder yet
    old = staged(tmp_path, "old.csv", [b"a"])
    running = staged(tmp_path, "running.csv", [b"b"])
    fresh = staged(tmp_path, "fresh.csv", [b"c"])
    an_hour_ago = time.time() - 3600
    for item in (old, running):
        os.utime(item.path, (an_hour_ago, an_hour_ago))
    assert discard_older_than(tmp_path, 60, keep={running.id}) == 1
    assert sorted(files_in(tmp_path)) == sorted(
        [running.id, f"{running.id}.name", fresh.id, f"{fresh.id}.name"]
    )
