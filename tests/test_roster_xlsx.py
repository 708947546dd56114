"""Rosters straight from Excel: an .xlsx roster reads as its CSV would, refusing formulas."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from robots import spreadsheet
from robots.cli import app
from robots.roster import Roster, read_roster

EXAMPLE = Path(__file__).parent.parent / "examples" / "roster.csv"
HEADER = ["first_name", "last_name", "email", "location", "extension"]


def _rows_of(csv_path: Path) -> list[list[str]]:
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _workbook(path: Path, sheets: dict[str, list[list[Any]]], hidden: tuple[str, ...] = ()) -> Path:
    """Write `sheets` (name -> rows, None for an empty cell) as an .xlsx at `path`."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


def _people(*rows: list[Any]) -> list[list[Any]]:
    return [HEADER, *rows]


def _where(roster: Roster) -> list[tuple[int | None, str | None]]:
    return [(problem.row, problem.column) for problem in roster.problems]


def test_the_example_roster_as_a_workbook_gives_the_same_entries_as_the_csv(
    tmp_path: Path,
) -> None:
    """examples/roster.csv saved as .xlsx (empty cells left empty) reads to the same roster."""
    rows = [[cell or None for cell in row] for row in _rows_of(EXAMPLE)]
    path = _workbook(tmp_path / "roster.xlsx", {"Roster": rows})

    from_csv, from_xlsx = read_roster(EXAMPLE), read_roster(path)

    assert from_xlsx.entries == from_csv.entries
    assert len(from_xlsx.entries) == 5
    assert (from_xlsx.problems, from_xlsx.warnings) == ([], [])
    assert from_xlsx.path == path


def test_a_formula_cell_is_refused_by_row_and_column_and_never_evaluated(tmp_path: Path) -> None:
    """A formula in the email column is refused at its row; its cached result is not used."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Roster": _people(
                ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"],
                ["Ben", "Okafor", '=LOWER(A3)&"@example.com"', "Phoenix HQ"],
                ["Cleo", "Park", "cleo.park@example.com", "Phoenix HQ"],
            )
        },
    )
    _cache_formula_results(path, "ben.okafor@example.com")

    roster = read_roster(path)

    assert [entry.row for entry in roster.entries] == [2, 4]
    assert _where(roster) == [(3, "email")]
    assert "formulas are not accepted" in roster.problems[0].reason
    assert "ben.okafor" not in str(roster.problems[0])
    assert roster.refused == 1


def test_a_formula_in_a_required_column_is_one_problem_not_also_an_empty_cell(
    tmp_path: Path,
) -> None:
    """The formula's reason stands alone: no second 'is required but empty' for the same cell."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {"Roster": _people(["=B2", "Silva", "ana.silva@example.com", "Phoenix HQ"])},
    )

    roster = read_roster(path)

    assert _where(roster) == [(2, "first_name")]
    assert roster.entries == []


def test_a_row_holding_only_a_formula_is_counted_as_refused(tmp_path: Path) -> None:
    """A row whose one value is a formula is neither skipped as blank nor lost from the count."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Roster": _people(
                ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"],
                [None, None, None, None, "=1000+1"],
            )
        },
    )

    roster = read_roster(path)

    assert _where(roster) == [(3, "extension")]
    assert (roster.rows_read, roster.refused) == (2, 1)


def test_a_formula_in_the_header_refuses_the_whole_sheet(tmp_path: Path) -> None:
    """A column named by a formula cannot be trusted, so no row is read."""
    header = ["first_name", "last_name", '="e"&"mail"', "location"]
    path = _workbook(
        tmp_path / "roster.xlsx",
        {"Roster": [header, ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"]]},
    )

    roster = read_roster(path)

    assert roster.entries == []
    assert _where(roster) == [(None, None)]
    assert "header cell C1" in roster.problems[0].reason


def test_a_named_sheet_is_read_and_a_missing_one_lists_the_sheets(tmp_path: Path) -> None:
    """roster.xlsx#Hires reads the Hires sheet; a name the workbook lacks lists its sheets."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Notes": [["Send to IT by Friday"]],
            "Hires": _people(["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"]),
        },
    )

    named = read_roster(Path(f"{path}#Hires"))
    ignoring_case = read_roster(Path(f"{path}#hires"))
    missing = read_roster(Path(f"{path}#March"))

    assert [entry.hire.username for entry in named.entries] == ["ana.silva"]
    assert ignoring_case.entries == named.entries
    assert named.path == path
    assert _where(missing) == [(None, None)]
    assert "no sheet named 'March'" in missing.problems[0].reason
    assert "'Notes', 'Hires'" in missing.problems[0].reason


