"""Reading real files written to tmp_path: CSV encodings and delimiters, XLSX sheets and
cell types, refusals with their codes, row counts and the error file."""

from __future__ import annotations

import codecs
import csv
import io
import random
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from occur.services import spreadsheets, workbooks
from occur.services.spreadsheets import (
    CSV,
    EMPTY_FILE,
    INVALID_FILE_TYPE,
    MISSING_HEADER,
    SHEET_NOT_FOUND,
    TOO_MANY_ROWS,
    XLSX,
    SheetFormat,
    UnreadableFile,
    count_rows,
    detect,
    header,
    preview,
    rows,
    write_error_file,
)
from occur.services.workbooks import cell_text

TABLE = [
    ["Email", "Prénom", "Société", "Montant"],
    ["emilie@example.fr", "Émilie", "Crème brûlée SA", "1 234,5"],
    ["helene@example.fr", "Hélène", "Ça va, SARL", "€ 5"],
]


def write_csv(path: Path, table: list[list[str]], *, encoding: str, delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(table)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def read_all(path: Path, fmt: SheetFormat) -> tuple[list[str], list[tuple[int, list[str]]]]:
    return header(path, fmt), list(rows(path, fmt))


def refusal(code: str, call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(UnreadableFile) as caught:
        call(*args)
    assert caught.value.code == code
    assert caught.value.status == 400
    assert caught.value.errors[0].code == code and caught.value.errors[0].in_ == "files"
    return caught.value.message


# --- CSV encodings and delimiters ----------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # with its BOM
        ("utf-16-le", "utf-16-le"),  # without one
        ("utf-16-be", "utf-16-be"),
        ("cp1252", "cp1252"),
        ("latin-1", "cp1252"),  # the same letters
    ],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    # Latin-1 has no euro sign
    table = TABLE if encoding != "latin-1" else [[c.replace("€", "EUR") for c in r] for r in TABLE]
    path = write_csv(tmp_path / "people.csv", table, encoding=encoding)
    fmt = detect(path, "people.csv")
    assert fmt == SheetFormat(CSV, detected, ",", (), None)
    assert read_all(path, fmt) == (table[0], [(2, table[1]), (3, table[2])])


def test_windows_1252_punctuation_reads_right(tmp_path: Path) -> None:
    note = "\u201cquoted\u201d \u2013 it\u2019s \u20ac5\u2026"  # curly quotes, dash, euro
    path = write_csv(tmp_path / "n.csv", [["Note"], [note]], encoding="cp1252")
    assert list(rows(path, detect(path, "n.csv"))) == [(2, [note])]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "d.csv", TABLE, encoding="utf-8", delimiter=delimiter)
    fmt = detect(path, "d.csv")
    assert fmt.delimiter == delimiter
    assert read_all(path, fmt) == (TABLE[0], [(2, TABLE[1]), (3, TABLE[2])])


