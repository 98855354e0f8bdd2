import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.views import is_local_path

from . import passwords, sessions


class DefaultLanguageMiddleware:
    """Chinese for everyone, whatever the browser says, unless the language cookie asks otherwise.

    Django's LocaleMiddleware follows Accept-Language, which would show an English-language
    browser an English UI; this system speaks zh-hans by default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class SessionSecurityMiddleware:
    """After authentication: end a session idle for TIAN_SESSION_IDLE_MINUTES or older than
    TIAN_SESSION_MAX_HOURS, and send a user whose password must be changed (set by an
    administrator, or expired) to the change form before anything else."""

    # Recording every request would write the session each time: once a minute is enough.
    SEEN_RESOLUTION = 60
    # What a user who must change the password may still open.
    OPEN_WHILE_CHANGING = {"password_change", "password_change_done", "logout", "healthz"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self.check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request, user):
        session = request.session
        now = int(time.time())
        security = settings.TIAN_SECURITY
        login_at = session.setdefault(sessions.LOGIN_AT, now)
        seen_at = session.get(sessions.SEEN_AT, now)
        if now - seen_at > security["SESSION_IDLE_MINUTES"] * 60:
            return self.end(request, _("You were logged out after a time without activity."))
        if now - login_at > security["SESSION_MAX_HOURS"] * 3600:
            return self.end(request, _("Your session has ended. Please log in again."))
        if now - seen_at >= self.SEEN_RESOLUTION or sessions.SEEN_AT not in session:
            session[sessions.SEEN_AT] = now
        if self.is_static(request):
            return None
        if passwords.must_change(user):
            match = getattr(resolve_or_none(request.path_info), "url_name", None)
            if match not in self.OPEN_WHILE_CHANGING:
                if user.must_change_password:
                    messages.warning(request, _("Please choose a new password before you go on."))
                else:
                    messages.warning(
                        request, _("Your password has expired. Please choose a new one.")
                    )
                return redirect("password_change")
        return None

    def end(self, request, message):
        logout(request)
        messages.info(request, message)
        if request.method == "GET" and is_local_path(request.get_full_path()):
            return redirect_to_login(request.get_full_path())
        return redirect_to_login(reverse("workspace"))

    @staticmethod
    def is_static(request):
        return request.path_info.startswith(settings.STATIC_URL)


def resolve_or_none(path):
    try:
        return resolve(path)
    except Resolver404:
        return None
