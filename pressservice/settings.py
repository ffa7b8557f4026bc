"""Settings for the press service CMS, read from the environment (12-factor).

Every value a deployment changes comes from an environment variable (see README, "Settings").
Nothing here keeps state on a local disk that another app server would need, except the
default SQLite database and local media storage, which are for a single machine.
"""

import datetime
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSECURE_SECRET_KEYS = {"", "change-me", "changeme", "secret", "django-insecure"}
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not DEBUG and (
    SECRET_KEY.strip() in INSECURE_SECRET_KEYS
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 32
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is missing or is a placeholder. With DJANGO_DEBUG off the site "
        "will not start without a real secret key of at least 32 characters. Generate one "
        "with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an absolute http(s) URL, got {SITE_URL!r}.")
SITE_IS_HTTPS = _site.scheme == "https"

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[_site.hostname, "127.0.0.1", "localhost"] if DEBUG else [_site.hostname],
)
if _site.hostname not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site.hostname)
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

# Old site host: /news/<n> on this site redirects to the release imported from
# https://<LEGACY_HOST>/news/<n>.
LEGACY_HOST = env.str("LEGACY_HOST", default="cis.minsk.by")

# Second pair of eyes: an editor may not publish what they submitted or last changed unless
# they force it with a reason (news.workflow.publish); off lets one person publish alone.
SECOND_REVIEWER_REQUIRED = env.bool("SECOND_REVIEWER_REQUIRED", default=True)

