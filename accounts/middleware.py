from django.conf import settings
from django.utils import translation


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
