"""Passwords and sessions: one's own change, one-time reset links (from an administrator, or
asked for by email or SMS), the forced change after an administrator set the password, the
policy, expiry, idle and absolute session limits, the password again before signing, and
the lockout's wait and unlock."""

import datetime
import re
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import lockout, passwords, sessions, signals, sms
from accounts.models import User
from replies.models import ReplyLetter

from .conftest import PASSWORD, make_user
from .test_reply_views import awaiting

NEW = "new-secret-2027"


@pytest.fixture
def changes():
    """What accounts.signals.password_changed and password_reset_issued sent."""
    seen = []

    def changed(sender, user, by, how, request, **kwargs):
        seen.append(("changed", user.username, by.username if by else None, how))

    def issued(sender, user, by, how, request, **kwargs):
        seen.append(("issued", user.username, by.username if by else None, how))

    signals.password_changed.connect(changed)
    signals.password_reset_issued.connect(issued)
    yield seen
    signals.password_changed.disconnect(changed)
    signals.password_reset_issued.disconnect(issued)


def security(settings, **values):
    settings.TIAN_SECURITY = {**settings.TIAN_SECURITY, **values}


def log_in(client, username, password=PASSWORD):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert "_auth_user_id" in client.session, response.content.decode()[:500]
    return response


def change(client, old=PASSWORD, new=NEW):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def reload(user):
    return User.objects.get(pk=user.pk)


# --- one's own change ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zhanghua", "kjj", "kjj_leader", "tiwei", "admin"])
def test_every_account_changes_its_own_password(
    world, client, changes, name, django_capture_on_commit_callbacks
):
    user = getattr(world, name)
    log_in(client, name)
    page = client.get(reverse("workspace"), follow=True).content.decode()
    assert reverse("password_change") in page
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client)
    assert response["Location"] == reverse("password_change_done")
    user = reload(user)
    assert user.check_password(NEW) and user.password_changed_at is not None
    assert changes == [("changed", name, name, "self")]
    # Still logged in after the change.
    assert client.get(reverse("password_change_done")).status_code == 200


def test_the_old_password_is_asked_for(world, client):
    log_in(client, "kjj")
    response = change(client, old="not-it-1")
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    assert reload(world.kjj).check_password(PASSWORD)


def test_the_admins_password_change_is_the_same_page(world, client):
    log_in(client, "admin")
    response = client.get("/admin/password_change/")
    assert response["Location"] == reverse("password_change")


@pytest.mark.parametrize(
    "password, message",
    [
        ("abc1", "8"),  # Django 5.2's MinimumLengthValidator (its msgid: locale/pending)
        ("12345678", "只包含数字"),  # NumericPasswordValidator
        ("password1", "太常见"),  # CommonPasswordValidator
        ("kjjleader99", "相似"),  # UserAttributeSimilarityValidator
    ],
)
def test_weak_passwords_are_refused_in_chinese(world, client, password, message):
    log_in(client, "kjj_leader")
    response = change(client, new=password)
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    assert message in response.content.decode()
    assert reload(world.kjj_leader).check_password(PASSWORD)


def test_a_password_needs_letters_and_digits(world):
    with pytest.raises(ValidationError) as refused:
        validate_password("onlyletters-here", world.kjj)
    assert "password_letters_and_digits" in [e.code for e in refused.value.error_list]
    validate_password("letters-and-2-digits", world.kjj)
    validate_password("中文密码和数字2027", world.kjj)


def test_the_minimum_length_is_a_setting(db):
    from django.contrib.auth.password_validation import get_default_password_validators

    lengths = [v.min_length for v in get_default_password_validators() if hasattr(v, "min_length")]
    assert lengths == [8]


# --- an administrator sets a password: the user chooses their own first --------------------------


