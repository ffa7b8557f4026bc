"""Test settings: the production settings with a throwaway key and a fast password hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from pressservice.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if os.environ.get("TEST_EMAIL_URL"):  # a real worker process started by a test (SMTP on loopback)
    _test_email = env.email_url("TEST_EMAIL_URL")  # noqa: F405
    MAILERS = {
        "default": {
            "BACKEND": _test_email["EMAIL_BACKEND"],
            "OPTIONS": {"host": _test_email["EMAIL_HOST"], "port": _test_email["EMAIL_PORT"]},
        }
    }
MEDIA_ROOT = BASE_DIR / "test-results" / "media"  # noqa: F405
ATTACHMENTS_ROOT = BASE_DIR / "test-results" / "attachments"  # noqa: F405
if STORAGES["attachments"]["BACKEND"].endswith("LocalAttachmentStorage"):  # noqa: F405
    STORAGES["attachments"]["OPTIONS"]["location"] = ATTACHMENTS_ROOT  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AXES_ENABLED = False
# The second step is switched on by the tests about it (tests/test_second_factor.py).
OTP_REQUIRED = False

# Whitenoise looks for STATIC_ROOT at start-up; tests serve static files through the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# SQLite: the test database is a file, not memory. The browser tests' live server answers in
# threads; with an in-memory database they would all share the test's one connection, and
# requests that overlap (the admin's autocomplete while typing) could collide on it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    (BASE_DIR / "test-results").mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-results" / "test.sqlite3")}  # noqa: F405
