"""Health check, environment-driven settings, and the zh_Hans catalog."""

import gettext
import os
import re
import subprocess
import sys
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_healthz_says_the_database_answered(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_read_only(db, client):
    assert client.post("/healthz").status_code == 405


def run_settings(env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    # The phone numbers' encryption key (production refuses to start without one).
    clean["DJANGO_FIELD_ENCRYPTION_KEYS"] = os.environ["DJANGO_FIELD_ENCRYPTION_KEYS"]
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('ok')"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key():
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "example.cn"})
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_field_encryption_key():
    result = run_settings(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "example.cn",
            "DJANGO_FIELD_ENCRYPTION_KEYS": "",
        }
    )
    assert result.returncode != 0
    assert "DJANGO_FIELD_ENCRYPTION_KEYS" in result.stderr


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"


def po_entries(text):
    """(flags, msgid, [msgstr...]) for each entry of a .po file, header excluded."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        if all(line.startswith("#") for line in lines):
            continue  # obsolete or comment-only
        fields, current = {}, None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid_plural|msgid|msgstr(?:\[\d+\])?|msgctxt)\s+"(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid") == "":
            continue  # header
        strs = [v for k, v in fields.items() if k.startswith("msgstr")]
        msgid = fields.get("msgid")
        if "msgctxt" in fields:
            msgid = f"{fields['msgctxt']}\x04{msgid}"
        entries.append((flags, msgid, strs))
    return entries


def test_the_catalog_is_complete_and_has_no_fuzzy_entries():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 100
    fuzzy = [msgid for flags, msgid, _ in entries if "fuzzy" in flags]
    untranslated = [msgid for _, msgid, strs in entries if not all(s.strip() for s in strs)]
    assert fuzzy == [], f"fuzzy: {fuzzy[:10]}"
    assert untranslated == [], f"untranslated: {untranslated[:10]}"


def test_the_compiled_catalog_matches_the_source():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for flags, msgid, strs in po_entries(PO.read_text(encoding="utf-8"))
        if len(strs) == 1 and msgid and catalog.gettext(unescape(msgid)) != unescape(strs[0])
    ]
    assert stale == [], f"run `make messages`: {stale[:10]}"


def unescape(text):
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def test_the_ui_speaks_chinese():
    with translation.override("zh-hans"):
        assert translation.gettext("Workspace") == "工作台"
        assert translation.gettext("Log in") == "登录"


def test_the_ui_is_chinese_whatever_the_browser_asks(db, client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


def test_the_language_cookie_can_choose_english(db, client):
    client.cookies["django_language"] = "en"
    assert "Log in" in client.get("/accounts/login/").content.decode()


def database_options(env):
    code = (
        "import django; django.setup(); from django.db import connections; "
        "d = connections['default'].settings_dict; "
        "print(d['CONN_MAX_AGE'], d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
        "sorted(d['OPTIONS']), d['OPTIONS'].get('pool'))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_FIELD_ENCRYPTION_KEYS": os.environ["DJANGO_FIELD_ENCRYPTION_KEYS"],
            "DATABASE_URL": "postgres://u@db.example:5432/tian",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_by_default_a_worker_keeps_one_connection_for_a_minute():
    assert database_options({}) == "60 False ['options'] None"


def test_database_pool_gives_each_worker_psycopgs_pool():
    assert database_options({"DATABASE_POOL": "1", "DATABASE_POOL_MAX_SIZE": "8"}) == (
        "0 False ['options', 'pool'] {'min_size': 2, 'max_size': 8, 'timeout': 10}"
    )


def test_behind_pgbouncer_no_server_side_cursor_prepared_statement_or_startup_option():
    assert database_options({"DATABASE_PGBOUNCER": "1", "DATABASE_CONN_MAX_AGE": "0"}) == (
        "0 True ['prepare_threshold'] None"
    )
