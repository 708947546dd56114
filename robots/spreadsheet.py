"""Reading a roster straight from an Excel workbook (.xlsx), as the text a person sees.

HR keeps new hires in Excel; saving a CSV first is a step people forget or get wrong
(Excel's CSV drops leading zeros and writes long numbers as 6.03E+09). This module opens
the workbook itself and hands the roster reader one list of cell texts per row, so every
check, message and defence of the CSV path applies unchanged.

What it decides, and why:
- The sheet: the first visible one in tab order, or the one named after a '#' in the path
  (`roster.xlsx#New hires`). A hidden sheet is read only when named: the admin cannot see
  what the robot would read.
- Formulas are refused, never evaluated: the workbook is opened with `data_only=False`, so
  a formula cell is seen as its formula. Its cached result could be stale, and a formula
  is how a spreadsheet smuggles in values nobody typed.
- Numbers come back as people read them: 1001, not 1001.0; 6025550142, not 6.03E+09. A
  number formatted with zeros only ("0000", Excel's Zip Code format) keeps the leading
  zeros it shows; any other leading zero is kept only where the cell holds text.
- Dates and times are refused: no roster column takes one, and a date where an extension
  belongs is Excel having turned "3-4" into the 4th of March.
- Hidden rows and columns are read, as a CSV export would; merged cells are refused (only
  their first cell holds the value the others appear to show).
- Refused whole: what is not a workbook, an encrypted (password-protected) one, a binary
  (.xlsb) one, one with macros (.xlsm: nothing here would run them, but a roster needs
  none), and one too big for a roster (a zip bomb unpacks to gigabytes).
"""

from __future__ import annotations

import datetime
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

# The suffixes read as workbooks whatever the bytes inside; the rest are sniffed.
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb"})

# A roster is a few hundred rows of a dozen columns; these leave room for a whole
# company and still refuse a zip bomb before it is unpacked.
MAX_ROWS = 10_000
MAX_COLUMNS = 100
MAX_UNPACKED = 64 * 1024 * 1024
MAX_PARTS = 2_000
# Excel's last row; a sheet claiming rows past it is damaged or made to waste time.
_EXCEL_ROWS = 1_048_576

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .xlsx is an OLE file holding these streams (MS-OFFCRYPTO), names in UTF-16.
_ENCRYPTED = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_MACRO_TYPE = "macroEnabled"
_MERGE_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}mergeCell"
_ZEROS_FORMAT = re.compile(r"0+")


class WorkbookError(Exception):
    """The workbook cannot be read as a roster at all; the message says why in plain words."""


@dataclass(frozen=True)
class CellProblem:
    """A cell that cannot stand as text, at its row (as Excel numbers it) and column (A = 1)."""

    row: int
    column: int
    reason: str

    @property
    def letter(self) -> str:
        """The column as Excel names it: A, B, ..., AA."""
        return column_letter(self.column)

    @property
    def cell(self) -> str:
        return f"{self.letter}{self.row}"


@dataclass
class Sheet:
    """One sheet as text: `rows[0]` is Excel's row 1, a blank row is `[]`, trailing empty
    cells and rows are dropped; a refused cell reads as '' and is listed in `problems`."""

    name: str
    rows: list[list[str]] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)


