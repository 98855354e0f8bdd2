"""Reading the committee's roster: members, collectives, handling units and their people.

A new term starts with it. The workbook has one sheet a kind (委员, 党派团体, 承办单位,
承办人员), each under its header row; `read_roster` turns it into a `RosterPreview`: every
row as it will be saved (new, changed — and what — or unchanged), matched to the records by
a stable key, with every problem next to its sheet, row and column. Saving is
`accounts.services.import_roster`, which reads the file again.

The stable keys: a member's 委员编号; a collective's name; a unit's full name; a person's
登录名. A member already in the system without a number (entered before the first roster)
is matched once by name and given the number. A blank optional cell leaves what is saved
as it is.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext as _

from core.forms import validate_single_line
from core.spreadsheets import (
    Cell,
    PreviewProblems,
    RowProblems,
    cell_value,
    check_merges,
    column_letter,
    is_formula,
    open_book,
    read_header,
    sheet_rows,
)
from core.workflow import Refused

from .models import Membership, Proposer, Unit, User

# (key, header as printed on the sheet): the committee's own words, data not interface text.
MEMBER_COLUMNS = [
    ("number", "委员编号"),
    ("name", "姓名"),
    ("sector", "界别"),
    ("party", "党派"),
    ("workplace", "工作单位及职务"),
    ("phone", "手机"),
    ("address", "通讯地址"),
    ("email", "邮箱"),
]
COLLECTIVE_COLUMNS = [
    ("name", "名称"),
    ("kind", "类别"),
    ("phone", "联系电话"),
    ("address", "通讯地址"),
    ("email", "邮箱"),
]
UNIT_COLUMNS = [
    ("name", "单位全称"),
    ("short_name", "单位简称"),
    ("kind", "单位类别"),
]
PEOPLE_COLUMNS = [
    ("username", "登录名"),
    ("full_name", "姓名"),
    ("unit", "所在单位"),
    ("role", "角色"),
    ("title", "领导职务"),
    ("phone", "手机"),
    ("email", "邮箱"),
]


@dataclass(frozen=True)
class SheetSpec:
    key: str
    title: str
    columns: list
    required: set
    optional: set = frozenset({"email"})


SHEETS = [
    SheetSpec("members", "委员", MEMBER_COLUMNS, {"number", "name"}),
    SheetSpec("collectives", "党派团体", COLLECTIVE_COLUMNS, {"name", "kind"}),
    SheetSpec("units", "承办单位", UNIT_COLUMNS, {"name", "short_name"}),
    SheetSpec("people", "承办人员", PEOPLE_COLUMNS, {"username", "full_name", "unit", "role"}),
]
SHEET_BY_KEY = {spec.key: spec for spec in SHEETS}

COLLECTIVE_KINDS = {
    Proposer.Kind.PARTY: ("党派", "民主党派", "党派团体"),
    Proposer.Kind.GROUP: ("人民团体", "团体", "群团"),
    Proposer.Kind.SECTOR: ("界别", "界别组"),
    Proposer.Kind.SPECIAL_COMMITTEE: ("专门委员会", "专委会"),
}
COLLECTIVE_KIND_BY_WORD = {w: kind for kind, words in COLLECTIVE_KINDS.items() for w in words}
UNIT_KINDS = {
    Unit.Kind.GOVERNMENT: ("政府部门", "部门"),
    Unit.Kind.TOWNSHIP: ("镇街", "镇", "街道", "乡镇"),
    Unit.Kind.PUBLIC_BODY: ("事业单位", "企业", "事业单位或企业", "国有企业"),
    Unit.Kind.PARTY_MASS: ("党群部门", "党群", "群团组织"),
    Unit.Kind.COMMITTEE: ("政协机关",),
    Unit.Kind.SUPERVISION: ("督查部门", "督查室"),
}
UNIT_KIND_BY_WORD = {w: kind for kind, words in UNIT_KINDS.items() for w in words}
ROLE_WORDS = {
    Membership.Role.HANDLER: ("经办人", "承办人", "办理人员", "联络员"),
    Membership.Role.LEADER: ("领导", "签发领导", "分管领导"),
}
ROLE_BY_WORD = {w: role for role, words in ROLE_WORDS.items() for w in words}

PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
USERNAME = re.compile(r"^[\w.@+-]+\Z")

# The model field each column is saved to, for its length.
MAX_LENGTHS = {
    "members": {
        "number": 30,
        "name": 100,
        "sector": 60,
        "party": 60,
        "workplace": 200,
        "phone": 30,
        "address": 200,
        "email": 254,
    },
    "collectives": {"name": 100, "phone": 30, "address": 200, "email": 254},
    "units": {"name": 100, "short_name": 40},
    "people": {"username": 150, "full_name": 60, "title": 30, "phone": 30, "email": 254},
}


@dataclass
class Row(RowProblems):
    sheet: str
    number: int
    values: dict
    errors: dict = field(default_factory=dict)
    # What saving does: "create", "update" or "same"; the record it updates; the fields.
    action: str = ""
    target: object = None
    changes: list = field(default_factory=list)
    cleaned: dict = field(default_factory=dict)

    @property
    def row_errors(self):
        return self.errors.get("", [])

    @property
    def changes_shown(self):
        """The changed fields by the sheet's own headers, for the preview."""
        headers = dict(SHEET_BY_KEY[self.sheet].columns)
        headers.update(CHANGE_LABELS)
        return [headers.get(name, name) for name in self.changes]


