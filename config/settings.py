"""Settings, all from the environment. See README.md, "Configuration"."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "axes",
    "csp",
    "accounts",
    "core",
    "proposals",
    "replies",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the public page cache, so that cached pages carry the policy too.
    "core.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RejectNullBytesMiddleware",
    # Open-data API: CORS open for GET on /api/ (replies/api.py).
    "replies.api.ApiCorsMiddleware",
    # Anonymous readers of the public column are served from the cache, before sessions.
    "replies.public_cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Separation of duties and the security record: the request its rows belong to, and
    # every .xlsx download.
    "accounts.audit.SecurityRecordMiddleware",
    # After authentication: only anonymous readers of the public pages use the replica.
    "config.db_router.ReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout, absolute lifetime, a password that must be changed first (it says why).
    "accounts.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it watches the authentication result.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.workspace",
            ],
        },
    },
]

# SQLite under var/ when DATABASE_URL is unset: `make run` needs nothing installed.
VAR_DIR = Path(os.environ.get("DJANGO_VAR_DIR", BASE_DIR / "var"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A streaming replica of the primary, for the public pages (config/db_router.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
# Seconds after a write (a POST) during which the same browser reads from the primary
# only, so that it never sees the replica lag behind what it just did.
REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "10"))
for _db in DATABASES.values():
    if _db["ENGINE"] != "django.db.backends.postgresql":
        continue
    _options = _db.setdefault("OPTIONS", {})
    if not env_bool("DATABASE_PGBOUNCER"):
        # JIT compilation costs more than it saves on these short list queries (measured).
        # (PgBouncer refuses this startup parameter: there, ALTER DATABASE … SET jit = off.)
        _options.setdefault("options", "-c jit=off")
    if env_bool("DATABASE_POOL"):
        # psycopg's own pool, per process (Django 5.1+). Django refuses CONN_MAX_AGE with it.
        _db["CONN_MAX_AGE"] = 0
        _db["CONN_HEALTH_CHECKS"] = False
        _options["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "4")),
            "timeout": int(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        }
    if env_bool("DATABASE_PGBOUNCER"):
        # PgBouncer in transaction mode: a server connection is lent per transaction, so
        # no named cursor may outlive it and psycopg must not prepare statements.
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
        _options["prepare_threshold"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Wait for the writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# The statistics' covering indexes (INCLUDE) are PostgreSQL's; SQLite, for development,
# builds them without the included columns, which is all it needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# Roster import: how long an imported account's activation link works (the committee's
# accounts list gives fresh links whenever it is downloaded again).
ACCOUNT_ACTIVATION_DAYS = int(os.environ.get("DJANGO_ACCOUNT_ACTIVATION_DAYS", "30"))
LOGIN_REDIRECT_URL = "workspace"
LOGOUT_REDIRECT_URL = "public:index"

# Login throttling: lock a username+address pair after 5 failures for 1 hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The lockout page says how long is left (accounts/lockout.py).
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Behind nginx (or another proxy that appends to X-Forwarded-For), say how many proxies
# there are, so login throttling and the receipt rate limit see the client's address.
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXIES", "0"))
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Uploaded attachments: on this server's disk (one server), or in the database
# (`database`: every app server reads them, and they are in the same transaction and the
# same backup as the workflow step that uploaded them). See README, "Attachments".
ATTACHMENT_STORAGE = os.environ.get("DJANGO_ATTACHMENT_STORAGE", "filesystem")
if ATTACHMENT_STORAGE not in {"filesystem", "database"}:
    raise ImproperlyConfigured("DJANGO_ATTACHMENT_STORAGE is 'filesystem' or 'database'.")
STORAGES = {
    "default": {
        "BACKEND": "core.storage.DatabaseStorage"
        if ATTACHMENT_STORAGE == "database"
        # Load and fault tests: removes a half-written file when the disk is full.
        else "core.storage.PrivateFileSystemStorage"
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded files (co-handling opinion attachments) are private: stored outside
# any public path and served only through views that check access.
MEDIA_ROOT = Path(os.environ.get("DJANGO_PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "tian@localhost")

# --- Notifications outbox (accounts/outbox.py; README, "Notifications") -------------------
# Email and SMS are written to an outbox in the step's transaction and sent by
# `manage.py send_outbox` (deploy/systemd/tian-outbox*.{service,timer}), with retries.
OUTBOX = {
    # Also try each message right after the step commits, inside the request. Off in
    # production (a hanging mail server would slow the step); on under DJANGO_DEBUG.
    "DELIVER_ON_COMMIT": env_bool("TIAN_OUTBOX_DELIVER_ON_COMMIT", DEBUG),
    # Attempts before a message is marked failed (shown to committee staff); retries wait
    # RETRY_SECONDS, doubling each time, at most RETRY_MAX_SECONDS (10 attempts: ~4 hours).
    "MAX_ATTEMPTS": int(os.environ.get("TIAN_OUTBOX_MAX_ATTEMPTS", "10")),
    "RETRY_SECONDS": int(os.environ.get("TIAN_OUTBOX_RETRY_SECONDS", "60")),
    "RETRY_MAX_SECONDS": int(os.environ.get("TIAN_OUTBOX_RETRY_MAX_SECONDS", "3600")),
    # Messages one worker claims at a time, and how long it holds them: a worker that dies
    # mid-batch leaves them to another after the lease (keep it > BATCH_SIZE × EMAIL_TIMEOUT).
    "BATCH_SIZE": int(os.environ.get("TIAN_OUTBOX_BATCH_SIZE", "20")),
    "LEASE_SECONDS": int(os.environ.get("TIAN_OUTBOX_LEASE_SECONDS", "600")),
    # Sent messages (they hold addresses and receipt links) are deleted after this many days.
    "KEEP_SENT_DAYS": int(os.environ.get("TIAN_OUTBOX_KEEP_SENT_DAYS", "30")),
}
# Seconds before a silent mail server counts as down (Django's default waits forever).
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "20"))

# --- Backup and restore (core/backup.py; README, "Backup and restore") ---------------------
# Where `manage.py backup` writes (with --output it writes elsewhere). Keep it off this disk
# or copy it away: a backup beside the database is lost with it.
BACKUP_ROOT = Path(os.environ.get("DJANGO_BACKUP_ROOT", VAR_DIR / "backups"))

# Where the system is served from, for absolute links in emails and QR codes.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000")

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Accounts, sessions, security headers and logs (issue 10, sections 1 and 3) -------------
# README, "Configuration" and "Security". Served over HTTPS in production (the cookies are
# secure there by default): redirect plain HTTP and tell browsers to stay on HTTPS.
_HTTPS = not DEBUG and env_bool("DJANGO_SECURE_COOKIES", True)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", _HTTPS)
# Load balancers ask over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", 31536000 if _HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is the domain owner's decision (a submission to the browsers' list), not
    # this application's: without it the check has nothing to say.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy (django-csp 4): nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

TIAN_SECURITY = {
    # Passwords: at least this long, letters and digits, not like the username, not common.
    "PASSWORD_MIN_LENGTH": int(os.environ.get("TIAN_PASSWORD_MIN_LENGTH", "8")),
    # Staff passwords older than this must be changed (0: never).
    "PASSWORD_MAX_AGE_DAYS": int(os.environ.get("TIAN_PASSWORD_MAX_AGE_DAYS", "0")),
    # Log out after this many minutes without a request, and this many hours after login.
    "SESSION_IDLE_MINUTES": int(os.environ.get("TIAN_SESSION_IDLE_MINUTES", "30")),
    "SESSION_MAX_HOURS": int(os.environ.get("TIAN_SESSION_MAX_HOURS", "12")),
    # Ask a leader for the password again before signing a letter when they last gave it
    # longer ago than this (minutes; 0: never ask).
    "REAUTH_BEFORE_SIGNING_MINUTES": int(os.environ.get("TIAN_REAUTH_BEFORE_SIGNING_MINUTES", "0")),
    # Users ask for a reset link themselves on the login page through these ("email",
    # "sms"); empty: only an administrator issues one.
    "PASSWORD_RESET_CHANNELS": env_list("TIAN_PASSWORD_RESET_CHANNELS"),
    # The console SMS backend writes messages to the log: refused in production unless this.
    "SMS_CONSOLE_ALLOWED": env_bool("TIAN_SMS_CONSOLE_ALLOWED", False),
}
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": TIAN_SECURITY["PASSWORD_MIN_LENGTH"]},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.LettersAndDigitsValidator"},
]
# A one-time reset link works this many hours (and only until it is used).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("TIAN_PASSWORD_RESET_HOURS", "24")) * 3600
# Shared office PCs: the session ends with the browser, and at the latest after the
# absolute lifetime (the idle timeout is accounts.middleware.SessionSecurityMiddleware's).
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_AGE = TIAN_SECURITY["SESSION_MAX_HOURS"] * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Phone numbers and link tokens masked in every line; a 403 is one line, no traceback.
    "filters": {
        "mask_secrets": {"()": "accounts.log_filters.MaskSecretsFilter"},
        "short_forbidden": {"()": "accounts.log_filters.ShortForbiddenFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["short_forbidden", "mask_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO.
    "loggers": {
        # runserver's request lines carry receipt tokens: through the filtered handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The domain's configurable rules (DESIGN.md, "Deadlines"). Local practice varies.
TIAN = {
    "COMMITTEE_NAME": os.environ.get("TIAN_COMMITTEE_NAME", "重庆市梁平区"),
    "PROPOSAL_NUMBER_WIDTH": int(os.environ.get("TIAN_PROPOSAL_NUMBER_WIDTH", "3")),
    # Deadline rules: since they are DeadlineRule rows (admin), these only seed the rows.
    "RETURN_WINDOW_WORKING_DAYS": 5,
    "CO_OPINION_MONTHS": 1,
    "FIRST_CONTACT_WORKING_DAYS": 15,
    "REPLY_MONTHS": 3,
    "REPLY_MAX_MONTHS": 6,
    # Plenary proposals (大会提案) are sometimes given longer (DESIGN.md: "sometimes 5");
    # unset, they follow REPLY_MONTHS.
    "PLENARY_REPLY_MONTHS": int(os.environ["TIAN_PLENARY_REPLY_MONTHS"])
    if os.environ.get("TIAN_PLENARY_REPLY_MONTHS")
    else None,
    "PUBLISH_WORKING_DAYS": 20,
    "RECEIPT_WORKING_DAYS": 15,
    "REHANDLING_MONTHS": 3,
    # Extensions (延期) one assignment may be granted, each never past REPLY_MAX_MONTHS.
    "EXTENSIONS_MAX": int(os.environ.get("TIAN_EXTENSIONS_MAX", "1")),
    # "Due soon": badges, the supervision page and reminders look this many working days ahead.
    "DUE_SOON_WORKING_DAYS": int(os.environ.get("TIAN_DUE_SOON_WORKING_DAYS", "5")),
}

# SMS: "accounts.sms.ConsoleBackend" logs messages; point this at your gateway's class.
SMS_BACKEND = os.environ.get("TIAN_SMS_BACKEND", "accounts.sms.ConsoleBackend")
TIAN.update(
    {
        # Personal receipt links work this many days after the letter is sent.
        "RECEIPT_LINK_DAYS": int(os.environ.get("TIAN_RECEIPT_LINK_DAYS", "90")),
        # Remind a proposer who has not answered after this many working days (once).
        "RECEIPT_REMINDER_WORKING_DAYS": int(os.environ.get("TIAN_RECEIPT_REMINDER_DAYS", "10")),
        # Offer 理解 as a rating of the handling result, as some committees do.
        "RESULT_RATING_UNDERSTAND": os.environ.get("TIAN_RESULT_UNDERSTAND", "0") == "1",
        # A correction of typing errors in a published reply changes at most this many
        # characters (and no figure); anything more is signed again by the unit's leader.
        "TYPO_CORRECTION_MAX_CHARS": int(os.environ.get("TIAN_TYPO_CORRECTION_MAX_CHARS", "20")),
        # Receipt form submissions allowed per client address per hour.
        "RECEIPT_RATE_LIMIT_PER_HOUR": int(os.environ.get("TIAN_RECEIPT_RATE_LIMIT", "30")),
    }
)

# Open-data API (replies/api.py): requests one client address may make per minute.
TIAN["API_RATE_LIMIT_PER_MINUTE"] = int(os.environ.get("TIAN_API_RATE_LIMIT", "120"))

# Rate limits (receipt page), cached fragments (the column's counts) and, with Redis,
# sessions live in this cache. Per process by default, which is right for one worker only;
# with several workers or servers set DJANGO_REDIS_URL (Django's own RedisCache), or
# DJANGO_CACHE_BACKEND/DJANGO_CACHE_LOCATION for another shared backend.
REDIS_URL = os.environ.get("DJANGO_REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": (
            "core.cache.RedisCache"
            if REDIS_URL
            else os.environ.get(
                "DJANGO_CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"
            )
        ),
        "LOCATION": REDIS_URL or os.environ.get("DJANGO_CACHE_LOCATION", "tian"),
        "KEY_PREFIX": os.environ.get("DJANGO_CACHE_KEY_PREFIX", ""),
    }
}
SHARED_MEMORY_CACHE = any(
    name in CACHES["default"]["BACKEND"] for name in ("RedisCache", "PyMemcacheCache")
)
# Staff lists (the workspace, the admin's proposal list) kept rendered until the next
# workflow step (core/pagecache.py). Unset: on when the cache above is shared by every
# worker; "1"/"0" to force. TIAN_STAFF_PAGE_SECONDS bounds what changes without a step.
TIAN_STAFF_PAGE_CACHE = (
    env_bool("TIAN_STAFF_PAGE_CACHE", False) if "TIAN_STAFF_PAGE_CACHE" in os.environ else None
)
TIAN_STAFF_PAGE_SECONDS = int(os.environ.get("TIAN_STAFF_PAGE_SECONDS", "300"))
# How long each worker trusts the public column's version it read (replies/public_cache.py).
TIAN_PUBLIC_MEMO_SECONDS = float(os.environ.get("TIAN_PUBLIC_MEMO_SECONDS", "1"))
# Sessions: read from the shared cache, written through to the database (a restarted
# Redis logs nobody out); in the database alone without a shared cache.
SESSION_ENGINE = os.environ.get(
    "DJANGO_SESSION_ENGINE",
    "django.contrib.sessions.backends.cached_db"
    if SHARED_MEMORY_CACHE
    else "django.contrib.sessions.backends.db",
)

# The session's compendium (提案及办理答复汇编, replies/services/compendium.py): made in a
# background thread of the app server asked for it; progress and the finished PDF are in the
# database. False makes it at once, in the request's commit (tests).
COMPENDIUM_IN_THREAD = os.environ.get("DJANGO_COMPENDIUM_IN_THREAD", "1") != "0"

# --- Separation of duties and the security record (accounts/roles.py, accounts/audit.py) ---
# How long the security record is kept, in days: at least 183 (six months, 网络安全法 art. 21;
# a shorter value is a system-check error), three years unless set. `manage.py purge_audit`
# deletes rows past it.
AUDIT_RETENTION_DAYS = int(os.environ.get("DJANGO_AUDIT_RETENTION_DAYS", str(3 * 365)))

# Personal data encrypted at rest (core/fields.py): Fernet keys, comma-separated, newest
# first; the first encrypts, all decrypt (rotation: README). Generate one with
# python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
FIELD_ENCRYPTION_KEYS = env_list("DJANGO_FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_FIELD_ENCRYPTION_KEYS is not set (members' phone numbers are encrypted "
            "with it). Set it in the environment, or set DJANGO_DEBUG=1 for local development."
        )
    # Development only: a fixed key, so that a local database stays readable.
    FIELD_ENCRYPTION_KEYS = ["ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA="]
