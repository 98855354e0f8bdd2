"""Anonymous readers of the public pages are served by the streaming replica; staff, and
anyone who has just written, read from the primary and see their change at once."""

import time

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from config.db_router import PIN_COOKIE
from replies.models import ReplyLetter

from .conftest import wait_for_replica

pytestmark = pytest.mark.replica


def served_by(client, url):
    """The response and how many queries each database answered for it."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    return response, len(primary), len(replica)


def letter_069():
    return ReplyLetter.objects.get(assignment__proposal__number=69)


def pause_replay():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
        for _ in range(100):
            cursor.execute("SELECT pg_get_wal_replay_pause_state()")
            if cursor.fetchone()[0] == "paused":
                return
            time.sleep(0.05)
    raise AssertionError("the replica did not pause")


def resume_replay():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")


def test_the_replica_alias_is_a_standby_in_recovery(unblocked):
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port(), current_database()")
        assert cursor.fetchone() == (True, 5433, unblocked)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (False,)


@pytest.mark.parametrize("path", ["/", "/replies/{pk}/", "/replies/{pk}/print/", "/replies/feed/"])
def test_an_anonymous_reader_of_a_public_page_is_served_by_the_replica(unblocked, path):
    response, on_primary, on_replica = served_by(Client(), path.format(pk=letter_069().pk))
    assert response.status_code == 200
    assert on_replica > 0
    assert on_primary == 0


def test_staff_pages_and_logged_in_readers_use_the_primary(unblocked):
    client = Client()
    client.force_login(User.objects.get(username="tiwei"))
    for path in ["/work/", f"/replies/{letter_069().pk}/"]:
        response, on_primary, on_replica = served_by(client, path)
        assert response.status_code == 200
        assert on_primary > 0
        assert on_replica == 0


def test_staff_read_back_their_own_change_at_once_while_the_replica_lags(unblocked):
    letter = letter_069()
    public_page = f"/replies/{letter.pk}/"
    staff = Client()
    staff.force_login(User.objects.get(username="tiwei"))
    pause_replay()
    try:
        response = staff.post(
            f"/work/replies/{letter.pk}/unpublish/", {"reason": "数据待核实"}, follow=False
        )
        assert response.status_code == 302
        letter.refresh_from_db()
        assert not letter.is_public

        # The staff member sees the reply gone at once: their reads go to the primary.
        response, _on_primary, on_replica = served_by(staff, public_page)
        assert response.status_code == 404
        assert on_replica == 0

        # The lagging replica still shows it to the public: the proof that it served them.
        response, on_primary, _on_replica = served_by(Client(), public_page)
        assert response.status_code == 200
        assert on_primary == 0

        # After logging out (a POST), the same browser still reads from the primary for a
        # while: no step back in time between its own write and the replica catching up.
        response = staff.post("/accounts/logout/")
        assert PIN_COOKIE in response.cookies
        response, _on_primary, on_replica = served_by(staff, public_page)
        assert response.status_code == 404
        assert on_replica == 0
    finally:
        resume_replay()
    wait_for_replica()
    response, on_primary, _on_replica = served_by(Client(), public_page)
    assert response.status_code == 404
    assert on_primary == 0