# Changes that are not one column's: a person put in one more unit, a unit in use again.
CHANGE_LABELS = {"membership": "所在单位、角色", "is_active": "重新启用"}


@dataclass
class SheetPreview:
    spec: SheetSpec
    letters: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)

    @property
    def title(self):
        return self.spec.title

    @property
    def key(self):
        return self.spec.key

    def headers(self):
        return [(self.letters.get(k, ""), h) for k, h in self.spec.columns if k in self.letters]

    def table(self):
        return [
            (
                row,
                [
                    Cell(k, h, self.letters[k], row.values.get(k, ""), row.errors.get(k, []))
                    for k, h in self.spec.columns
                    if k in self.letters
                ],
            )
            for row in self.rows
        ]


@dataclass
class RosterPreview(PreviewProblems):
    file_name: str = ""
    file_errors: list = field(default_factory=list)
    sheets: list = field(default_factory=list)

    @property
    def rows(self):
        return [row for sheet in self.sheets for row in sheet.rows]

    @property
    def summary(self):
        """Rows by what saving does to them (a person's second unit is not counted)."""
        actions = [r.action for r in self.rows]
        return {
            "created": actions.count("create"),
            "updated": actions.count("update"),
            "unchanged": actions.count("same"),
        }

    def sheet(self, key):
        return next((s for s in self.sheets if s.key == key), None)


def read_roster(data, file_name=""):
    """The preview of a roster workbook; file-level problems refuse the whole file."""
    preview = RosterPreview(file_name=file_name)
    try:
        book, archive = open_book(data)
    except Refused as exc:
        preview.file_errors.extend(exc.messages)
        return preview
    try:
        found = {sheet.title.strip(): sheet for sheet in book.worksheets}
        specs = [spec for spec in SHEETS if spec.title in found]
        if not specs:
            raise Refused(
                _("The workbook has none of the sheets %(sheets)s. Please use the template.")
                % {"sheets": "、".join(spec.title for spec in SHEETS)}
            )
        for spec in specs:
            sheet = found[spec.title]
            try:
                check_merges(archive, sheet)
                preview.sheets.append(_read_sheet(spec, sheet))
            except Refused as exc:
                preview.file_errors.extend(
                    _("Sheet “%(sheet)s”: %(problem)s") % {"sheet": spec.title, "problem": m}
                    for m in exc.messages
                )
    except Refused as exc:
        preview.file_errors.extend(exc.messages)
    finally:
        book.close()
    if preview.file_errors:
        preview.sheets = []
        return preview
    if not preview.rows:
        preview.file_errors.append(_("The roster has no rows below its header rows."))
        return preview
    Matcher().match(preview)
    return preview


