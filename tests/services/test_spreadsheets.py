"""Reading real files written to tmp_path: CSV encodings and delimiters, XLSX sheets and
cell types, refusals with their codes, row counts and the error file."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from occur.services import spreadsheets
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
    cell_text,
    count_rows,
    detect,
    header,
    preview,
    rows,
    write_error_file,
)

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


@pytest.mark.parametrize(
    ("kind", "language", "expected"),
    [(CSV, "de", True), (CSV, "fr", True), (CSV, "en", False), (XLSX, "de", False)],
)
def test_only_a_csv_in_a_decimal_comma_language_reads_decimal_commas(
    kind: str, language: str, expected: bool
) -> None:
    fmt = SheetFormat(kind, None, None, (), None)
    assert spreadsheets.decimal_comma(fmt, language) is expected
