"""Deployment: the real production settings, in subprocesses, as README "Deployment" runs them.

`check --deploy` is clean for an https site; a plain-http run with DEBUG off works and only
lacks the https-only settings; collectstatic + whitenoise serve hashed, compressed, immutable
files; the public pages render with the manifest storage; the response headers and cookies
are what README "Security" promises; gunicorn's configuration loads; the deploy/ examples
agree with the settings.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HTTPS_SITE = "https://press.example.org"


def production_env(tmp: Path, site_url: str = HTTPS_SITE, **extra: str) -> dict[str, str]:
    """A production environment (DEBUG off, a real key) on a throwaway SQLite database."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "pressservice.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": site_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# Runs inside the production subprocess: seeds one release, requests pages with Django's test
# client (no server needed) and prints what came back as JSON.
PROBE = r"""
import json, sys
import django
django.setup()
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from tests.factories import PublishedFactory

release = PublishedFactory()
host = settings.SITE_URL.split("://")[1]
client = Client(HTTP_HOST=host)

def snap(response):
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {name: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]),
                           "samesite": m["samesite"]} for name, m in response.cookies.items()},
        "body": b"".join(response.streaming_content if response.streaming else
                         [response.content]).decode(errors="replace")[:20000],
    }

requests = json.loads(sys.argv[1])
out = {}
for name, (path, options) in requests.items():
    path = path.replace("{detail}", release.get_absolute_url("ru"))
    path = path.replace("{static}", staticfiles_storage.url("admin/css/base.css"))
    out[name] = snap(client.get(path, **options))
print(json.dumps(out))
"""


