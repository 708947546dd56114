"""The roster reader over a corpus of real-world mistakes: each refusal names its row and column."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from domain.errors import SetupError
from domain.nextiva import DEFAULT_DEVICE, DEFAULT_LICENSE, DEFAULT_PACKAGE
from robots.roster import Roster, RosterProblem, read_roster, spreadsheet_safe

ROSTERS = Path(__file__).parent / "rosters"
EXAMPLE = Path(__file__).parent.parent / "examples" / "roster.csv"
HEADER = "first_name,last_name,email,location\n"

# file -> (rows accepted, (row, column) of each problem)
CORPUS: dict[str, tuple[list[int], list[tuple[int | None, str | None]]]] = {
    "bad_email.csv": ([2, 3], [(4, "email")]),
    "bad_numbers.csv": (
        [],
        [
            (2, "phone_number"),
            (3, "extension"),
            (4, "extension"),
            (5, "extension"),
            (6, "extension"),
            (7, "phone_number"),
        ],
    ),
    "bad_username.csv": ([3], [(2, "username")]),
    "blank_lines.csv": ([2], [(5, "email")]),
    "duplicate_column.csv": ([], [(1, "email")]),
    "duplicate_email.csv": ([3], [(2, "email"), (4, "email")]),
    "duplicate_username.csv": ([2, 4], [(3, "username"), (5, "username")]),
    "empty.csv": ([], [(None, None)]),
    "extra_cells.csv": ([2], [(3, None)]),
    "formula.csv": (
        [3],
        [(2, "first_name"), (4, "email"), (5, "phone_number"), (6, "package"), (7, "package")],
    ),
    "good.csv": ([2, 4, 5], []),
    "missing_column.csv": ([], [(1, "email")]),
    "missing_values.csv": ([4], [(2, "location"), (3, "first_name")]),
    "multiline_cell.csv": ([], [(2, "first_name"), (3, "email")]),
    "not_a_roster.csv": ([], [(1, None)]),
    "semicolons.csv": ([2], []),
    "too_long.csv": ([2], [(3, "first_name"), (4, "email")]),
    "unknown_column.csv": ([], [(1, "Extention")]),
    "yes_no.csv": ([2], [(3, "voicemail_to_email"), (4, "welcome_email")]),
}


def _write(tmp_path: Path, data: bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_corpus_covers_every_fixture_file() -> None:
    """Every file in tests/rosters has its expected outcome written down here."""
    assert sorted(p.name for p in ROSTERS.glob("*.csv")) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_problem_names_its_row_and_column(name: str) -> None:
    """Each bad row is refused at its spreadsheet row and column; good rows stay."""
    accepted, problems = CORPUS[name]
    roster = read_roster(ROSTERS / name)
    assert [entry.row for entry in roster.entries] == accepted
    assert [(p.row, p.column) for p in roster.problems] == problems
    assert roster.ok is (not problems)
    assert all(problem.reason for problem in roster.problems)


def test_a_good_roster_fills_defaults_and_reads_spreadsheet_kindnesses() -> None:
    """Headers like 'First Name', stray spaces, y/n/TRUE/0 and accented names all read right."""
    roster = read_roster(ROSTERS / "good.csv")
    jose, sean, lukasz = (entry.hire for entry in roster.entries)
    assert (jose.username, jose.package, jose.device, jose.license) == (
        "jose.nunez",
        DEFAULT_PACKAGE,
        DEFAULT_DEVICE,
        DEFAULT_LICENSE,
    )
    assert (jose.voicemail_to_email, jose.send_attachment, jose.welcome_email) == (
        True,
        True,
        False,
    )
    assert sean.first_name == "Seán"
    assert sean.username == "sean.obrien-smith"
    assert str(sean.email) == "sean.obrien-smith@example.com"
    assert sean.phone_number == "3035550201"
    assert (sean.voicemail_to_email, sean.send_attachment, sean.welcome_email) == (
        True,
        False,
        True,
    )
    assert lukasz.username == "lukasz.strauss"
    assert (lukasz.phone_number, lukasz.extension, lukasz.license) == ("5125550302", "4302", None)
    assert (lukasz.voicemail_to_email, lukasz.send_attachment, lukasz.welcome_email) == (
        False,
        False,
        True,
    )
    assert roster.warnings == []


def test_a_duplicate_username_names_both_rows() -> None:
    """Two rows that would get the same username are both refused, each naming the other."""
    roster = read_roster(ROSTERS / "duplicate_username.csv")
    assert [str(p) for p in roster.problems] == [
        "row 3, column username: dana.smith (made from the name) also on row 5",
        "row 5, column username: Dana.Smith also on row 3",
    ]


def test_a_problem_reads_as_row_column_and_reason() -> None:
    """Problems print the way an admin reads a spreadsheet."""
    assert str(RosterProblem(4, "email", "value is not a valid email address")) == (
        "row 4, column email: value is not a valid email address"
    )
    assert str(RosterProblem(3, None, "has 5 cells")) == "row 3: has 5 cells"
    assert str(RosterProblem(None, None, "the file is empty")) == "the file is empty"


def test_a_bad_header_refuses_every_row_and_suggests_the_column() -> None:
    """A misspelt column would drop the admin's values silently, so no row is trusted."""
    roster = read_roster(ROSTERS / "unknown_column.csv")
    assert roster.entries == []
    assert roster.refused == 1
    assert "did you mean extension?" in roster.problems[0].reason


