"""Reading the roster: the CSV of users an admin prepares, checked before any browser starts.

The roster is a spreadsheet export, so this module forgives what spreadsheets do (a UTF-8
byte-order mark, Windows-1252 from Excel, "First Name" for `first_name`, stray spaces,
trailing empty cells, blank lines) and refuses what would harm a run or its reports:
unknown columns, values the portal would refuse, the same person twice, and cells a
spreadsheet would run as a formula. Each refusal names the row (as a spreadsheet shows it:
the header is row 1), the column and the reason in plain words; the other rows stay.

The columns, the record a row becomes and what must be unique are the portal's
(`PortalKind.columns`, see docs/architecture.md); this module knows only spreadsheets. An
empty cell takes the record's default. A secret column's value (a PIN) is never quoted.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.errors import SetupError
from domain.portal import PortalKind, RosterColumns

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})

# What a spreadsheet treats as the start of a formula (OWASP "CSV injection"). A report
# that carries such a cell back into Excel would run it.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A phone number may start with '+' (the country code) but nothing else a formula may.
_PHONE_FORMULA_STARTS = ("=", "-", "@")
# C0 and C1 controls (C1 holds a terminal escape, 0x9b; U+0085 ends a line), the line and
# paragraph separators (str.splitlines and JavaScript end a line there), and the format
# characters (bidi overrides, zero-width spaces, soft hyphens, byte-order marks) that make a
# name read differently on screen than in the portal. Used to clean what a reason quotes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Unicode categories refused in a cell: controls, format characters, line and paragraph
# separators, surrogates and private-use characters.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})
# How much of a cell a message quotes: enough to find it, never enough to flood a terminal.
SHOWN_LIMIT = 60
# A reason is a sentence; past this it was built around a value that escaped the cut.
_REASON_LIMIT = 400

# Excel shows a long number as 6.03E+09 and saves it that way: the digits are lost.
_SCIENTIFIC = re.compile(r"[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+")

# A value the portal made up (a username from the name) is marked so in its message.
_MADE = " (made from the name)"


@dataclass(frozen=True)
class RosterProblem:
    """Why a row (or the whole file) was refused, in words the admin can act on."""

    row: int | None
    column: str | None
    reason: str

    def __post_init__(self) -> None:
        # Reasons quote cells and headers; a control character there could rewrite the
        # admin's terminal (ANSI escapes) or split a line in a log.
        object.__setattr__(self, "reason", _cut(_CONTROL.sub("?", self.reason), _REASON_LIMIT))
        if self.column is not None:
            object.__setattr__(self, "column", _cut(_CONTROL.sub("?", self.column), SHOWN_LIMIT))

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column}" if self.column else "",
            )
            if part
        )
        return f"{where}: {self.reason}" if where else self.reason


@dataclass(frozen=True)
class RosterEntry:
    """A row that passed every check: its spreadsheet row number and the portal's record."""

    row: int
    record: Any

    @property
    def hire(self) -> Any:
        """The record, by the name a new hire's row has always had."""
        return self.record


@dataclass
class Roster:
    """The readable rows of a roster file, and every problem found in it."""

    path: Path
    entries: list[RosterEntry]
    problems: list[RosterProblem]
    # Not refusals: things an admin may want to look at (`onboard check --strict` refuses them).
    warnings: list[RosterProblem] = field(default_factory=list)
    encoding: str = "utf-8"
    rows_read: int = 0
    # The kind of portal the rows are for (None only for a roster built by hand).
    kind: PortalKind | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def refused(self) -> int:
        """How many data rows were left out of `entries`."""
        return self.rows_read - len(self.entries)