def test_a_password_set_by_an_administrator_must_be_changed_before_anything_else(
    world, client, changes, django_capture_on_commit_callbacks
):
    admin = client
    log_in(admin, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("admin:auth_user_password_change", args=[world.kjj.pk]),
            {
                "password1": "Temp-pass-2027",
                "password2": "Temp-pass-2027",
                "usable_password": "true",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert reload(world.kjj).must_change_password
    assert changes == [("changed", "kjj", "admin", "admin")]

    admin.logout()
    log_in(client, "kjj", "Temp-pass-2027")
    for path in (reverse("workspace"), reverse("notifications"), "/admin/"):
        assert client.get(path)["Location"] == reverse("password_change")
    assert client.get(reverse("password_change")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        change(client, old="Temp-pass-2027")
    assert not reload(world.kjj).must_change_password
    assert changes[-1] == ("changed", "kjj", "kjj", "first_login")
    assert client.get(reverse("workspace")).status_code == 200


def test_a_user_added_by_an_administrator_changes_the_password_at_first_login(world, client):
    log_in(client, "admin")
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newcomer",
            "full_name": "新同事",
            "usable_password": "true",
            "password1": "Temp-pass-2027",
            "password2": "Temp-pass-2027",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(username="newcomer").must_change_password


def test_an_administrator_changing_their_own_password_in_the_admin_is_not_forced(world, client):
    log_in(client, "admin")
    client.post(
        reverse("admin:auth_user_password_change", args=[world.admin.pk]),
        {"password1": "Own-pass-2027", "password2": "Own-pass-2027", "usable_password": "true"},
    )
    assert not reload(world.admin).must_change_password


# --- one-time links --------------------------------------------------------------------------------


def issue_links(client, *users):
    return client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "issue_password_reset", "_selected_action": [u.pk for u in users]},
    )


def link_path(page):
    links = re.findall(r'<code class="reset-link">([^<]+)</code>', page)
    return [link.split("://", 1)[1].split("/", 1)[1] for link in links]


def test_an_administrator_issues_a_one_time_link_shown_once(
    world, client, changes, django_capture_on_commit_callbacks
):
    log_in(client, "admin")
    response = issue_links(client, world.zhanghua)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [path] = link_path(response.content.decode())
    assert changes == [("issued", "zhanghua", "admin", "admin")]

    client.logout()
    form = client.get("/" + path, follow=True)
    assert form.context["validlink"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}
        )
    assert response["Location"] == reverse("password_reset_complete")
    assert reload(world.zhanghua).check_password(NEW)
    assert changes[-1] == ("changed", "zhanghua", "zhanghua", "reset")
    # Used once: it does not work again.
    assert not client.get("/" + path, follow=True).context["validlink"]


def test_a_link_expires(world, client, settings, monkeypatch):
    log_in(client, "admin")
    [path] = link_path(issue_links(client, world.zhanghua).content.decode())
    client.logout()
    later = default_token_generator._now() + datetime.timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 60
    )
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    assert not client.get("/" + path, follow=True).context["validlink"]


def test_only_who_may_change_users_issues_links(world, client):
    log_in(client, "tiwei")
    response = issue_links(client, world.zhanghua)
    assert response.status_code in (302, 403)
    assert "reset-link" not in response.content.decode()


def test_asking_for_a_link_oneself_is_off_without_email_or_sms(world, client, settings):
    security(settings, PASSWORD_RESET_CHANNELS=[])
    world.kjj.email = "kjj@example.gov.cn"
    world.kjj.save()
    assert reverse("password_reset") not in client.get(reverse("login")).content.decode()
    page = client.get(reverse("password_reset")).content.decode()
    assert "reset-by-administrator" in page and "<form" not in page.split("</header>")[1]
    response = client.post(reverse("password_reset"), {"identifier": "kjj@example.gov.cn"})
    assert response.status_code == 200 and mail.outbox == []


def test_a_link_by_email_tells_nobody_whether_the_account_exists(
    world, client, settings, changes, django_capture_on_commit_callbacks
):
    security(settings, PASSWORD_RESET_CHANNELS=["email"])
    world.kjj.email = "kjj@example.gov.cn"
    world.kjj.save()
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers on commit
        known = client.post(reverse("password_reset"), {"identifier": "KJJ@example.gov.cn"})
    unknown = client.post(reverse("password_reset"), {"identifier": "nobody@example.gov.cn"})
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [m.to for m in mail.outbox] == [["kjj@example.gov.cn"]]
    assert "/accounts/reset/" in mail.outbox[0].body
    assert changes == [("issued", "kjj", None, "email")]