def test_formula_cells_are_refused_but_a_plus_in_a_phone_number_is_fine() -> None:
    """Cells a spreadsheet would run are refused; '+1 602 ...' is a phone number."""
    roster = read_roster(ROSTERS / "formula.csv")
    assert roster.entries[0].hire.phone_number == "6025550101"
    assert all("formula" in problem.reason for problem in roster.problems)


def test_utf8_with_a_byte_order_mark_reads_the_first_column(tmp_path: Path) -> None:
    """Excel's 'CSV UTF-8' starts with a BOM, which must not become part of 'first_name'."""
    text = HEADER + "Renée,Dubois,renee@example.com,Phoenix HQ\n"
    roster = read_roster(_write(tmp_path, text.encode("utf-8-sig")))
    assert roster.ok
    assert roster.entries[0].hire.first_name == "Renée"
    assert roster.encoding == "utf-8"


def test_windows_1252_from_excel_is_read_with_a_warning(tmp_path: Path) -> None:
    """Plain 'CSV' from Excel on Windows keeps its accents, and the admin is told."""
    text = HEADER + "José,Núñez,jose@example.com,Phoenix HQ\n"
    roster = read_roster(_write(tmp_path, text.encode("cp1252")))
    assert roster.ok
    assert roster.entries[0].hire.full_name == "José Núñez"
    assert roster.entries[0].hire.username == "jose.nunez"
    assert roster.encoding == "Windows-1252"
    assert "not UTF-8" in roster.warnings[0].reason


def test_bytes_undefined_in_windows_1252_still_read(tmp_path: Path) -> None:
    """0x81 is in neither UTF-8 nor Windows-1252: Latin-1 reads it and the rest still works."""
    data = (
        HEADER.encode()
        + b"Ana\x81,Lima,ana@example.com,Phoenix HQ\nBen,Okafor,ben@example.com,Denver\n"
    )
    roster = read_roster(_write(tmp_path, data))
    assert roster.encoding == "Latin-1"
    assert [(p.row, p.column) for p in roster.problems] == [(2, "first_name")]
    assert [entry.row for entry in roster.entries] == [3]


def test_utf16_from_excel_unicode_text_is_read(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' export is UTF-16 with a BOM (and often tabs)."""
    text = HEADER.replace(",", "\t") + "Zoë\tKrüger\tzoe@example.com\tAustin Office\n"
    roster = read_roster(_write(tmp_path, text.encode("utf-16")))
    assert roster.ok and roster.warnings == []
    assert roster.entries[0].hire.username == "zoe.kruger"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(64), "save it from the spreadsheet as CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old Excel workbook"),
        (bytes(range(256)), "binary data"),
        (b"\xff\xfe" + bytes(40), "binary data"),
        (b"", "empty"),
        (b"  \n\n \r\n", "empty"),
    ],
)
def test_files_that_are_not_csv_are_one_plain_problem(
    tmp_path: Path, data: bytes, words: str
) -> None:
    """Workbooks, binary and empty files give one file-wide problem, not a crash."""
    roster = read_roster(_write(tmp_path, data))
    assert roster.entries == []
    assert len(roster.problems) == 1
    assert roster.problems[0].row is None
    assert words in roster.problems[0].reason


def test_random_bytes_never_crash_the_reader(tmp_path: Path) -> None:
    """Whatever the file holds, the reader answers with problems, never an exception."""
    chooser = random.Random(20240607)
    alphabet = b'abc,;\t"\n\r =+-@\x00\xff\xfe\xe9first_name,last_name,email,location'
    for attempt in range(200):
        data = bytes(chooser.choice(alphabet) for _ in range(chooser.randint(0, 300)))
        if attempt % 2:
            data = HEADER.encode() + data
        roster = read_roster(_write(tmp_path, data))
        assert isinstance(roster, Roster)
        refused_rows = {problem.row for problem in roster.problems}
        assert not refused_rows & {entry.row for entry in roster.entries}
        assert all(problem.reason for problem in roster.problems)


