"""Reading uploaded spreadsheets (CSV and XLSX) as rows of text, in bounded memory.

A file may be half a gigabyte, so nothing here loads one whole: CSV is decoded and
split as it is read, XLSX is read from its XML parts with the sheet parsed as a stream
(services/workbooks.py). On a 100,000-row, 8-column workbook, measured in one run on
the 2-core build machine: python-calamine read it in 0.9-1.0 s but loads the whole sheet into
memory first (peak 77 MB against 25 MB before, so about half a gigabyte for a full
sheet, which a shared server cannot promise); openpyxl's read-only mode streams (peak
33 MB) but took 15-17 s, so a million-row workbook would keep an import's counting
pass, which answers the upload, busy for minutes. The reader here streams (peak 17 MB)
and took 5-7 s.

What a file is comes from its bytes, not its name: a `.csv` that is really a workbook is
read as one, a `.xlsx` that is a PNG is refused. Every refusal is an UnreadableFile whose
code says which kind (HubSpot-like: INVALID_FILE_TYPE, EMPTY_FILE, MISSING_HEADER,
TOO_MANY_ROWS) and whose message tells a person what to do about it.

Lines are numbered as a spreadsheet program numbers rows: the header is line 1, and a
CSV record whose quoted cell spans several physical lines is still one line, so an
error's line number is the row a person finds when opening the file. Blank rows are
skipped but keep their number.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from occur.domain.import_columns import uses_decimal_comma
from occur.errors import FieldError, ValidationError
from occur.services import workbooks

MAX_ROWS = 1_048_576  # Excel's own limit: a sheet never holds more
CSV = "csv"
XLSX = "xlsx"
INVALID_FILE_TYPE = "INVALID_FILE_TYPE"
EMPTY_FILE = "EMPTY_FILE"
MISSING_HEADER = "MISSING_HEADER"
TOO_MANY_ROWS = "TOO_MANY_ROWS"
SHEET_NOT_FOUND = "SHEET_NOT_FOUND"
ERROR_COLUMN = "Error"

# Enough of a file to tell its encoding and delimiter; read once, at detect time.
SAMPLE_BYTES = 1024 * 1024
_READ_BYTES = 64 * 1024
# No row of a spreadsheet worth importing needs more; a file without line ends (a
# binary file that passed the sample check) must not be read into memory whole.
MAX_LINE_CHARS = 16 * 1024 * 1024
_LINE_END = re.compile(r"\r\n|\r|\n")
_SNIFF_RECORDS = 50
_DELIMITERS = (",", ";", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)
MAX_PART_BYTES = 256 * 1024 * 1024
# A full sheet (1,048,576 rows) of 100 columns at ~60 bytes of XML a cell, with room.
MAX_SHEET_BYTES = 8 * 1024 * 1024 * 1024
# Below this share of NUL bytes at odd (or even) positions, text is not UTF-16.
_UTF16_NUL_SHARE = 0.3
_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r", "\f"}
_CONTROL_SHARE = 0.01
CP1252 = "cp1252"
# What reading a broken workbook raises: a missing part (KeyError), bad XML (ExpatError,
# ParseError), bad values (ValueError, IndexError), a corrupt or encrypted archive.
_DAMAGED = (
    KeyError,
    IndexError,
    ValueError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    zipfile.BadZipFile,
    ExpatError,
    ElementTree.ParseError,
)


@dataclass(frozen=True)
class SheetFormat:
    """How to read a file: CSV with its encoding and delimiter, or XLSX with its sheets
    and the one to read (`sheet` None for a CSV)."""

    kind: str  # CSV | XLSX
    encoding: str | None
    delimiter: str | None
    sheets: tuple[str, ...]
    sheet: str | None


class UnreadableFile(ValidationError):
    """This file cannot be imported."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, errors=[FieldError(message, in_="files", code=code)])
        self.code = code