def test_the_first_visible_sheet_is_read_when_none_is_named(tmp_path: Path) -> None:
    """A hidden first sheet is passed over: the admin cannot see what it holds."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Old": _people(["Old", "Hire", "old.hire@example.com", "Phoenix HQ"]),
            "Hires": _people(["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"]),
        },
        hidden=("Old",),
    )

    assert [entry.hire.username for entry in read_roster(path).entries] == ["ana.silva"]


def test_numbers_read_as_a_person_sees_them(tmp_path: Path) -> None:
    """An extension stored as the number 1001 (or 1001.0) reads 1001, and a ten-digit phone
    number stored as a number reads in full, never as 6.03E+09."""
    header = [*HEADER, "phone_number"]
    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Roster": [
                header,
                ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ", 1001, 6025550142],
                ["Ben", "Okafor", "ben.okafor@example.com", "Phoenix HQ", 1002.0, None],
            ]
        },
    )

    roster = read_roster(path)

    assert roster.problems == []
    ana, ben = (entry.hire for entry in roster.entries)
    assert (ana.extension, ana.phone_number) == ("1001", "6025550142")
    assert ben.extension == "1002"


def test_leading_zeros_stay_where_the_sheet_shows_them(tmp_path: Path) -> None:
    """Text '0101' and a number formatted 0000 keep the zero; a plain number has none to keep."""
    book = Workbook()
    sheet = book.active
    sheet.append(["extension"])
    sheet.append(["0101"])
    sheet.append([102])
    sheet["A3"].number_format = "0000"
    sheet.append([2134])
    sheet["A4"].number_format = "00000"
    sheet.append([103])
    path = tmp_path / "numbers.xlsx"
    book.save(path)

    table = spreadsheet.read_sheet(path.read_bytes())

    assert table.rows == [["extension"], ["0101"], ["0102"], ["02134"], ["103"]]


def test_dates_and_error_values_are_refused_by_row_and_column(tmp_path: Path) -> None:
    """A date where an extension belongs (Excel turned 3-4 into March 4th) is refused."""
    import datetime

    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Roster": _people(
                ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ", datetime.date(2026, 3, 4)],
                ["Ben", "Okafor", "ben.okafor@example.com", "Phoenix HQ", "#N/A"],
            )
        },
    )
    book_bytes = _mark_as_error(path, "E3")

    roster = read_roster(_write(tmp_path, book_bytes, "errors.xlsx"))

    assert _where(roster) == [(2, "extension"), (3, "extension")]
    assert "date" in roster.problems[0].reason
    assert "#N/A" in roster.problems[1].reason


def test_a_bad_row_gives_the_csv_message_at_the_row_excel_shows(tmp_path: Path) -> None:
    """The same rows as CSV and as a workbook (a blank row 3 included) give the same problems."""
    rows = [
        HEADER,
        ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ", ""],
        ["", "", "", "", ""],
        ["Ben", "Okafor", "ben.okafor(at)example.com", "Phoenix HQ", ""],
        ["Cleo", "Park", "cleo.park@example.com", "", "12a"],
        ["Dev", "Rao", "dev.rao@example.com", "Phoenix HQ", "+SUM(1)"],
    ]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    from_csv = read_roster(_write(tmp_path, text.getvalue().encode(), "roster.csv"))
    xlsx_rows = [[cell or None for cell in row] for row in rows]
    from_xlsx = read_roster(_workbook(tmp_path / "roster.xlsx", {"Roster": xlsx_rows}))

    assert [str(problem) for problem in from_xlsx.problems] == [
        str(problem) for problem in from_csv.problems
    ]
    assert _where(from_xlsx)[0] == (4, "email")
    assert from_xlsx.entries == from_csv.entries
    assert (from_xlsx.rows_read, from_xlsx.refused) == (from_csv.rows_read, from_csv.refused)


def test_empty_trailing_rows_and_columns_are_ignored(tmp_path: Path) -> None:
    """Formatted but empty cells far below and to the right change nothing."""
    book = Workbook()
    sheet = book.active
    for row in _people(["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"]):
        sheet.append(row)
    sheet["Z1"].number_format = "0000"
    sheet["AZ500"].number_format = "@"
    sheet["C900"] = "   "
    path = tmp_path / "roster.xlsx"
    book.save(path)

    roster = read_roster(path)

    assert (roster.problems, roster.warnings) == ([], [])
    assert spreadsheet.read_sheet(path.read_bytes()).rows == [
        HEADER,
        ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"],
    ]


def test_merged_cells_are_refused(tmp_path: Path) -> None:
    """A location merged over two rows shows in both but is held by the first only."""
    book = Workbook()
    sheet = book.active
    for row in _people(
        ["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"],
        ["Ben", "Okafor", "ben.okafor@example.com", None],
    ):
        sheet.append(row)
    sheet.merge_cells("D2:D3")
    path = tmp_path / "roster.xlsx"
    book.save(path)

    roster = read_roster(path)

    assert roster.entries == []
    assert "merged cells (D2:D3)" in roster.problems[0].reason


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"first_name,last_name\nAna,Silva\n", "not an Excel workbook"),
        (b"", "not an Excel workbook"),
        (b"PK\x03\x04" + bytes(64), "damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"), "password"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old Excel workbook (.xls)"),
    ],
)
def test_a_file_that_is_not_a_readable_workbook_is_one_plain_problem(
    tmp_path: Path, data: bytes, words: str
) -> None:
    """Text named .xlsx, a damaged zip, an encrypted or an old workbook: one clear refusal."""
    roster = read_roster(_write(tmp_path, data, "roster.xlsx"))

    assert roster.entries == []
    assert _where(roster) == [(None, None)]
    assert words in roster.problems[0].reason


def test_a_zip_that_is_no_workbook_and_a_workbook_with_macros_are_refused(tmp_path: Path) -> None:
    """A plain zip is not a workbook; a workbook with a VBA project is refused, never opened."""
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("roster.csv", "first_name\n")
    macros = _with_part(
        _workbook(tmp_path / "book.xlsx", {"Roster": _people()}).read_bytes(),
        "xl/vbaProject.bin",
        b"\x00" * 16,
    )

    not_a_book = read_roster(_write(tmp_path, plain.getvalue(), "roster.xlsx"))
    with_macros = read_roster(_write(tmp_path, macros, "roster.xlsm"))

    assert "not an Excel workbook" in not_a_book.problems[0].reason
    assert "macros" in with_macros.problems[0].reason


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A zip bomb: a few hundred kilobytes that would unpack past the cap."""
    bomb = _with_part(
        _workbook(tmp_path / "book.xlsx", {"Roster": _people()}).read_bytes(),
        "xl/media/padding.bin",
        bytes(spreadsheet.MAX_UNPACKED + 1),
    )
    assert len(bomb) < spreadsheet.MAX_UNPACKED // 100

    roster = read_roster(_write(tmp_path, bomb, "roster.xlsx"))

    assert roster.entries == []
    assert "too large" in roster.problems[0].reason


