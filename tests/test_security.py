"""Security rules: headers and CSP on every response, cookies, hosts, bilingual error pages that
leak nothing, 503 (not 500) while the database is down, /healthz, login throttling, request
size limits. The https side (HSTS, secure cookies, SSL redirect) runs with real production
settings in tests/test_deploy.py."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from freezegun import freeze_time

from pressservice import middleware as ops_middleware
from pressservice import urls as root_urls
from pressservice import views as ops_views
from pressservice.proxy import client_ip
from tests.factories import PublishedFactory
from tests.html_safety import csp_nonce, executable_parts, inline_style_attributes

pytestmark = pytest.mark.django_db

BOTH_LANGUAGES_404 = ("Страница не найдена", "Page not found")
LEAK_MARKERS = ("Traceback", "SECRET_KEY", "password=", "db.internal", 'File "/', "settings.py")


# A URL map for this module: the real one plus views that fail in the ways under test.
def _boom(request):
    raise RuntimeError("password=hunter2 in db.internal, see settings.py")


def _denied(request):
    raise PermissionDenied("internal reason: group 42 lacks news.publish_release")


def _database_down(request):
    raise OperationalError('connection to server at "db.internal" failed: Connection refused')


def _interface_down(request):
    raise InterfaceError("connection already closed")


urlpatterns = [
    path("test-boom/", _boom),
    path("test-denied/", _denied),
    path("test-db-down/", _database_down),
    path("test-interface-down/", _interface_down),
    *root_urls.urlpatterns,
]
handler400 = root_urls.handler400
handler403 = root_urls.handler403
handler404 = root_urls.handler404
handler500 = root_urls.handler500


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def release():
    return PublishedFactory()


def public_pages(release) -> list[str]:
    return [
        "/ru/news/",
        "/en/news/",
        release.get_absolute_url("ru"),
        release.get_absolute_url("en"),
    ]


def assert_leaks_nothing(body: str):
    for marker in LEAK_MARKERS:
        assert marker not in body, marker
    assert settings.SECRET_KEY not in body


class TestHeaders:
    def test_every_response_carries_the_security_headers(self, client, release):
        urls = [
            *public_pages(release),
            "/ru/news/rss/",
            "/sitemap.xml",
            "/robots.txt",
            "/healthz",
            "/admin/login/",
            "/ru/news/no-such-page/",
        ]
        for url in urls:
            response = client.get(url, follow=True)
            headers = response.headers
            assert headers["X-Content-Type-Options"] == "nosniff", url
            assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
            assert headers["Cross-Origin-Opener-Policy"] == "same-origin", url
            assert headers["X-Frame-Options"] == "DENY", url
            policy = headers["Content-Security-Policy"]
            for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'",
                              "frame-ancestors 'none'", "form-action 'self'"):  # fmt: skip
                assert directive in policy, (url, directive)

    def test_public_pages_have_a_strict_policy_without_unsafe_inline(self, client, release):
        for url in [*public_pages(release), "/ru/news/no-such-page/"]:
            policy = client.get(url).headers["Content-Security-Policy"]
            directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
            for name in ("script-src", "style-src"):
                assert "'unsafe-inline'" not in directives[name], url
                assert "'unsafe-eval'" not in directives[name], url
                assert "*" not in directives[name].split(), url
                assert "'self'" in directives[name], url

    def test_inline_code_on_public_pages_runs_only_with_the_response_nonce(self, client, release):
        for url in [*public_pages(release), "/ru/news/no-such-page/"]:
            response = client.get(url)
            html = response.content.decode()
            nonce = csp_nonce(response)
            assert executable_parts(html, nonce) == [], url
            # A strict CSP drops style="" attributes: the templates must not rely on them.
            assert inline_style_attributes(html) == [], url
            if "<script>" in html or "<style>" in html:
                pytest.fail(f"{url}: an inline <script> or <style> without the nonce")

    def test_each_response_gets_a_new_nonce(self, client):
        first = csp_nonce(client.get("/ru/news/no-such-page/"))
        second = csp_nonce(client.get("/ru/news/no-such-page/"))
        assert first and second and first != second

    def test_a_plain_http_site_sends_no_hsts_and_does_not_redirect(self, client):
        assert settings.SITE_URL.startswith("http://")
        response = client.get("/ru/news/")
        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response.headers


class TestCookies:
    def test_session_and_csrf_cookies_are_http_only(self, client, superuser):
        client.get("/admin/login/")
        response = client.post(
            "/admin/login/?next=/admin/", {"username": "root", "password": "pass-word-123"}
        )
        assert response.status_code == 302
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            morsel = client.cookies[name]
            assert morsel["httponly"], name
            assert morsel["samesite"] == "Lax", name

    def test_nothing_on_the_public_site_reads_cookies_from_script(self, client, release):
        for url in public_pages(release):
            assert b"document.cookie" not in client.get(url).content


class TestHosts:
    def test_an_unknown_host_is_refused_with_the_bilingual_400_page(self, client):
        response = client.get("/ru/news/", HTTP_HOST="evil.example")
        assert response.status_code == 400
        body = response.content.decode()
        assert "Некорректный запрос" in body and "Bad request" in body
        assert "evil.example" not in body

    def test_the_site_host_is_served(self, client):
        assert client.get("/ru/news/", HTTP_HOST="localhost").status_code == 200


@pytest.mark.usefixtures("failing_urls")
class TestErrorPages:
    def test_404_speaks_both_languages_the_visitors_first(self, client):
        for prefix, first in (("ru", "Страница не найдена"), ("en", "Page not found")):
            response = client.get(f"/{prefix}/news/no-such-page/")
            assert response.status_code == 404
            body = response.content.decode()
            assert f'<html lang="{prefix}">' in body
            assert all(text in body for text in BOTH_LANGUAGES_404)
            assert body.index(first) < body.index(({*BOTH_LANGUAGES_404} - {first}).pop())

    def test_404_is_inside_the_site_with_its_menu_and_search(self, client):
        body = client.get("/ru/news/no-such-page/").content.decode()
        assert 'action="/ru/news/search/"' in body and 'name="q"' in body
        assert 'href="/ru/news/archive/"' in body and ">Архив<" in body
        english = client.get("/en/news/no-such-page/").content.decode()
        assert 'action="/en/news/search/"' in english and ">Archive<" in english

    def test_403_is_bilingual_and_hides_the_reason(self, client):
        response = client.get("/test-denied/")
        assert response.status_code == 403
        body = response.content.decode()
        assert "Доступ запрещён" in body and "Access denied" in body
        assert "group 42" not in body

    def test_a_failed_csrf_check_explains_what_to_do_in_both_languages(self, superuser):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/admin/login/", {"username": "root", "password": "x"})
        assert response.status_code == 403
        body = response.content.decode()
        assert "обновите страницу" in body and "reload the page" in body
        assert "CSRF" not in body

    def test_500_is_bilingual_and_leaks_nothing(self, client):
        client.raise_request_exception = False
        response = client.get("/test-boom/")
        assert response.status_code == 500
        body = response.content.decode()
        assert "Ошибка сервера" in body and "Server error" in body
        assert_leaks_nothing(body)
        assert "hunter2" not in body

    def test_error_pages_need_no_database(self, client, django_assert_num_queries):
        client.raise_request_exception = False
        with django_assert_num_queries(0):
            assert client.get("/ru/news/no-such-page/").status_code == 404
            assert client.get("/test-boom/").status_code == 500
            assert client.get("/test-denied/").status_code == 403

    def test_a_broken_error_template_still_answers_plain_bilingual_text(self, rf):
        with mock.patch.object(ops_views.loader, "render_to_string", side_effect=ValueError):
            response = ops_views.server_error(rf.get("/"))
        assert response.status_code == 500
        assert response["Content-Type"].startswith("text/plain")
        assert "Пресс-служба" in response.content.decode()
        assert "Press service" in response.content.decode()


@pytest.mark.usefixtures("failing_urls")
class TestDatabaseOutage:
    @pytest.mark.parametrize("url", ["/test-db-down/", "/test-interface-down/"])
    def test_a_database_error_in_a_view_answers_503_with_retry_after(self, client, url):
        response = client.get(url)
        assert response.status_code == 503
        assert response["Retry-After"] == str(settings.OUTAGE_RETRY_AFTER_SECONDS)
        assert "no-store" in response["Cache-Control"]
        body = response.content.decode()
        assert "Сайт временно недоступен" in body and "Temporarily unavailable" in body
        assert_leaks_nothing(body)

    def test_a_public_page_whose_database_is_unreachable_answers_503(self, client, release):
        refused = OperationalError("connection refused")
        with mock.patch.object(connection, "ensure_connection", side_effect=refused):
            response = client.get(release.get_absolute_url("ru"))
        assert response.status_code == 503
        assert "Retry-After" in response
        # The database is back: the same page is served again, nothing to reset.
        assert client.get(release.get_absolute_url("ru")).status_code == 200

    def test_a_database_error_outside_a_view_is_a_503_too(self, rf):
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            response = ops_views.server_error(rf.get("/ru/news/"))
        assert response.status_code == 503
        assert "Retry-After" in response

    def test_other_errors_stay_500(self, client, rf):
        client.raise_request_exception = False
        assert client.get("/test-boom/").status_code == 500
        middleware = ops_middleware.DatabaseUnavailableMiddleware(lambda request: None)
        assert middleware.process_exception(rf.get("/"), RuntimeError("x")) is None


class TestHealthz:
    def test_ok_when_database_and_cache_answer(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.content == b"ok"
        assert "no-store" in response["Cache-Control"]

    def test_503_names_the_database_when_it_is_down(self, client):
        refused = OperationalError('could not connect to "db.internal" as user "press"')
        with mock.patch.object(connection, "ensure_connection", side_effect=refused):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.content.decode() == "database: unavailable\n"
        assert response["Retry-After"] == str(settings.OUTAGE_RETRY_AFTER_SECONDS)

    def test_503_names_the_cache_when_it_loses_values(self, client):
        with mock.patch.object(cache, "get", return_value=None):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.content.decode() == "cache: unavailable\n"

    def test_503_when_the_cache_raises(self, client):
        with mock.patch.object(cache, "set", side_effect=ConnectionError("redis down")):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert "cache: unavailable" in response.content.decode()

    def test_a_cache_switched_off_on_purpose_is_not_a_failure(self, client, settings):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        assert client.get("/healthz").content == b"ok"

    def test_only_reads(self, client):
        assert client.post("/healthz").status_code == 405
        assert client.head("/healthz").status_code == 200


def login(client, username, password, ip="192.0.2.10", **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


class TestLoginThrottling:
    """django-axes: at most 10 failures per account or per address, then 15 minutes of 429."""

    @pytest.fixture(autouse=True)
    def _axes_on(self, settings):
        settings.AXES_ENABLED = True

    def test_ten_failures_for_one_account_lock_it_even_with_the_right_password(
        self, client, superuser, editor_user
    ):
        for attempt in range(9):
            assert login(client, "root", "wrong", ip=f"198.51.100.{attempt}").status_code == 200
        # The tenth failure locks the account at once...
        assert login(client, "root", "wrong", ip="198.51.100.9").status_code == 429
        # ...and then even the right password, from anywhere, is refused.
        response = login(client, "root", "pass-word-123", ip="203.0.113.77")
        assert response.status_code == 429
        assert response["Retry-After"] == str(15 * 60)
        body = response.content.decode()
        assert "Слишком много неудачных попыток входа" in body
        assert "Too many failed sign-in attempts" in body
        assert "15 минут" in body and "15 minutes" in body
        assert "_auth_user_id" not in client.session
        # Another account is not affected.
        assert login(Client(), "editor", "pass-word-123", ip="203.0.113.78").status_code == 302

    def test_nine_failures_do_not_lock_and_a_success_starts_counting_again(self, client, superuser):
        for _ in range(9):
            assert login(client, "root", "wrong").status_code == 200
        assert login(client, "root", "pass-word-123").status_code == 302
        client.logout()
        for _ in range(9):
            assert login(client, "root", "wrong").status_code == 200
        assert login(client, "root", "pass-word-123").status_code == 302

    def test_ten_failures_from_one_address_lock_that_address(self, client, superuser):
        for attempt in range(9):
            assert login(client, f"guess{attempt}", "wrong", ip="198.51.100.7").status_code == 200
        assert login(client, "guess9", "wrong", ip="198.51.100.7").status_code == 429
        assert login(Client(), "root", "pass-word-123", ip="198.51.100.7").status_code == 429
        assert login(Client(), "root", "pass-word-123", ip="198.51.100.8").status_code == 302

    def test_the_lock_ends_15_minutes_after_the_last_attempt(self, client, superuser):
        start = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
        with freeze_time(start):
            for _ in range(10):
                login(client, "root", "wrong")
        with freeze_time(start + datetime.timedelta(minutes=14)):
            # Still locked; trying again restarts the cool-off.
            assert login(client, "root", "pass-word-123").status_code == 429
        with freeze_time(start + datetime.timedelta(minutes=14 + 14)):
            assert login(client, "root", "pass-word-123").status_code == 429
        with freeze_time(start + datetime.timedelta(minutes=28 + 16)):
            assert login(client, "root", "pass-word-123").status_code == 302

    def test_behind_nginx_clients_are_told_apart_and_cannot_forge_their_address(
        self, client, superuser, settings
    ):
        settings.TRUSTED_PROXY_COUNT = 1
        nginx = "127.0.0.1"
        for attempt in range(10):
            forged = f"10.9.9.{attempt}, 198.51.100.66"  # client-written prefix, nginx's entry
            response = login(
                client, f"guess{attempt}", "wrong", ip=nginx, HTTP_X_FORWARDED_FOR=forged
            )
            assert response.status_code == (429 if attempt == 9 else 200)
        locked = login(Client(), "root", "pass-word-123", ip=nginx,
                       HTTP_X_FORWARDED_FOR="198.51.100.66")  # fmt: skip
        assert locked.status_code == 429
        other = login(Client(), "root", "pass-word-123", ip=nginx,
                      HTTP_X_FORWARDED_FOR="198.51.100.67")  # fmt: skip
        assert other.status_code == 302


class TestClientAddress:
    @pytest.mark.parametrize(
        ("proxies", "forwarded", "expected"),
        [
            (0, "203.0.113.5", "127.0.0.1"),  # no proxy trusted: the header is ignored
            (1, "203.0.113.5", "203.0.113.5"),
            (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged first entry is ignored
            (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
            (1, "", "127.0.0.1"),
            (2, "203.0.113.5", "127.0.0.1"),  # fewer entries than proxies: not trusted
            (1, "not-an-address", "127.0.0.1"),
            (1, "2001:db8::1", "2001:db8::1"),
        ],
    )
    def test_client_ip(self, proxies, forwarded, expected):
        request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        with override_settings(TRUSTED_PROXY_COUNT=proxies):
            assert client_ip(request) == expected


class TestRequestLimits:
    def test_an_oversized_form_body_is_refused_with_400(self, client):
        too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        response = client.post("/admin/login/", {"username": "root", "password": too_big})
        assert response.status_code == 400
        assert "Bad request" in response.content.decode()

    def test_too_many_form_fields_are_refused_with_400(self, client):
        fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
        response = client.post("/admin/login/", fields)
        assert response.status_code == 400

    def test_the_limits_are_set(self):
        assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 16 * 1024 * 1024
        assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        assert settings.IMAGE_MAX_BYTES <= 10 * 1024 * 1024
        assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 5000