def detect(path: Path, filename: str, sheet: str | None = None) -> SheetFormat:
    """What kind of spreadsheet the file is and how to read it; UnreadableFile if none.

    `sheet` names the XLSX sheet to read (the first one when None).
    """
    with path.open("rb") as source:
        head = source.read(SAMPLE_BYTES)
    if not head:
        raise UnreadableFile(EMPTY_FILE, f"{filename} is empty.")
    if head.startswith(_ZIP_MAGIC):
        return _workbook_format(path, filename, sheet)
    if head.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            INVALID_FILE_TYPE,
            f"{filename} is an old Excel (.xls) workbook: save it as .xlsx or CSV and upload that.",
        )
    encoding = _encoding(head)
    try:
        text = _decoded_sample(head, encoding)
    except UnicodeDecodeError:  # looked like UTF-16, is not: binary
        text = "\x00"
    if not text.strip("\ufeff \t\r\n"):
        raise UnreadableFile(EMPTY_FILE, f"{filename} is empty.")
    controls = sum(1 for c in text if c in _CONTROL)
    if controls > _CONTROL_SHARE * len(text):
        raise UnreadableFile(
            INVALID_FILE_TYPE,
            f"{filename} is not a spreadsheet: upload a CSV file or an Excel workbook (.xlsx).",
        )
    return SheetFormat(CSV, encoding, _delimiter(text), (), None)


def header(path: Path, fmt: SheetFormat) -> list[str]:
    """The column headers (line 1), trimmed, without empty ones at the end."""
    for line, cells in _records(path, fmt):
        headers = [cell.strip().lstrip("\ufeff") for cell in cells]
        while headers and not headers[-1]:
            headers.pop()
        if line != 1 or not headers:
            break
        return headers
    raise UnreadableFile(
        MISSING_HEADER,
        "The first line must hold the column headers (for example Email, Date, …); it is empty.",
    )


def rows(path: Path, fmt: SheetFormat, start_line: int = 2) -> Iterator[tuple[int, list[str]]]:
    """The data rows from `start_line` on, as (line, cells); blank rows skipped.

    A resumed import passes the line it got to; the lines before it are still read
    (neither format can seek to a row) but not converted to values.
    """
    first = max(start_line, 2)
    for line, cells in _records(path, fmt):
        if line >= first and any(cells) and "".join(cells).strip():
            yield line, cells


def count_rows(path: Path, fmt: SheetFormat, limit: int | None = None) -> int:
    """How many data rows the file holds (blank rows not counted).

    Stops with TOO_MANY_ROWS as soon as there are more than `limit` (MAX_ROWS unless
    given), and with EMPTY_FILE when there are none: an import of nothing is a mistake
    worth saying. Reading the whole file also finds a broken one (bad encoding further
    down, a quote never closed) before any import starts.
    """
    most = MAX_ROWS if limit is None else limit
    header(path, fmt)
    count = 0
    for _ in rows(path, fmt):
        count += 1
        if count > most:
            raise UnreadableFile(
                TOO_MANY_ROWS,
                f"A file may hold at most {most:,} rows; this one has more. Split it into "
                "smaller files.",
            )
    if count == 0:
        raise UnreadableFile(EMPTY_FILE, "The file holds a header but no rows to import.")
    return count


def decimal_comma(fmt: SheetFormat, language: str) -> bool:
    """Whether an import reads numbers with a decimal comma (ImportPlan.decimal_comma).

    Only a CSV in a language that writes one does: an XLSX number cell reaches the rules
    as a plain decimal with a dot whatever the language, and `1.234` from one must stay
    one point two three four rather than be read as German grouping.
    """
    return fmt.kind == CSV and uses_decimal_comma(language)


def preview(path: Path, fmt: SheetFormat, limit: int = 5) -> list[list[str]]:
    """The first `limit` data rows, to show before importing."""
    return [cells for _, cells in islice(rows(path, fmt), limit)]


def write_error_file(
    out: IO[str], headers: Sequence[str], failed: Iterable[tuple[list[str], str]]
) -> None:
    """The rows that failed, as a CSV a person fixes and imports again.

    UTF-8 with a BOM, so that Excel opens accents correctly; the original header plus a
    last `Error` column with the reason; the cells as they were in the file. Rows with
    the wrong number of cells are written as they were, the reason still last.
    """
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([*headers, ERROR_COLUMN])
    for cells, reason in failed:
        writer.writerow([*cells, reason])


# --- CSV ---------------------------------------------------------------------------