def spreadsheet_safe(text: str) -> str:
    """The text made inert for a spreadsheet: a leading ' keeps = + - @ tab CR from a formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def read_roster(path: Path, kind: PortalKind | None = None) -> Roster:
    """Read and check a roster file for `kind` of portal (default: the PORTAL_KIND setting).

    Raises SetupError only if the file cannot be read at all.
    """
    if kind is None:
        from robots.portals import default_kind

        kind = default_kind()
    from robots import spreadsheet

    path, sheet = spreadsheet.split_sheet(Path(path))  # roster.xlsx#Sheet2
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SetupError(f"The roster {path} cannot be read: {e.strerror or e}.") from e
    roster = Roster(path=Path(path), entries=[], problems=[], kind=kind)
    if spreadsheet.is_workbook(path, data):
        _read_workbook(data, sheet, roster, kind)
        return roster
    not_text = _not_text_reason(data)
    if not_text:
        roster.problems.append(RosterProblem(None, None, not_text))
        return roster
    text, roster.encoding = _decode(data)
    if "\x00" in text:
        roster.problems.append(
            RosterProblem(None, None, "this file holds binary data, not CSV text")
        )
        return roster
    if roster.encoding in _GUESSED_ENCODINGS:
        roster.warnings.append(
            RosterProblem(
                None,
                None,
                f"the file is not UTF-8; it was read as {roster.encoding}: check accented "
                "names, or save it from the spreadsheet as 'CSV UTF-8'",
            )
        )
    if not text.strip():
        roster.problems.append(
            RosterProblem(
                None,
                None,
                "the file is empty: the first row must name the columns "
                f"({_named(kind.columns.required)})",
            )
        )
        return roster
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    read_rows(reader, roster, kind)
    return roster


def read_rows(rows: Iterable[list[str]], roster: Roster, kind: PortalKind) -> None:
    """Check the rows of a table (the header first; blank rows skipped) into `roster`.

    The table's reader (CSV here, a workbook elsewhere) gives each row as its cells' text;
    row numbers count from 1 as a spreadsheet shows them.
    """
    _read_rows(rows, roster, kind)
    if roster.rows_read == 0 and roster.ok:
        roster.warnings.append(RosterProblem(None, None, "the roster has no rows after the header"))
    order = functools.partial(_problem_order, columns=kind.columns.all)
    roster.problems.sort(key=order)
    roster.warnings.sort(key=order)


def _read_workbook(data: bytes, sheet: str | None, roster: Roster, kind: PortalKind) -> None:
    """A workbook's sheet through the same checks as a CSV file. A cell no CSV could hold (a
    formula, a date, an error value) reads as empty and is refused by row and column."""
    from robots.spreadsheet import WorkbookError, read_sheet

    try:
        table = read_sheet(data, sheet)
    except WorkbookError as e:
        roster.problems.append(RosterProblem(None, None, str(e)))
        return
    if not table.rows:
        roster.problems.append(
            RosterProblem(
                None,
                None,
                f"the sheet '{table.name}' is empty: its first row must name the columns "
                f"({_named(kind.columns.required)})",
            )
        )
        return
    read_rows(table.rows, roster, kind)
    header = next(cells for cells in table.rows if cells)
    refused: dict[tuple[int, str], str] = {}
    for cell in table.problems:
        heading = header[cell.column - 1] if cell.column <= len(header) else ""
        column = _column_key(heading, kind.columns) if heading.strip() else cell.letter
        refused[(cell.row, column)] = cell.reason
    # The cell's own reason replaces what its emptiness caused ("is required but empty").
    roster.problems = [p for p in roster.problems if (p.row, p.column) not in refused]
    roster.problems += [RosterProblem(row, col, why) for (row, col), why in refused.items()]
    roster.problems.sort(key=functools.partial(_problem_order, columns=kind.columns.all))
    rows = {row for row, _ in refused}
    roster.entries = [entry for entry in roster.entries if entry.row not in rows]
    # A row of refused cells alone read as blank: count it among the rows refused.
    roster.rows_read += sum(1 for row in rows if not table.rows[row - 1])


def _not_text_reason(data: bytes) -> str | None:
    if data.startswith(b"PK\x03\x04"):
        return "this is a workbook or zip file, not CSV: save it from the spreadsheet as CSV"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "this is an old Excel workbook (.xls), not CSV: save it from Excel as CSV"
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "this file holds binary data, not CSV text"
    return None


# Encodings read by elimination, not declared by the file: accents may have come out wrong.
_GUESSED_ENCODINGS = ("Windows-1252", "Latin-1")


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was read with."""
    # Excel's "Unicode text" export is UTF-16 with a byte-order mark.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        # Five bytes are undefined in Windows-1252; Latin-1 reads every byte.
        return data.decode("latin-1"), "Latin-1"


