"""The default cache is shared by every process of the site (settings: no CACHE_URL means
Django's database cache, its table made by `migrate`), so a release withdrawn from another
process disappears from every gunicorn worker at once. The same run on a per-process cache
(locmem) shows the bug it prevents. And `check --deploy` warns about a per-process cache."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.checks import Warning
from django.test import override_settings

from pressservice.checks import shared_cache
from tests.test_deploy import ROOT, manage, production_env

WORKERS = 3
TITLE = "Уникальное заявление для проверки общего кэша"

# A test-only WSGI wrapper that names the worker process in a header, so the test knows it
# has heard every worker. The site itself is untouched.
PID_WSGI = """
import os
from pressservice.wsgi import application as site

def application(environ, start_response):
    def answer(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)
    return site(environ, answer)
"""

SEED = f"""
from tests.factories import PublishedFactory
print(PublishedFactory(title_ru={TITLE!r}).pk)
"""

WITHDRAW = """
import sys
from news import workflow
from news.models import Release
workflow.withdraw(Release.objects.get(pk=int(sys.argv[-1])), by=None, reason="Ошибка")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Worker-Pid"], response.read().decode()


def pages_from_every_worker(url: str, limit: int = 300) -> dict[str, str]:
    """GET `url` on fresh connections until each worker has answered; its page per pid."""
    pages: dict[str, str] = {}
    for _ in range(limit):
        pid, body = fetch(url)
        pages.setdefault(pid, body)
        if len(pages) == WORKERS:
            return pages
    raise AssertionError(f"only {len(pages)} of {WORKERS} workers answered in {limit} requests")


def shell(env, code: str, *args: str) -> str:
    """Run `code` in another process of the site (like `manage.py shell -c`)."""
    result = subprocess.run(
        [sys.executable, "-c", "import django, sys; django.setup(); exec(sys.argv[1])", code, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


@pytest.fixture(scope="module")
def site_env(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("shared-cache")
    (tmp / "pid_wsgi.py").write_text(PID_WSGI)
    env = production_env(tmp, site_url="http://127.0.0.1:8000")
    env["PYTHONPATH"] = f"{tmp}{os.pathsep}{env['PYTHONPATH']}"
    env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    for args in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        result = manage(env, *args)
        assert result.returncode == 0, result.stderr[-3000:]
    return env


def serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [Path(sys.executable).parent / "gunicorn", "-c", "gunicorn.conf.py", "pid_wsgi:application"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(WORKERS),
             "GUNICORN_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            if server.poll() is not None:
                raise AssertionError(server.stderr.read().decode()[-3000:]) from None
            time.sleep(0.1)
    server.terminate()
    raise AssertionError("gunicorn did not start")


@pytest.mark.parametrize(
    ("cache_url", "stale_workers"),
    [(None, 0), ("locmemcache://", WORKERS)],
    ids=["default-shared-cache", "per-process-cache"],
)
def test_a_withdrawal_from_another_process_reaches_every_worker_at_once(
    site_env, cache_url, stale_workers
):
    env = dict(site_env)
    if cache_url:
        env["CACHE_URL"] = cache_url
    release_id = shell(env, SEED)
    port = free_port()
    server = serve(env, port)
    try:
        url = f"http://127.0.0.1:{port}/ru/news/"
        # Every worker has the list page, with the release, in its cache.
        before = pages_from_every_worker(url)
        assert all(TITLE in page for page in before.values())
        shell(env, WITHDRAW, release_id)
        after = pages_from_every_worker(url)
        assert set(after) == set(before)  # the same workers, not new ones
        assert sum(TITLE in page for page in after.values()) == stale_workers
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not cache_url:
        shell(env, "from news.models import Release; Release.objects.all().delete()")


def test_check_deploy_warns_about_a_per_process_cache_in_production():
    for backend in ("locmem.LocMemCache", "dummy.DummyCache"):
        caches = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
        with override_settings(DEBUG=False, CACHES=caches):
            warnings = shared_cache(None)
        assert [w.id for w in warnings] == ["pressservice.W001"]
        assert isinstance(warnings[0], Warning)
        with override_settings(DEBUG=True, CACHES=caches):
            assert shared_cache(None) == []
    shared = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "shared_cache"}}  # fmt: skip
    with override_settings(DEBUG=False, CACHES=shared):
        assert shared_cache(None) == []


def test_the_default_cache_without_cache_url_is_the_shared_database_cache(site_env):
    output = shell(site_env, "from django.conf import settings; "
                   "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])")  # fmt: skip
    assert output.split() == ["django.core.cache.backends.db.DatabaseCache", "shared_cache"]
    result = manage(site_env, "check", "--deploy")
    assert "pressservice.W001" not in result.stdout + result.stderr
