"""Operational endpoints and error pages (owned by the production-readiness work)."""

from django.db import connection
from django.http import HttpResponse
from django.views import defaults


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


bad_request = defaults.bad_request
permission_denied = defaults.permission_denied
page_not_found = defaults.page_not_found
server_error = defaults.server_error