def _read_sheet(spec, sheet):
    result = SheetPreview(spec)
    rows = sheet_rows(sheet)
    first = next(rows, None)
    if first is None:
        return result
    header_number, header_cells = first
    if header_number != 1:
        raise Refused(_("The header row must be the first row of the sheet."))
    positions, problems = read_header(header_cells, spec.columns, optional=spec.optional)
    if problems:
        raise Refused(problems)
    result.letters = {key: column_letter(index + 1) for key, index in positions.items()}
    limits = MAX_LENGTHS[spec.key]
    for number, cells in rows:
        row = Row(sheet=spec.key, number=number, values={})
        for key, index in positions.items():
            cell = cells[index] if index < len(cells) else None
            if cell is not None and is_formula(cell):
                row.values[key] = str(cell.value)
                row.add(key, _("Formulas are not imported: please type the value itself."))
                continue
            value = cell_value(cell) if cell is not None else ""
            value = value.isoformat() if hasattr(value, "isoformat") else str(value).strip()
            row.values[key] = value
            row.cleaned[key] = value
            if key in spec.required and not value:
                row.add(key, _("Required."))
            if key in limits and len(value) > limits[key]:
                row.add(
                    key,
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": limits[key], "count": len(value)},
                )
            try:
                validate_single_line(value)
            except ValidationError as exc:
                row.add(key, exc.messages[0])
        for key in ("phone",):
            value = row.cleaned.get(key, "")
            if value and not PHONE.match(value):
                row.add(key, _("Write a phone number, e.g. 13900000000 or 023-53221234."))
        value = row.cleaned.get("email", "")
        if value:
            try:
                validate_email(value)
            except ValidationError:
                row.add("email", _("Write an email address, e.g. name@example.com."))
        result.rows.append(row)
    return result