def test_a_semicolon_file_with_decimal_commas_is_not_comma_separated(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text("Datum;Betrag;Notiz\n05.03.2024;1,5;a\n06.03.2024;2,25;b\n", "utf-8")
    assert detect(path, "de.csv").delimiter == ";"


def test_a_single_column_file_reads_as_one_column(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("Email\na@example.com\nb@example.com\n", "utf-8")
    fmt = detect(path, "one.csv")
    assert read_all(path, fmt) == (["Email"], [(2, ["a@example.com"]), (3, ["b@example.com"])])


def test_quoted_cells_with_newlines_are_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        'Email,Note\r\na@example.com,"first\r\nsecond, with comma"\r\n'
        'b@example.com,"say ""hi"""\r\nc@example.com,plain\r\n',
        "utf-8",
    )
    fmt = detect(path, "q.csv")
    assert list(rows(path, fmt)) == [
        (2, ["a@example.com", "first\r\nsecond, with comma"]),
        (3, ["b@example.com", 'say "hi"']),
        (4, ["c@example.com", "plain"]),
    ]


def test_blank_rows_are_skipped_but_keep_their_line(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("Email,Name\n\na@example.com,A\n,\n  , \nb@example.com,B\n\n", "utf-8")
    fmt = detect(path, "b.csv")
    assert list(rows(path, fmt)) == [(3, ["a@example.com", "A"]), (6, ["b@example.com", "B"])]
    assert count_rows(path, fmt) == 2


def test_header_cells_are_trimmed_and_trailing_empty_ones_dropped(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("\ufeff Email , Name,,\na,b,,\n", "utf-8")
    assert header(path, detect(path, "h.csv")) == ["Email", "Name"]


def test_rows_resume_from_a_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["n"], *[[str(i)] for i in range(10)]], encoding="utf-8")
    fmt = detect(path, "r.csv")
    assert [line for line, _ in rows(path, fmt, start_line=8)] == [8, 9, 10, 11]
    assert next(rows(path, fmt, start_line=1))[0] == 2  # never the header


def test_preview_shows_the_first_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["n"], *[[str(i)] for i in range(10)]], encoding="utf-8")
    fmt = detect(path, "p.csv")
    assert preview(path, fmt) == [["0"], ["1"], ["2"], ["3"], ["4"]]
    assert preview(path, fmt, limit=2) == [["0"], ["1"]]


def test_the_kind_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "looks.xlsx", TABLE, encoding="utf-8")
    assert detect(path, "looks.xlsx").kind == CSV
    workbook_path = tmp_path / "looks.csv"
    workbook = Workbook()
    workbook.active.append(["Email"])
    workbook.save(workbook_path)
    assert detect(workbook_path, "looks.csv").kind == XLSX


# --- XLSX ----------------------------------------------------------------------------


def write_workbook(path: Path) -> Path:
    workbook = Workbook()
    events = workbook.active
    events.title = "Events"
    events.append(["Email", "When", "Day", "Count", "Ratio", "Big", "Flag", "Note", "Clock"])
    events.append(
        ["a@example.com", datetime(2024, 3, 5, 14, 30), date(2024, 3, 5), 3, 2.5, 1e20, True,
         "x", time(9, 15)]
    )  # fmt: skip
    events.append(["b@example.com", datetime(2024, 3, 5, 14, 30, 15, 250_000), None, 3.0, -0.1])
    events.append([])  # an empty row
    events.append([None, None, None, None, None, None, False, "only", None])
    other = workbook.create_sheet("Other")
    other.append(["Record ID", "Date"])
    other.append([123, "2024-01-01"])
    workbook.save(path)
    return path


def test_xlsx_cells_read_as_text(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "w.xlsx")
    fmt = detect(path, "w.xlsx")
    assert fmt == SheetFormat(XLSX, None, None, ("Events", "Other"), "Events")
    head, found = read_all(path, fmt)
    assert head == ["Email", "When", "Day", "Count", "Ratio", "Big", "Flag", "Note", "Clock"]
    assert found == [
        (2, ["a@example.com", "2024-03-05T14:30:00", "2024-03-05", "3", "2.5",
             "100000000000000000000", "true", "x", "09:15:00"]),
        # short rows are padded to the header's width
        (3, ["b@example.com", "2024-03-05T14:30:15.250", "", "3", "-0.1", "", "", "", ""]),
        (5, ["", "", "", "", "", "", "false", "only", ""]),
    ]  # fmt: skip
    assert count_rows(path, fmt) == 3
    assert preview(path, fmt, limit=1) == [found[0][1]]


def test_a_named_sheet_is_read(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "w.xlsx")
    fmt = detect(path, "w.xlsx", sheet="Other")
    assert fmt.sheet == "Other"
    assert read_all(path, fmt) == (["Record ID", "Date"], [(2, ["123", "2024-01-01"])])


def test_an_unknown_sheet_is_refused(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "w.xlsx")
    message = refusal(SHEET_NOT_FOUND, detect, path, "w.xlsx", "Nope")
    assert "'Nope'" in message and "Events, Other" in message