def _encoding(head: bytes) -> str:
    """The text encoding, cheapest reliable check first.

    A BOM decides; else UTF-16 shows as NUL bytes in every other position; else the
    sample is valid UTF-8 or it is Windows-1252, which reads every Latin-1 letter the
    same way. charset-normalizer is not consulted: on short French or German samples in
    Windows-1252 it answered cp1250, which turns `è` into `č`.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 2:
        even = sample[0::2].count(0) / (len(sample) / 2)
        odd = sample[1::2].count(0) / (len(sample) / 2)
        if odd > _UTF16_NUL_SHARE and even < _UTF16_NUL_SHARE / 3:
            return "utf-16-le"
        if even > _UTF16_NUL_SHARE and odd < _UTF16_NUL_SHARE / 3:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return CP1252
    return "utf-8"


def _decoded_sample(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors=_errors(encoding))
    return decoder.decode(head, final=len(head) < SAMPLE_BYTES)


def _errors(encoding: str) -> str:
    """Windows-1252 leaves five bytes undefined; a file using them is read, not refused."""
    return "replace" if encoding == CP1252 else "strict"


def _delimiter(text: str) -> str:
    """The separator that splits the first records into the same, widest number of cells.

    Only whole records are looked at (the sample may end mid-record). A file of one
    column has no separator to find and reads as comma-separated.
    """
    complete = text[: text.rfind("\n") + 1] or text
    best: tuple[int, int, int] = (0, 0, 0)
    chosen = ","
    for rank, delimiter in enumerate(_DELIMITERS):
        try:
            records = [
                r for r in islice(csv.reader(complete.splitlines(), delimiter=delimiter), 200) if r
            ][:_SNIFF_RECORDS]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        agreeing = sum(1 for r in records if len(r) == width)
        score = (agreeing, width, -rank)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _records(path: Path, fmt: SheetFormat) -> Iterator[tuple[int, list[str]]]:
    if fmt.kind == XLSX:
        yield from _workbook_records(path, fmt)
    else:
        yield from _csv_records(path, fmt)


def _csv_records(path: Path, fmt: SheetFormat) -> Iterator[tuple[int, list[str]]]:
    encoding = fmt.encoding or "utf-8"
    delimiter = fmt.delimiter or ","
    line = 0
    try:
        with path.open(encoding=encoding, errors=_errors(encoding), newline="") as source:
            # readline with a limit: a file without line ends is not read into memory
            # whole. A longer line arrives in pieces, which _bounded refuses.
            pieces = iter(partial(source.readline, MAX_LINE_CHARS), "")
            for line, cells in enumerate(csv.reader(_bounded(pieces), delimiter=delimiter), 1):
                yield line, cells
    except UnicodeDecodeError:
        raise UnreadableFile(
            INVALID_FILE_TYPE,
            f"Line {_undecodable_line(path, encoding, delimiter)} is not valid {encoding} "
            "text although the lines before it are: save the file again as CSV UTF-8.",
        ) from None
    except csv.Error as error:
        raise UnreadableFile(
            INVALID_FILE_TYPE,
            f"Line {line + 1} cannot be read as CSV ({error}); often a quote that is never closed.",
        ) from None


def _bounded(pieces: Iterator[str]) -> Iterator[str]:
    for piece in pieces:
        if len(piece) == MAX_LINE_CHARS and piece[-1] not in "\r\n":
            raise csv.Error(f"a line is longer than {MAX_LINE_CHARS:,} characters")
        yield piece


def _undecodable_line(path: Path, encoding: str, delimiter: str) -> int:
    """The line that holds the first byte `encoding` cannot read.

    Only when reading failed: a text file decodes 8 KB ahead of the line it returns, so
    the line being read when decoding failed may be lines before the bad byte. This
    second, slower pass decodes one physical line at a time to say exactly where.
    """
    line = 0
    with path.open("rb") as source:
        records = csv.reader(_text_lines(source, encoding), delimiter=delimiter)
        try:
            for _ in records:
                line += 1
        except (UnicodeDecodeError, csv.Error):
            pass
    return line + 1


def _text_lines(source: IO[bytes], encoding: str) -> Iterator[str]:
    """The file's text one physical line at a time, each with its line end; at a byte
    `encoding` cannot read, the lines before it and then the UnicodeDecodeError.

    Line ends are `\r\n`, `\n` or a lone `\r` (old Mac exports), as the csv module
    expects them. About three times slower than a text file, hence only for errors.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors=_errors(encoding))
    pending = ""
    while True:
        raw = source.read(_READ_BYTES)
        try:
            text = pending + decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            good = bytes(error.object[: error.start]).decode(error.encoding)
            lines, _ = _split_lines(pending + good, more=False)
            yield from lines
            raise
        lines, pending = _split_lines(text, more=bool(raw))
        yield from lines
        if not raw:
            if pending:
                yield pending
            return
        if len(pending) > MAX_LINE_CHARS:
            raise csv.Error(f"a line is longer than {MAX_LINE_CHARS:,} characters")


