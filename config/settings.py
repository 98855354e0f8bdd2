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
    "accounts",
    "core",
    "proposals",
    "replies",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RejectNullBytesMiddleware",
    # Anonymous readers of the public column are served from the cache, before sessions.
    "replies.public_cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs more than it saves on these short list queries (measured).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
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
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace"
LOGOUT_REDIRECT_URL = "public:index"

# Login throttling: lock a username+address pair after 5 failures for 1 hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

# Where the system is served from, for absolute links in emails and QR codes.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000")

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The domain's configurable rules (DESIGN.md, "Deadlines"). Local practice varies.
TIAN = {
    "COMMITTEE_NAME": os.environ.get("TIAN_COMMITTEE_NAME", "重庆市梁平区"),
    "PROPOSAL_NUMBER_WIDTH": int(os.environ.get("TIAN_PROPOSAL_NUMBER_WIDTH", "3")),
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

# The receipt page's rate limit counts in the cache. Per process by default; with several
# gunicorn workers use a shared one, e.g. DJANGO_CACHE_BACKEND=
# django.core.cache.backends.db.DatabaseCache and DJANGO_CACHE_LOCATION=tian_cache
# (then `manage.py createcachetable`).
CACHES = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": os.environ.get("DJANGO_CACHE_LOCATION", "tian"),
    }
}
