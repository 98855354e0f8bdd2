"""The statistics page and its Excel workbook: the tables of `replies.statistics`, for committee
staff (every table) and a unit's people (their own unit's rows and the totals).

The charts are SVG drawn here and in the template: no script, no CDN. What repeats (the
tables' rows and heads, the charts' bars) is written here rather than in the template: the
template language takes ten times longer over thousands of cells and coordinates.
"""

import io
from urllib.parse import quote, urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.spreadsheets import column_letter
from core.views import require
from proposals import access, deadlines
from proposals.models import Session

from ..statistics import STATE_BANDS, digest, statistics, versions
from ..statistics_forms import StatisticsForm

# What a unit's people see: the totals (by session) and their own unit's rows.
UNIT_TABLES = ["sessions", "units", "round2"]
# The rendered figures also carry names (units, categories) that change without an audit
# event: kept for minutes, not for as long as the counts.
PAGE_CACHE_SECONDS = 300


def _viewer(user):
    """(committee, the user's units); 403 for anyone who is neither."""
    committee = access.is_committee(user)
    units = access.unit_ids(user)
    require(committee or bool(units))
    return committee, units


def _scope(request):
    """The session asked for (None: all sessions), the form, and the table to download.

    Without a choice, the current session. A bad choice is shown on the form, and the
    figures are those of the current session.
    """
    current = Session.objects.select_related("term").filter(is_current=True).first()
    data = request.GET.copy()
    data.setdefault("session", current.pk if current else "")
    form = StatisticsForm(data)
    if form.is_valid():
        return form.cleaned_data["session"], form, form.cleaned_data["table"]
    return current, form, ""


def _tables(stats, committee):
    keys = list(stats.tables) if committee else UNIT_TABLES
    return [stats.tables[key] for key in keys]


def _scope_label(session):
    return str(session) if session else _("All sessions")


@login_required
@require_GET
def index(request):
    committee, units = _viewer(request.user)
    session, form, _table = _scope(request)
    today = deadlines.local_today()
    query = urlencode({"session": session.pk if session else ""})
    # The figures' part of the page is the same for everyone with the same view of the same
    # data: kept until the data of the sessions shown changes (see statistics.figures).
    viewer = "committee" if committee else "units-" + "-".join(map(str, sorted(units)))
    session_versions = versions(session)
    key = ":".join(
        [
            "statistics:page:v2",
            get_language(),
            str(session.pk if session else "all"),
            today.isoformat(),
            digest(session_versions),
            viewer,
        ]
    )
    figures = cache.get(key)
    if figures is None:
        stats = statistics(
            session,
            today,
            unit_ids=None if committee else set(units),
            session_versions=session_versions,
        )
        tables = _tables(stats, committee)
        for table in tables:
            table.head = table_head(table)
            table.body = table_body(table)
        figures = render_to_string(
            "work/statistics/_figures.html",
            {
                "stats": stats,
                "tables": tables,
                "query": query,
                "unit_chart": unit_chart(stats.tables["units"]),
                "state_chart": state_chart(stats),
            },
            request=request,
        )
        cache.set(key, figures, PAGE_CACHE_SECONDS)
    return render(
        request,
        "work/statistics/index.html",
        {
            "form": form,
            "session": session,
            "figures": mark_safe(figures),  # noqa: S308 — rendered by the template above
            "scope": _scope_label(session),
            "today": today,
            "query": query,
        },
    )


def table_body(table):
    """The table's rows as HTML. Labels are escaped; the cells are numbers and percentages,
    the column keys our own."""
    columns = [
        (c, c.text, f'<td class="{"rate" if c.is_rate else "num"}" data-column="{c.key}">')
        for c in table.columns
    ]
    lines = []
    for row in table.all_rows():
        value = row.value
        cells = "".join([f"{opening}{text(value(c))}</td>" for c, text, opening in columns])
        total = ' class="total"' if row is table.total else ""
        lines.append(
            f'<tr{total} data-row="{escape(row.key)}">'
            f'<th scope="row">{escape(row.label)}</th>{cells}</tr>'
        )
    return mark_safe("\n".join(lines))  # noqa: S308 — built from escaped parts above


_heads = {}