def _split_lines(text: str, *, more: bool) -> tuple[list[str], str]:
    """Whole lines of `text` and what follows the last line end; a `\r` at the very
    end stays behind when `more` text follows, since its `\n` may come next."""
    lines: list[str] = []
    start = 0
    for match in _LINE_END.finditer(text):
        if more and match.end() == len(text) and match.group() == "\r":
            break
        lines.append(text[start : match.end()])
        start = match.end()
    return lines, text[start:]


# --- XLSX --------------------------------------------------------------------------


def _workbook_format(path: Path, filename: str, sheet: str | None) -> SheetFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except _DAMAGED:
        parts = []
    is_workbook = any(part.filename == workbooks.WORKBOOK_PART for part in parts)
    if not is_workbook:
        raise UnreadableFile(
            INVALID_FILE_TYPE,
            f"{filename} is a ZIP archive, not an Excel workbook: upload a CSV file or an "
            ".xlsx workbook.",
        )
    # Every part but the sheets is read whole (shared strings, styles): one that inflates
    # past MAX_PART_BYTES is refused before anything reads it. Sheets are streamed, but a
    # zip bomb of one would still keep a worker parsing for hours. zipfile stops reading
    # a part at the size the archive declares, so the declared sizes are the bound.
    if any(
        part.file_size
        > (MAX_SHEET_BYTES if part.filename.startswith(workbooks.SHEETS_FOLDER) else MAX_PART_BYTES)
        for part in parts
    ):
        raise UnreadableFile(
            INVALID_FILE_TYPE,
            f"{filename} holds more text than a workbook can be imported with; save it as "
            "CSV and upload that.",
        )
    sheets = _sheet_names(path, filename)
    if not sheets:
        raise UnreadableFile(EMPTY_FILE, f"{filename} holds no worksheet.")
    if sheet is not None and sheet not in sheets:
        raise UnreadableFile(
            SHEET_NOT_FOUND,
            f"{filename} has no sheet named {sheet!r}; it has " + ", ".join(sheets) + ".",
        )
    return SheetFormat(XLSX, None, None, sheets, sheet if sheet is not None else sheets[0])


def _sheet_names(path: Path, filename: str) -> tuple[str, ...]:
    try:
        with zipfile.ZipFile(path) as archive:
            return tuple(workbooks.sheet_parts(archive))
    except _DAMAGED as error:
        raise UnreadableFile(
            INVALID_FILE_TYPE, f"{filename} is a damaged Excel workbook ({error})."
        ) from None


def _workbook_records(path: Path, fmt: SheetFormat) -> Iterator[tuple[int, list[str]]]:
    """Rows of the chosen sheet, padded to the header's width.

    Excel writes no cell for an empty one, so a row's trailing empty cells are simply
    absent; padding gives every row the header's width, as a CSV export would.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = workbooks.Workbook(archive)
            try:
                width = 0
                for line, cells in workbook.rows(fmt.sheet):
                    if line == 1:
                        while cells and not cells[-1].strip():
                            cells.pop()
                        width = len(cells)
                    elif len(cells) < width:
                        cells.extend([""] * (width - len(cells)))
                    yield line, cells
            finally:
                workbook.close()
    except _DAMAGED as error:
        raise UnreadableFile(
            INVALID_FILE_TYPE, f"This Excel workbook is damaged ({error})."
        ) from None
