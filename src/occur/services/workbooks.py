"""Reading XLSX workbooks straight from their XML parts, the sheet as a stream.

An import needs little of a workbook: sheet names, the shared strings, which cell styles
are dates, and each cell's value as text (a formula's value as Excel last computed it,
as a person sees it). openpyxl reads all that too, and streams in its read-only mode,
but took 15-17 s for a 100,000-row, 8-column sheet where this module took 5-7 s in the
same run (python-calamine: 0.9-1.0 s, with the whole sheet in memory; figures in
services/spreadsheets.py). The sheet goes through expat in blocks, so memory holds one
block's rows; the shared strings are held whole, as every reader holds them.

Errors surface as what the parsers raise (KeyError, IndexError, ValueError, ExpatError,
zipfile.BadZipFile); services/spreadsheets.py turns them into UnreadableFile.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Generator, Iterator
from datetime import date, datetime, time, timedelta
from functools import cache
from xml.etree import ElementTree
from xml.parsers.expat import ParserCreate

from occur.domain.numbers import plain_decimal

WORKBOOK_PART = "xl/workbook.xml"
SHEETS_FOLDER = "xl/worksheets/"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_DATE1904 = re.compile(rb"date1904=[\"'](?:1|true)[\"']")
_MAX_COLUMNS = 16_384
_NOT_VALUE_TEXT = frozenset(("f", "rPh"))
# Number formats Excel defines without writing them: dates, times, both (ECMA-376 18.8.30
# and the East Asian ones).
_BUILTIN_DATE_FORMATS = frozenset((*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)))
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
_DATE_CODES = re.compile(r"[dmyhs]", re.IGNORECASE)
_WHOLE = re.compile(r"[+-]?[0-9]+")
_DIGITS = "0123456789"
_MS_PER_DAY = 86_400_000
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_READ_BYTES = 64 * 1024


def sheet_parts(archive: zipfile.ZipFile, related: dict[str, str] | None = None) -> dict[str, str]:
    """Worksheet name → its part in the archive, in the workbook's order."""
    targets = _relationships(archive, by_id=True) if related is None else related
    found: dict[str, str] = {}
    for element in _elements(archive, WORKBOOK_PART):
        if _local(element.tag) == "sheet":
            rel = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            part = targets.get(rel, "")
            if part.startswith(SHEETS_FOLDER):  # chart sheets hold no cells
                found[element.get("name", "")] = part
    return found


class Workbook:
    """One open workbook: its sheets, shared strings and date styles, read once;
    `rows` then streams one sheet (expat's per-cell callbacks are most of its time)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        related = _relationships(archive)
        self.parts = sheet_parts(archive, related)
        self.date1904 = _DATE1904.search(archive.read(WORKBOOK_PART)) is not None
        self.strings = SharedStrings(archive, related.get("sharedStrings"))
        self.date_styles = self._date_styles(related.get("styles"))

    def _date_styles(self, part: str | None) -> frozenset[int]:
        """Indexes of the cell styles whose number format shows a date or a time."""
        if part is None or part not in self.archive.namelist():
            return frozenset()
        formats: dict[int, str] = {}
        styles: list[int] = []
        for element in _elements(self.archive, part):
            tag = _local(element.tag)
            if tag == "numFmt":
                formats[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
            elif tag == "cellXfs":
                styles = [int(xf.get("numFmtId", "0")) for xf in element]
        return frozenset(
            index
            for index, format_id in enumerate(styles)
            if format_id in _BUILTIN_DATE_FORMATS
            or (format_id in formats and is_date_format(formats[format_id]))
        )

    def close(self) -> None:
        self.strings.close()

    def rows(self, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
        """(row number, cell texts) of each row the sheet holds, streamed: the XML is
        fed to the parser in blocks, and the rows each block completes are handed on."""
        part = self.parts[sheet] if sheet is not None else next(iter(self.parts.values()))
        reader = _SheetReader(self)
        with self.archive.open(part) as source:
            while block := source.read(_READ_BYTES):
                reader.parser.Parse(block, False)
                yield from reader.take()
            reader.parser.Parse(b"", True)
            yield from reader.take()

    def value(self, kind: str | None, style: int, raw: str) -> str:
        """A cell's text from its type attribute, style and raw `<v>` (or inline) text."""
        if kind is None or kind == "n":
            if not raw:
                return ""
            if style in self.date_styles:
                return _serial_text(raw, self.date1904)
            if _WHOLE.fullmatch(raw):
                return raw.lstrip("+")
            return cell_text(float(raw))
        if kind == "s":
            return self.strings[int(raw)] if raw else ""
        if kind == "b":
            return "true" if raw.strip() in ("1", "true") else "false" if raw else ""
        return raw  # inlineStr, str (a formula's text), e (#N/A …), d (ISO-8601 already)


class SharedStrings:
    """The workbook's shared strings, parsed only as far as a cell has asked for.

    Reading a header or a preview needs the first few strings of what may be millions
    (spreadsheet writers number strings in the order they first occur); an import's pass
    over the sheet ends up holding them all, as every XLSX reader must.
    """

    def __init__(self, archive: zipfile.ZipFile, part: str | None) -> None:
        self.loaded: list[str] = []
        present = part is not None and part in archive.namelist()
        self._pending: Generator[str, None, None] | None = None
        if part is not None and present:
            self._pending = self._parse(archive, part)

    def __getitem__(self, index: int) -> str:
        if index < 0:  # not Python's count from the end
            raise IndexError(f"shared string {index} does not exist")
        while index >= len(self.loaded) and self._pending is not None:
            try:
                self.loaded.append(next(self._pending))
            except StopIteration:
                self._pending = None
        return self.loaded[index]  # IndexError: a cell names a string there is not

    def close(self) -> None:
        """Stop parsing: closes the part, which otherwise stays open until collected."""
        if self._pending is not None:
            self._pending.close()
            self._pending = None

    @staticmethod
    def _parse(archive: zipfile.ZipFile, part: str) -> Generator[str, None, None]:
        root: ElementTree.Element | None = None
        with archive.open(part) as source:
            for event, element in ElementTree.iterparse(source, events=("start", "end")):
                if root is None:
                    root = element
                elif event == "end" and _local(element.tag) == "si":
                    yield _rich_text(element)
                    root.clear()  # keep the strings, not a tree of a million elements


