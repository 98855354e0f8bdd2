"""Anonymous readers of the public pages read from a streaming replica; all else the primary.

With DATABASE_REPLICA_URL set there is a `replica` database. A request may read from it
only when it is an anonymous GET or HEAD of a page in the `public:` namespace (the column,
the replies, the feed) and its browser has not written anything in the last
REPLICA_PIN_SECONDS. Staff pages, every POST and every logged-in user read from the
primary, so nobody reads back a state older than what they have just done, and a write
inside a replica-eligible request sends the rest of that request to the primary too.
"""

import contextvars

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

REPLICA = "replica"
REPLICA_NAMESPACES = {"public"}
# Set on the response to any POST (or other unsafe method): the browser's next reads, for
# a few seconds, go to the primary, which already has what it wrote.
PIN_COOKIE = "tian_primary"

_use_replica = contextvars.ContextVar("tian_use_replica", default=False)


def has_replica():
    return REPLICA in settings.DATABASES


def replica_eligible(request):
    """May this request read from the replica? Asked once the URL is resolved."""
    match = request.resolver_match
    if request.method not in ("GET", "HEAD") or PIN_COOKIE in request.COOKIES:
        return False
    if match is None or match.namespace not in REPLICA_NAMESPACES:
        return False
    # Reading the user costs a session lookup (on the primary), so only when there is one.
    has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
    return not (has_session and request.user.is_authenticated)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if _use_replica.get() and has_replica():
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        # Whatever the request reads after a write, it reads from where it wrote.
        _use_replica.set(False)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: the same rows under the same keys.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaMiddleware:
    """Marks a request as replica-eligible for the duration of its view."""

    def __init__(self, get_response):
        if not has_replica():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        token = _use_replica.set(False)
        try:
            response = self.get_response(request)
        finally:
            _use_replica.reset(token)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        _use_replica.set(replica_eligible(request))