def test_an_xlsx_sheet_with_blank_first_row_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    workbook = Workbook()
    workbook.active["A2"] = "Email"
    workbook.save(path)
    refusal(MISSING_HEADER, header, path, detect(path, "blank.xlsx"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (3.0, "3"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1.5e-7, "0.00000015"),
        (datetime(2024, 3, 5), "2024-03-05"),
        (datetime(2024, 3, 5, 0, 0, 1), "2024-03-05T00:00:01"),
        (date(1999, 12, 31), "1999-12-31"),
        (time(23, 59, 59), "23:59:59"),
        ("  kept as is ", "  kept as is "),
        ("#N/A", "#N/A"),
        (float("nan"), "nan"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


# --- refusals ------------------------------------------------------------------------


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    refusal(EMPTY_FILE, detect, path, "empty.csv")
    path.write_bytes(codecs.BOM_UTF8 + b"\r\n\n  \n")
    refusal(EMPTY_FILE, detect, path, "empty.csv")


def test_a_header_without_rows_counts_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("Email,Date\n\n", "utf-8")
    fmt = detect(path, "h.csv")
    assert header(path, fmt) == ["Email", "Date"]
    assert list(rows(path, fmt)) == []
    assert preview(path, fmt) == []
    refusal(EMPTY_FILE, count_rows, path, fmt)


def test_a_blank_first_line_is_a_missing_header(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("\nEmail,Date\na,b\n", "utf-8")
    refusal(MISSING_HEADER, header, path, detect(path, "m.csv"))
    path.write_text(",,\na,b,c\n", "utf-8")
    refusal(MISSING_HEADER, count_rows, path, detect(path, "m.csv"))


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + bytes(
    200
)


def zip_bytes(tmp_path: Path, members: dict[str, str]) -> Path:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_files_that_are_no_spreadsheet_are_refused(tmp_path: Path) -> None:
    png = tmp_path / "photo.csv"
    png.write_bytes(PNG)
    assert "photo.csv is not a spreadsheet" in refusal(INVALID_FILE_TYPE, detect, png, "photo.csv")
    archive = zip_bytes(tmp_path, {"readme.txt": "hello"})
    assert "ZIP archive" in refusal(INVALID_FILE_TYPE, detect, archive, "archive.xlsx")
    damaged = zip_bytes(tmp_path, {"xl/workbook.xml": "<not xml"})
    refusal(INVALID_FILE_TYPE, detect, damaged, "archive.xlsx")
    truncated = tmp_path / "cut.xlsx"
    write_workbook(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    refusal(INVALID_FILE_TYPE, detect, truncated, "cut.xlsx")
    half_text = tmp_path / "surrogates.csv"  # NULs like UTF-16, but no valid UTF-16
    half_text.write_bytes((b"A\x00" * 10 + b"\x01\xdc") * 20)  # a lone low surrogate
    refusal(INVALID_FILE_TYPE, detect, half_text, "surrogates.csv")
    xls = tmp_path / "old.xls"
    xls.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600))
    assert ".xls" in refusal(INVALID_FILE_TYPE, detect, xls, "old.xls")


def test_a_bad_byte_far_down_a_utf8_file_is_found_by_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheets, "SAMPLE_BYTES", 64)
    path = tmp_path / "mixed.csv"
    path.write_bytes(("Email,Name\n" + "a@example.com,Zoë\n" * 20).encode() + b"b,Caf\xe9\n")
    fmt = detect(path, "mixed.csv")
    assert fmt.encoding == "utf-8"
    assert "Line 22" in refusal(INVALID_FILE_TYPE, count_rows, path, fmt)


def test_a_quote_never_closed_is_found_by_the_count(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('Email,Note\na,"open\n' + "x" * 200_000 + "\n", "utf-8")
    refusal(INVALID_FILE_TYPE, count_rows, path, detect(path, "q.csv"))


# --- counting ------------------------------------------------------------------------


def test_too_many_rows_by_parameter_or_constant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "n.csv", [["n"], *[[str(i)] for i in range(10)]], encoding="utf-8")
    fmt = detect(path, "n.csv")
    assert count_rows(path, fmt) == 10
    assert count_rows(path, fmt, limit=10) == 10
    assert "at most 9 rows" in refusal(TOO_MANY_ROWS, count_rows, path, fmt, 9)
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 5)
    refusal(TOO_MANY_ROWS, count_rows, path, fmt)


def test_too_many_xlsx_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_workbook(tmp_path / "w.xlsx")
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 2)
    refusal(TOO_MANY_ROWS, count_rows, path, detect(path, "w.xlsx"))


