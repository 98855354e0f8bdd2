"""Importing a session's proposals from the committee's spreadsheet.

`read_proposals` turns the file into a `Preview`: every row as it will be saved, its
proposers, category and units matched to the records, and every problem next to its row
and column. `import_proposals` reads the file again and, only if nothing is wrong, saves
every row in one transaction through `services.register_paper_proposals`: the steps of a
paper proposal registered by hand (created, submitted, and accepted if the committee
numbers them at once), done for a batch of rows at a time, each row with its audit events.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Proposer, Unit
from core import spreadsheets
from core.forms import date_window, validate_single_line
from core.spreadsheets import (
    Cell,
    PreviewProblems,
    RowProblems,
    cell_value,
    column_letter,
    is_formula,
    open_sheet,
    sheet_rows,
)
from core.workflow import Refused

from . import access, services
from .forms import TEXT_MAX, proposal_kind
from .models import Category, Proposal, ProposalProposer

# The committee's columns, in the template's order: (key, header as printed on the sheet).
# The headers are the committee's own words; they are data, not interface text.
COLUMNS = [
    ("title", "案由"),
    ("first_proposer", "第一提案人"),
    ("cosigners", "附议人"),
    ("kind", "提案类型"),
    ("category", "类别"),
    ("reasons", "理由"),
    ("suggestions", "办法和建议"),
    ("units", "建议承办单位"),
    ("submitted_on", "提出时间"),
    ("consent", "同意公开"),
]
HEADERS = dict(COLUMNS)
REQUIRED = {"title", "first_proposer", "reasons", "suggestions"}
TITLE_MAX = Proposal._meta.get_field("title").max_length
REASON_MAX = Proposal._meta.get_field("no_publish_reason").max_length

KIND_WORDS = {
    Proposal.Kind.INDIVIDUAL: ("个人", "个人提案"),
    Proposal.Kind.COSIGNED: ("联名", "联名提案"),
    Proposal.Kind.PARTY: ("党派团体", "党派团体提案", "党派", "团体", "集体", "集体提案"),
    Proposal.Kind.SECTOR: ("界别", "界别提案"),
    Proposal.Kind.SPECIAL_COMMITTEE: ("专门委员会", "专门委员会提案", "专委会"),
}
KIND_BY_WORD = {word: kind for kind, words in KIND_WORDS.items() for word in words}
YES = {"是", "同意", "同意公开", "公开", "y", "yes", "true", "1", "√"}
NO = ("否", "不同意", "不公开", "n", "no", "false", "0", "×")

NAME_SEPARATORS = re.compile(r"[、，,；;/\s]+")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass
class Row(RowProblems):
    number: int
    values: dict
    errors: dict = field(default_factory=dict)
    submitted_at: object = None
    first_proposer: object = None
    cosigners: list = field(default_factory=list)
    units: list = field(default_factory=list)
    category: object = None
    kind: str = ""
    consent: bool = True
    no_publish_reason: str = ""
    raw: dict = field(default_factory=dict)

    def cells(self, letters):
        return [
            Cell(
                key,
                header,
                letters.get(key, ""),
                self.values.get(key, ""),
                self.errors.get(key, []),
            )
            for key, header in COLUMNS
        ]

    @property
    def row_errors(self):
        return self.errors.get("", [])


@dataclass
class Preview(PreviewProblems):
    file_name: str = ""
    file_errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    letters: dict = field(default_factory=dict)
    unmatched_proposers: set = field(default_factory=set)
    unmatched_units: set = field(default_factory=set)
    unmatched_categories: set = field(default_factory=set)

    def table(self):
        """Each row's cells in the template's column order, for the preview page."""
        return [(row, row.cells(self.letters)) for row in self.rows]


def split_names(text):
    return [name for name in NAME_SEPARATORS.split(text or "") if name]


class Matcher:
    """The records a sheet's names refer to, loaded once for the whole file."""

    def __init__(self, session):
        self.proposers = {}
        for proposer in Proposer.objects.filter(is_active=True).only("id", "name", "kind"):
            self.proposers.setdefault(proposer.name.strip(), []).append(proposer)
        self.units = {}
        for unit in Unit.objects.filter(is_active=True).only("id", "name", "short_name"):
            for name in {unit.name.strip(), unit.short_name.strip()} - {""}:
                self.units.setdefault(name, []).append(unit)
        self.categories = {
            c.name.strip(): c for c in Category.objects.filter(is_active=True).only("id", "name")
        }
        # What is already in the session, so that a file imported twice is caught.
        self.existing = set(
            ProposalProposer.objects.filter(proposal__session=session, position=0)
            .exclude(proposal__state=Proposal.State.WITHDRAWN)
            .values_list("proposal__title", "proposer_id")
        )


