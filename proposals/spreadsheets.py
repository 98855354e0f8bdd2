"""Reading and writing .xlsx safely: what the imports and the exports share.

An uploaded spreadsheet is a zip of XML written by anyone. Before openpyxl parses it we
look at the container: a zip, an Excel workbook, no macros, and declared sizes that a
real sheet has (a zip bomb declares gigabytes, or squeezes a thousand to one). Python's
zipfile never inflates a member past its declared size, so checking those sizes bounds
what parsing can cost.
"""

import io
import re
import zipfile

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from core.spreadsheets import XLSX_CONTENT_TYPE, as_cell_value, stream_xlsx  # noqa: F401 (the writer moved to core)
from core.workflow import Refused

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
# Shared strings and sheets of real text compress about 5–20 to one; a bomb a thousand.
MAX_RATIO = 200
MAX_ROWS = 5000
MAX_COLUMNS = 30
# Rows further down than this are not a session's proposals, whatever is in them.
MAX_SHEET_ROW = MAX_ROWS + 1000

MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*\bref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


def check_container(data):
    """Refuse what is not a plain .xlsx workbook, before any XML is parsed."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(
            _("The file is larger than %(size)d MB.") % {"size": MAX_UPLOAD_BYTES // 1024 // 1024}
        )
    not_xlsx = _("This is not an Excel .xlsx file. Please save it as “Excel workbook (*.xlsx)”.")
    if not data.startswith(b"PK\x03\x04"):
        raise Refused(not_xlsx)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Refused(not_xlsx) from None
    names = {m.filename for m in members}
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise Refused(
            _("The file contains macros (.xlsm). Please save it as a plain .xlsx workbook.")
        )
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise Refused(not_xlsx)
    try:
        content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        raise Refused(not_xlsx) from None
    if b"macroEnabled" in content_types:
        raise Refused(
            _("The file contains macros (.xlsm). Please save it as a plain .xlsx workbook.")
        )
    bomb = _("The file unpacks to far more data than a spreadsheet holds; it was not read.")
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise Refused(bomb)
    for member in members:
        if member.file_size > 1024 * 1024 and (
            member.compress_size == 0 or member.file_size / member.compress_size > MAX_RATIO
        ):
            raise Refused(bomb)
    return archive


def merged_ranges(archive, sheet_path):
    """The merged ranges of a sheet: openpyxl's read-only mode does not read them."""
    try:
        xml = archive.read(sheet_path.lstrip("/"))
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return []
    return [
        (
            m.group(1).decode() + m.group(2).decode(),
            (m.group(3) or m.group(1)).decode() + (m.group(4) or m.group(2)).decode(),
            int(m.group(2)),
        )
        for m in MERGE_CELL.finditer(xml)
    ]


def open_sheet(data):
    """The first worksheet of an uploaded workbook, read-only, with formulas left as formulas.

    Returns (workbook, sheet); the caller closes the workbook. Refused for a malformed file.
    """
    archive = check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
    except Exception:  # noqa: BLE001 — any parser error means the same to the user
        raise Refused(_("The file could not be read as an Excel workbook.")) from None
    merges = merged_ranges(archive, getattr(sheet, "_worksheet_path", "xl/worksheets/sheet1.xml"))
    header_merges = [f"{first}:{last}" for first, last, row in merges if row == 1]
    if header_merges:
        book.close()
        raise Refused(
            _("The header row has merged cells (%(cells)s). Please unmerge them.")
            % {"cells": "、".join(header_merges)}
        )
    if merges:
        book.close()
        raise Refused(
            _("The sheet has merged cells (%(cells)s). Please unmerge them: one value a cell.")
            % {"cells": "、".join(f"{first}:{last}" for first, last, _row in merges[:5])}
        )
    return book, sheet


def is_formula(cell):
    value = cell.value
    return cell.data_type == "f" or (isinstance(value, str) and value.startswith("="))


def sheet_rows(sheet):
    """(row number, cells) of the rows that hold anything, at most MAX_ROWS after the header.

    Refused past the caps: a session's proposals or a roster never come near them.
    """
    count = 0
    # Read-only rows start at row 1 and fill the gaps, so the position is the row number
    # (an empty cell carries no coordinates of its own).
    for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1), 1):
        if not any(c.value not in (None, "") for c in cells):
            if number > MAX_SHEET_ROW:
                break
            continue
        if len(cells) > MAX_COLUMNS and cells[MAX_COLUMNS].value not in (None, ""):
            raise Refused(
                _("The sheet has more than %(count)d columns. Please use the template.")
                % {"count": MAX_COLUMNS}
            )
        count += 1
        if count > MAX_ROWS + 1 or number > MAX_SHEET_ROW:
            raise Refused(
                ngettext(
                    "The sheet has more than %(count)d row; please split it into several files.",
                    "The sheet has more than %(count)d rows; please split it into several files.",
                    MAX_ROWS,
                )
                % {"count": MAX_ROWS}
            )
        yield number, cells[:MAX_COLUMNS]


def column_letter(index):
    return get_column_letter(index)