def _column_key(header: str, columns: RosterColumns) -> str:
    """'First Name', 'FirstName', 'first-name ' -> 'first_name'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", header.strip())
    key = re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
    return columns.aliases.get(key, key)


def _named(columns: Iterable[str]) -> str:
    return ", ".join(columns)


def _delimiter(text: str) -> str:
    # Spreadsheets in locales that write decimal commas export with ';'.
    header = text.lstrip().split("\n", 1)[0]
    for candidate in (",", ";", "\t"):
        if candidate in header:
            return candidate
    return ","


def _read_rows(reader: Iterable[list[str]], roster: Roster, kind: PortalKind) -> None:
    header_row: int | None = None
    columns: list[str | None] | None = None
    identities: list[tuple[int, dict[str, str]]] = []
    row_number = 0
    try:
        for row_number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or blank lines above the header
            if header_row is None:
                header_row = row_number
                columns = _read_header(row_number, cells, roster, kind.columns)
                continue
            roster.rows_read += 1
            if columns is None:
                continue  # counted as refused: the header problem stands for every row
            entry, identity = _read_row(row_number, columns, cells, roster, kind)
            identities.append((row_number, identity))
            if entry is not None:
                roster.entries.append(entry)
    except csv.Error as e:
        roster.rows_read += 1  # the row that could not be read is refused
        roster.problems.append(
            RosterProblem(
                row_number + 1,
                None,
                f"cannot be read as CSV ({e}); rows from here on were not read",
            )
        )
    _refuse_duplicates(identities, roster, kind.columns.unique)
    _warn_same_names(roster, kind)


def _read_header(
    row: int, cells: list[str], roster: Roster, spec: RosterColumns
) -> list[str | None] | None:
    """The canonical column of each header cell (None for an empty one), or None if unusable."""
    known = spec.all
    keys = [_column_key(cell, spec) if cell.strip() else None for cell in cells]
    if not any(key in known for key in keys):
        roster.problems.append(
            RosterProblem(
                row,
                None,
                "is not a roster header: the first row must name the columns "
                f"({_named(spec.required)}, and optionally " + _named(spec.optional) + ")",
            )
        )
        return None
    problems: list[RosterProblem] = []
    seen: dict[str, int] = {}
    for index, (cell, key) in enumerate(zip(cells, keys, strict=True), start=1):
        if key is None:
            continue
        if key not in known:
            guess = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else f"; the columns are {_named(known)}"
            problems.append(
                RosterProblem(row, _cut(cell.strip(), 40), f"is not a roster column{hint}")
            )
        elif key in seen:
            problems.append(
                RosterProblem(
                    row, key, f"appears twice in the header (columns {seen[key]} and {index})"
                )
            )
        else:
            seen[key] = index
    problems.extend(
        RosterProblem(row, column, "required column is missing from the header")
        for column in spec.required
        if column not in seen
    )
    if problems:
        # A misnamed column means the admin's values for it would be silently dropped:
        # no row is trusted until the header is right.
        roster.problems.extend(problems)
        return None
    return keys


def _read_row(
    row: int, columns: list[str | None], cells: list[str], roster: Roster, kind: PortalKind
) -> tuple[RosterEntry | None, dict[str, str]]:
    """The row's entry (None when refused) and what must be unique in it."""
    spec = kind.columns
    problems: list[RosterProblem] = []
    extra = [cell for cell in cells[len(columns) :] if cell.strip()]
    if extra:
        problems.append(
            RosterProblem(
                row, None, f"has {len(cells)} cells but the header names {len(columns)} columns"
            )
        )
    values: dict[str, Any] = {}
    for column, raw in zip(columns, cells, strict=False):
        if column is None:
            if raw.strip():
                problems.append(
                    RosterProblem(row, None, "has a value under a header cell that is empty")
                )
            continue
        value = raw.strip()
        if not value:
            continue  # empty cell: the default applies
        reason = _cell_problem(column, value, spec)
        if reason:
            problems.append(RosterProblem(row, column, reason))
        elif column in spec.yes_no:
            values[column] = value.lower() in _YES
        elif column in spec.none_word and value.lower() == "none":
            values[column] = None
        else:
            values[column] = value
    refused_columns = {problem.column for problem in problems}
    record: Any = None
    try:
        record = kind.build(values)
    except ValidationError as e:
        for error in e.errors():
            column, reason = _translate(error, spec.all)
            if column not in refused_columns or column is None:
                problems.append(RosterProblem(row, column, reason))
    identity = _identity(kind, record, values)
    if problems or record is None:
        roster.problems.extend(problems)
        return None, identity
    return RosterEntry(row=row, record=record), identity


