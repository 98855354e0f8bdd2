"""core/csp.py: django-csp's header, built once per process instead of twice per response."""

from unittest import mock

import pytest
from csp.constants import HEADER
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from core import csp as core_csp

pytestmark = pytest.mark.django_db


def configured_policy():
    return build_policy()


def test_the_header_is_django_csps_own(client):
    response = client.get("/")
    assert response[HEADER] == configured_policy()
    assert "unsafe-inline" not in response[HEADER]


def test_the_policy_is_built_once_for_many_responses(client):
    client.get("/")
    with mock.patch.object(core_csp, "build_policy", wraps=build_policy) as built:
        for _ in range(5):
            client.get("/")
            client.get("/accounts/login/")
    assert built.call_count == 0


def test_a_changed_setting_is_followed(client, settings):
    client.get("/")
    with override_settings(
        CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'self'", "https://tj.example.cn"]}}
    ):
        assert "https://tj.example.cn" in client.get("/")[HEADER]
    assert "https://tj.example.cn" not in client.get("/")[HEADER]


def test_a_response_with_its_own_policy_goes_django_csps_way():
    request = RequestFactory().get("/anything/")
    middleware = core_csp.CSPMiddleware(lambda r: HttpResponse())
    middleware.process_request(request)
    response = HttpResponse()
    response._csp_update = {"img-src": ["https://img.example.cn"]}
    assert "https://img.example.cn" in middleware.process_response(request, response)[HEADER]


def test_a_nonce_asked_for_goes_django_csps_way():
    from csp.middleware import CSPMiddleware as Original

    def answer(middleware_class):
        request = RequestFactory().get("/anything/")
        middleware = middleware_class(lambda r: HttpResponse())
        middleware.process_request(request)
        str(request.csp_nonce)
        return middleware.process_response(request, HttpResponse())[HEADER]

    with mock.patch.object(core_csp, "configured", side_effect=AssertionError):
        assert answer(core_csp.CSPMiddleware) == answer(Original)
