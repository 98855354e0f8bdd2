"""Reading and writing .xlsx safely: moved to `core.spreadsheets`, where the roster import
(accounts) reads its files too. The names stay importable from here."""

from core.spreadsheets import (  # noqa: F401
    MAX_COLUMNS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_SHEET_ROW,
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    XLSX_CONTENT_TYPE,
    as_cell_value,
    check_container,
    column_letter,
    is_formula,
    merged_ranges,
    open_sheet,
    sheet_rows,
    stream_xlsx,
)