class Matcher:
    """Each row's record (by its stable key) and what saving it changes."""

    def match(self, preview):
        members = preview.sheet("members")
        collectives = preview.sheet("collectives")
        units = preview.sheet("units")
        people = preview.sheet("people")
        if members:
            self.members(members.rows)
        if collectives:
            self.collectives(collectives.rows)
        unit_names = self.units(units.rows if units else [])
        if people:
            self.people(people.rows, unit_names)

    @staticmethod
    def _compare(row, target, fields):
        """The action and the changed fields; a blank optional cell changes nothing."""
        if target is None:
            row.action = "create"
            return
        row.target = target
        row.changes = [
            name
            for name, value in fields.items()
            if value not in ("", None) and getattr(target, name) != value
        ]
        row.action = "update" if row.changes else "same"

    def members(self, rows):
        numbers = {r.cleaned.get("number") for r in rows} - {""}
        by_number = {p.number: p for p in Proposer.objects.filter(number__in=numbers)}
        names = {r.cleaned.get("name") for r in rows} - {""}
        unnumbered = {}
        for p in Proposer.objects.filter(kind=Proposer.Kind.MEMBER, number="", name__in=names):
            unnumbered.setdefault(p.name, []).append(p)
        seen, adopted = {}, set()
        for row in rows:
            number, name = row.cleaned.get("number", ""), row.cleaned.get("name", "")
            if not number:
                continue
            if number in seen:
                row.add(
                    "number",
                    _("The member number %(number)s is also in row %(row)d.")
                    % {"number": number, "row": seen[number]},
                )
                continue
            seen[number] = row.number
            target = by_number.get(number)
            if target is not None and not target.is_member:
                row.add("number", _("This number belongs to “%(name)s”.") % {"name": target})
                continue
            if target is None and name:
                # Entered before the first roster: matched by name once, then by number.
                found = [p for p in unnumbered.get(name, []) if p.pk not in adopted]
                if len(found) > 1:
                    row.add(
                        "name",
                        _(
                            "Several members called “%(name)s” have no member number: "
                            "give them their numbers in the admin first."
                        )
                        % {"name": name},
                    )
                    continue
                if found:
                    target = found[0]
                    adopted.add(target.pk)
            fields = {k: row.cleaned.get(k, "") for k, _h in MEMBER_COLUMNS}
            self._compare(row, target, fields)

    def collectives(self, rows):
        names = {r.cleaned.get("name") for r in rows} - {""}
        existing = {}
        for p in Proposer.objects.exclude(kind=Proposer.Kind.MEMBER).filter(name__in=names):
            existing.setdefault(p.name, []).append(p)
        seen = {}
        for row in rows:
            name = row.cleaned.get("name", "")
            stated = row.cleaned.get("kind", "")
            kind = COLLECTIVE_KIND_BY_WORD.get(stated)
            if stated and kind is None:
                row.add(
                    "kind",
                    _("Unknown kind “%(kind)s”: write 党派, 人民团体, 界别 or 专门委员会.")
                    % {"kind": stated},
                )
            if not name:
                continue
            if name in seen:
                row.add("name", _("Also in row %(row)d.") % {"row": seen[name]})
                continue
            seen[name] = row.number
            found = existing.get(name, [])
            if len(found) > 1:
                row.add("name", _("Several proposers are called “%(name)s”.") % {"name": name})
                continue
            row.cleaned["kind"] = kind or ""
            fields = {
                "kind": kind or "",
                **{k: row.cleaned.get(k, "") for k in ("phone", "address", "email")},
            }
            self._compare(row, found[0] if found else None, fields)

    def units(self, rows):
        """Match the units; returns {full or short name: [unit key]} of the file and the
        system together, for the people sheet."""
        names = {r.cleaned.get("name") for r in rows} - {""}
        existing = {u.name: u for u in Unit.objects.filter(name__in=names)}
        seen = {}
        for row in rows:
            name = row.cleaned.get("name", "")
            stated = row.cleaned.get("kind", "")
            kind = UNIT_KIND_BY_WORD.get(stated)
            if stated and kind is None:
                row.add(
                    "kind",
                    _("Unknown unit kind “%(kind)s”: write one of %(kinds)s.")
                    % {
                        "kind": stated,
                        "kinds": "、".join(words[0] for words in UNIT_KINDS.values()),
                    },
                )
            row.cleaned["kind"] = kind or ""
            if not name:
                continue
            if name in seen:
                row.add("name", _("Also in row %(row)d.") % {"row": seen[name]})
                continue
            seen[name] = row.number
            fields = {
                "short_name": row.cleaned.get("short_name", ""),
                "kind": kind or "",
                "is_active": True,
            }
            self._compare(row, existing.get(name), fields)
        # Every unit a person may be put in: the system's, as the file leaves them.
        index = {}
        file_names = {}
        for row in rows:
            if row.ok and row.cleaned.get("name"):
                file_names[row.cleaned["name"]] = row.cleaned.get("short_name", "")
        pairs = list(file_names.items())
        # The system's units too, by their names as saved (a unit whose short name the file
        # changes is still found by the old one).
        pairs += [
            (unit.name, unit.short_name)
            for unit in Unit.objects.filter(Q(is_active=True) | Q(name__in=file_names))
        ]
        for name, short in pairs:
            for word in {name, short} - {""}:
                index.setdefault(word, set()).add(name)
        return index

    def people(self, rows, unit_names):
        usernames = {r.cleaned.get("username") for r in rows} - {""}
        existing = {u.username: u for u in User.objects.filter(username__in=usernames)}
        seen = {}
        for row in rows:
            username = row.cleaned.get("username", "")
            if username and not USERNAME.match(username):
                row.add(
                    "username",
                    _("Letters, digits and @ . + - _ only, e.g. kjj_zhang."),
                )
            unit_word = row.cleaned.get("unit", "")
            if unit_word:
                found = unit_names.get(unit_word, set())
                if not found:
                    row.add("unit", _("No handling unit “%(name)s”.") % {"name": unit_word})
                elif len(found) > 1:
                    row.add(
                        "unit",
                        _("“%(name)s” names several units; please write the full name.")
                        % {"name": unit_word},
                    )
                else:
                    row.cleaned["unit_name"] = next(iter(found))
            stated = row.cleaned.get("role", "")
            role = ROLE_BY_WORD.get(stated)
            if stated and role is None:
                row.add(
                    "role", _("Unknown role “%(role)s”: write 经办人 or 领导.") % {"role": stated}
                )
            row.cleaned["role"] = role or ""
            if row.cleaned.get("title") and role == Membership.Role.HANDLER:
                row.add("title", _("Only a leader has a title here."))
            if not username or not row.ok:
                continue
            name = row.cleaned.get("full_name", "")
            if username in seen:
                first_row, first_name = seen[username]
                if first_name != name:
                    row.add(
                        "full_name",
                        _("Row %(row)d gives this login another name.") % {"row": first_row},
                    )
                    continue
            else:
                seen[username] = (row.number, name)
            user = existing.get(username)
            if user is not None and (user.is_committee_staff or user.is_superuser or user.is_staff):
                row.add(
                    "username",
                    _(
                        "“%(name)s” is a committee or administrator account; the roster does not change it."
                    )
                    % {"name": username},
                )
                continue
            fields = {k: row.cleaned.get(k, "") for k in ("full_name", "phone", "email")}
            self._compare(row, user, fields)
            if user is not None and row.cleaned.get("unit_name"):
                membership = Membership.objects.filter(
                    user=user, unit__name=row.cleaned["unit_name"], role=role
                ).first()
                if membership is None:
                    row.changes.append("membership")
                elif role == Membership.Role.LEADER and row.cleaned.get("title") not in (
                    "",
                    membership.title,
                ):
                    row.changes.append("title")
                row.action = "update" if row.changes else "same"
            elif user is None and username in seen and seen[username][0] != row.number:
                # The same new person in a second unit: one account, two memberships.
                row.action = "create_membership"


