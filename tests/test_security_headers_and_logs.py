"""Security headers (CSP without inline code, HSTS, the redirect to HTTPS), `check --deploy`
with production settings, the console SMS backend refused in production, and logs that
hold no phone number, no usable link token, and no traceback for a 403."""

import io
import logging
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.checks import Error
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import checks, log_filters, sms
from accounts.models import RateCount
from replies import ratelimit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
# Rendered into a PDF by WeasyPrint, never served as a page.
PDF_ONLY = {
    "replies/letter_pdf.html",
    "replies/_letter_pdf_body.html",
    "replies/compendium_pdf.html",
}


def policy(response):
    header = response["Content-Security-Policy"]
    return dict((part.split()[0], part.split()[1:]) for part in header.split(";") if part.strip())


# --- Content-Security-Policy ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/healthz"])
def test_every_page_has_a_policy_without_inline_code(db, client, path):
    csp = policy(client.get(path))
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in str(csp) and "'unsafe-eval'" not in str(csp)


def test_staff_pages_and_the_admin_have_the_same_policy(world, client):
    client.force_login(world.admin)
    for path in (reverse("workspace"), "/admin/", reverse("admin:accounts_user_changelist")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert policy(response)["script-src"] == ["'self'"], path


def inline_code(html):
    """Inline scripts, style elements, style attributes and event handlers in a page."""
    found = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    found += re.findall(r"<style\b", html)
    found += re.findall(r"\sstyle=", html)
    found += re.findall(r"\son[a-z]+=", html)
    found += re.findall(r"javascript:", html)
    return found


def test_no_template_has_inline_code():
    offenders = {}
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in PDF_ONLY:
            continue
        found = inline_code(path.read_text())
        if found:
            offenders[name] = found
    assert offenders == {}


def test_pages_as_served_have_no_inline_code(world, client):
    client.force_login(world.admin)
    pages = [
        reverse("workspace"),
        reverse("password_change"),
        "/admin/",
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[world.kjj.pk]),
        reverse("admin:proposals_proposal_changelist"),
    ]
    for path in pages:
        html = client.get(path).content.decode()
        assert inline_code(html) == [], path
    client.logout()
    assert inline_code(client.get("/").content.decode()) == []


# --- HTTPS -------------------------------------------------------------------------------------


def test_plain_http_is_sent_to_https_except_the_health_check(db, client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200


def test_https_answers_carry_hsts(db, client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TIAN_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)[:50],
            "DJANGO_ALLOWED_HOSTS": "tian.example.gov.cn",
            "DJANGO_FIELD_ENCRYPTION_KEYS": "c2VjdXJpdHktdGVzdHMtZmllbGQta2V5LTAwMDAwMDA=",
            "TIAN_SMS_BACKEND": "tests.test_security_headers_and_logs.GatewayBackend",
            **extra,
        }
    )
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class GatewayBackend:
    def send(self, phone, text):
        pass


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage(production_env(), "check", "--deploy")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr + result.stdout


def test_production_defaults_redirect_to_https_and_send_hsts():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_EXPIRE_AT_BROWSER_CLOSE)"
    )
    result = manage(production_env(), "shell", "-c", code)
    assert result.stdout.splitlines()[-1].split() == ["True", "31536000", "True"], result.stderr
    # Plain HTTP on purpose (a benchmark on loopback): both follow DJANGO_SECURE_COOKIES=0.
    result = manage(production_env(DJANGO_SECURE_COOKIES="0"), "shell", "-c", code)
    assert result.stdout.splitlines()[-1].split() == ["False", "0", "True"], result.stderr


# --- the console SMS backend in production ----------------------------------------------------------


def test_the_console_sms_backend_is_an_error_in_production(settings):
    settings.DEBUG = False
    settings.SMS_BACKEND = "accounts.sms.ConsoleBackend"
    [error] = checks.console_sms_in_production(None)
    assert isinstance(error, Error) and error.id == "accounts.E001"
    settings.TIAN_SECURITY = {**settings.TIAN_SECURITY, "SMS_CONSOLE_ALLOWED": True}
    assert checks.console_sms_in_production(None) == []


def test_the_console_sms_backend_is_fine_in_development(settings):
    settings.DEBUG = True
    settings.SMS_BACKEND = "accounts.sms.ConsoleBackend"
    assert checks.console_sms_in_production(None) == []