def table_head(table):
    """The table's head as HTML: the same for every table of its key in a language, so
    made once per process."""
    key = (table.key, get_language())
    if key not in _heads:
        groups = "".join(
            f'<th colspan="{span}" scope="colgroup" class="group">{escape(group)}</th>'
            for group, span in table.groups
        )
        columns = "".join(
            f'<th scope="col" data-column="{c.key}"'
            + (f' title="{escape(c.definition)}"' if c.definition else "")
            + f">{escape(c.label)}</th>"
            for c in table.columns
        )
        _heads[key] = mark_safe(  # noqa: S308 — built from escaped parts
            f'<tr>\n        <th rowspan="2" scope="col">{escape(table.dimension)}</th>\n'
            f"        {groups}\n      </tr>\n      <tr>\n        {columns}\n      </tr>"
        )
    return _heads[key]


# --- charts ------------------------------------------------------------------------------------

CHART_WIDTH = 760
LABEL_WIDTH = 170
PLOT_WIDTH = 520
STATE_COLOURS = {
    "review": "#bdbdbd",
    "accepted": "#e8b83d",
    "handling": "#5b8bd9",
    "replied": "#7fb77e",
    "closed": "#2f7d4f",
    "not_accepted": "#b55d5d",
}


def _percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


def unit_chart(table):
    """Rates by unit: 办复率 as the wide bar, 按期办复率 inside it, 见面率 as a tick."""
    columns = {c.key: c for c in table.columns}
    row_height = 22
    rows = []
    for i, row in enumerate(table.all_rows()):
        reply, on_time, face = (
            row.value(columns[k]) for k in ("reply_rate", "on_time_rate", "face_rate")
        )
        y = 30 + i * row_height
        rows.append(
            {
                "label": row.label,
                "is_total": row is table.total,
                "y": y,
                "text_y": y + 15,
                "reply_width": round((reply or 0) * PLOT_WIDTH, 1),
                "on_time_width": round((on_time or 0) * PLOT_WIDTH, 1),
                "face_x": round(LABEL_WIDTH + (face or 0) * PLOT_WIDTH, 1) if face else None,
                "title": _(
                    "%(unit)s: reply rate %(reply)s, on-time reply rate %(on_time)s, "
                    "face-to-face rate %(face)s"
                )
                % {
                    "unit": row.label,
                    "reply": _percent(reply),
                    "on_time": _percent(on_time),
                    "face": _percent(face),
                },
                "value": _percent(reply),
            }
        )
    height = 30 + len(rows) * row_height + 10
    ticks = [
        {"x": LABEL_WIDTH + PLOT_WIDTH * p / 100, "label": f"{p}%"} for p in (0, 25, 50, 75, 100)
    ]
    bars = []
    for row in rows:
        y, text_y = row["y"], row["text_y"]
        face = (
            f'<line x1="{row["face_x"]}" y1="{y}" x2="{row["face_x"]}" y2="{y + 20}" class="face"/>'
            if row["face_x"]
            else ""
        )
        bars.append(
            f'<g class="bar-row{" total" if row["is_total"] else ""}">'
            f"<title>{escape(row['title'])}</title>"
            f'<text x="{LABEL_WIDTH - 6}" y="{text_y}" text-anchor="end">'
            f"{escape(row['label'])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{row["reply_width"]}" height="16" '
            'class="reply"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 7}" width="{row["on_time_width"]}" height="6" '
            'class="on-time"/>'
            f"{face}"
            f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{text_y}" class="value">'
            f"{escape(row['value'])}</text></g>"
        )
    return {
        "rows": rows,
        "bars": mark_safe("\n".join(bars)),  # noqa: S308 — built from escaped parts above
        "height": height,
        "width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 6,
        "value_x": LABEL_WIDTH + PLOT_WIDTH + 6,
        "ticks": ticks,
        "axis_bottom": height - 10,
    }