# --- the template -------------------------------------------------------------------------------

EXAMPLES = {
    "members": {
        "number": "L2027001",
        "name": "王小明",
        "sector": "经济界",
        "party": "中共",
        "workplace": "重庆市梁平区某某公司总经理",
        "phone": "13900000001",
        "address": "梁平区双桂街道某某路1号",
        "email": "",
    },
    "collectives": {
        "name": "民盟梁平区委",
        "kind": "党派",
        "phone": "023-53220000",
        "address": "梁平区双桂街道某某路2号",
        "email": "",
    },
    "units": {
        "name": "重庆市梁平区农业农村委员会",
        "short_name": "区农业农村委",
        "kind": "政府部门",
    },
    "people": {
        "username": "nyw_wang",
        "full_name": "王芳",
        "unit": "区农业农村委",
        "role": "经办人",
        "title": "",
        "phone": "13900000002",
        "email": "",
    },
}
WIDTHS = {"members": 16, "collectives": 18, "units": 28, "people": 16}


def template_workbook():
    """The roster's sheets with Chinese headers and one example row each that imports."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for spec in SHEETS:
        sheet = book.create_sheet(spec.title)
        sheet.append(
            [header + ("*" if key in spec.required else "") for key, header in spec.columns]
        )
        sheet.append([EXAMPLES[spec.key][key] for key, _header in spec.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index in range(1, len(spec.columns) + 1):
            sheet.column_dimensions[column_letter(index)].width = WIDTHS[spec.key]
            # Numbers and phones as text, so Excel keeps their leading zeros.
            sheet.cell(row=2, column=index).number_format = "@"
    notes = book.create_sheet("填写说明")
    for line in (
        "每个工作表第一行是表头，请勿改动或合并单元格；不要使用公式。带*的列必填。示例行请删除或改为实际内容。",
        "委员：按委员编号识别；再次导入同一编号即更新该委员，不会重复。系统中已有但没有编号的委员按姓名对应一次。",
        "党派团体：按名称识别；类别填 党派、人民团体、界别 或 专门委员会。",
        "承办单位：按单位全称识别；单位类别填 政府部门、镇街、事业单位、党群部门、政协机关 或 督查部门。",
        "承办人员：按登录名识别；所在单位填全称或简称；角色填 经办人 或 领导；领导职务只填领导的，如“主要领导”。",
        "新建的账号在本人设置密码前不能登录：导入后请下载账号清单，把各人的激活链接交给本人（链接只能使用一次）。",
        "空白的选填单元格不会清除系统中已有的内容。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    return book
