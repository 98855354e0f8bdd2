"""Committee staff import the roster: members, collectives, units and their people.

Template → upload → preview (every row as it will be saved, every problem by sheet, row and
column) → confirm, all or nothing; re-importing updates by the stable keys and never
duplicates; new accounts are inactive until their one-time activation link is used.
"""

import io
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from openpyxl import Workbook, load_workbook

from accounts import roster
from accounts.models import Membership, Proposer, RosterImport, Unit, User
from accounts.tokens import activation_token

from .xlsx import with_member, zip_bomb

TITLES = {spec.key: spec.title for spec in roster.SHEETS}
HEADERS = {spec.key: [h for _k, h in spec.columns] for spec in roster.SHEETS}


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff(world, client):
    client.force_login(world.tiwei)
    return client


def member(number="L001", name="王小明", **values):
    return {"委员编号": number, "姓名": name, "界别": "经济界", "手机": "13900000001", **values}


def person(username="nyw_wang", name="王芳", unit="区农业农村委", role="经办人", **values):
    return {"登录名": username, "姓名": name, "所在单位": unit, "角色": role, **values}


def roster_bytes(members=(), collectives=(), units=(), people=(), edit=None):
    """A roster workbook with the given rows (dicts by header) on each sheet."""
    book = Workbook()
    book.remove(book.active)
    for key, rows in (
        ("members", members),
        ("collectives", collectives),
        ("units", units),
        ("people", people),
    ):
        sheet = book.create_sheet(TITLES[key])
        sheet.append(HEADERS[key])
        for row in rows:
            sheet.append([row.get(h, "") for h in HEADERS[key]])
    if edit:
        edit(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


UNIT = {
    "单位全称": "重庆市梁平区农业农村委员会",
    "单位简称": "区农业农村委",
    "单位类别": "政府部门",
}


def upload(client, data, name="名册.xlsx"):
    response = client.post(reverse("roster:upload"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return RosterImport.objects.get(token=response.url.rstrip("/").rsplit("/", 1)[1])


def preview_of(client, token):
    response = client.get(reverse("roster:preview", args=[token]))
    assert response.status_code == 200
    return response, response.context["preview"]


def import_file(client, data):
    token = upload(client, data).token
    response = client.post(reverse("roster:confirm", args=[token]))
    assert response.status_code == 302
    return RosterImport.objects.get(token=token)


def test_the_template_has_chinese_headers_and_example_rows_that_import(staff, world):
    response = staff.get(reverse("roster:template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames[:4] == ["委员", "党派团体", "承办单位", "承办人员"]
    members = [list(r) for r in book["委员"].iter_rows(values_only=True)]
    assert members[0] == [
        "委员编号*",
        "姓名*",
        "界别",
        "党派",
        "工作单位及职务",
        "手机",
        "通讯地址",
        "邮箱",
    ]
    assert members[1][:2] == ["L2027001", "王小明"]
    book.close()

    token = upload(staff, response.content).token
    _page, preview = preview_of(staff, token)
    assert preview.ok, (preview.file_errors, [r.errors for r in preview.rows])
    assert preview.summary == {"created": 4, "updated": 0, "unchanged": 0}
    staff.post(reverse("roster:confirm", args=[token]))

    wang = Proposer.objects.get(number="L2027001")
    assert (wang.name, wang.kind, wang.sector, wang.workplace) == (
        "王小明",
        Proposer.Kind.MEMBER,
        "经济界",
        "重庆市梁平区某某公司总经理",
    )
    assert Proposer.objects.get(name="民盟梁平区委").kind == Proposer.Kind.PARTY
    unit = Unit.objects.get(name="重庆市梁平区农业农村委员会")
    assert unit.short_name == "区农业农村委"
    user = User.objects.get(username="nyw_wang")
    assert not user.is_active and not user.has_usable_password()
    assert list(user.memberships.values_list("unit", "role")) == [
        (unit.pk, Membership.Role.HANDLER)
    ]
    done = RosterImport.objects.get(token=token)
    assert done.status == "imported" and done.data == b""
    assert list(done.created_accounts.all()) == [user]
    # Every record the import created is on the record, with the file and the row.
    messages = list(LogEntry.objects.values_list("change_message", flat=True))
    assert len(messages) == 5  # member, collective, unit, account, membership
    assert all("名册.xlsx" in m for m in messages)


def test_every_problem_is_named_by_sheet_row_and_column_and_nothing_is_saved(staff, world):
    data = roster_bytes(
        members=[
            member("L001"),
            member("", "李明"),
            member("L003", "赵六", 手机="call me"),
            member("L001", "钱七"),
        ],
        collectives=[{"名称": "九三学社梁平区委", "类别": "社团"}],
        units=[UNIT],
        people=[
            person(unit="区交通局"),
            person("kjj_li", "李科", unit="区科技局", role="科长"),
            person("bad name!", "某某", unit="区科技局"),
            person("tiwei", "提案委", unit="区科技局"),
        ],
    )
    token = upload(staff, data).token
    response, preview = preview_of(staff, token)
    assert not preview.ok
    errors = {(row.sheet, row.number, key) for row in preview.rows for key in row.errors}
    assert errors == {
        ("members", 3, "number"),
        ("members", 4, "phone"),
        ("members", 5, "number"),
        ("collectives", 2, "kind"),
        ("people", 2, "unit"),
        ("people", 3, "role"),
        ("people", 4, "username"),
        ("people", 5, "username"),
    }
    page = response.content.decode()
    assert "委员 A3：Required." in page
    assert "委员 F4：" in page
    assert "The member number L001 is also in row 2." in page
    assert "承办人员 C2：No handling unit “区交通局”." in page
    assert 'id="roster-confirm"' not in page

    staff.post(reverse("roster:confirm", args=[token]))
    assert not Proposer.objects.filter(number__startswith="L").exists()
    assert not Unit.objects.filter(short_name="区农业农村委").exists()
    assert not User.objects.filter(username="nyw_wang").exists()
    assert RosterImport.objects.get(token=token).status == "previewed"


def test_reimporting_an_updated_roster_updates_and_never_duplicates(staff, world):
    first = roster_bytes(
        members=[member("L001"), member("L069", "张华")],
        collectives=[{"名称": "民盟梁平区委", "类别": "党派"}],
        units=[UNIT],
        people=[person(), person("nyw_li", "李强", role="领导", 领导职务="主要领导")],
    )
    import_file(staff, first)
    # 张华 was in the system before the first roster: matched by name, given the number.
    world.zhanghua_proposer.refresh_from_db()
    assert world.zhanghua_proposer.number == "L069"
    counts = (Proposer.objects.count(), Unit.objects.count(), User.objects.count())
    memberships = Membership.objects.count()

    second = roster_bytes(
        members=[
            member("L001", "王小明", 手机="13911111111", 工作单位及职务="梁平区某某公司董事长"),
            member("L069", "张华"),
        ],
        collectives=[{"名称": "民盟梁平区委", "类别": "党派", "联系电话": "023-53220001"}],
        units=[{**UNIT, "单位简称": "区农业农村委员会"}],
        people=[
            person(手机="13922222222"),
            person("nyw_li", "李强", role="领导", 领导职务="分管领导"),
        ],
    )
    token = upload(staff, second).token
    _page, preview = preview_of(staff, token)
    assert preview.ok
    actions = {(r.sheet, r.number): (r.action, r.changes) for r in preview.rows}
    assert actions[("members", 2)] == ("update", ["workplace", "phone"])
    page = _page.content.decode()
    assert "changed：工作单位及职务、手机" in page
    assert actions[("members", 3)] == ("same", [])
    assert actions[("units", 2)] == ("update", ["short_name"])
    assert actions[("people", 3)] == ("update", ["title"])
    staff.post(reverse("roster:confirm", args=[token]))

    assert (Proposer.objects.count(), Unit.objects.count(), User.objects.count()) == counts
    assert Membership.objects.count() == memberships
    wang = Proposer.objects.get(number="L001")
    assert (wang.phone, wang.workplace) == ("13911111111", "梁平区某某公司董事长")
    assert Proposer.objects.get(name="民盟梁平区委").phone == "023-53220001"
    # The people's unit column still named it by its old short name: found all the same.
    assert Unit.objects.get(name=UNIT["单位全称"]).short_name == "区农业农村委员会"
    assert Membership.objects.get(user__username="nyw_li").title == "分管领导"
    assert User.objects.get(username="nyw_wang").phone == "13922222222"
    # The second import created no account.
    assert RosterImport.objects.get(token=token).created_accounts.count() == 0


def test_one_person_in_two_units_is_one_account(staff, world):
    data = roster_bytes(
        units=[UNIT], people=[person(), person(unit="区科技局", role="领导", 领导职务="分管领导")]
    )
    done = import_file(staff, data)
    user = User.objects.get(username="nyw_wang")
    assert sorted(user.memberships.values_list("unit__short_name", "role")) == [
        ("区农业农村委", "handler"),
        ("区科技局", "leader"),
    ]
    assert list(done.created_accounts.all()) == [user]


def activation_link(staff, upload):
    response = staff.get(reverse("roster:accounts", args=[upload.token]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert rows[0] == ["登录名", "姓名", "单位", "角色", "手机", "邮箱", "状态", "激活链接"]
    # An empty cell at the end of a row is not written: pad to the header's width.
    return [(row + [None] * 8)[:8] for row in rows[1:]]


def logs_in(username, password):
    from django.test import Client

    client = Client()
    client.post(reverse("login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


def test_an_account_is_inactive_until_its_link_is_used_and_the_link_works_once(
    staff, client, world
):
    done = import_file(staff, roster_bytes(units=[UNIT], people=[person()]))
    [row] = activation_link(staff, done)
    assert row[:4] == ["nyw_wang", "王芳", "区农业农村委", "经办人"]
    assert row[6] == "未激活"
    link = re.sub(r"^https?://[^/]+", "", row[7])
    assert link.startswith("/accounts/activate/")

    anonymous = type(client)()
    anonymous.cookies["django_language"] = "en"
    # No password yet: the account cannot log in.
    assert not logs_in("nyw_wang", "")

    # Django's flow: the token leaves the address for the session, then the form.
    response = anonymous.get(link)
    assert response.status_code == 302
    form_url = response.url
    assert "set-password" in form_url
    page = anonymous.get(form_url)
    assert page.context["validlink"]
    # Django's password validators apply.
    weak = anonymous.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and weak.context["form"].errors
    assert not User.objects.get(username="nyw_wang").is_active

    strong = "Liang-ping-2027!"
    response = anonymous.post(form_url, {"new_password1": strong, "new_password2": strong})
    assert response.status_code == 302 and response.url == reverse("login")
    user = User.objects.get(username="nyw_wang")
    assert user.is_active and user.check_password(strong)
    assert LogEntry.objects.filter(object_id=str(user.pk), user=user).exists()
    assert logs_in("nyw_wang", strong)

    # Used once: the same link no longer works, for anyone.
    again = type(client)()
    response = again.get(link, follow=True)
    assert not response.context["validlink"]
    assert "invalid" in response.content.decode()
    # And the list shows the account active, with no link.
    [row] = activation_link(staff, done)
    assert row[6] == "已激活" and row[7] is None


def test_a_forged_or_foreign_link_does_not_activate(client, world):
    user = User.objects.create(username="x1", is_active=False)
    user.set_unusable_password()
    user.save()
    other = User.objects.create(username="x2", is_active=False)
    other.set_unusable_password()
    other.save()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    # Another person's token, a reset token, nonsense.
    for token in (
        activation_token.make_token(other),
        default_token_generator.make_token(user),
        "abc-def",
    ):
        response = client.get(f"/accounts/activate/{uid}/{token}/", follow=True)
        assert not response.context["validlink"]
    # An active account is not activated again, even with a link built afresh.
    active = world.kjj
    uid = urlsafe_base64_encode(force_bytes(active.pk))
    url = f"/accounts/activate/{uid}/{activation_token.make_token(active)}/"
    form_url = client.get(url).url
    response = client.post(
        form_url, {"new_password1": "Xy-9876-abcd", "new_password2": "Xy-9876-abcd"}
    )
    assert response.status_code == 200
    active.refresh_from_db()
    assert not active.check_password("Xy-9876-abcd")


def sheet_with_merged_header(book):
    book["委员"].merge_cells("A1:B1")


def formula_in_a_cell(book):
    book["委员"]["F2"] = "=1+1"


MALFORMED = {
    "not_xlsx": (lambda: "委员编号,姓名\nL001,王小明\n".encode(), "not an Excel .xlsx"),
    "macros": (
        lambda: with_member(roster_bytes([member()]), "xl/vbaProject.bin", b"\0" * 100),
        "macros",
    ),
    "zip_bomb": (lambda: zip_bomb(roster_bytes([member()])), "unpacks to far more"),
    "merged_header": (
        lambda: roster_bytes([member()], edit=sheet_with_merged_header),
        "header row has merged cells (A1:B1)",
    ),
    "no_roster_sheet": (lambda: _one_sheet_book(), "none of the sheets"),
    "empty": (lambda: roster_bytes(), "no rows below its header rows"),
}


def _one_sheet_book():
    book = Workbook()
    book.active.append(["案由"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_file_gets_a_clear_message_and_saves_nothing(staff, world, case):
    make, message = MALFORMED[case]
    token = upload(staff, make()).token
    response, preview = preview_of(staff, token)
    assert any(message in error for error in preview.file_errors), preview.file_errors
    assert 'id="roster-confirm"' not in response.content.decode()
    staff.post(reverse("roster:confirm", args=[token]))
    assert not Proposer.objects.filter(number="L001").exists()
    assert RosterImport.objects.get(token=token).status == "previewed"


def test_a_formula_is_refused_in_its_cell(world):
    preview = roster.read_roster(roster_bytes([member()], edit=formula_in_a_cell))
    assert preview.rows[0].errors == {
        "phone": ["Formulas are not imported: please type the value itself."]
    }


def test_confirming_twice_imports_once(staff, world):
    token = upload(staff, roster_bytes([member()])).token
    staff.post(reverse("roster:confirm", args=[token]))
    response = staff.post(reverse("roster:confirm", args=[token]))
    assert response.url == reverse("roster:done", args=[token])
    assert Proposer.objects.filter(number="L001").count() == 1


def test_only_committee_staff_import_the_roster(client, world):
    for user in (world.kjj, world.kjj_leader, world.zhanghua):
        client.force_login(user)
        for name in ("roster:upload", "roster:template"):
            assert client.get(reverse(name)).status_code == 403
        response = client.post(
            reverse("roster:upload"), {"file": SimpleUploadedFile("a.xlsx", roster_bytes())}
        )
        assert response.status_code == 403
    assert not RosterImport.objects.exists()
    client.logout()
    response = client.get(reverse("roster:upload"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_another_users_roster_upload_is_not_found(staff, client, world):
    token = upload(staff, roster_bytes([member()])).token
    other = User.objects.create(username="tiwei2", is_committee_staff=True)
    client.force_login(other)
    for name in ("roster:preview", "roster:done", "roster:accounts"):
        assert client.get(reverse(name, args=[token])).status_code == 404
    assert client.post(reverse("roster:confirm", args=[token])).status_code == 404
    assert not Proposer.objects.filter(number="L001").exists()
    # A handler is refused before the token is even looked at.
    client.force_login(world.kjj)
    assert client.post(reverse("roster:confirm", args=[token])).status_code == 403
    assert client.get(reverse("roster:accounts", args=[token])).status_code == 403


def test_confirm_is_post_only(staff, world):
    token = upload(staff, roster_bytes([member()])).token
    assert staff.get(reverse("roster:confirm", args=[token])).status_code == 405


def test_the_roster_import_is_linked_where_the_proposals_import_is(staff, world):
    page = staff.get(reverse("proposals:import_upload")).content.decode()
    assert reverse("roster:upload") in page
