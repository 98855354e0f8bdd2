"""Which requests may read from the replica, and where the router sends reads and writes.
(The real standby is in tests/replica/.)"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from config import db_router
from config.db_router import PIN_COOKIE, PrimaryReplicaRouter, ReplicaMiddleware
from replies.models import ReplyLetter


def request_for(path, method="get", user=None, cookies=None):
    request = getattr(RequestFactory(), method)(path)
    request.resolver_match = resolve(path)
    request.user = user or AnonymousUser()
    request.COOKIES.update(cookies or {})
    return request


@pytest.mark.parametrize("path", ["/", "/replies/1/", "/replies/1/print/", "/replies/feed/"])
def test_an_anonymous_get_of_a_public_page_may_read_from_the_replica(path):
    assert db_router.replica_eligible(request_for(path))
    assert db_router.replica_eligible(request_for(path, method="head"))


@pytest.mark.parametrize("path", ["/work/", "/r/abc/", "/accounts/login/", "/healthz"])
def test_other_pages_read_from_the_primary(path):
    assert not db_router.replica_eligible(request_for(path))


def test_a_post_reads_from_the_primary():
    assert not db_router.replica_eligible(request_for("/", method="post"))


def test_a_logged_in_reader_of_a_public_page_reads_from_the_primary(world):
    request = request_for("/", user=world.tiwei, cookies={"sessionid": "x"})
    assert not db_router.replica_eligible(request)


def test_an_expired_session_cookie_does_not_keep_a_reader_off_the_replica():
    assert db_router.replica_eligible(request_for("/", cookies={"sessionid": "gone"}))


def test_a_browser_that_has_just_written_reads_from_the_primary():
    assert not db_router.replica_eligible(request_for("/", cookies={PIN_COOKIE: "1"}))


def test_the_router_sends_reads_of_an_eligible_request_to_the_replica(monkeypatch):
    monkeypatch.setattr(db_router, "has_replica", lambda: True)
    router = PrimaryReplicaRouter()
    assert router.db_for_read(ReplyLetter) == "default"
    token = db_router._use_replica.set(True)
    try:
        assert router.db_for_read(ReplyLetter) == "replica"
        # A write sends the rest of the request to the primary.
        assert router.db_for_write(ReplyLetter) == "default"
        assert router.db_for_read(ReplyLetter) == "default"
    finally:
        db_router._use_replica.reset(token)


def test_without_a_replica_everything_reads_from_the_primary():
    token = db_router._use_replica.set(True)
    try:
        assert PrimaryReplicaRouter().db_for_read(ReplyLetter) == "default"
    finally:
        db_router._use_replica.reset(token)


def test_migrations_run_on_the_primary_only():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate("default", "replies")
    assert not router.allow_migrate("replica", "replies")


def test_the_middleware_pins_a_browser_to_the_primary_after_a_post(monkeypatch, settings):
    monkeypatch.setattr(db_router, "has_replica", lambda: True)
    settings.REPLICA_PIN_SECONDS = 7
    seen = []

    def view(request):
        seen.append(db_router._use_replica.get())
        return HttpResponse()

    def handler(request):
        # As Django's handler does: the URL is resolved, process_view runs, then the view.
        middleware.process_view(request, view, (), {})
        return view(request)

    middleware = ReplicaMiddleware(handler)
    for method in ("get", "post"):
        response = middleware(request_for("/", method=method))
    assert seen == [True, False]
    assert response.cookies[PIN_COOKIE]["max-age"] == 7
    # Nothing leaks into the next request handled by this thread.
    assert db_router._use_replica.get() is False