# --- the error file ------------------------------------------------------------------


def test_the_error_file_is_utf8_with_bom_and_an_error_column(tmp_path: Path) -> None:
    out = tmp_path / "errors.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        write_error_file(
            handle,
            ["Email", "Note"],
            [
                (["bad", "Crème, brûlée"], "'bad' is not an email address."),
                (["a@b.co", "line1\nline2", "extra"], "This row has 3 columns; the header has 2."),
            ],
        )
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    # it reads back as a spreadsheet like any other
    fmt = detect(out, "errors.csv")
    assert fmt.encoding == "utf-8-sig"
    assert header(out, fmt) == ["Email", "Note", "Error"]
    assert list(rows(out, fmt)) == [
        (2, ["bad", "Crème, brûlée", "'bad' is not an email address."]),
        (3, ["a@b.co", "line1\nline2", "extra", "This row has 3 columns; the header has 2."]),
    ]


def test_an_error_file_with_no_failures_is_only_the_header() -> None:
    out = io.StringIO()
    write_error_file(out, ["A"], [])
    assert out.getvalue() == "\ufeffA,Error\r\n"


# --- line ends, long lines, where a bad byte is ---------------------------------------


@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
def test_every_line_end_reads(tmp_path: Path, line_end: str) -> None:
    path = tmp_path / "ends.csv"
    path.write_text(line_end.join(["Email,Note", 'a@b.co,"x' + line_end + 'y"', "c@d.co,z"]))
    fmt = detect(path, "ends.csv")
    assert read_all(path, fmt) == (
        ["Email", "Note"],
        [(2, ["a@b.co", f"x{line_end}y"]), (3, ["c@d.co", "z"])],
    )


def test_a_line_longer_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_LINE_CHARS", 100)
    path = tmp_path / "long.csv"
    path.write_text("Email,Note\na@b.co," + "x" * 300 + "\n", "utf-8")
    fmt = detect(path, "long.csv")
    assert "longer than 100" in refusal(INVALID_FILE_TYPE, count_rows, path, fmt)


@pytest.mark.parametrize("read_bytes", [3, 7, 64 * 1024])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "cp1252"])
def test_the_bad_line_is_named_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int, encoding: str
) -> None:
    """The line named is the record that holds the bad bytes, counted as a spreadsheet
    counts (a quoted cell over two physical lines is one), however the file is read."""
    monkeypatch.setattr(spreadsheets, "SAMPLE_BYTES", 256)
    monkeypatch.setattr(spreadsheets, "_READ_BYTES", read_bytes)
    good = "Email,Note\r\n" + 'a@example.com,"two\r\nlines"\r\n' + "b@example.com,Zoë\r\n" * 30
    bad = {"utf-8": b"\xff\xfe\xfd", "utf-16-le": b"\x00\xdc", "cp1252": None}[encoding]
    if bad is None:  # Windows-1252 reads every byte: the file is read whole
        path = tmp_path / "fine.csv"
        path.write_bytes(good.encode(encoding) + b"c,\x81\r\n")
        assert count_rows(path, detect(path, "fine.csv")) == 32
        return
    path = tmp_path / "bad.csv"
    path.write_bytes(good.encode(encoding) + bad + "\r\nc,d\r\n".encode(encoding))
    fmt = detect(path, "bad.csv")
    assert fmt.encoding == encoding
    assert "Line 33 " in refusal(INVALID_FILE_TYPE, count_rows, path, fmt)


