"""Building spreadsheets for the import tests, good and malformed."""

import io
import zipfile

from openpyxl import Workbook, load_workbook

from proposals.imports import COLUMNS

HEADERS = [header for _key, header in COLUMNS]


def proposal_row(title="关于完善社区养老服务的建议", first="张华", **values):
    row = {
        "案由": title,
        "第一提案人": first,
        "附议人": "",
        "提案类型": "",
        "类别": "经济建设",
        "理由": "理由",
        "办法和建议": "建议",
        "建议承办单位": "区科技局",
        "提出时间": "2026-01-05",
        "同意公开": "是",
    }
    row.update(values)
    return [row[h] for h in HEADERS]


def workbook_bytes(rows, headers=HEADERS, edit=None):
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    if edit:
        edit(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rows_of(data):
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def with_member(data, name, content, compress=zipfile.ZIP_DEFLATED):
    """The same workbook with one more member in its zip."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(name, content, compress_type=compress)
    return buffer.getvalue()


def zip_bomb(data):
    """A workbook carrying 20 MB of zeros squeezed a thousand to one, as bombs are."""
    return with_member(data, "xl/media/padding.bin", b"\0" * (20 * 1024 * 1024))
