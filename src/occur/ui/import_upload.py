"""The file step's upload: a multipart form read as it arrives, its file part streamed
to disk by services/uploads.py (never held in memory, never spooled twice), and the
ticket that carries the staged file through the later steps.

The form's text fields come before its file input, so the CSRF token is checked before
a byte of the file is written. The ticket is the staged file's id signed with the
portal and the user: a ticket is useless in another portal or to another person, and a
page never reads a path or a bare id from the browser.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from occur.api import multipart_form
from occur.errors import OccurError, ValidationError
from occur.services.uploads import StagedFile

# Text fields of the file step are short; more than this is not a form of ours.
MAX_FIELD_BYTES = 64 * 1024
FILE_FIELD = "file"

_FORM_RULES = multipart_form.FormRules(
    file_field=FILE_FIELD,
    max_field_bytes=MAX_FIELD_BYTES,
    field_too_large="A field of this form is too large.",
)


class NotAForm(ValidationError):
    """This is not the file step's form."""


class UploadFailed(Exception):
    """The file could not be staged (too large, cut off): why, and the form's fields."""

    def __init__(self, error: OccurError, fields: dict[str, str]) -> None:
        super().__init__(error.message)
        self.error = error
        self.fields = fields


@dataclass(frozen=True)
class Upload:
    """The form's text fields and the staged file (None when no file was chosen)."""

    fields: dict[str, str]
    staged: StagedFile | None


async def receive(
    request: Request,
    data_dir: Path,
    check_fields: Callable[[dict[str, str]], None],
) -> Upload:
    """Read the multipart body (api/multipart_form.py): `check_fields` on the text
    fields before the file part (it raises to refuse), then the file streamed to
    `uploads.stage`; a file input left empty stages nothing.

    A failure once the fields passed `check_fields` is UploadFailed carrying them, so
    the page can show the person's details again; one before is raised as it is, as
    fields that were not checked must not be echoed back."""
    boundary = multipart_form.boundary_of(request.headers.get("content-type", ""))
    if boundary is None:
        raise NotAForm()
    checked: dict[str, str] | None = None

    def before_file(fields: Mapping[str, bytes], filename: str | None) -> bool:
        nonlocal checked
        text = _texts(fields)
        check_fields(dict(text))
        checked = text
        return bool(filename)

    try:
        form = await multipart_form.read(request, boundary, data_dir, _FORM_RULES, before_file)
    except OccurError as exc:
        if checked is None:
            raise
        raise UploadFailed(exc, checked) from exc
    return Upload(_texts(form.fields), form.staged)


def _texts(fields: Mapping[str, bytes]) -> dict[str, str]:
    return {name: value.decode("utf-8", "replace") for name, value in fields.items()}


def ticket(secret_key: str, portal_id: int, user_id: int, staged_id: str) -> str:
    """The staged file's id, signed for this portal and user."""
    return f"{staged_id}.{_mac(secret_key, portal_id, user_id, staged_id)}"


def staged_id_of(secret_key: str, portal_id: int, user_id: int, sent: str) -> str | None:
    """The staged file's id in a ticket, or None for a ticket that is not this
    portal's and user's (or not a ticket at all)."""
    staged_id, _, mac = sent.rpartition(".")
    if not staged_id or not hmac.compare_digest(
        mac, _mac(secret_key, portal_id, user_id, staged_id)
    ):
        return None
    return staged_id


def _mac(secret_key: str, portal_id: int, user_id: int, staged_id: str) -> str:
    message = f"upload|{portal_id}|{user_id}|{staged_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]
