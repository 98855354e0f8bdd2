"""The 500 handler: a database that is down or restarting answers 503, not "something went wrong".

Django calls the handler inside its `except` block, so `sys.exc_info()` holds the exception,
whichever layer raised it (a view, the session middleware, a template). While PostgreSQL
restarts, every request that needs it fails with OperationalError or InterfaceError; the
reader gets a page saying the system is briefly unavailable, with Retry-After, and the next
request reconnects by itself (CONN_HEALTH_CHECKS): the application is never restarted.
Nothing is half-saved: every workflow step runs in a transaction that the database rolls back.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 10


def database_unavailable(exc):
    """Whether `exc`, or an exception it was raised from, says the database cannot be reached."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request, template_name="500.html"):
    if database_unavailable(sys.exc_info()[1]):
        # Rendered without a request: no context processor may touch the database.
        body = loader.get_template("503.html").render()
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request, template_name)
