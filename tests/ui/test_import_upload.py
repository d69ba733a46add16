"""The wizard's file step reading its form (ui/import_upload.receive): the CSRF check
before a byte of the file is written, an empty file input staging nothing, and which
failures keep the person's details (UploadFailed, only once the fields were checked)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.types import Message

from occur.errors import PayloadTooLarge
from occur.services import uploads
from occur.ui import import_upload
from occur.ui.import_upload import NotAForm, Upload, UploadFailed
from tests.api.test_multipart_form import CSV, END, field, file_part, staged_files


class Forged(Exception):
    pass


def receive(data_dir: Path, body: bytes, *, content_type: str = "") -> tuple[Upload, list[Any]]:
    """receive() on a body sent in 7-byte pieces; also what check_fields was given and
    which staged files existed when it ran."""
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    sent = iter(range(len(pieces)))

    async def next_piece() -> Message:
        i = next(sent)
        return {"type": "http.request", "body": pieces[i], "more_body": i < len(pieces) - 1}

    header = content_type or "multipart/form-data; boundary=xyz"
    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", header.encode())]}
    checks: list[Any] = []

    def check(fields: dict[str, str]) -> None:
        checks.append((fields, staged_files(data_dir)))
        if fields.get("csrf_token") != "good":
            raise Forged()

    upload = asyncio.run(import_upload.receive(Request(scope, next_piece), data_dir, check))
    return upload, checks


def test_the_token_is_checked_before_the_file_is_written(tmp_path: Path) -> None:
    body = (
        field("csrf_token", b"good") + field("label", b"Bought") + file_part("file", "a.csv", CSV)
    )
    upload, checks = receive(tmp_path, body + END)
    assert checks == [({"csrf_token": "good", "label": "Bought"}, [])]
    assert upload.fields == {"csrf_token": "good", "label": "Bought"}
    assert upload.staged is not None and upload.staged.path.read_bytes() == CSV


def test_a_forged_token_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(Forged):
        receive(tmp_path, field("csrf_token", b"bad") + file_part("file", "a.csv", CSV) + END)
    assert staged_files(tmp_path) == []


def test_a_form_without_a_file_is_checked_too(tmp_path: Path) -> None:
    with pytest.raises(Forged):
        receive(tmp_path, field("csrf_token", b"bad") + END)
    upload, _ = receive(tmp_path, field("csrf_token", b"good") + END)
    assert upload == Upload({"csrf_token": "good"}, None)


def test_an_empty_file_input_stages_nothing(tmp_path: Path) -> None:
    upload, _ = receive(tmp_path, field("csrf_token", b"good") + file_part("file", "", b"") + END)
    assert upload == Upload({"csrf_token": "good"}, None)
    assert staged_files(tmp_path) == []


def test_a_file_too_large_keeps_the_checked_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    body = (
        field("csrf_token", b"good") + field("label", b"Bought") + file_part("file", "a.csv", CSV)
    )
    with pytest.raises(UploadFailed) as failed:
        receive(tmp_path, body + END)
    assert failed.value.error.status == 413
    assert failed.value.fields == {"csrf_token": "good", "label": "Bought"}
    assert staged_files(tmp_path) == []


def test_a_body_cut_short_after_the_check_keeps_the_fields_and_no_file(tmp_path: Path) -> None:
    body = field("csrf_token", b"good") + file_part("file", "a.csv", CSV)
    with pytest.raises(UploadFailed) as failed:
        receive(tmp_path, body)
    assert failed.value.error.status == 400
    assert failed.value.fields == {"csrf_token": "good"}
    assert staged_files(tmp_path) == []


def test_a_field_too_large_before_the_check_is_raised_as_it_is(tmp_path: Path) -> None:
    big = b"x" * (import_upload.MAX_FIELD_BYTES + 1)
    with pytest.raises(PayloadTooLarge, match="A field of this form is too large"):
        receive(tmp_path, field("label", big) + field("csrf_token", b"good") + END)


def test_another_content_type_is_not_a_form(tmp_path: Path) -> None:
    with pytest.raises(NotAForm):
        receive(tmp_path, b"{}", content_type="application/json")