def read_header(cells):
    """{key: column index} from the header row; problems as a list of messages."""
    return spreadsheets.read_header(cells, COLUMNS)


def parse_date(value):
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def read_proposals(data, *, session, period, file_name=""):
    """The preview of a proposals spreadsheet; file-level problems refuse the whole file."""
    preview = Preview(file_name=file_name)
    try:
        book, sheet = open_sheet(data)
    except Refused as exc:
        preview.file_errors.extend(exc.messages)
        return preview
    try:
        _read_rows(preview, sheet, session, period)
    except Refused as exc:
        preview.file_errors.extend(exc.messages)
        preview.rows = []
    finally:
        book.close()
    if not preview.file_errors and not preview.rows:
        preview.file_errors.append(_("The sheet has no proposals below its header row."))
    for name in ("unmatched_proposers", "unmatched_units", "unmatched_categories"):
        setattr(preview, name, sorted(getattr(preview, name)))
    return preview


def _read_rows(preview, sheet, session, period):
    rows = sheet_rows(sheet)
    first = next(rows, None)
    if first is None:
        raise Refused(_("The sheet is empty. Please use the template."))
    header_number, header_cells = first
    if header_number != 1:
        raise Refused(_("The header row must be the first row of the sheet."))
    positions, problems = read_header(header_cells)
    if problems:
        raise Refused(problems)
    preview.letters = {key: column_letter(index + 1) for key, index in positions.items()}
    # All rows are read before any is checked: a file past the row cap is refused at once.
    body = [(number, cells) for number, cells in rows]
    matcher = Matcher(session)
    seen = {}
    for number, cells in body:
        row = Row(number=number, values={})
        raw = {}
        for key, index in positions.items():
            cell = cells[index] if index < len(cells) else None
            if cell is None:
                raw[key] = ""
            elif is_formula(cell):
                raw[key] = ""
                row.values[key] = str(cell.value)
                row.add(key, _("Formulas are not imported: please type the value itself."))
                continue
            else:
                raw[key] = cell_value(cell)
            value = raw[key]
            row.values[key] = value.isoformat() if isinstance(value, datetime.date) else value
        row.raw = raw
        _validate_row(row, raw, matcher, session, period, preview)
        key = (row.values.get("title", ""), row.first_proposer.pk if row.first_proposer else None)
        if row.first_proposer is not None and key[0]:
            if key in seen:
                row.add(
                    "title", _("Same title and first proposer as row %(row)d.") % {"row": seen[key]}
                )
            else:
                seen[key] = number
            if (key[0], key[1]) in matcher.existing:
                row.add(
                    "title",
                    _("This first proposer already has a proposal of this title in the session."),
                )
        preview.rows.append(row)


