"""The public page cache: whole responses per language, exact invalidation, conditional GET.

How it works:

- Every entry is stamped with a *generation* token (`public:gen`): generation-wide data
  carries it in its key, a page in its value (so a warm hit reads the token and the page in
  one `get_many`, one cache round trip). `invalidate()` replaces the token, so every page
  cached before it is unreachable at once (nothing to enumerate, exact on every app server
  that shares the cache). Signals (`news/cache/receivers.py`) call it through
  `transaction.on_commit` whenever a release, its authors, sources or categories, a category,
  an author or the workflow changes.
- A cached page never outlives the next scheduled publication: when a page is filled, the
  earliest future `published_at` of a published release (one query, remembered for the
  generation) caps the entry's lifetime, so a scheduled release appears at its moment with no
  cron job and warm hits stay free of SQL.
- Warm hits run no SQL: the anonymous check reads only the request's cookies, and the entry
  holds the rendered bytes, the headers, the ETag and Last-Modified.
- Responses carry a strong `ETag` (hash of the body) and `Last-Modified` (when the page was
  rendered) and answer `If-None-Match` / `If-Modified-Since` with 304; they are marked
  `Cache-Control: max-age=0, must-revalidate` so browsers and proxies revalidate each time
  and never show a page the server has already invalidated.
- Signed-in users (the press office) bypass the cache and get `Cache-Control: private`; so do
  requests flagged as previews (`request.is_preview = True`).

Only GET/HEAD responses with status 200, 301 or 410 are stored; with a per-process cache
(locmem) invalidation reaches only the current process, so production shares Redis.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import get_language

GENERATION_KEY = "public:gen"
CACHEABLE_STATUSES = frozenset({200, 301, 410})
# Query strings longer than this are served uncached (they are not pages anyone links to).
MAX_CACHED_QUERY = 512
_NO_SCHEDULE = 0.0


# The generation's shared entries (the next scheduled moment, each language's sidebar) live
# under fixed keys (`shared_key()`), stamped with the generation they belong to: a page
# reads them in the same round trip as its own entry and the generation token, before it
# knows the token, and drops a stamp of another generation as absent.
#
# What one request has read (the token and the shared entries, stamps checked): set by
# `public_page` around the view, so the view's helpers (`generation()`,
# `next_scheduled_at()`, `views.site_navigation()`) make no round trip of their own.
_request_reads: ContextVar[dict | None] = ContextVar("public_cache_reads", default=None)
_MISSING = object()


def shared_key(name: str) -> str:
    return f"public:shared:{name}"


def shared_names(language: str) -> tuple[str, ...]:
    """The shared entries a public page in `language` may need."""
    return ("next", f"nav:{language}")


def _unstamped(stamped, gen: str):
    return stamped["value"] if isinstance(stamped, dict) and stamped.get("gen") == gen else None


def _remember_reads(gen: str, language: str, found: dict) -> dict:
    """What the request read: the token and the shared entries of its generation."""
    return {
        GENERATION_KEY: gen,
        **{name: _unstamped(found.get(shared_key(name)), gen) for name in shared_names(language)},
    }


def read_shared(name: str, gen: str):
    """The shared entry `name` of generation `gen`: from what this request has read, else from
    the cache (None when absent or of another generation)."""
    reads = _request_reads.get()
    if reads is not None and reads.get(GENERATION_KEY) == gen:
        value = reads.get(name, _MISSING)
        if value is not _MISSING:
            return value
    return _unstamped(cache.get(shared_key(name)), gen)


def keep_shared(name: str, gen: str, value, timeout: int | None) -> None:
    """Store the shared entry `name` of generation `gen` (and remember it for the rest of
    this request)."""
    cache.set(shared_key(name), {"gen": gen, "value": value}, timeout)
    reads = _request_reads.get()
    if reads is not None and reads.get(GENERATION_KEY) == gen:
        reads[name] = value


def generation() -> str:
    """The current cache generation token (created on first use or after eviction)."""
    reads = _request_reads.get()
    if reads is not None and reads.get(GENERATION_KEY):
        return reads[GENERATION_KEY]
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        token = cache.get(GENERATION_KEY) or uuid.uuid4().hex
    return token


def invalidate() -> None:
    """Forget every cached public page at once (a new generation)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def next_scheduled_at(gen: str, now: datetime.datetime) -> float:
    """Timestamp of the earliest published release still in the future (0.0 when none).

    Remembered per generation; recomputed when the remembered moment has passed."""
    remembered = read_shared("next", gen)
    if remembered is not None and (remembered == _NO_SCHEDULE or remembered > now.timestamp()):
        return remembered
    from news.models import Release, Status

    upcoming = (
        Release.objects.filter(status=Status.PUBLISHED, published_at__gt=now)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    value = upcoming.timestamp() if upcoming else _NO_SCHEDULE
    timeout = None if value == _NO_SCHEDULE else max(1, int(value - now.timestamp()))
    keep_shared("next", gen, value, timeout)
    return value


def _is_signed_in(request: HttpRequest) -> bool:
    # Without a session cookie nobody is signed in: decided without touching the session store.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def request_digest(request: HttpRequest) -> str | None:
    """What identifies a page: its path and its query string in any parameter order (None
    for a query string too long to be worth caching)."""
    query = request.META.get("QUERY_STRING", "")
    if len(query) > MAX_CACHED_QUERY:
        return None
    normalised = "&".join(sorted(query.split("&"))) if query else ""
    return hashlib.sha256(f"{request.path}?{normalised}".encode()).hexdigest()[:32]


def _page_key(request: HttpRequest) -> str | None:
    digest = request_digest(request)
    return None if digest is None else f"public:page:{get_language()}:{digest}"


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _finish(request: HttpRequest, response: HttpResponse, etag: str, modified: float):
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(modified)
    return get_conditional_response(
        request, etag=etag, last_modified=int(modified), response=response
    )


def _bypass(view, request, *args, **kwargs):
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and callable(response.render):
        response = response.render()
    patch_cache_control(response, private=True, no_cache=True)
    if response.status_code == 200 and not response.streaming:
        return _finish(request, response, _etag(response.content), timezone.now().timestamp())
    return response


def public_page(view: Callable | None = None, *, timeout: int | None = None):
    """Serve `view` from the per-language public page cache, with ETag/Last-Modified and 304.

    Use as `@public_page`, `@public_page(timeout=60)`, `public_page(SomeFeed())` in a URLconf,
    or `method_decorator(public_page, name="dispatch")` on a class-based view. Anonymous
    GET/HEAD requests are cached; signed-in users and previews bypass the cache."""
    if view is None:
        return functools.partial(public_page, timeout=timeout)

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if (
            request.method not in ("GET", "HEAD")
            or getattr(request, "is_preview", False)
            or _is_signed_in(request)
        ):
            return _bypass(view, request, *args, **kwargs)
        key = _page_key(request)
        if key is None:
            return _bypass(view, request, *args, **kwargs)
        now = timezone.now()
        language = get_language()
        missed = getattr(request, "public_page_missed", None)
        if missed is not None:
            # `PublicPageCacheMiddleware` looked this page up a moment ago and found nothing
            # (both entries are written together), and read the shared entries with it.
            gen = missed[GENERATION_KEY] or generation()
            found = missed
        else:
            # One round trip: a warm hit, or what a cold page needs besides its queries.
            names = [GENERATION_KEY, key, *map(shared_key, shared_names(language))]
            found = cache.get_many(names)
            gen = found.get(GENERATION_KEY) or generation()
            entry = found.get(key)
            if entry is not None and entry["gen"] == gen and entry["valid_until"] > now.timestamp():
                response = HttpResponse(entry["content"], status=entry["status"])
                for name, value in entry["headers"]:
                    response.headers[name] = value
                response.public_page = {
                    key: entry[key] for key in ("gen", "etag", "modified", "valid_until")
                }
                return _finish(request, response, entry["etag"], entry["modified"])

        reads = _request_reads.set(_remember_reads(gen, language, found))
        try:
            # Read the schedule before rendering: whatever goes live after `now` expires it.
            upcoming = next_scheduled_at(gen, now)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
        finally:
            _request_reads.reset(reads)
        if response.status_code not in CACHEABLE_STATUSES or response.streaming:
            return response
        lifetime = timeout if timeout is not None else settings.PAGE_CACHE_SECONDS
        valid_until = now.timestamp() + lifetime
        if upcoming != _NO_SCHEDULE:
            valid_until = min(valid_until, upcoming)
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        etag, modified = _etag(response.content), now.timestamp()
        seconds = int(valid_until - now.timestamp())
        if seconds > 0:
            cache.set(
                key,
                {
                    "gen": gen,
                    "status": response.status_code,
                    "content": response.content,
                    "headers": list(response.items()),
                    "etag": etag,
                    "modified": modified,
                    "valid_until": valid_until,
                },
                seconds + 1,
            )
            # What `pressservice.cache_middleware` needs to keep the finished response too.
            response.public_page = {
                "gen": gen,
                "etag": etag,
                "modified": modified,
                "valid_until": valid_until,
            }
        return _finish(request, response, etag, modified)

    return wrapped