def test_a_part_that_inflates_too_far_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_workbook(tmp_path / "w.xlsx")
    monkeypatch.setattr(spreadsheets, "MAX_PART_BYTES", 100)  # styles, theme, strings: larger
    refusal(INVALID_FILE_TYPE, detect, path, "w.xlsx")
    monkeypatch.setattr(spreadsheets, "MAX_PART_BYTES", 10_000_000)
    assert detect(path, "w.xlsx").kind == XLSX
    monkeypatch.setattr(spreadsheets, "MAX_SHEET_BYTES", 100)  # the sheets are larger
    refusal(INVALID_FILE_TYPE, detect, path, "w.xlsx")


@pytest.mark.parametrize(
    ("kind", "language", "expected"),
    [(CSV, "de", True), (CSV, "fr", True), (CSV, "en", False), (XLSX, "de", False)],
)
def test_only_a_csv_in_a_decimal_comma_language_reads_decimal_commas(
    kind: str, language: str, expected: bool
) -> None:
    fmt = SheetFormat(kind, None, None, (), None)
    assert spreadsheets.decimal_comma(fmt, language) is expected


# --- the XLSX reader against openpyxl, and workbooks other tools write ----------------


def openpyxl_rows(path: Path, sheet: str) -> list[tuple[int, list[str]]]:
    """What openpyxl reads from the sheet, as cell_text renders it: the oracle."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet]
        worksheet.reset_dimensions()
        found = []
        for line, values in enumerate(worksheet.iter_rows(values_only=True), 1):
            cells = [cell_text(value) for value in values]
            if any(c.strip() for c in cells) and line > 1:
                found.append((line, cells))
        return found
    finally:
        workbook.close()


def test_the_reader_agrees_with_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    values: list[object] = [
        "plain", "  spaced  ", "<tag> & \"quotes\" 'apos'", "line1\nline2", "Zoë ✓ 日本",
        0, -7, 2**40, 1.5, -0.25, 1e-9, 123456789.123, 1 / 3,
        True, False,
        datetime(2024, 2, 29, 23, 59, 59), datetime(1999, 12, 31), date(2000, 1, 1),
        datetime(2024, 3, 5, 14, 30, 15, 123_000), time(6, 7, 8), datetime(1900, 1, 1),
        datetime(1900, 3, 1, 12),
    ]  # fmt: skip
    sheet.append([f"h{i}" for i in range(len(values))])
    for shift in range(len(values)):
        sheet.append(values[shift:] + values[:shift])
    sheet.append([])
    sheet.append([None, None, "after a gap"])
    sheet.cell(row=40, column=30, value="far away")
    workbook.save(path)
    fmt = detect(path, "many.xlsx")
    width = len(values)
    expected = [
        (line, cells + [""] * (width - len(cells))) for line, cells in openpyxl_rows(path, "Data")
    ]
    assert list(rows(path, fmt)) == expected
    assert expected[-1][0] == 40 and expected[-1][1][29] == "far away"


def write_xlsx(
    path: Path,
    sheet: str,
    *,
    strings: str | None = None,
    styles: str | None = None,
    workbook: str | None = None,
) -> Path:
    """A workbook as other tools write it, part by part (only what a reader needs)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="strings.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}/styles" Target="/xl/styles.xml"/>'
        "</Relationships>"
    )
    book = workbook or (
        f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Only" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            archive.writestr("xl/strings.xml", strings)
        if styles is not None:
            archive.writestr("xl/styles.xml", styles)
    return path


STYLES = """<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts>
  <numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/>
  <numFmt numFmtId="165" formatCode="&quot;Day &quot;0"/>
  <numFmt numFmtId="166" formatCode="[Red]0.00;[Blue]-0.00"/>
  <numFmt numFmtId="167" formatCode="[h]:mm:ss"/>
  <numFmt numFmtId="168" formatCode="0.00%"/>
</numFmts>
<cellXfs>
  <xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/>
  <xf numFmtId="166"/><xf numFmtId="167"/><xf numFmtId="168"/><xf numFmtId="22"/>
</cellXfs></styleSheet>"""


def test_workbooks_other_tools_write(tmp_path: Path) -> None:
    strings = """<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
      <si><t>Email</t></si>
      <si><t xml:space="preserve"> Date </t></si>
      <si><r><rPr><b/></rPr><t>Ri</t></r><r><t>ch</t></r><rPh><t>phonetic</t></rPh></si>
      <si><t>a&amp;b@example.com</t></si>
    </sst>"""
    sheet = """<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
    <x:sheetData>
      <x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c>
        <x:c r="C1" t="inlineStr"><x:is><x:r><x:t>No</x:t></x:r><x:r><x:t>te</x:t></x:r>
        </x:is></x:c></x:row>
      <x:row><x:c t="s"><x:v>3</x:v></x:c><x:c s="1"><x:v>45356</x:v></x:c>
        <x:c t="s"><x:v>2</x:v></x:c></x:row>
      <x:row r="5"><x:c r="A5" t="str"><x:f>LOWER("X")</x:f><x:v>x</x:v></x:c>
        <x:c r="B5" s="2"><x:v>45356.6041666667</x:v></x:c><x:c r="C5" t="e"><x:v>#N/A</x:v></x:c>
      </x:row>
      <x:row r="6"><x:c r="A6" s="3"><x:v>12</x:v></x:c><x:c r="B6" s="7"><x:v>1</x:v></x:c>
        <x:c r="C6" s="4"><x:v>-1.5</x:v></x:c></x:row>
      <x:row r="7"><x:c r="A7" s="5"><x:v>0.5</x:v></x:c><x:c r="B7" t="d">
        <x:v>2024-03-05T14:30:00</x:v></x:c><x:c r="C7" s="6"><x:v>0.125</x:v></x:c></x:row>
      <x:row r="8"><x:c r="A8" t="b"><x:v>0</x:v></x:c><x:c r="B8" t="s"/>
        <x:c r="C8" t="str"><x:f>NOW()</x:f></x:c></x:row>
      <x:row r="9" spans="1:3"/>
    </x:sheetData></x:worksheet>"""
    path = write_xlsx(tmp_path / "other.xlsx", sheet, strings=strings, styles=STYLES)
    fmt = detect(path, "other.xlsx")
    assert fmt.sheets == ("Only",)
    assert read_all(path, fmt) == (
        ["Email", "Date", "Note"],
        [
            (2, ["a&b@example.com", "2024-03-05", "Rich"]),
            (5, ["x", "2024-03-05T14:30:00", "#N/A"]),
            (6, ["12", "1900-01-01", "-1.5"]),  # "Day "0 and [Red]0.00 are no dates
            (7, ["12:00:00", "2024-03-05T14:30:00", "0.125"]),  # [h]:mm is a time
            (8, ["false", "", ""]),
        ],
    )


def test_a_1904_workbook_counts_from_1904(tmp_path: Path) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    book = (
        f'<workbook xmlns="{main}" xmlns:r="{rel}"><workbookPr date1904="1"/><sheets>'
        '<sheet name="Mac" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = (
        f'<worksheet xmlns="{main}"><sheetData><row r="1"><c t="inlineStr"><is><t>When</t>'
        '</is></c></row><row r="2"><c s="1"><v>43894</v></c></row></sheetData></worksheet>'
    )
    path = write_xlsx(tmp_path / "mac.xlsx", sheet, styles=STYLES, workbook=book)
    assert list(rows(path, detect(path, "mac.xlsx"))) == [(2, ["2024-03-05"])]


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="ZZZZZZ2"><v>1</v></c>',  # past column XFD: would make a huge row
        '<c r="A2" t="s"><v>99</v></c>',  # no such shared string
        '<c r="A2" t="s"><v>-1</v></c>',  # nor this one (not the last one)
        '<c r="A2"><v>one</v></c>',  # a number that is none
        '<c r="A2"><v>1</v>',  # broken XML
    ],
)
def test_a_damaged_sheet_is_refused_when_read(tmp_path: Path, cell: str) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (
        f'<worksheet xmlns="{main}"><sheetData><row r="1"><c t="inlineStr"><is><t>A</t></is>'
        f'</c></row><row r="2">{cell}</row></sheetData></worksheet>'
    )
    path = write_xlsx(tmp_path / "bad.xlsx", sheet)
    assert "damaged" in refusal(INVALID_FILE_TYPE, count_rows, path, detect(path, "bad.xlsx"))


