"""The benchmark's floor: a fixed 20 KB page through the full middleware stack, no database.

Mounted only by `bench.urls`, which only `bench.settings` selects and only with BENCH_FLOOR=1;
the production URLconf never contains it.
"""

from django.http import HttpResponse

FLOOR_BYTES = 20 * 1024
_HEAD = b"<!doctype html><html lang=en><meta charset=utf-8><title>floor</title><body><p>"
_TAIL = b"</p></body></html>"
FLOOR_PAGE = _HEAD + b"x" * (FLOOR_BYTES - len(_HEAD) - len(_TAIL)) + _TAIL


def floor(request):
    return HttpResponse(FLOOR_PAGE, content_type="text/html; charset=utf-8")