INSTALLED_APPS = [
    # The newsroom admin site (news/newsroom/site.py): django.contrib.admin with the review queue.
    "news.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "simple_history",
    "imagekit",
    "django_prose_editor",
    "axes",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "news",
    # Two-step sign-in, sessions and the audit log (after auth: it re-registers the user admin).
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A database outage answers 503 + Retry-After, never 500 (pressservice/middleware.py).
    "pressservice.middleware.DatabaseUnavailableMiddleware",
    # A query string with NUL or other control characters answers 400.
    "pressservice.middleware.ControlCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Warm anonymous public pages, before sessions, auth, CSRF, locale (news/cache/middleware.py).
    "news.cache.middleware.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session given its second factor (django-otp)?
    "django_otp.middleware.OTPMiddleware",
    # In the admin, the second step (or enrolment) before anything else (accounts/middleware.py).
    "accounts.middleware.SecondFactorMiddleware",
    # Idle expiry: a signed-in session's expiry moves on with its requests (accounts/).
    "accounts.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pressservice.urls"
WSGI_APPLICATION = "pressservice.wsgi.application"

TEMPLATES = [
    {
        # The public pages (jinja2/: base.html, news/, includes/): Jinja2, with the site's
        # helpers (news/public/templating.py). Everything else (the admin, the mails, the
        # error pages) is Django's, below.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "news.public.templating.environment"},
    },
    {
        # The admin, the error pages and everything of Django's own apps.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The admin header's offer to set up two-step sign-in (accounts/).
                "accounts.context_processors.second_factor",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reading a stored BC or year-10000 timestamp never raises (pressservice/postgresql.py).
    import pressservice.postgresql  # noqa: F401

    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # Off by default: a check is one more round trip on every request. Without it, after a
    # database restart each worker answers one request 503 (Retry-After) on its dead
    # connection, drops it and reconnects on the next (tests/test_faults.py).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=False)
    # An unreachable server fails fast (503 page) instead of holding workers for minutes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
    # Server-side parameter binding lets psycopg prepare a statement it has run
    # `prepare_threshold` times (5) on its connection. Off by default: measured in the
    # README's Performance section; never behind a PgBouncer in transaction pooling mode.
    if env.bool("DB_SERVER_SIDE_BINDING", default=False):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

# The default cache is shared by every process of the site: with no CACHE_URL, Django's
# database cache in the table `shared_cache` (created by `migrate`, accounts/migrations/0002),
# so a withdrawal in one worker or from a command reaches all workers at once. README,
# "Security for operators", has the measurements. Redis (CACHE_URL=redis://...) when the
# site outgrows it; a per-process cache (locmem) only in tests (check pressservice.W001).
SHARED_CACHE_TABLE = "shared_cache"
CACHES = {"default": env.cache_url("CACHE_URL", default=f"dbcache://{SHARED_CACHE_TABLE}")}
if CACHES["default"]["BACKEND"].startswith("django_redis"):
    # A cache outage must degrade to a slower site, not to 500s.
    CACHES["default"].setdefault("OPTIONS", {})["IGNORE_EXCEPTIONS"] = True
    CACHES["default"]["OPTIONS"].setdefault("SOCKET_CONNECT_TIMEOUT", 2)
    CACHES["default"]["OPTIONS"].setdefault("SOCKET_TIMEOUT", 2)
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # A cache in the database (or in the process, in tests) is bounded by entries; Redis by
    # its own maxmemory with an LRU policy (deploy/redis.conf).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault(
        "MAX_ENTRIES", env.int("CACHE_MAX_ENTRIES", default=3000)
    )
# Public pages are cached per language for this long; publish/edit/withdraw invalidate at once.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)

# Email through Django 6.1's MAILERS, configured from one EMAIL_URL
# (smtp://, smtp+tls://, smtp+ssl://, consolemail://, filemail:///path, memorymail://).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_email_options = {
    option: _email[key]
    for key, option in {
        "EMAIL_HOST": "host",
        "EMAIL_PORT": "port",
        "EMAIL_HOST_USER": "username",
        "EMAIL_HOST_PASSWORD": "password",
        "EMAIL_USE_TLS": "use_tls",
        "EMAIL_USE_SSL": "use_ssl",
        "EMAIL_FILE_PATH": "file_path",
    }.items()
    if _email.get(key) not in (None, "")
}
if not _email["EMAIL_BACKEND"].endswith(("smtp.EmailBackend", "filebased.EmailBackend")):
    _email_options = {}
elif _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # django-environ drops the leading slash of filemail:///var/mail/x; the path is absolute.
    _email_options = {"file_path": "/" + _email_options.get("file_path", "").lstrip("/")}
else:
    _email_options.pop("file_path", None)
    _email_options["timeout"] = 10
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"press-service@{_site.hostname}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (django.tasks): the database backend of django-tasks-db, run by
# `manage.py db_worker` (deploy/Procfile `worker:`). See README, "Background worker".
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# E-mail deliveries (news/journalists/outbox.py): a refused message is tried again after
# DELIVERY_RETRY_SECONDS, doubling each time, DELIVERY_MAX_ATTEMPTS times in all.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=6)
DELIVERY_RETRY_SECONDS = env.int("DELIVERY_RETRY_SECONDS", default=60)
# Subscription form throttle: attempts per address and per client within an hour.
SUBSCRIBE_LIMIT_PER_HOUR = env.int("SUBSCRIBE_LIMIT_PER_HOUR", default=5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
# One catalogue per area of the product (core, admin, public, ops), merged by Django.
LOCALE_PATHS = sorted(p for p in (BASE_DIR / "locale").iterdir() if p.is_dir())
# The accounts app keeps its own catalogue, so `make messages` writes its strings there.
LOCALE_PATHS.append(BASE_DIR / "accounts" / "locale")
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Minsk")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Media storage: local files by default; S3-compatible object storage (django-storages, an
# optional install) when several app servers share the media. See README, "Deployment".
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="django.core.files.storage.FileSystemStorage")
if MEDIA_STORAGE == "s3":
    MEDIA_STORAGE = "storages.backends.s3.S3Storage"
_media_options = {}
MEDIA_ORIGIN = ""  # where images come from when not from this site (added to the CSP)
if MEDIA_STORAGE == "storages.backends.s3.S3Storage":
    # Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (read by boto3).
    _media_options = {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
        "querystring_auth": False,  # public images with stable, cacheable URLs
        "file_overwrite": False,
        "location": env.str("AWS_LOCATION", default="media"),
    }
    if _media_options["custom_domain"]:
        MEDIA_ORIGIN = f"https://{_media_options['custom_domain']}"
    elif _media_options["endpoint_url"]:
        _endpoint = urlsplit(_media_options["endpoint_url"])
        MEDIA_ORIGIN = f"{_endpoint.scheme}://{_endpoint.netloc}"
MEDIA_ORIGIN = env.str("MEDIA_ORIGIN", default=MEDIA_ORIGIN).rstrip("/")
# Attachments (documents and photo galleries of releases, news/attachments/): a PRIVATE
# storage, never under MEDIA_ROOT, served only through /attachments/<name>, which applies the
# public rule. On S3 the same bucket under AWS_ATTACHMENTS_LOCATION, private, with short-lived
# signed URLs for what is not public yet.
ATTACHMENTS_ROOT = Path(env.str("ATTACHMENTS_ROOT", default=str(BASE_DIR / "attachments")))
if MEDIA_STORAGE == "storages.backends.s3.S3Storage":
    _attachments = {
        "BACKEND": "news.attachments.s3.S3AttachmentStorage",
        "OPTIONS": {
            **_media_options,
            "custom_domain": None,
            "querystring_auth": True,
            "querystring_expire": env.int("ATTACHMENTS_SIGNED_URL_SECONDS", default=300),
            "default_acl": "private",
            "location": env.str("AWS_ATTACHMENTS_LOCATION", default="attachments"),
        },
    }
else:
    _attachments = {
        "BACKEND": "news.attachments.storage.LocalAttachmentStorage",
        "OPTIONS": {"location": ATTACHMENTS_ROOT},
    }
STORAGES = {
    "default": {"BACKEND": MEDIA_STORAGE, "OPTIONS": _media_options},
    "attachments": _attachments,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploads: refuse oversized requests before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
# An animation with more frames is refused before they are decoded.
IMAGE_MAX_FRAMES = env.int("IMAGE_MAX_FRAMES", default=300)
# Documents attached to releases (news/attachments/validation.py).
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=50 * 1024 * 1024)
# An office file (a ZIP) may unpack to at most this many bytes, at most this ratio.
DOCUMENT_MAX_UNPACKED_BYTES = env.int("DOCUMENT_MAX_UNPACKED_BYTES", default=200 * 1024 * 1024)
DOCUMENT_MAX_COMPRESSION_RATIO = env.int("DOCUMENT_MAX_COMPRESSION_RATIO", default=100)
# Whom a reader writes to for another format of a document marked not accessible.
ATTACHMENTS_ACCESSIBILITY_CONTACT = env.str(
    "ATTACHMENTS_ACCESSIBILITY_CONTACT", default=DEFAULT_FROM_EMAIL
)

PREVIEW_LINK_HOURS = env.int("PREVIEW_LINK_HOURS", default=48)
# Publication dates must fall between this year and PUBLICATION_YEARS_AHEAD years from now.
PUBLICATION_YEARS_MIN = env.int("PUBLICATION_YEARS_MIN", default=1990)
PUBLICATION_YEARS_AHEAD = env.int("PUBLICATION_YEARS_AHEAD", default=5)
# Items per feed: a reader polling hourly or daily misses nothing at a few releases a day (the
# cost of building a feed grows with it: README, "Performance").
FEED_ITEMS = env.int("FEED_ITEMS", default=20)

# Security: what needs HTTPS follows SITE_URL's scheme. See README, "Security".
SECURE_SSL_REDIRECT = SITE_IS_HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
# A load balancer may probe the app server over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SITE_IS_HTTPS else None
SECURE_HSTS_SECONDS = 31536000 if SITE_IS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SITE_IS_HTTPS
SECURE_HSTS_PRELOAD = SITE_IS_HTTPS
SESSION_COOKIE_SECURE = SITE_IS_HTTPS
CSRF_COOKIE_SECURE = SITE_IS_HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token
CSRF_FAILURE_VIEW = "pressservice.views.csrf_failure"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SITE_IS_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "upgrade-insecure-requests": SITE_IS_HTTPS,
}
# While the database is unreachable pages answer 503 with this Retry-After (seconds).
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=30)
# Reverse proxies in front of the app that append to X-Forwarded-For (1 with the nginx of
# deploy/nginx.conf); 0 when clients connect directly. Used for the client address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Admin login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one account or
# from one address, logins are refused for AXES_COOLOFF_MINUTES.
# A locked-out login, even with the right password, gets the bilingual 429 page.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "pressservice.views.login_locked_out"
# The client's address behind the reverse proxy (django-ipware is not installed).
AXES_CLIENT_IP_CALLABLE = "pressservice.proxy.client_ip"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# Two-step sign-in (accounts/second_factor.py). Required for Editors and superusers whenever
# DEBUG is off; OTP_REQUIRED_FOR_AUTHORS extends it to Authors. With DEBUG on (make run) the
# admin offers it (/admin/second-factor/enrol/) without requiring it. Wrong codes count as
# failed sign-ins for axes above.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=not DEBUG)
OTP_REQUIRED_FOR_AUTHORS = env.bool("OTP_REQUIRED_FOR_AUTHORS", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Press service")

# Sessions (database sessions): the admin session ends after SESSION_IDLE_HOURS without a
# request; requests move the expiry on (accounts.middleware.SessionActivityMiddleware, at
# most one session write a minute). A password change or a second-factor reset ends
# the user's other sessions.
SESSION_IDLE_HOURS = env.int("SESSION_IDLE_HOURS", default=8)
SESSION_COOKIE_AGE = SESSION_IDLE_HOURS * 3600

# The audit log (accounts.AuditEntry) keeps this many days; `manage.py purge_audit_log`.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# The public indexes carry the fragment keys' columns (INCLUDE) for index-only list pages on
# PostgreSQL; SQLite (the quick start) builds them without those columns, which is fine.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
