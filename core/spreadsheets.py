"""Writing .xlsx downloads: a streaming writer every app's lists use (the proposals' lists,
statistics, the audit record).

Kept in core so that apps before proposals (accounts' audit record) can export too.
"""

import datetime
import re
import zipfile
from urllib.parse import quote

from django.http import StreamingHttpResponse
from django.utils import timezone
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    letters = [get_column_letter(i) for i in range(1, len(headers) + 1)]
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