def test_chart_sheets_are_not_offered(tmp_path: Path) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    book = (
        f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Chart" sheetId="2" r:id="rId9"/>'
        '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = f'<worksheet xmlns="{main}"><sheetData/></worksheet>'
    path = write_xlsx(tmp_path / "c.xlsx", sheet, workbook=book)
    fmt = detect(path, "c.xlsx")
    assert (fmt.sheets, fmt.sheet) == (("Data",), "Data")
    refusal(MISSING_HEADER, header, path, fmt)


@pytest.mark.parametrize(
    ("code", "is_date"),
    [
        ("yyyy-mm-dd", True),
        ("d-mmm", True),
        ("mm:ss", True),
        ("[h]:mm:ss", True),  # elapsed time
        ("[$-409]mmmm d, yyyy", True),  # a locale in brackets
        ('dd/mm/yyyy" at "hh:mm', True),
        ("General", False),
        ("0.00", False),
        ("0.00%", False),
        ("#,##0_);(#,##0)", False),
        ('"Day "0', False),  # the d is quoted text
        ("\\d0", False),  # the d is escaped
        ("[Red]0.00;[Blue]-0.00", False),
        ("[$€-2] #,##0.00", False),
        ("@", False),
    ],
)
def test_which_number_formats_are_dates(code: str, is_date: bool) -> None:
    assert workbooks.is_date_format(code) is is_date


def test_damaged_files_only_ever_raise_unreadable_file(tmp_path: Path) -> None:
    """Bit flips in a workbook, cut workbooks, random bytes and CSV-like noise: each is
    read or refused with UnreadableFile, never another exception (seeded, so a failure
    repeats)."""
    rng = random.Random(6)
    workbook = write_workbook(tmp_path / "w.xlsx").read_bytes()
    path = tmp_path / "damaged"
    for case in range(200):
        if case % 4 == 0:
            flipped = bytearray(workbook)
            for _ in range(rng.randrange(1, 10)):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            data = bytes(flipped)
        elif case % 4 == 1:
            data = workbook[: rng.randrange(len(workbook))]
        elif case % 4 == 2:
            data = rng.randbytes(rng.randrange(1, 300))
        else:
            data = bytes(rng.choice(b'a,;\t"\r\n \x00\xe9\xc3\xa9\xff\xfe') for _ in range(200))
        path.write_bytes(data)
        try:
            fmt = detect(path, "damaged")
            header(path, fmt)
            count_rows(path, fmt)
        except UnreadableFile:
            pass


def test_shared_strings_are_parsed_only_as_far_as_needed(tmp_path: Path) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    strings = f'<sst xmlns="{main}">' + "".join(f"<si><t>s{i}</t></si>" for i in range(5000))
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>{r - 1}</v></c></row>' for r in range(1, 5001)
    )
    sheet = f'<worksheet xmlns="{main}"><sheetData>{cells}</sheetData></worksheet>'
    path = write_xlsx(tmp_path / "s.xlsx", sheet, strings=strings + "</sst>")
    with zipfile.ZipFile(path) as archive:
        workbook = workbooks.Workbook(archive)
        assert next(workbook.rows(None)) == (1, ["s0"])
        # the rows of the first 64 KB block of the sheet, not all 5,000
        assert len(workbook.strings.loaded) < 2000
        workbook.close()
    fmt = detect(path, "s.xlsx")
    assert header(path, fmt) == ["s0"]
    assert count_rows(path, fmt) == 4999
    assert list(rows(path, fmt, start_line=5000)) == [(5000, ["s4999"])]