def probe(env: dict, requests: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(requests)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def https_site(tmp_path_factory) -> dict:
    """An https production install: migrated, static files collected (README steps)."""
    env = production_env(tmp_path_factory.mktemp("https-site"))
    for args in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        result = manage(env, *args)
        assert result.returncode == 0, result.stderr[-3000:]
    return env


@pytest.fixture(scope="module")
def http_site(https_site) -> dict:
    """The same install with DEBUG off on plain http (a local run behind no TLS)."""
    return https_site | {
        "SITE_URL": "http://127.0.0.1:8104",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def check_deploy(env: dict) -> subprocess.CompletedProcess:
    return manage(env, "check", "--deploy", "--fail-level", "WARNING")


def test_check_deploy_is_clean_for_an_https_production_site(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_is_clean_with_the_documented_environment(tmp_path):
    """deploy/env.example, with a key filled in, is a working production configuration."""
    documented = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            documented[name.strip()] = value.strip()
    assert {"DJANGO_SECRET_KEY", "SITE_URL", "DATABASE_URL", "CACHE_URL"} <= documented.keys()
    documented.pop("DJANGO_SECRET_KEY")
    env = production_env(tmp_path) | documented
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # no server needed to check
    result = check_deploy(env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_plain_http_run_only_lacks_the_https_settings(tmp_path):
    result = check_deploy(production_env(tmp_path, site_url="http://127.0.0.1:8104"))
    warnings = set(re.findall(r"\(security\.(W\d+)\)", result.stdout + result.stderr))
    # HSTS, SSL redirect, secure session and CSRF cookies: the https-only four, nothing else.
    assert warnings == {"W004", "W008", "W012", "W016"}


def test_a_production_start_without_a_real_key_fails_loudly(tmp_path):
    env = production_env(tmp_path)
    env.pop("DJANGO_SECRET_KEY")
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_https_site_headers_cookies_and_redirects(https_site):
    got = probe(
        https_site,
        {
            "plain_http": ["/ru/news/", {}],
            "forwarded_https": ["/ru/news/", {"HTTP_X_FORWARDED_PROTO": "https"}],
            "login": ["/admin/login/", {"secure": True}],
            "detail": ["{detail}", {"secure": True}],
            "missing": ["/ru/news/no-such-page/", {"secure": True}],
            "healthz_plain": ["/healthz", {}],
            "other_host": ["/ru/news/", {"secure": True, "HTTP_HOST": "evil.example"}],
        },
    )
    # Plain http is redirected to https, except the load balancer's health probe.
    assert got["plain_http"]["status"] == 301
    assert got["plain_http"]["headers"]["Location"] == "https://press.example.org/ru/news/"
    assert got["healthz_plain"]["status"] == 200
    assert got["healthz_plain"]["body"] == "ok"
    # nginx's X-Forwarded-Proto marks the request as https.
    assert got["forwarded_https"]["status"] == 200
    for name in ("forwarded_https", "login", "detail", "missing"):
        headers = got[name]["headers"]
        hsts = headers["Strict-Transport-Security"]
        assert hsts == "max-age=31536000; includeSubDomains; preload", name
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        policy = headers["Content-Security-Policy"]
        assert "upgrade-insecure-requests" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert got["detail"]["status"] == 200
    assert got["missing"]["status"] == 404
    assert "Page not found" in got["missing"]["body"]
    assert "Страница не найдена" in got["missing"]["body"]
    assert got["other_host"]["status"] == 400
    csrf = got["login"]["cookies"]["csrftoken"]
    assert csrf == {"secure": True, "httponly": True, "samesite": "Lax"}


def test_plain_http_run_with_debug_off_works(http_site):
    got = probe(
        http_site,
        {
            "list": ["/ru/news/", {}],
            "detail": ["{detail}", {}],
            "login": ["/admin/login/", {}],
            "healthz": ["/healthz", {}],
        },
    )
    assert got["list"]["status"] == 200
    assert got["detail"]["status"] == 200
    assert got["healthz"]["body"] == "ok"
    for name in ("list", "login"):
        headers = got[name]["headers"]
        assert "Strict-Transport-Security" not in headers
        assert "upgrade-insecure-requests" not in headers["Content-Security-Policy"]
    assert got["login"]["status"] == 200
    assert got["login"]["cookies"]["csrftoken"] == {
        "secure": False,
        "httponly": True,
        "samesite": "Lax",
    }


def test_collected_static_files_are_hashed_compressed_and_immutable(https_site):
    static_root = Path(https_site["STATIC_ROOT"])
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", hashed)
    assert (static_root / (hashed + ".gz")).exists()
    got = probe(
        https_site,
        {
            "static": ["{static}", {"secure": True, "HTTP_ACCEPT_ENCODING": "gzip"}],
            "unhashed": ["/static/admin/css/base.css", {"secure": True}],
        },
    )
    assert got["static"]["status"] == 200
    cache_control = got["static"]["headers"]["Cache-Control"]
    assert "immutable" in cache_control and "public" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control)[1]) >= 365 * 24 * 3600
    assert got["static"]["headers"]["Content-Encoding"] == "gzip"
    # The unhashed name is served too, but never cached for long.
    assert "immutable" not in got["unhashed"]["headers"].get("Cache-Control", "")


def test_gunicorn_configuration_loads(tmp_path):
    env = production_env(tmp_path) | {"GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "2"}
    result = subprocess.run(
        [Path(sys.executable).parent / "gunicorn", "--print-config", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = dict(
        (line.split("=", 1)[0].strip(), line.split("=", 1)[1].strip())
        for line in result.stdout.splitlines()
        if "=" in line
    )
    assert config["wsgi_app"] == "pressservice.wsgi:application"
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["workers"] == "3"
    assert config["threads"] == "2"
    assert config["worker_class"] == "gthread"
    assert config["forwarded_allow_ips"] == "['127.0.0.1', '::1']"


def test_nginx_example_matches_the_settings():
    from django.conf import settings

    conf = (DEPLOY / "nginx.conf").read_text()
    body_limit = re.search(r"client_max_body_size\s+(\d+)m;", conf)
    assert body_limit, "nginx must bound the request body"
    assert int(body_limit[1]) * 1024 * 1024 >= settings.IMAGE_MAX_BYTES
    assert int(body_limit[1]) * 1024 * 1024 >= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # The newsroom's own limit takes a document at its limit with a lead image and a photo.
    newsroom = re.search(r"location /admin/ \{[^}]*client_max_body_size\s+(\d+)m;", conf)
    assert newsroom, "the newsroom's uploads need their own limit"
    largest_save = settings.DOCUMENT_MAX_BYTES + 2 * settings.IMAGE_MAX_BYTES
    assert int(newsroom[1]) * 1024 * 1024 >= largest_save + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert int(newsroom[1]) > int(body_limit[1])
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header Host $host;" in conf
    # The app server nginx talks to is the one gunicorn binds.
    assert "server 127.0.0.1:8000" in conf
    assert (
        'bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")'
        in (ROOT / "gunicorn.conf.py").read_text()
    )
    env_example = (DEPLOY / "env.example").read_text()
    assert "TRUSTED_PROXY_COUNT=1" in env_example
    unit = (DEPLOY / "pressservice.service").read_text()
    assert "EnvironmentFile=/etc/pressservice/env" in unit
    assert "gunicorn --config /srv/pressservice/gunicorn.conf.py" in unit