def column_letter(number: int) -> str:
    """1 -> A, 27 -> AA: a column as Excel names it."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def split_sheet(path: Path) -> tuple[Path, str | None]:
    """`roster.xlsx#New hires` -> (roster.xlsx, 'New hires'); any other path as it is.

    A file whose own name holds '#' is taken whole when it exists."""
    if path.exists():
        return path, None
    match = re.fullmatch(r"(.*?\.(?:xlsx|xlsm|xltx|xltm|xlsb))#(.*)", str(path), re.IGNORECASE)
    if match is None:
        return path, None
    return Path(match.group(1)), match.group(2) or None


def is_workbook(path: Path, data: bytes) -> bool:
    """Whether `data` is to be read as a workbook rather than as CSV text."""
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return True
    if data.startswith(_OLE):
        return _is_encrypted(data)
    if not data.startswith(_ZIP):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "[Content_Types].xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False  # the CSV path says what a damaged zip is


def read_sheet(data: bytes, sheet: str | None = None) -> Sheet:
    """The named sheet of the workbook in `data` (else the first visible one) as text."""
    _check_package(data)
    # openpyxl takes half a second to import: only a workbook pays for it.
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it skips (data validation, slicers): not the admin's
            # business, and a warning would print in the middle of `onboard check`.
            warnings.simplefilter("ignore")
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_vba=False, keep_links=False
            )
    except Exception as e:
        # openpyxl raises whatever its parsers meet (KeyError, ValueError, XML errors, a
        # defusedxml refusal of entities): all mean the same to the admin.
        raise WorkbookError(
            "this file cannot be read as an Excel workbook (it may be damaged, or made by a "
            "program Excel does not follow): open it in Excel and save it as 'Excel Workbook "
            f"(.xlsx)' or as CSV ({type(e).__name__})"
        ) from e
    try:
        worksheet = _choose(workbook, sheet)
        result = Sheet(name=str(worksheet.title))
        _check_merged(data, worksheet)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _read_cells(worksheet, result)
        return result
    except WorkbookError:
        raise
    except Exception as e:
        raise WorkbookError(
            f"the sheet cannot be read ({type(e).__name__}): the workbook may be damaged; "
            "open it in Excel and save it again, or save the sheet as CSV"
        ) from e
    finally:
        workbook.close()


def _is_encrypted(data: bytes) -> bool:
    return any(name in data for name in _ENCRYPTED)


def _check_package(data: bytes) -> None:
    """Refuse what is not an .xlsx workbook, or too big for a roster, before anything unpacks."""
    if data.startswith(_OLE):
        if _is_encrypted(data):
            raise WorkbookError(
                "this workbook is password-protected (encrypted) and cannot be read: save a "
                "copy without the password (File > Info > Protect Workbook), or save it as CSV"
            )
        raise WorkbookError(
            "this is an old Excel workbook (.xls): save it from Excel as 'Excel Workbook "
            "(.xlsx)' or as CSV"
        )
    if not data.startswith(_ZIP):
        raise WorkbookError(
            "this file is not an Excel workbook: open it in Excel and save it as 'Excel "
            "Workbook (.xlsx)', or name a CSV file .csv"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise WorkbookError(
            "this workbook is damaged (it cannot be unpacked): save it again from Excel, or as CSV"
        ) from e
    with archive:
        parts = archive.infolist()
        names = {part.filename for part in parts}
        # Reading a part stops at its declared size (zipfile checks), so the sum of the
        # declared sizes bounds what openpyxl can unpack.
        if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNPACKED:
            raise WorkbookError(
                f"this workbook is too large for a roster (it unpacks to more than "
                f"{MAX_UNPACKED // (1024 * 1024)} MB): save the roster sheet alone as .xlsx "
                "or as CSV"
            )
        if "mimetype" in names and "content.xml" in names:
            raise WorkbookError(
                "this is an OpenDocument spreadsheet (.ods), not an Excel workbook: save it "
                "as 'Excel Workbook (.xlsx)' or as CSV"
            )
        if "xl/workbook.bin" in names:
            raise WorkbookError(
                "this is a binary Excel workbook (.xlsb): save it as 'Excel Workbook "
                "(.xlsx)' or as CSV"
            )
        content_types = (
            archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        )
        if "xl/vbaProject.bin" in names or _MACRO_TYPE.encode() in content_types:
            raise WorkbookError(
                "this workbook holds macros (.xlsm), which a roster never needs: save it as "
                "'Excel Workbook (.xlsx)' or as CSV"
            )
        if not content_types:
            raise WorkbookError(
                "this is a zip file, not an Excel workbook: save the roster from the "
                "spreadsheet as 'Excel Workbook (.xlsx)' or as CSV"
            )


def _choose(workbook: Any, name: str | None) -> Any:
    """The sheet the admin named (exactly, else ignoring case as Excel does), or the first
    visible worksheet."""
    worksheets = list(workbook.worksheets)
    if name is None:
        for worksheet in worksheets:
            if worksheet.sheet_state == "visible":
                return worksheet
        raise WorkbookError("this workbook has no visible sheet of cells to read the roster from")
    for match in (lambda title: title == name, lambda title: title.casefold() == name.casefold()):
        for worksheet in worksheets:
            if match(str(worksheet.title)):
                return worksheet
    if any(str(title).casefold() == name.casefold() for title in workbook.sheetnames):
        raise WorkbookError(f"the sheet '{name}' is a chart, not a sheet of cells")
    visible = [f"'{ws.title}'" for ws in worksheets if ws.sheet_state == "visible"]
    listed = ", ".join(visible) if visible else "none that is visible"
    raise WorkbookError(f"the workbook has no sheet named '{name}'; its sheets are {listed}")


def _check_merged(data: bytes, worksheet: Any) -> None:
    """Refuse merged cells: a merged range shows one value over several cells but holds it
    in the first only, so the others would read as empty where the admin sees a value."""
    # openpyxl's read-only sheets do not report merges; the sheet's part lists them itself.
    part = getattr(worksheet, "_worksheet_path", None)
    if not part:
        return
    # openpyxl's parser: defusedxml's when installed, which refuses entity declarations.
    from openpyxl.xml.functions import iterparse

    merged: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(part) as source:
        for _, element in iterparse(source):
            if element.tag == _MERGE_TAG:
                ref = str(element.get("ref", ""))
                if ":" in ref and ref.split(":")[0] != ref.split(":")[1]:
                    merged.append(ref)
            element.clear()
    if merged:
        shown = ", ".join(merged[:3]) + (f" and {len(merged) - 3} more" if len(merged) > 3 else "")
        raise WorkbookError(
            f"the sheet '{worksheet.title}' has merged cells ({shown}): unmerge them and give "
            "each row its own value"
        )


def _read_cells(worksheet: Any, sheet: Sheet) -> None:
    # The size a sheet declares may be wrong or hostile (A1:XFD1048576): read what is there.
    worksheet.reset_dimensions()
    for number, cells in enumerate(worksheet.iter_rows(), start=1):
        if not cells:
            # openpyxl fills the gap before a far row with empty ones; a row claimed past
            # Excel's last would keep it filling for minutes.
            if number > _EXCEL_ROWS:
                raise WorkbookError(
                    f"the sheet '{sheet.name}' claims rows past Excel's last row: the "
                    "workbook is damaged; save it again from Excel"
                )
            continue
        texts = _row_texts(number, cells, sheet)
        if not texts and not any(problem.row == number for problem in sheet.problems[-1:]):
            continue
        if number > MAX_ROWS:
            raise WorkbookError(
                f"the sheet '{sheet.name}' has values past row {MAX_ROWS}: too many for one "
                "roster; split it into several files"
            )
        # Blank rows are kept only between rows with values, so row numbers stay Excel's.
        sheet.rows.extend([] for _ in range(number - 1 - len(sheet.rows)))
        sheet.rows.append(texts)


def _row_texts(number: int, cells: Any, sheet: Sheet) -> list[str]:
    """A row's cells as text, trailing empty ones dropped; refused cells read as ''."""
    texts: list[str] = []
    for cell in cells:
        if cell.value is None:
            continue
        column = int(cell.column)
        if column > MAX_COLUMNS:
            raise WorkbookError(
                f"the sheet '{sheet.name}' has a value in cell {column_letter(column)}"
                f"{number}, past column {column_letter(MAX_COLUMNS)}: a roster has at "
                f"most {MAX_COLUMNS} columns; delete what lies to the right of them"
            )
        text, reason = _text(cell)
        if reason is not None:
            if not sheet.rows:
                # A header column named by a formula is a column the robot cannot name:
                # like any header problem, no row is trusted until it is fixed.
                raise WorkbookError(f"header cell {column_letter(column)}{number} {reason}")
            sheet.problems.append(CellProblem(number, column, reason))
            text = ""
        texts.extend([""] * (column - 1 - len(texts)))
        texts.append(text)
    while texts and not texts[-1].strip():
        texts.pop()
    return texts