def test_a_link_by_sms(world, client, settings, changes, django_capture_on_commit_callbacks):
    security(settings, PASSWORD_RESET_CHANNELS=["sms"])
    world.zhanghua.phone = "13900000058"
    world.zhanghua.save()
    sms.outbox.clear()
    response = client.post(reverse("password_reset"), {"identifier": "139 0000 0058"})
    assert response["Location"] == reverse("password_reset_done")
    assert sms.outbox == []  # spaces are kept apart: only the number as stored matches
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers on commit
        client.post(reverse("password_reset"), {"identifier": "13900000058"})
    [(phone, text)] = sms.outbox
    assert phone == "13900000058" and "/accounts/reset/" in text
    assert changes == [("issued", "zhanghua", None, "sms")]
    sms.outbox.clear()


# --- expiry ----------------------------------------------------------------------------------------


def test_an_old_staff_password_must_be_changed_when_expiry_is_set(world, client, settings):
    security(settings, PASSWORD_MAX_AGE_DAYS=90)
    old = timezone.now() - datetime.timedelta(days=91)
    User.objects.filter(username__in=["kjj", "zhanghua"]).update(password_changed_at=old)
    log_in(client, "kjj")
    assert client.get(reverse("workspace"))["Location"] == reverse("password_change")
    change(client)
    assert client.get(reverse("workspace")).status_code == 200
    # Proposers are not staff: their passwords do not expire.
    client.logout()
    log_in(client, "zhanghua")
    assert client.get(reverse("workspace")).status_code == 200


def test_passwords_do_not_expire_by_default(world, client):
    User.objects.filter(username="kjj").update(
        password_changed_at=timezone.now() - datetime.timedelta(days=3000)
    )
    log_in(client, "kjj")
    assert client.get(reverse("workspace")).status_code == 200


# --- sessions ---------------------------------------------------------------------------------------


def age_session(client, key, seconds):
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def test_a_session_ends_after_the_idle_timeout(world, client, settings):
    log_in(client, "kjj")
    assert client.get(reverse("workspace")).status_code == 200
    age_session(client, sessions.SEEN_AT, 29 * 60)
    assert client.get(reverse("workspace")).status_code == 200
    age_session(client, sessions.SEEN_AT, 31 * 60)
    response = client.get(reverse("workspace"))
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_the_idle_timeout_is_a_setting(world, client, settings):
    security(settings, SESSION_IDLE_MINUTES=5)
    log_in(client, "kjj")
    age_session(client, sessions.SEEN_AT, 6 * 60)
    assert client.get(reverse("workspace"))["Location"].startswith(reverse("login"))


def test_a_session_ends_after_its_lifetime_even_when_in_use(world, client):
    log_in(client, "kjj")
    age_session(client, sessions.LOGIN_AT, 11 * 3600)
    assert client.get(reverse("workspace")).status_code == 200
    age_session(client, sessions.LOGIN_AT, 12 * 3600 + 60)
    assert client.get(reverse("workspace"))["Location"].startswith(reverse("login"))


def test_sessions_end_when_the_browser_closes(world, client, settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    response = log_in(client, "kjj")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]


# --- the password again before signing ----------------------------------------------------------


def test_signing_asks_for_the_password_again_when_set(world, client, settings):
    security(settings, REAUTH_BEFORE_SIGNING_MINUTES=10)
    letter = awaiting(world)
    log_in(client, "kjj_leader")
    signoff = reverse("replies:signoff", args=[letter.pk])
    sign = reverse("replies:sign", args=[letter.pk])
    # Just logged in: the password is fresh.
    age_session(client, sessions.AUTH_AT, 11 * 60)
    response = client.post(sign, {"back": signoff})
    confirm = response["Location"]
    assert confirm.startswith(reverse("reauthenticate"))
    assert ReplyLetter.objects.get(pk=letter.pk).state == ReplyLetter.State.AWAITING_SIGNOFF

    wrong = client.post(confirm, {"password": "wrong-1", "next": signoff})
    assert wrong.status_code == 200 and wrong.context["form"].errors["password"]
    right = client.post(confirm, {"password": PASSWORD, "next": signoff})
    assert right["Location"] == signoff
    client.post(sign, {"back": signoff})
    assert ReplyLetter.objects.get(pk=letter.pk).state == ReplyLetter.State.SIGNED


