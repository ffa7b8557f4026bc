"""Middleware for running in production: a database outage answers 503, never 500; a query
string with control characters answers 400."""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError

from news.sanitize import strip_control_characters

logger = logging.getLogger("pressservice.outage")

DATABASE_ERRORS = (OperationalError, InterfaceError)


class DatabaseUnavailableMiddleware:
    """While the database cannot be reached (restart, failover, network), a view that needs it
    answers 503 Service Unavailable with `Retry-After` and the bilingual "back soon" page, not
    a 500 with a stack trace. Nothing is kept between requests: Django drops the broken
    connection at the end of the request (with `DB_CONN_HEALTH_CHECKS` it also tests a
    persistent one before reuse), so the site recovers by itself as soon as the database is
    back.

    Errors raised outside a view (in another middleware) reach `handler500`, which makes the
    same decision (see `pressservice.views.server_error`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        from pressservice.views import service_unavailable

        logger.warning(
            "Database unavailable, answering 503 for %s %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
        )
        return service_unavailable(request)


class ControlCharactersMiddleware:
    """A query string whose names or values hold control characters (NUL, \\x01, ESC...)
    answers 400 with the site's error page: no link of ours carries them, PostgreSQL cannot
    even store NUL, and nothing behind this middleware has to think about them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if has_control_characters(name) or any(map(has_control_characters, values)):
                raise BadRequest("control characters in the query string")
        return self.get_response(request)


def has_control_characters(text: str) -> bool:
    return strip_control_characters(text) != text