def _identity(kind: PortalKind, record: Any, values: dict[str, Any]) -> dict[str, str]:
    """What must be unique in the file, by the portal's rule or else its unique columns."""
    if kind.identity is not None:
        return kind.identity(record, values)
    source = (
        {column: getattr(record, column, "") for column in kind.columns.unique}
        if record is not None
        else values
    )
    return {
        column: str(source.get(column) or "").strip()
        for column in kind.columns.unique
        if source.get(column)
    }


def _invisible(value: str) -> str | None:
    """The first character of `value` that breaks a line or hides, described, or None."""
    for position, character in enumerate(value, start=1):
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            name = unicodedata.name(character, "control character")
            return f"U+{ord(character):04X} {name} at character {position}"
    return None


def _cell_problem(column: str, value: str, spec: RosterColumns) -> str | None:
    invisible = _invisible(value)
    if invisible:
        return f"holds a line break or an invisible character ({invisible}): retype the cell"
    # A secret (a PIN) is never quoted, not even in part.
    shown = "the value" if column in spec.secret else _shown(value)
    if column in spec.yes_no:
        if value.lower() in _YES | _NO:
            return None
        return f"must be yes or no, not {shown}"
    if column in spec.phone | spec.numeric and _SCIENTIFIC.fullmatch(value):
        return (
            f"{shown} is a number the spreadsheet shortened: format the column as "
            "Text and export again"
        )
    starts = _PHONE_FORMULA_STARTS if column in spec.phone else _FORMULA_STARTS
    if value.startswith(starts):
        return (
            f"starts with '{value[0]}', which a spreadsheet would run as a formula; "
            "remove that character"
        )
    return None


def _translate(error: Any, columns: tuple[str, ...]) -> tuple[str | None, str]:
    """A pydantic error as (column, plain reason)."""
    loc = error.get("loc") or ()
    column: str | None = str(loc[0]) if loc else None
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    given = error.get("input")
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if column is None:
        # Model-level rules name their column first: "username: cannot be derived ...".
        named = re.match(r"^(\w+): (.*)$", message)
        if named and named.group(1) in columns:
            column, message = named.group(1), named.group(2)
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return column, "is required but empty"
    if kind in ("string_too_long", "too_long"):
        length = ctx.get("actual_length") or (len(given) if isinstance(given, str) else None)
        has = f" (this one has {length})" if length else ""
        return column, f"is too long: at most {ctx.get('max_length')} characters{has}"
    return column, message


def _refuse_duplicates(
    identities: list[tuple[int, dict[str, str]]], roster: Roster, unique: tuple[str, ...]
) -> None:
    """Refuse every row that shares a username, email, number or extension with another:
    the portal would refuse the second, and which of them the admin meant is not ours to guess."""
    refused: set[int] = set()
    for column in unique:
        rows_by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row, identity in identities:
            if column in identity:
                shown = identity[column]
                rows_by_key[shown.removesuffix(_MADE).casefold()].append((row, shown))
        for same in rows_by_key.values():
            if len(same) < 2:
                continue
            for row, shown in same:
                others = [other for other, _ in same if other != row]
                where = "row" if len(others) == 1 else "rows"
                made = _MADE if shown.endswith(_MADE) else ""
                value = _cut(shown.removesuffix(_MADE), SHOWN_LIMIT) + made
                roster.problems.append(
                    RosterProblem(row, column, f"{value} also on {where} {_and(others)}")
                )
                refused.add(row)
    roster.entries = [entry for entry in roster.entries if entry.row not in refused]


def _warn_same_names(roster: Roster, kind: PortalKind) -> None:
    rows_by_name: dict[str, list[int]] = defaultdict(list)
    for entry in roster.entries:
        name = " ".join(kind.display(entry.record).split())
        if name and name != kind.key(entry.record):
            rows_by_name[name.casefold()].append(entry.row)
    for rows in rows_by_name.values():
        for row in rows[1:]:
            roster.warnings.append(
                RosterProblem(row, None, f"the same name is on row {rows[0]}: one person twice?")
            )


def _and(numbers: list[int]) -> str:
    text = [str(number) for number in numbers]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _cut(value: str, limit: int) -> str:
    # A huge cell must not flood the admin's terminal or the report.
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _shown(value: str, limit: int = SHOWN_LIMIT) -> str:
    """A cell value quoted for a message, cut short."""
    return f"'{_cut(value, limit)}'"


def _problem_order(problem: RosterProblem, columns: tuple[str, ...]) -> tuple[int, int]:
    order = columns.index(problem.column) if problem.column in columns else -1
    return (problem.row if problem.row is not None else 0, order)