class _SheetReader:
    """expat handlers that turn a sheet's XML into rows (one parser per read)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        # No namespace processing: sheets use one namespace, some writers with a prefix
        # (`x:c`), and resolving names cost a fifth of the reading time.
        self.parser = ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.done: list[tuple[int, list[str]]] = []
        self.line = 0
        self.cells: list[str] = []
        self.column = 0
        self.kind: str | None = None
        self.style = 0
        self.chars: list[str] | None = None  # collecting a value's text when not None
        self.skipping = 0  # inside a formula or a pronunciation hint: not the value

    def take(self) -> list[tuple[int, list[str]]]:
        done, self.done = self.done, []
        return done

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name if ":" not in name else name.rpartition(":")[2]
        if local == "c":
            ref = attributes.get("r")
            self.column = _column_index(ref.rstrip(_DIGITS)) if ref else len(self.cells)
            self.kind = attributes.get("t")
            self.style = int(attributes.get("s", "0"))
            self.chars = []
        elif local == "row":
            number = attributes.get("r")
            self.line = int(number) if number else self.line + 1
            self.cells = []
        elif local in ("v", "is") and self.chars is not None:
            self.chars = []  # only the value's own text (not a formula's) is kept
        elif local in _NOT_VALUE_TEXT:
            self.skipping += 1

    def end(self, name: str) -> None:
        local = name if ":" not in name else name.rpartition(":")[2]
        if local == "c":
            raw = "".join(self.chars or ())
            if self.column >= len(self.cells):
                self.cells.extend([""] * (self.column - len(self.cells) + 1))
            self.cells[self.column] = self.workbook.value(self.kind, self.style, raw)
            self.chars = None
        elif local == "row":
            self.done.append((self.line, self.cells))
        elif local in _NOT_VALUE_TEXT:
            self.skipping -= 1

    def text(self, data: str) -> None:
        if self.chars is not None and not self.skipping:
            self.chars.append(data)


def _relationships(archive: zipfile.ZipFile, *, by_id: bool = False) -> dict[str, str]:
    """The workbook's related parts: by relationship id, or by the last word of their
    type (`worksheet`, `sharedStrings`, `styles`; the first of each), as archive paths."""
    found: dict[str, str] = {}
    for element in _elements(archive, _WORKBOOK_RELS):
        if _local(element.tag) != "Relationship":
            continue
        target = element.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        key = element.get("Id", "") if by_id else element.get("Type", "").rpartition("/")[2]
        found.setdefault(key, part)
        if not by_id:
            found.setdefault(element.get("Id", ""), part)
    return found


def _elements(archive: zipfile.ZipFile, part: str) -> Iterator[ElementTree.Element]:
    """Every element of a small part (workbook, relationships, styles)."""
    root = ElementTree.fromstring(archive.read(part))
    yield from root.iter()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _rich_text(item: ElementTree.Element) -> str:
    """A shared string: its `t` texts, rich-text runs joined, phonetic hints left out."""
    parts: list[str] = []
    for child in item:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


@cache
def _column_index(letters: str) -> int:
    """0-based column of a cell reference's letters: A → 0, AB → 27; ValueError past
    XFD, Excel's last column, so that a forged reference cannot make a huge row."""
    index = 0
    for char in letters:
        if not "A" <= char <= "Z":
            raise ValueError(f"{letters!r} is not a column")
        index = index * 26 + ord(char) - 64
    if not 1 <= index <= _MAX_COLUMNS:
        raise ValueError(f"column {letters!r} is past the last one a sheet has")
    return index - 1


def is_date_format(code: str) -> bool:
    """Whether a number format shows a date or time: after removing quoted text,
    escaped characters and bracketed colours or conditions, it holds d, m, y, h or s."""
    plain = _FORMAT_NOISE.sub("", code.split(";")[0])
    return _DATE_CODES.search(plain) is not None


def _serial_text(raw: str, date1904: bool) -> str:
    """An Excel date serial as ISO-8601 text, rounded to the millisecond as Excel
    shows it. Serials below 1 are times of day; the 1900 system counts a 29 February
    1900 that never was, so its first two months are a day off (Excel's own bug). A
    serial no calendar holds stays the number it is."""
    serial = float(raw)
    days = int(serial // 1) if math.isfinite(serial) else 0
    ms = round((serial - days) * _MS_PER_DAY) if math.isfinite(serial) else 0
    try:
        if not date1904 and 0 <= serial < 1:
            return cell_text((datetime.min + timedelta(milliseconds=ms)).time())
        if not date1904 and 0 < serial < 60:
            days += 1
        epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
        return cell_text(epoch + timedelta(days=days, milliseconds=ms))
    except OverflowError:
        return cell_text(serial)


def cell_text(value: object) -> str:
    """An XLSX cell's value as the text the import rules read.

    Whole numbers without `.0`, other numbers in their shortest plain form, dates and
    date-times as ISO-8601 (midnight as a date alone, so a date column reads as dates),
    booleans as true/false, an empty cell as "".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            return plain_decimal(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