def state_chart(stats):
    """Proposals by state, session after session: one stacked bar per session."""
    row_height = 26
    totals = {
        s.pk: sum(stats.by_state.get((s.pk, band), 0) for band, _l, _s in STATE_BANDS)
        for s in stats.sessions
    }
    largest = max(totals.values(), default=0) or 1
    rows = []
    for i, session in enumerate(stats.sessions):
        y = 30 + i * row_height
        x = LABEL_WIDTH
        segments = []
        for band, label, _states in STATE_BANDS:
            n = stats.by_state.get((session.pk, band), 0)
            if not n:
                continue
            width = round(n / largest * PLOT_WIDTH, 1)
            segments.append(
                {
                    "x": x,
                    "width": width,
                    "colour": STATE_COLOURS[band],
                    "title": f"{session} · {label}: {n}",
                }
            )
            x = round(x + width, 1)
        rows.append(
            {
                "label": str(session),
                "y": y,
                "text_y": y + 16,
                "segments": segments,
                "total": totals[session.pk],
                "total_x": x + 6,
            }
        )
    legend = [
        {"x": 10 + i * 125, "colour": STATE_COLOURS[band], "label": label}
        for i, (band, label, _states) in enumerate(STATE_BANDS)
    ]
    bars = []
    for row in rows:
        segments = "".join(
            f'<rect x="{segment["x"]}" y="{row["y"] + 3}" width="{segment["width"]}" '
            f'height="18" fill="{segment["colour"]}"><title>{escape(segment["title"])}</title>'
            "</rect>"
            for segment in row["segments"]
        )
        bars.append(
            f'<g class="bar-row"><text x="{LABEL_WIDTH - 6}" y="{row["text_y"]}" '
            f'text-anchor="end" class="tick">{escape(row["label"])}</text>{segments}'
            f'<text x="{row["total_x"]}" y="{row["text_y"]}" class="value">{row["total"]}</text>'
            "</g>"
        )
    return {
        "rows": rows,
        "bars": mark_safe("\n".join(bars)),  # noqa: S308 — built from escaped parts above
        "legend": legend,
        "height": 30 + len(rows) * row_height + 10,
        "width": CHART_WIDTH,
        "label_x": LABEL_WIDTH - 6,
    }


# --- the workbook ------------------------------------------------------------------------------


def _sheet_name(title, taken):
    name = "".join(c for c in str(title) if c not in "[]:*?/\\")[:31] or "Sheet"
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]}({n})"
        n += 1
    return name


def workbook(tables, scope, today):
    """One sheet per table: a title, the column groups, the headers, the rows, the total."""
    # openpyxl on the first workbook a worker writes, not in every worker.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    header_fill = PatternFill("solid", fgColor="F0F0EE")
    bold = Font(bold=True)
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(_sheet_name(table.title, book.sheetnames))
        width = len(table.columns) + 1
        title = _("%(scope)s · %(table)s · as of %(date)s") % {
            "scope": scope,
            "table": table.title,
            "date": today.isoformat(),
        }
        sheet.append([title])
        sheet.cell(1, 1).font = Font(bold=True, size=13)
        groups = [""]
        for group, span in table.groups:
            groups += [str(group)] + [""] * (span - 1)
        sheet.append(groups)
        column = 2
        for _group, span in table.groups:
            if span > 1:
                sheet.merge_cells(
                    start_row=2, start_column=column, end_row=2, end_column=column + span - 1
                )
            column += span
        sheet.append([str(table.dimension)] + [str(c.label) for c in table.columns])
        for row_number in (2, 3):
            for cell in sheet[row_number][:width]:
                cell.font = bold
                cell.fill = header_fill
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for row in table.all_rows():
            sheet.append([str(row.label)] + [cell.value for cell in row.cells(table.columns)])
            for cell, column in zip(sheet[sheet.max_row][1:], table.columns, strict=True):
                if column.is_rate:
                    cell.number_format = "0.0%"
            if row is table.total:
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
        sheet.column_dimensions["A"].width = 28
        for i in range(2, width + 1):
            sheet.column_dimensions[column_letter(i)].width = 11
        sheet.freeze_panes = "B4"
    return book


@login_required
@require_GET
def xlsx(request):
    committee, units = _viewer(request.user)
    session, _form, table = _scope(request)
    today = deadlines.local_today()
    stats = statistics(session, today, unit_ids=None if committee else set(units))
    tables = _tables(stats, committee)
    if table:
        tables = [t for t in tables if t.key == table]
        require(bool(tables))
    scope = _scope_label(stats.session)
    buffer = io.BytesIO()
    workbook(tables, scope, today).save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = pgettext("file name", "statistics")
    suffix = f"-{table}" if table else ""
    filename = (
        f"{name}-{stats.session.pk if stats.session else 'all'}{suffix}-{today.isoformat()}.xlsx"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
