"""The streamed multipart reader both uploads share (api/multipart_form.py): the body fed
in small pieces as a network would, fields kept, the one file staged, and every way a
form is refused leaving no staged file behind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.types import Message

from occur.api import multipart_form
from occur.api.multipart_form import Form, FormRules, boundary_of
from occur.errors import PayloadTooLarge, ValidationError
from occur.services import uploads

BOUNDARY = b"xyz"
RULES = FormRules(file_field="file", max_field_bytes=100, field_too_large="{name} too large")
CSV = b"Email,Date\r\nann@example.com,2025-03-01\r\n" * 20


def field(name: str, value: bytes) -> bytes:
    return (
        b"--xyz\r\nContent-Disposition: form-data; name=\"" + name.encode() + b'"\r\n\r\n'
        + value + b"\r\n"
    )  # fmt: skip


def file_part(name: str, filename: str, data: bytes) -> bytes:
    return (
        b"--xyz\r\nContent-Disposition: form-data; name=\"" + name.encode()
        + b'"; filename="' + filename.encode() + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + data + b"\r\n"
    )  # fmt: skip


END = b"--xyz--\r\n"


def request_of(body: bytes, piece: int) -> Request:
    """A request whose body arrives `piece` bytes at a time."""
    pieces = [body[i : i + piece] for i in range(0, len(body), piece)] or [b""]
    sent = iter(range(len(pieces)))

    async def receive() -> Message:
        i = next(sent)
        return {"type": "http.request", "body": pieces[i], "more_body": i < len(pieces) - 1}

    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": []}
    return Request(scope, receive)


def read(
    data_dir: Path,
    body: bytes,
    *,
    piece: int = 7,
    rules: FormRules = RULES,
    before_file: multipart_form.BeforeFile | None = None,
) -> Form:
    request = request_of(body, piece)
    return asyncio.run(multipart_form.read(request, BOUNDARY, data_dir, rules, before_file))


def staged_files(data_dir: Path) -> list[Path]:
    folder = data_dir / uploads.IMPORTS_DIR
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_fields_before_and_after_the_file_are_kept_and_the_file_staged(
    tmp_path: Path, piece: int
) -> None:
    body = (
        field("csrf_token", b"t0k3n")
        + file_part("file", "../people.csv", CSV)
        + field("label", b"Bought plan")
        + END
    )
    form = read(tmp_path, body, piece=piece)
    assert form.fields == {"csrf_token": b"t0k3n", "label": b"Bought plan"}
    assert form.staged is not None
    assert form.staged.path.read_bytes() == CSV
    assert form.staged.filename == "people.csv"


def test_the_first_field_of_a_name_wins_and_fields_past_the_bound_are_dropped(
    tmp_path: Path,
) -> None:
    rules = FormRules(file_field="file", max_field_bytes=100, field_too_large="", max_fields=3)
    names = ["a", "a", "b", "c", "d"]
    body = b"".join(field(n, f"{n}{i}".encode()) for i, n in enumerate(names)) + END
    form = read(tmp_path, body, rules=rules)
    assert form.fields == {"a": b"a0", "b": b"b2", "c": b"c3"}
    assert form.staged is None


def test_a_body_cut_short_in_the_file_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    body = field("label", b"x") + file_part("file", "a.csv", CSV)[:-50]
    with pytest.raises(ValidationError, match="cut short"):
        read(tmp_path, body)
    assert staged_files(tmp_path) == []


def test_a_body_cut_short_after_the_file_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    body = file_part("file", "a.csv", CSV) + b"--xyz\r\nContent-Disposition: form-da"
    with pytest.raises(ValidationError, match="cut short"):
        read(tmp_path, body)
    assert staged_files(tmp_path) == []


def test_a_malformed_body_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="malformed"):
        read(tmp_path, b"--xyz\r\nno colon in this header\r\n\r\nx\r\n" + END)


def test_an_endless_part_header_is_refused_before_it_fills_memory(tmp_path: Path) -> None:
    header = b'--xyz\r\nContent-Disposition: form-data; name="' + b"n" * 100_000
    with pytest.raises(ValidationError, match="malformed"):  # the parser bounds headers
        read(tmp_path, header + b'"\r\n\r\nx\r\n' + END, piece=4096)


@pytest.mark.parametrize(
    "second",
    [file_part("file", "b.csv", CSV), file_part("other", "b.csv", b"x")],
    ids=["a second file", "a file in another part"],
)
def test_a_second_file_is_refused_and_leaves_no_file(tmp_path: Path, second: bytes) -> None:
    body = file_part("file", "a.csv", CSV) + second + END
    with pytest.raises(ValidationError) as refused:
        read(tmp_path, body)
    assert [(e.in_, e.code) for e in refused.value.errors] == [("file", "INVALID")]
    assert staged_files(tmp_path) == []


def test_a_file_in_another_part_alone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="`file`"):
        read(tmp_path, file_part("files", "a.csv", CSV) + END)
    assert staged_files(tmp_path) == []


def test_an_over_long_field_is_413_in_the_callers_words(tmp_path: Path) -> None:
    body = field("label", b"x" * 101) + file_part("file", "a.csv", CSV) + END
    with pytest.raises(PayloadTooLarge, match=r"^label too large$"):
        read(tmp_path, body)
    assert staged_files(tmp_path) == []
    assert read(tmp_path, field("label", b"x" * 100) + END).fields == {"label": b"x" * 100}


def test_an_over_long_field_after_the_staged_file_removes_it(tmp_path: Path) -> None:
    body = file_part("file", "a.csv", CSV) + field("note", b"x" * 500) + END
    with pytest.raises(PayloadTooLarge, match="note too large"):
        read(tmp_path, body)
    assert staged_files(tmp_path) == []


def test_a_file_over_the_upload_limit_is_413_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(PayloadTooLarge, match="at most 100 bytes"):
        read(tmp_path, file_part("file", "a.csv", CSV) + END)
    assert staged_files(tmp_path) == []


class Seen:
    """before_file's calls: the fields and filename it was given."""

    def __init__(self, answer: bool = True, refuse: bool = False) -> None:
        self.calls: list[tuple[dict[str, bytes], str | None]] = []
        self.answer, self.refuse = answer, refuse
        self.files_when_called: list[list[Path]] = []

    def hook(self, data_dir: Path) -> Callable[[Mapping[str, bytes], str | None], bool]:
        def before_file(fields: Mapping[str, bytes], filename: str | None) -> bool:
            self.calls.append((dict(fields), filename))
            self.files_when_called.append(staged_files(data_dir))
            if self.refuse:
                raise PermissionError("forged")
            return self.answer

        return before_file