def test_signing_asks_nothing_by_default(world, client):
    letter = awaiting(world)
    log_in(client, "kjj_leader")
    age_session(client, sessions.AUTH_AT, 3600)
    client.post(reverse("replies:sign", args=[letter.pk]))
    assert ReplyLetter.objects.get(pk=letter.pk).state == ReplyLetter.State.SIGNED


def test_signing_in_the_admin_asks_for_the_password_too(world, client, settings):
    security(settings, REAUTH_BEFORE_SIGNING_MINUTES=10)
    letter = awaiting(world)
    log_in(client, "admin")
    age_session(client, sessions.AUTH_AT, 11 * 60)
    response = client.post(
        reverse("admin:replies_replyletter_changelist"),
        {"action": "action__sign", "_selected_action": [letter.pk]},
    )
    assert response["Location"].startswith(reverse("reauthenticate"))
    assert ReplyLetter.objects.get(pk=letter.pk).state == ReplyLetter.State.AWAITING_SIGNOFF


def test_a_foreign_next_after_confirming_is_ignored(world, client):
    log_in(client, "kjj")
    response = client.post(
        reverse("reauthenticate"), {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("workspace")


# --- lockout ----------------------------------------------------------------------------------------


def fail(client, username="kjj", times=5):
    for _ in range(times):
        response = client.post(reverse("login"), {"username": username, "password": "wrong"})
    return response


def test_the_lockout_page_says_how_long_is_left(world, client):
    response = fail(client)
    assert response.status_code == 429
    assert re.search(r'class="lockout-wait"><strong>[^<]*60', response.content.decode())
    # The wait runs from the last failure (each try while locked starts it again).
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=50))
    request = response.wsgi_request
    assert lockout.remaining_minutes(request, {"username": "kjj"}) == 10


def security_administrator():
    user = make_user("anquan", "安全管理员", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["axes", "accounts"],
            codename__in=["view_accessattempt", "delete_accessattempt", "view_user"],
        )
    )
    return user


def test_a_security_administrator_unlocks_from_the_failed_logins(world, client):
    fail(client)
    assert AccessAttempt.objects.filter(username="kjj").exists()
    security_administrator()
    log_in(client, "anquan")
    client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "unlock",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
        },
    )
    assert not AccessAttempt.objects.exists()
    client.logout()
    log_in(client, "kjj")


def test_a_security_administrator_unlocks_from_the_users(world, client):
    fail(client)
    security_administrator()
    log_in(client, "anquan")
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert 'value="unlock_logins"' in page
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_logins", "_selected_action": [world.kjj.pk]},
    )
    assert not AccessAttempt.objects.filter(username="kjj").exists()


def test_unlocking_needs_the_permission(world, client):
    fail(client)
    clerk = make_user("clerk", "系统管理员", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user", "view_accessattempt"])
    )
    log_in(client, "clerk")
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert 'value="unlock_logins"' not in page
    for url, action, ids in (
        (reverse("admin:accounts_user_changelist"), "unlock_logins", [world.kjj.pk]),
        (
            reverse("admin:axes_accessattempt_changelist"),
            "unlock",
            list(AccessAttempt.objects.values_list("pk", flat=True)),
        ),
    ):
        client.post(url, {"action": action, "_selected_action": ids})
    assert AccessAttempt.objects.filter(username="kjj").exists()


def test_set_password_refuses_an_unknown_way(world):
    with pytest.raises(ValueError):
        passwords.set_password(world.kjj, NEW, by=world.kjj, how="guess")


HOSTILE = ["", " ", "x" * 5000, "'; DROP TABLE accounts_user; --", "<script>", "١٢٣", "a\x00b"]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_to_the_password_pages_is_refused_not_a_500(world, client, settings, value):
    security(settings, PASSWORD_RESET_CHANNELS=["email", "sms"])
    ok = (200, 302, 400)  # 400: a NUL byte (core.middleware)
    assert client.post(reverse("password_reset"), {"identifier": value}).status_code in ok
    log_in(client, "kjj_leader")
    for data in (
        {"password": value, "next": value},
        {"next": "/work/"},
        {"password": [value, value]},
    ):
        assert client.post(reverse("reauthenticate"), data).status_code in ok
    response = change(client, old=value, new=value)
    assert response.status_code in (200, 400)
    assert reload(world.kjj_leader).check_password(PASSWORD)