def test_manage_py_refuses_to_run_with_the_console_backend_in_production():
    env = production_env()
    del env["TIAN_SMS_BACKEND"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "accounts.E001" in result.stderr
    result = manage({**env, "TIAN_SMS_CONSOLE_ALLOWED": "1"}, "check")
    assert result.returncode == 0, result.stderr


# --- logs ------------------------------------------------------------------------------------------


@pytest.fixture
def log_output():
    """What the configured root handler writes, with its filters (config/settings.py)."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, log_filters.MaskSecretsFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_the_console_sms_backend_logs_no_phone_number_or_usable_link(log_output):
    token = "eyJyIjo0Miwia2luZCI6InJlY2VpcHQifQ:1tQ2xY:abcdefghijklmnopqrstuvwxyz0123456789"
    sms.ConsoleBackend().send("13912340058", f"请填写回执：https://tian.example.gov.cn/r/{token}/")
    line = log_output.getvalue()
    assert "139****0058" in line
    assert "13912340058" not in line
    assert token not in line and token[:20] not in line
    assert "/r/eyJyIj…" in line


@pytest.mark.parametrize(
    "text, masked",
    [
        ("call 13800138000 now", "call 138****8000 now"),
        ("+86 13800138000", "+86 138****8000"),
        ("+8613800138000", "+86138****8000"),
        ("order 2022013800138000123", "order 2022013800138000123"),
        (
            "GET /accounts/reset/Mw/cy2x1a-5f0e8d1c2b3a4f5e6d7c8b9a0f1e2d3c/ 200",
            "GET /accounts/reset/Mw/cy2x…/ 200",
        ),
        ("GET /r/mine/ 200", "GET /r/mine/ 200"),
        ("session 3c9f7d1a8b2e4f6a0c5d7e9b1a3c5e7f", "session 3c9f7d…"),
        ("第069号 on 2022-07-20", "第069号 on 2022-07-20"),
    ],
)
def test_masking(text, masked):
    assert log_filters.mask(text) == masked


def test_a_refusal_is_one_line_without_a_traceback(world, client, log_output):
    client.force_login(world.kjj)
    # A handler opening the committee's import page: PermissionDenied.
    response = client.get(reverse("proposals:import_upload"))
    assert response.status_code == 403
    lines = [line for line in log_output.getvalue().splitlines() if line.strip()]
    assert lines == ["Forbidden (Permission denied): /work/proposals/import/"]


def test_a_server_error_keeps_its_traceback(log_output):
    try:
        raise RuntimeError("boom for 13912340058")
    except RuntimeError:
        logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True)
    text = log_output.getvalue()
    assert "Traceback" in text and "139****0058" in text and "13912340058" not in text


# --- the receipt rate limit is shared by every worker -----------------------------------------------


def request_from(address):
    return RequestFactory().get("/r/x/", REMOTE_ADDR=address)


def test_without_a_shared_cache_the_limit_counts_in_the_database(db):
    assert not ratelimit.cache_is_shared()
    for _ in range(3):
        assert ratelimit.hit(request_from("10.2.2.1"), "receipt", limit=3)
    # Another worker's memory is empty: the count is not there but in the database.
    cache.clear()
    assert not ratelimit.hit(request_from("10.2.2.1"), "receipt", limit=3)
    assert ratelimit.hit(request_from("10.2.2.2"), "receipt", limit=3)
    [row] = RateCount.objects.filter(key__contains="10.2.2.1")
    assert row.count == 4


def test_counts_of_past_windows_are_removed(db):
    RateCount.objects.create(
        key="ratelimit:receipt:10.2.2.3:1", count=9, expires=timezone.now() - timedelta(hours=1)
    )
    ratelimit.hit(request_from("10.2.2.4"), "receipt", limit=3)
    assert list(RateCount.objects.values_list("count", flat=True)) == [1]


def test_another_worker_process_goes_on_counting_in_the_database(live_world, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a second process shares the database only on PostgreSQL: set DATABASE_URL")
    for _ in range(2):
        assert ratelimit.hit(request_from("10.2.2.5"), "receipt", limit=3)
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.test_settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    )
    code = (
        "import django; django.setup(); from django.test import RequestFactory; "
        "from replies import ratelimit; "
        "r = RequestFactory().get('/r/x/', REMOTE_ADDR='10.2.2.5'); "
        "print([ratelimit.hit(r, 'receipt', limit=3) for _ in range(2)])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[True, False]", result.stderr


def test_concurrent_workers_never_get_past_the_limit_in_the_database(live_world):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: set DATABASE_URL")

    def worker(_):
        try:
            return [ratelimit.hit(request_from("10.2.2.6"), "receipt", limit=25) for _ in range(10)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        allowed = [ok for batch in pool.map(worker, range(8)) for ok in batch]
    assert allowed.count(True) == 25