@pytest.mark.parametrize("piece", [7, 4096])
def test_before_file_sees_the_fields_before_the_file_and_nothing_is_written_yet(
    tmp_path: Path, piece: int
) -> None:
    seen = Seen()
    body = field("csrf_token", b"t") + file_part("file", "a.csv", CSV) + field("late", b"l") + END
    form = read(tmp_path, body, piece=piece, before_file=seen.hook(tmp_path))
    assert seen.calls == [({"csrf_token": b"t"}, "a.csv")]
    assert seen.files_when_called == [[]]
    assert form.staged is not None and form.fields == {"csrf_token": b"t", "late": b"l"}


def test_before_file_refusing_writes_no_byte_of_the_file(tmp_path: Path) -> None:
    seen = Seen(refuse=True)
    body = field("csrf_token", b"forged") + file_part("file", "a.csv", CSV) + END
    with pytest.raises(PermissionError):
        read(tmp_path, body, before_file=seen.hook(tmp_path))
    assert staged_files(tmp_path) == []


def test_before_file_declining_drops_the_file(tmp_path: Path) -> None:
    seen = Seen(answer=False)
    body = field("a", b"1") + file_part("file", "", b"") + field("b", b"2") + END
    form = read(tmp_path, body, before_file=seen.hook(tmp_path))
    assert seen.calls == [({"a": b"1"}, "")]
    assert form == Form({"a": b"1", "b": b"2"}, None)
    assert staged_files(tmp_path) == []


def test_before_file_runs_at_the_end_of_a_form_without_a_file(tmp_path: Path) -> None:
    seen = Seen()
    form = read(tmp_path, field("a", b"1") + END, before_file=seen.hook(tmp_path))
    assert seen.calls == [({"a": b"1"}, None)]
    assert form == Form({"a": b"1"}, None)


def test_without_before_file_a_file_with_an_empty_name_is_staged(tmp_path: Path) -> None:
    form = read(tmp_path, file_part("file", "", b"x") + END)
    assert form.staged is not None and form.staged.filename == "upload"


@pytest.mark.parametrize(
    ("header", "boundary"),
    [
        ("multipart/form-data; boundary=abc", b"abc"),
        ('multipart/form-data; boundary="a b"', b"a b"),
        ("multipart/form-data", None),
        ("application/json", None),
        ("", None),
    ],
)
def test_boundary_of(header: str, boundary: bytes | None) -> None:
    assert boundary_of(header) == boundary