def _text(cell: Any) -> tuple[str, str | None]:
    """The text a person sees in the cell, or ('', the reason it is refused)."""
    value = cell.value
    if cell.data_type == "f" or not isinstance(
        value, str | int | float | bool | datetime.date | datetime.time | datetime.timedelta
    ):
        # data_only=False: the cell is its formula (array and data-table formulas come as
        # objects), never a cached result. The formula is not quoted: it may spell out a
        # secret column's value.
        return "", (
            "holds a formula; formulas are not accepted: type the value itself (or copy the "
            "column and paste it back as Values)"
        )
    if cell.data_type == "e":
        return "", f"holds the error {value}: type the value itself"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        return "", (
            "holds a date or time, which no roster column takes (Excel turns text such as "
            "3-4 into a date): format the column as Text and type the value again"
        )
    if isinstance(value, int | float):
        return _number(value, str(cell.number_format or "General")), None
    return value, None


def _number(value: int | float, number_format: str) -> str:
    """A number as Excel shows it in a roster's columns: whole numbers in full, never in
    scientific notation; zero-padded when the format is zeros only (Zip Code, '0000')."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        if value >= 0 and _ZEROS_FORMAT.fullmatch(number_format):
            text = text.zfill(len(number_format))
        return text
    # Excel keeps 15 significant digits; show them without an exponent.
    return format(Decimal(format(value, ".15g")).normalize(), "f")