def _validate_row(row, raw, matcher, session, period, preview):
    for key in REQUIRED:
        if not str(raw.get(key, "")).strip() and key not in row.errors:
            row.add(key, _("Required."))

    name = str(raw.get("first_proposer", "")).strip()
    if name:
        row.first_proposer = _match_proposer(row, "first_proposer", name, matcher, preview)

    for name in split_names(str(raw.get("cosigners", ""))):
        proposer = _match_proposer(row, "cosigners", name, matcher, preview)
        if proposer is None:
            continue
        if not proposer.is_member:
            row.add(
                "cosigners", _("“%(name)s” is not a member: only members co-sign.") % {"name": name}
            )
        elif row.first_proposer is not None and proposer.pk == row.first_proposer.pk:
            row.add("cosigners", _("The first proposer cannot also be one of the co-signers."))
        elif proposer not in row.cosigners:
            row.cosigners.append(proposer)

    if row.first_proposer is not None:
        if row.cosigners and not row.first_proposer.is_member:
            row.add("cosigners", _("Only a member's proposal has co-signers."))
        row.kind = proposal_kind(row.first_proposer, bool(row.cosigners))
        stated = str(raw.get("kind", "")).strip()
        if stated:
            kind = KIND_BY_WORD.get(stated)
            if kind is None:
                row.add(
                    "kind",
                    _(
                        "Unknown proposal type “%(kind)s”: write 个人提案, 联名提案, 党派团体提案, 界别提案 or 专门委员会提案."
                    )
                    % {"kind": stated},
                )
            elif kind != row.kind:
                row.add(
                    "kind",
                    _("The proposers make it a proposal of the type “%(kind)s”.")
                    % {"kind": Proposal.Kind(row.kind).label},
                )

    category = str(raw.get("category", "")).strip()
    if category:
        row.category = matcher.categories.get(category)
        if row.category is None:
            preview.unmatched_categories.add(category)
            row.add("category", _("No category “%(name)s”.") % {"name": category})

    for name in split_names(str(raw.get("units", ""))):
        units = matcher.units.get(name, [])
        if not units:
            preview.unmatched_units.add(name)
            row.add("units", _("No handling unit “%(name)s”.") % {"name": name})
        elif len({u.pk for u in units}) > 1:
            row.add(
                "units",
                _("“%(name)s” names several units; please write the full name.") % {"name": name},
            )
        elif units[0] not in row.units:
            row.units.append(units[0])

    submitted = raw.get("submitted_on", "")
    if submitted not in ("", None):
        day = parse_date(submitted)
        if day is None:
            row.add("submitted_on", _("Write the date as 2022-07-20."))
        else:
            year = session.opened_on.year if session.opened_on else None
            first, last = date_window(year)
            if not first <= day <= last or day > timezone.localdate():
                row.add(
                    "submitted_on",
                    _("Please give a date between %(first)s and today.")
                    % {"first": first.isoformat()},
                )
            else:
                row.submitted_at = timezone.make_aware(
                    datetime.datetime.combine(day, datetime.time(9))
                )

    consent, reason = _consent(str(raw.get("consent", "")))
    if consent is None:
        row.add("consent", _("Write 是 or 否; for 否, add the reason, e.g. 否：涉及个人信息."))
        consent = True
    elif not consent and not reason:
        row.add("consent", _("Please give the reason why the proposal should not be published."))

    # What the registration form would refuse, said here without a query per row; the form
    # itself checks each row again when it is saved.
    for key, limit in (("title", TITLE_MAX), ("reasons", TEXT_MAX), ("suggestions", TEXT_MAX)):
        text = str(raw.get(key, ""))
        if len(text) > limit:
            row.add(
                key,
                _("At most %(limit)d characters (this has %(count)d).")
                % {"limit": limit, "count": len(text)},
            )
    for key, text in (("title", str(raw.get("title", ""))), ("consent", reason)):
        try:
            validate_single_line(text)
        except ValidationError as exc:
            row.add(key, exc.messages[0])
    if len(reason) > REASON_MAX:
        row.add(
            "consent",
            _("At most %(limit)d characters (this has %(count)d).")
            % {"limit": REASON_MAX, "count": len(reason)},
        )
    row.consent, row.no_publish_reason = consent, reason


def _match_proposer(row, key, name, matcher, preview):
    found = matcher.proposers.get(name, [])
    if not found:
        preview.unmatched_proposers.add(name)
        row.add(key, _("No proposer “%(name)s”.") % {"name": name})
        return None
    if len(found) > 1:
        row.add(
            key,
            _("Several proposers are called “%(name)s”; please register this proposal by hand.")
            % {"name": name},
        )
        return None
    return found[0]


