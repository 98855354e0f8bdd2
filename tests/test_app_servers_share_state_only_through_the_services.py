"""Two app servers — separate gunicorn processes, each with a disk of its own — share a
login, an uploaded attachment and the receipt rate limit through PostgreSQL and Redis
alone (DJANGO_REDIS_URL, DJANGO_ATTACHMENT_STORAGE=database).

Needs PostgreSQL (DATABASE_URL) and Redis; without Redis it skips, except under CI=true."""

import http.cookiejar
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from accounts.models import User
from core.models import StoredFile
from proposals.models import CoOpinion

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/15"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A cookie jar and a CSRF token: enough of a browser to log in and post forms."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, url, data=None, files=None):
        headers = {}
        body = None
        if data is not None:
            data = {**data, "csrfmiddlewaretoken": self.cookie("csrftoken")}
            if files:
                boundary = uuid.uuid4().hex
                body = multipart(boundary, data, files)
                headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            else:
                body = urllib.parse.urlencode(data).encode()
            headers["Referer"] = url
        try:
            with self.opener.open(urllib.request.Request(url, body, headers)) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), "")

    def log_in(self, base, username):
        self.request(base + "/accounts/login/")
        status, _ = self.request(
            base + "/accounts/login/", {"username": username, "password": PASSWORD}
        )
        assert status == 302, "the login failed"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def multipart(boundary, data, files):
    parts = []
    for name, value in data.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


@pytest.fixture
def redis_prefix():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: Redis tests may not be skipped)")
        pytest.skip(message)
    prefix = f"tian-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def two_app_servers(live_world, redis_prefix, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("app servers share PostgreSQL: set DATABASE_URL")
    # The production settings know no MD5 passwords: give the users a hash they accept.
    hasher = PBKDF2PasswordHasher()
    User.objects.update(password=hasher.encode(PASSWORD, hasher.salt(), iterations=1000))
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": "the-same-secret-on-every-app-server",
        # The phone numbers the tests wrote are encrypted with the tests' key.
        "DJANGO_FIELD_ENCRYPTION_KEYS": os.environ["DJANGO_FIELD_ENCRYPTION_KEYS"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{urllib.parse.quote(db['PASSWORD'] or '')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "DJANGO_REDIS_URL": REDIS_URL,
        "DJANGO_CACHE_KEY_PREFIX": redis_prefix,
        "DJANGO_ATTACHMENT_STORAGE": "database",
        "TIAN_RECEIPT_RATE_LIMIT": "3",
        "AXES_ENABLED": "0",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    servers, bases = [], []
    for name in ("a", "b"):
        port = free_port()
        disk = tmp_path / name
        disk.mkdir()
        servers.append(
            subprocess.Popen(
                [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                cwd=ROOT,
                env={**env, "DJANGO_PRIVATE_MEDIA_ROOT": str(disk)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2)
                    break
                except OSError:
                    time.sleep(0.1)
        yield bases
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "a file landed on a disk"


def test_a_login_on_one_server_is_valid_on_the_other(two_app_servers):
    a, b = two_app_servers
    browser = Browser()
    browser.log_in(a, "tiwei")
    assert browser.request(b + "/work/")[0] == 200
    assert Browser().request(b + "/work/")[0] == 302  # and only with that session


def test_an_attachment_uploaded_to_one_server_is_downloaded_from_the_other(
    two_app_servers, live_world
):
    a, b = two_app_servers
    browser = Browser()
    browser.log_in(a, "jxw")
    status, _ = browser.request(
        a + f"/work/proposals/assignments/{live_world.co.pk}/opinion/",
        {"title": "会办意见", "body": "一、支持创建国家级高新区。"},
        files={"attachment": ("会办意见.pdf", PDF)},
    )
    assert status == 302
    opinion = CoOpinion.objects.get(assignment=live_world.co)
    assert StoredFile.objects.filter(name=opinion.attachment.name).exists()
    status, body = browser.request(b + f"/work/proposals/opinions/{opinion.pk}/attachment/")
    assert (status, body) == (200, PDF)


def test_the_receipt_rate_limit_counts_the_requests_to_every_server(two_app_servers):
    a, b = two_app_servers
    statuses = [Browser().request(base + "/r/no-such-token/")[0] for base in (a, b, a, b)]
    # Each server alone has seen two; together they have seen four, over the limit of 3.
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
