"""Reading and writing .xlsx safely: what the imports and the exports share.

An uploaded spreadsheet is a zip of XML written by anyone. Before openpyxl parses it we
look at the container: a zip, an Excel workbook, no macros, and declared sizes that a
real sheet has (a zip bomb declares gigabytes, or squeezes a thousand to one). Python's
zipfile never inflates a member past its declared size, so checking those sizes bounds
what parsing can cost.
"""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import quote

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.workflow import Refused

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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


def open_book(data):
    """An uploaded workbook after the container checks, read-only, formulas left as
    formulas. Returns (workbook, archive); the caller closes the workbook and checks each
    sheet it reads with `check_merges`. Refused for a malformed file."""
    from openpyxl import load_workbook  # on the first upload (openpyxl is 10 MB a worker)

    archive = check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 — any parser error means the same to the user
        raise Refused(_("The file could not be read as an Excel workbook.")) from None
    if not book.worksheets:
        book.close()
        raise Refused(_("The file could not be read as an Excel workbook."))
    return book, archive


def check_merges(archive, sheet):
    """Refuse a sheet with merged cells: one value a cell, and a header of plain columns."""
    merges = merged_ranges(archive, getattr(sheet, "_worksheet_path", "xl/worksheets/sheet1.xml"))
    header_merges = [f"{first}:{last}" for first, last, row in merges if row == 1]
    if header_merges:
        raise Refused(
            _("The header row has merged cells (%(cells)s). Please unmerge them.")
            % {"cells": "、".join(header_merges)}
        )
    if merges:
        raise Refused(
            _("The sheet has merged cells (%(cells)s). Please unmerge them: one value a cell.")
            % {"cells": "、".join(f"{first}:{last}" for first, last, _row in merges[:5])}
        )


def open_sheet(data):
    """The first worksheet of an uploaded workbook, read-only, with formulas left as formulas.

    Returns (workbook, sheet); the caller closes the workbook. Refused for a malformed file.
    """
    book, archive = open_book(data)
    sheet = book.worksheets[0]
    try:
        check_merges(archive, sheet)
    except Refused:
        book.close()
        raise
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


def cell_value(cell):
    """The cell's value as an import reads it: text, or a date for a date cell."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_header(cells, columns, optional=()):
    """{key: column index} from a header row of `columns` ((key, header) pairs); problems
    as a list of messages. A header may carry a note after it: "姓名*", "手机（选填）"."""
    problems = []
    positions = {}
    by_header = {header: key for key, header in columns}
    for index, cell in enumerate(cells):
        text = cell_value(cell)
        if text == "":
            continue
        if is_formula(cell):
            problems.append(
                _("Cell %(cell)s of the header row is a formula.") % {"cell": cell.coordinate}
            )
            continue
        name = re.sub(r"[\s*＊（(].*$", "", str(text)).strip() or str(text)
        key = by_header.get(name)
        if key is None:
            problems.append(
                _("Unknown column “%(header)s” in %(cell)s. Please use the template's columns.")
                % {"header": text, "cell": column_letter(index + 1)}
            )
        elif key in positions:
            problems.append(_("The column “%(header)s” appears twice.") % {"header": name})
        else:
            positions[key] = index
    missing = [header for key, header in columns if key not in positions and key not in optional]
    if missing:
        problems.append(
            _("The header row lacks the columns: %(columns)s.") % {"columns": "、".join(missing)}
        )
    return positions, problems


@dataclass
class Cell:
    """One cell of an import's preview: where it is, what it holds, what is wrong with it."""

    key: str
    header: str
    letter: str
    value: str
    errors: list


class RowProblems:
    """An imported row's problems, by column key ("" for the row as a whole)."""

    def add(self, key, message):
        self.errors.setdefault(key, []).append(str(message))

    @property
    def ok(self):
        return not self.errors


class PreviewProblems:
    """An import's preview: clean when the file and every row are, and it has rows."""

    @property
    def ok(self):
        return not self.file_errors and bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def rows_with_problems(self):
        return [r for r in self.rows if not r.ok]

    @property
    def problem_count(self):
        return len(self.file_errors) + sum(
            len(messages) for r in self.rows for messages in r.errors.values()
        )


def column_letter(index):
    """A, B, … Z, AA, … for 1, 2, … (openpyxl's `get_column_letter`, without loading openpyxl
    in every worker for it)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --- writing ---------------------------------------------------------------------------------


def as_cell_value(value):
    """Dates as 2022-07-20 (text, as the committee writes them), times in Beijing time."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).date().isoformat()
            if timezone.is_aware(value)
            else (value.date().isoformat())
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# --- streaming a download -----------------------------------------------------------------------
#
# openpyxl's writer (pure Python without lxml) needs about 20 µs a cell: 100,000 rows of a
# dozen columns take minutes. A list download needs one sheet of text and dates, so it is
# written here directly: the sheet's XML row by row into a zip that is sent as it grows,
# with inline strings (never a formula, nothing kept per row). openpyxl reads it back in
# the tests, and writes the import template, which has formatting.

ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

STATIC_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    # Style 0 plain, style 1 bold (the header row).
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


class _Pipe:
    """A write-only file for zipfile whose contents are taken away as they are sent."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self.chunks)
        self.chunks = []
        return data


def _xml_text(value):
    text = ILLEGAL_XML.sub("", str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(reference, value, style=""):
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{reference}" t="b"{style}><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{reference}"{style}><v>{value}</v></c>'
    # Everything else as text: an inline string is never read as a formula.
    return f'<c r="{reference}" t="inlineStr"{style}><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'


def _row_xml(number, values, letters, style=""):
    cells = "".join(
        _cell_xml(f"{letter}{number}", value, style)
        for letter, value in zip(letters, values, strict=False)
    )
    return f'<row r="{number}">{cells}</row>'


def stream_xlsx(title, headers, rows, widths=None, flush_every=500):
    """Yield an .xlsx file in pieces: `headers` in bold, then `rows` (values as for
    `as_cell_value`), sent every `flush_every` rows; memory stays flat whatever the count."""
    pipe = _Pipe()
    letters = [column_letter(i) for i in range(1, len(headers) + 1)]
    sheet_name = _xml_text(re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "Sheet1").replace(
        '"', "&quot;"
    )
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in STATIC_PARTS.items():
            archive.writestr(name, content)
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        yield pipe.take()
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                for i, w in enumerate(widths or [], 1)
            )
            sheet.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    + (f"<cols>{cols}</cols>" if cols else "")
                    + "<sheetData>"
                    + _row_xml(1, [str(h) for h in headers], letters, ' s="1"')
                ).encode()
            )
            batch = []
            for number, row in enumerate(rows, 2):
                batch.append(_row_xml(number, [as_cell_value(v) for v in row], letters))
                if len(batch) >= flush_every:
                    sheet.write("".join(batch).encode())
                    batch = []
                    yield pipe.take()
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())
    yield pipe.take()


def xlsx_response(file_stem, title, headers, rows, widths=None):
    """A download of `rows` (an iterable of tuples) under `headers`, streamed as it is built."""
    name = f"{file_stem}-{timezone.localdate().isoformat()}.xlsx"
    response = StreamingHttpResponse(
        stream_xlsx(title, headers, rows, widths), content_type=XLSX_CONTENT_TYPE
    )
    # RFC 6266: the Chinese name for browsers, an ASCII one for the rest.
    response["Content-Disposition"] = (
        f'attachment; filename="export-{timezone.localdate().isoformat()}.xlsx"; '
        f"filename*=UTF-8''{quote(name)}"
    )
    return response