def _consent(text):
    """(consent, reason): 是 → (True, ""); 否：理由 → (False, 理由); unreadable → (None, "")."""
    text = text.strip()
    if not text or text.lower() in YES:
        return True, ""
    for word in sorted(NO, key=len, reverse=True):
        if text.lower().startswith(word):
            return False, text[len(word) :].strip(" :：,，;；()（）")
    return None, ""


# --- saving -------------------------------------------------------------------------------------


def import_proposals(data, actor, *, session, period, accept_at_once, file_name="", progress=None):
    """Save every row of a clean file in one transaction; Refused if anything is wrong.

    The rows go through `services.register_paper_proposals`, in batches, each with the
    audit trail of a paper proposal registered by hand. `progress(done, total)` is called
    after each batch (for the page that shows it). Returns the proposals, in row order.
    """
    if not access.is_committee(actor):
        raise Refused(_("Only committee staff can do this."))
    preview = read_proposals(data, session=session, period=period, file_name=file_name)
    if not preview.ok:
        raise Refused(
            _("The file has %(count)d problems; nothing was imported.")
            % {"count": preview.problem_count}
        )
    items = [
        services.PaperProposal(
            first_proposer=row.first_proposer,
            cosigners=row.cosigners,
            title=row.raw.get("title", ""),
            reasons=row.raw.get("reasons", ""),
            suggestions=row.raw.get("suggestions", ""),
            kind=row.kind,
            category=row.category,
            units=row.units,
            consent_to_publish=row.consent,
            no_publish_reason=row.no_publish_reason,
            submitted_at=row.submitted_at,
            source=_("%(file)s, row %(row)d") % {"file": file_name, "row": row.number},
        )
        for row in preview.rows
    ]
    with transaction.atomic():
        return services.register_paper_proposals(
            items,
            actor,
            session=session,
            period=period,
            accept_at_once=accept_at_once,
            progress=progress,
        )


UPLOAD_HELP = gettext_lazy(
    "One row a proposal, under the template's header row; at most 5,000 rows. "
    "Names of proposers, units and categories as they are in the system."
)


# --- the template -------------------------------------------------------------------------------

EXAMPLE_TITLE = "关于推进农村人居环境整治的建议"


def template_workbook():
    """The committee's sheet: Chinese headers and one example row that imports as it is.

    The example names records that exist (a member, a category, a unit), so a committee can
    try the import with the template before filling it in.
    """
    member = Proposer.objects.filter(kind=Proposer.Kind.MEMBER, is_active=True).first()
    category = Category.objects.filter(is_active=True).first()
    unit = Unit.objects.filter(is_active=True, kind=Unit.Kind.GOVERNMENT).first()
    example = {
        "title": EXAMPLE_TITLE,
        "first_proposer": member.name if member else "张华",
        "cosigners": "",
        "kind": "个人提案",
        "category": category.name if category else "",
        "reasons": "农村人居环境关系农民群众切身利益。……",
        "suggestions": "一、加强规划引领。二、完善长效管护机制。……",
        "units": unit.name if unit else "",
        "submitted_on": timezone.localdate().isoformat(),
        "consent": "是",
    }
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "提案"
    sheet.append([header for _key, header in COLUMNS])
    sheet.append([example[key] for key, _header in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Dates as text, so Excel does not turn them into its own format.
    sheet["I2"].number_format = "@"
    for letter, width in zip("ABCDEFGHIJ", (40, 12, 20, 14, 12, 50, 50, 30, 12, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    notes = book.create_sheet("填写说明")
    for line in (
        "每行一件提案；第一行是表头，请勿改动或合并单元格；不要使用公式。",
        "案由、第一提案人、理由、办法和建议必填。",
        "第一提案人、附议人：系统中已有的委员或党派团体的名称；多位附议人用顿号“、”分隔。",
        "提案类型：个人提案、联名提案、党派团体提案、界别提案、专门委员会提案（可不填，按提案人判断）。",
        "类别、建议承办单位：系统中已有的名称（承办单位可写全称或简称，多个用顿号分隔）。",
        "提出时间：如 2022-07-20；不填则为导入之日。",
        "同意公开：是 或 否；不同意公开请写明理由，如“否：涉及个人信息”。",
        "每个文件最多 5000 行。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    return book
