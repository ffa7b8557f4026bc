"""Operational endpoints and error pages.

Every error page is bilingual (the visitor's language first, then the other one), shows no
stack trace, setting or exception text, and renders without the database, so the same pages
serve during a database outage. See README, "Security".
"""

from __future__ import annotations

import logging
import secrets
import sys

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pressservice.middleware import DATABASE_ERRORS

logger = logging.getLogger("pressservice.errors")

FALLBACK_BODY = (
    "{status}\n\nПресс-служба: страница временно недоступна.\n"
    "Press service: the page is not available right now.\n"
)


def _languages() -> list[str]:
    """The visitor's language first, then the other: every error page speaks both."""
    current = (get_language() or settings.LANGUAGE_CODE)[:2]
    codes = [code for code, _name in settings.LANGUAGES]
    if current not in codes:
        current = settings.LANGUAGE_CODE
    return [current, *(code for code in codes if code != current)]


def render_error(
    request: HttpRequest, template_name: str, status: int, context: dict | None = None
) -> HttpResponse:
    """Render an error page; if even that fails, answer a plain bilingual text."""
    context = {"status": status, "error_languages": _languages(), **(context or {})}
    try:
        body = loader.render_to_string(template_name, context, request=request)
        content_type = "text/html; charset=utf-8"
    except Exception:
        logger.exception("Rendering the error page %s failed", template_name)
        body = FALLBACK_BODY.format(status=status)
        content_type = "text/plain; charset=utf-8"
    response = HttpResponse(body, status=status, content_type=content_type)
    add_never_cache_headers(response)
    return response


def bad_request(request, exception=None, template_name="400.html"):
    return render_error(request, template_name, 400)


def permission_denied(request, exception=None, template_name="403.html"):
    return render_error(request, template_name, 403)


def csrf_failure(request, reason="", template_name="403.html"):
    """The CSRF check failed (an expired form, cookies off): the 403 page says what to do."""
    return render_error(request, template_name, 403, {"csrf_failure": True})


def page_not_found(request, exception=None, template_name="404.html"):
    return render_error(request, template_name, 404)


def server_error(request, template_name="500.html"):
    """A database outage raised outside a view (in a middleware) is a 503 too."""
    if isinstance(sys.exception(), DATABASE_ERRORS):
        return service_unavailable(request)
    return render_error(request, template_name, 500)


def service_unavailable(request, template_name="503.html"):
    """503 with `Retry-After`: the database is down for a moment; come back soon."""
    response = render_error(request, template_name, 503)
    response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    return response


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes lockout (AXES_LOCKOUT_CALLABLE): 429 with the cool-off in `Retry-After`."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, -(-seconds // 60))
    response = render_error(
        request,
        "login_locked_out.html",
        429,
        {"cool_off_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


@require_safe
@never_cache
def healthz(request):
    """200 `ok` when the database answers a query and the cache keeps a value (unless the cache
    is switched off with `dummycache://`); otherwise 503
    listing what failed (by name only: no host, user or error text leaves the server)."""
    failed = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                failed.append("database")
    except DATABASE_ERRORS:
        failed.append("database")
    cache = caches["default"]
    if not isinstance(cache, DummyCache):  # a cache switched off on purpose is no failure
        key, token = "healthz:" + secrets.token_hex(8), secrets.token_hex(8)
        try:
            cache.set(key, token, 30)
            if cache.get(key) != token:
                failed.append("cache")
            cache.delete(key)
        except Exception:
            failed.append("cache")
    if failed:
        logger.warning("Health check failed: %s", ", ".join(failed))
        body = "".join(f"{name}: unavailable\n" for name in failed)
        response = HttpResponse(body, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
        return response
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
