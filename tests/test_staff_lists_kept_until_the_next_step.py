"""The workspace and the admin's proposal list are kept rendered until the next workflow step.

core/pagecache.py: a page is kept whole per person, language, day, query, CSRF secret and
generation; every event (`record_event`) moves the generation on once its transaction
commits, and a person's notifications (new, read) move their own.
"""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from core import pagecache
from proposals.services import mark_key

pytestmark = pytest.mark.django_db

KEPT = override_settings(TIAN_STAFF_PAGE_CACHE=True)


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(captured)


@pytest.fixture
def kept():
    with KEPT:
        yield


def test_off_with_a_per_process_cache_unless_asked():
    assert not pagecache.cache_is_shared()  # the tests' cache is per process
    assert not pagecache.enabled()
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    ):
        assert pagecache.enabled()
    with KEPT:
        assert pagecache.enabled()


def test_the_workspace_is_served_kept_until_a_step_commits(
    world, client, kept, django_capture_on_commit_callbacks
):
    client.force_login(world.tiwei)
    first, rendered = queries(client, "/work/")
    second, served = queries(client, "/work/")
    assert served < rendered and served <= 2  # session, user
    assert second.content.decode().count(world.proposal.title) == 1
    assert "重点" not in re.sub(r"<select.*?</select>", "", second.content.decode(), flags=re.S)

    with django_capture_on_commit_callbacks(execute=True):
        mark_key(world.proposal, world.tiwei, True, supervising_leader="王副主席")
    after, _ = queries(client, "/work/")
    assert 'class="state">重点' in after.content.decode() or ">重点<" in after.content.decode()


def test_a_step_that_rolls_back_leaves_the_kept_list(world, client, kept):
    client.force_login(world.tiwei)
    queries(client, "/work/")
    before = pagecache.generation()
    mark_key(world.proposal, world.tiwei, True, supervising_leader="王副主席")  # never commits
    assert pagecache.generation() == before
    _, served = queries(client, "/work/")
    assert served <= 2


def test_each_person_and_each_query_has_its_own_list(world, client, kept):
    client.force_login(world.tiwei)
    queries(client, "/work/")
    other = Client()
    other.force_login(world.outsider)  # 区教委: not a unit of 069
    page, rendered = queries(other, "/work/")
    assert world.proposal.title not in page.content.decode()
    filtered, _ = queries(client, "/work/?state=submitted")
    assert world.proposal.title not in filtered.content.decode()
    again, _ = queries(client, "/work/")
    assert world.proposal.title in again.content.decode()


def test_a_lost_generation_starts_afresh(world, client, kept):
    client.force_login(world.tiwei)
    queries(client, "/work/")
    old = pagecache.generation()
    cache.delete(pagecache.GENERATION_KEY)
    assert pagecache.generation() != old
    _, rendered = queries(client, "/work/")
    assert rendered > 2


def test_the_next_day_is_rendered_anew(world, client, kept, monkeypatch):
    client.force_login(world.tiwei)
    queries(client, "/work/")
    import datetime

    from django.utils import timezone

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(pagecache.timezone, "localdate", lambda **kw: tomorrow)
    _, rendered = queries(client, "/work/")
    assert rendered > 2


def unread_badge(page):
    found = re.search(r'<span class="badge"[^>]*>(\d+)</span>', page.content.decode())
    return int(found.group(1)) if found else 0


def test_the_kept_workspace_counts_the_persons_new_and_read_notifications(
    world, client, kept, django_capture_on_commit_callbacks
):
    from accounts.models import Notification
    from accounts.notifications import notify

    client.force_login(world.tiwei)
    before = unread_badge(queries(client, "/work/")[0])
    _, served = queries(client, "/work/")
    assert served <= 2

    # Someone else's notification leaves this person's kept page alone.
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.outsider], "test", "给别人的通知")
    _, served = queries(client, "/work/")
    assert served <= 2

    with django_capture_on_commit_callbacks(execute=True):
        notify([world.tiwei], "test", "请查看第069号提案")
    page, rendered = queries(client, "/work/")
    assert rendered > 2
    assert unread_badge(page) == before + 1

    note = Notification.objects.filter(recipient=world.tiwei, read_at__isnull=True).latest("pk")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/accounts/notifications/{note.pk}/").status_code == 302
    assert unread_badge(queries(client, "/work/")[0]) == before

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/notifications/read/").status_code == 302
    assert unread_badge(queries(client, "/work/")[0]) == 0


def test_the_kept_workspace_logs_out_with_its_kept_csrf_token(world, kept):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.tiwei)
    queries(client, "/work/")
    kept_page, served = queries(client, "/work/")
    assert served <= 2
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', kept_page.content.decode())
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    assert client.get("/work/").status_code == 302  # logged out: to the login page


ADMIN_LIST = "/admin/proposals/proposal/"


def test_the_admin_list_is_kept_and_its_kept_csrf_token_still_posts(
    world, kept, django_capture_on_commit_callbacks
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    queries(client, ADMIN_LIST)
    kept_page, served = queries(client, ADMIN_LIST)
    assert served <= 2
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', kept_page.content.decode())
    assert token
    # The kept page's form posts: its token belongs to this browser's CSRF secret.
    response = client.post(
        ADMIN_LIST,
        {
            "csrfmiddlewaretoken": token.group(1),
            "action": "delete_selected",
            ACTION_CHECKBOX_NAME: [world.proposal.pk],
        },
    )
    assert response.status_code != 403


def test_the_admin_list_with_messages_is_neither_served_from_nor_kept(world, kept):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage

    client = Client()
    client.force_login(world.admin)
    queries(client, ADMIN_LIST)
    # A message waiting (as after an action): the page shows it, and is not kept with it.
    request = type("R", (), {"COOKIES": {}})()
    storage = CookieStorage(request)
    storage.add(constants.SUCCESS, "已完成：测试消息")
    response = client.get("/")  # any response to carry the cookie
    storage.update(response)
    client.cookies[CookieStorage.cookie_name] = response.cookies[CookieStorage.cookie_name].value
    shown, _ = queries(client, ADMIN_LIST)
    assert "已完成：测试消息" in shown.content.decode()
    later, _ = queries(client, ADMIN_LIST)
    assert "已完成：测试消息" not in later.content.decode()


def test_a_kept_admin_list_is_not_served_to_someone_who_lost_the_permission(world, kept):
    client = Client()
    client.force_login(world.admin)
    queries(client, ADMIN_LIST)
    world.admin.is_superuser = False
    world.admin.save()
    assert client.get(ADMIN_LIST).status_code == 403