def test_a_sheet_declaring_xml_entities_is_refused(tmp_path: Path) -> None:
    """Entities (the billion-laughs bomb) are refused by the XML parser, not expanded."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {"Roster": _people(["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ"])},
    )
    entity = b'<!DOCTYPE worksheet [<!ENTITY lol "lol">]>'
    bomb = _rewrite(path, lambda xml: xml.replace(b"<worksheet", entity + b"<worksheet", 1))

    roster = read_roster(_write(tmp_path, bomb, "bomb.xlsx"))

    assert roster.entries == []
    assert _where(roster) == [(None, None)]
    assert "cannot be read" in roster.problems[0].reason


def test_a_sheet_with_too_many_rows_is_refused(tmp_path: Path, monkeypatch: Any) -> None:
    """Past the row cap the sheet is refused whole, naming the cap."""
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    rows = [["Ana", "Silva", f"ana{n}@example.com", "Phoenix HQ"] for n in range(3)]
    path = _workbook(tmp_path / "roster.xlsx", {"Roster": _people(*rows)})

    roster = read_roster(path)

    assert roster.entries == []
    assert "past row 3" in roster.problems[0].reason


def test_an_empty_sheet_and_a_sheet_without_a_header_are_refused(tmp_path: Path) -> None:
    """No header, no roster: the first row must name the columns."""
    empty = read_roster(_workbook(tmp_path / "empty.xlsx", {"Roster": []}))
    no_header = read_roster(
        _workbook(tmp_path / "data.xlsx", {"Roster": [["Ana", "Silva", "ana@example.com"]]})
    )

    assert _where(empty) == [(None, None)]
    assert "the sheet 'Roster' is empty" in empty.problems[0].reason
    assert _where(no_header) == [(1, None)]
    assert "is not a roster header" in no_header.problems[0].reason


def test_onboard_check_reads_a_workbook_and_its_named_sheet(tmp_path: Path) -> None:
    """`onboard check roster.xlsx#Hires` prints an ok line per good row and exits 0."""
    path = _workbook(
        tmp_path / "roster.xlsx",
        {
            "Notes": [["nothing here"]],
            "Hires": _people(["Ana", "Silva", "ana.silva@example.com", "Phoenix HQ", 1001]),
        },
    )

    result = CliRunner().invoke(app, ["check", f"{path}#Hires"])

    assert result.exit_code == 0, result.output
    assert "row 2: ana.silva" in result.stdout
    assert "x1001" in result.stdout


def _write(tmp_path: Path, data: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rewrite(path: Path, change: Any) -> bytes:
    """The workbook at `path` with its first sheet's XML passed through `change`."""
    source = zipfile.ZipFile(path)
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            target.writestr(item, data)
    return out.getvalue()


def _cache_formula_results(path: Path, result: str) -> None:
    """Give every formula a cached text result, as Excel saves one: a reader trusting the
    cache (openpyxl's data_only=True) would see `result` where the formula is."""

    def change(xml: bytes) -> bytes:
        xml = re.sub(rb'(<c r="[A-Z]+[0-9]+")(><f>)', rb'\1 t="str"\2', xml)
        return xml.replace(b"<v />", f"<v>{result}</v>".encode())

    path.write_bytes(_rewrite(path, change))
    cached = load_workbook(path, data_only=True).active
    assert result in [cell.value for row in cached.iter_rows() for cell in row]


def _mark_as_error(path: Path, cell: str) -> bytes:
    """The workbook with `cell` (a text cell) turned into an error value, as Excel writes #N/A."""

    def change(xml: bytes) -> bytes:
        start = xml.index(f'<c r="{cell}"'.encode())
        end = xml.index(b"</c>", start) + len(b"</c>")
        return xml[:start] + f'<c r="{cell}" t="e"><v>#N/A</v></c>'.encode() + xml[end:]

    return _rewrite(path, change)


def _with_part(book: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(name, data)
    return out.getvalue()