def test_a_huge_cell_is_refused_without_flooding_the_message(tmp_path: Path) -> None:
    """A cell past the CSV field limit stops reading with one problem of reasonable length."""
    data = (HEADER + "Ana,Lima,ana@example.com,Phoenix HQ\n" + "B" * 200_000 + ",x,y,z\n").encode()
    roster = read_roster(_write(tmp_path, data))
    assert [entry.row for entry in roster.entries] == [2]
    assert roster.problems[0].row == 3
    assert roster.refused == 1
    assert all(len(str(problem)) < 300 for problem in roster.problems)


def test_control_characters_never_reach_a_reason(tmp_path: Path) -> None:
    """An escape sequence in a header cannot repaint the admin's terminal."""
    data = (HEADER.strip() + ",\x1b[31mred\n").encode()
    roster = read_roster(_write(tmp_path, data))
    assert roster.problems[0].column == "?[31mred"


def test_an_unreadable_path_is_a_setup_error(tmp_path: Path) -> None:
    """Only a file that cannot be opened at all stops the run before it starts."""
    with pytest.raises(SetupError, match="cannot be read"):
        read_roster(tmp_path / "missing.csv")
    with pytest.raises(SetupError):
        read_roster(tmp_path)


def test_the_same_name_twice_is_a_warning_not_a_refusal(tmp_path: Path) -> None:
    """Two people may share a name; the admin is asked to look, the rows stay."""
    data = (
        "first_name,last_name,email,location,username\n"
        "Dana,Smith,d1@example.com,Phoenix HQ,\nDana,Smith,d2@example.com,Denver,dana.smith2\n"
    )
    roster = read_roster(_write(tmp_path, data.encode()))
    assert roster.ok
    assert [(w.row, "one person twice?" in w.reason) for w in roster.warnings] == [(3, True)]


def test_the_example_roster_is_clean() -> None:
    """examples/roster.csv, the one the README shows, passes every check."""
    roster = read_roster(EXAMPLE)
    assert roster.ok and roster.warnings == []
    hires = [entry.hire for entry in roster.entries]
    assert len(hires) == 5
    assert {hire.location for hire in hires} == {"Phoenix HQ", "Denver Office", "Austin Office"}
    assert "dana.smith" not in {hire.username for hire in hires}


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1 602", "'+1 602"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("dana.smith", "dana.smith"),
        ("", ""),
    ],
)
def test_spreadsheet_safe_defuses_formulas(text: str, safe: str) -> None:
    """Text headed for a CSV report cannot start a formula."""
    assert spreadsheet_safe(text) == safe


@pytest.mark.parametrize(
    ("character", "name"),
    [
        ("\u2028", "U+2028"),
        ("\u2029", "U+2029"),
        ("\u0085", "U+0085"),
        ("\u200b", "U+200B"),
        ("\ufeff", "U+FEFF"),
        ("\u00ad", "U+00AD"),
    ],
)
def test_a_line_separator_or_invisible_character_in_a_cell_is_refused_by_row_and_column(
    tmp_path: Path, character: str, name: str
) -> None:
    """Characters that split lines in reports and logs, or hide in a name, are refused and named."""
    data = (
        HEADER
        + "Ana,Lima,ana@example.com,Phoenix HQ\n"
        + f"Bo,Li{character}n,bo@example.com,Denver\n"
    )
    roster = read_roster(_write(tmp_path, data.encode()))
    assert [entry.row for entry in roster.entries] == [2]
    [problem] = roster.problems
    assert (problem.row, problem.column) == (3, "last_name")
    assert name in problem.reason
    assert character not in str(problem)


def test_echoed_cells_are_cut_so_check_prints_little(tmp_path: Path) -> None:
    """Two duplicate rows with 100,000-character cells: `onboard check` prints a few lines, not
    the cells."""
    from typer.testing import CliRunner

    from robots.cli import app

    long = "x" * 100_000
    rows = (
        "".join(f"{long},{long},{long}@example.com,{long},{long}{n},{long}\n" for n in range(2))
        .replace(f"{long}0,", f"{long},")
        .replace(f"{long}1,", f"{long},")
    )
    data = "first_name,last_name,email,location,username,extension\n" + rows
    result = CliRunner().invoke(app, ["check", str(_write(tmp_path, data.encode()))])
    assert result.exit_code == 1
    assert "also on row" in result.output
    assert len(result.output) < 4_000, result.output[:2000]
    for problem in read_roster(tmp_path / "roster.csv").problems:
        assert len(str(problem)) < 300, str(problem)[:400]
