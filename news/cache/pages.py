"""The public page cache: whole anonymous responses, exact invalidation, conditional GET.

- A view marks its anonymous responses as cacheable with `@public_page`; the middleware
  (`news.cache.middleware`) stores them and answers the next anonymous GET/HEAD of the same
  page from one cache round trip, before sessions, authentication and locale run.
- Every entry is stamped with the *generation* token (`public:gen`). `invalidate()` replaces
  the token, so every page cached before it is unreachable at once, on every app server that
  shares the cache (nothing to enumerate). The receivers (`news.cache.receivers`) call it
  after the commit of any change to what the public sees.
- A cached page never outlives the next scheduled publication: the earliest future
  `published_at` of a published release (one query, kept for the generation) caps its
  lifetime, so a scheduled release appears at its moment with no job to run.
- What a page reads from the cache besides its fragments (the generation, the next scheduled
  moment, the sidebar) the middleware reads with the page itself, in one round trip, and
  keeps for the request (`request_reads`): a page built afresh asks the cache once more, for
  its fragments.
- Responses carry a strong `ETag` and `Last-Modified`, answer `If-None-Match` /
  `If-Modified-Since` with 304, and say `Cache-Control: max-age=0, must-revalidate`, so
  browsers and proxies revalidate and never show a page the server has invalidated.
- Signed-in users (the press office) and previews bypass the cache (`Cache-Control:
  private`).

What a page is, for the cache: its path and the query parameters the view reads
(`PAGE_PARAMETERS`, one value each). A request with any other parameter, or with one of them
twice, is served but not stored, so no client can fill the cache with junk URLs.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

GENERATION_KEY = "public:gen"
# The next scheduled moment and each language's sidebar, stamped with the generation they
# were read in (an entry of another generation counts as missing).
NEXT_KEY = "public:next"
NAVIGATION_KEY = "public:nav:{language}"
CACHEABLE_STATUSES = frozenset({200, 301, 410})
# The query parameters a public page reads: the page number, the search words, the sitemap
# page. Anything else makes a request uncacheable.
PAGE_PARAMETERS = frozenset({"page", "q", "p"})
MAX_PARAMETER_LENGTH = 200


# What the current request has read from the cache (None outside `request_reads`).
_request_reads: ContextVar[dict | None] = ContextVar("public_cache_reads", default=None)


@contextlib.contextmanager
def request_reads() -> Iterator[None]:
    """Within it, `read_many` asks the cache only for keys this request has not read yet."""
    token = _request_reads.set({})
    try:
        yield
    finally:
        _request_reads.reset(token)


def read_many(keys: list[str]) -> dict:
    """`cache.get_many(keys)`, remembered for the request (see `request_reads`)."""
    reads = _request_reads.get()
    if reads is None:
        return cache.get_many(keys)
    unread = [key for key in keys if key not in reads]
    if unread:
        found = cache.get_many(unread)
        reads.update({key: found.get(key) for key in unread})
    return {key: reads[key] for key in keys if reads[key] is not None}


def keep(key: str, value, timeout: int | None) -> None:
    """`cache.set`, and what the request reads of `key` from now on."""
    cache.set(key, value, timeout)
    reads = _request_reads.get()
    if reads is not None:
        reads[key] = value


def read_stamped(key: str):
    """The value kept under `key` by `keep_stamped` in the current generation, else None."""
    entry = read_many([key]).get(key)
    if entry is not None and entry["gen"] == generation():
        return entry["value"]
    return None


def keep_stamped(key: str, value, timeout: int | None) -> None:
    keep(key, {"gen": generation(), "value": value}, timeout)


def generation() -> str:
    """The current cache generation token (created on first use or after eviction)."""
    token = read_many([GENERATION_KEY]).get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        token = cache.get(GENERATION_KEY) or uuid.uuid4().hex
        reads = _request_reads.get()
        if reads is not None:
            reads[GENERATION_KEY] = token
    return token


def invalidate() -> None:
    """Forget every cached public page at once (a new generation)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    reads = _request_reads.get()
    if reads is not None:
        reads.clear()


def next_scheduled_at(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """The earliest moment a published release or a scheduled edition is still waiting for
    (None when none is), read once per generation (one query). A scheduled edition's moment
    may already have passed: `news.editions.apply_due_if_any` promotes it then."""
    from news.models import EditionState, Release, ReleaseEdition

    now = now or timezone.now()
    remembered = read_stamped(NEXT_KEY)
    if remembered is not None and (remembered == 0 or remembered > now.timestamp()):
        return datetime.datetime.fromtimestamp(remembered, datetime.UTC) if remembered else None
    releases = Release.objects.scheduled(now=now).order_by().values_list("published_at")
    editions = (
        ReleaseEdition.objects.filter(state=EditionState.SCHEDULED)
        .order_by()
        .values_list("publish_at")
    )
    upcoming = (
        releases.union(editions)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    keep_stamped(NEXT_KEY, upcoming.timestamp() if upcoming else 0, None)
    return upcoming


def lifetime(now: datetime.datetime | None = None, seconds: int | None = None) -> int:
    """How long what is rendered now stays true: `seconds` (PAGE_CACHE_SECONDS by default),
    capped by the next scheduled publication."""
    now = now or timezone.now()
    seconds = settings.PAGE_CACHE_SECONDS if seconds is None else seconds
    upcoming = next_scheduled_at(now)
    if upcoming is not None:
        seconds = min(seconds, int((upcoming - now).total_seconds()))
    return max(seconds, 0)


def page_key(request: HttpRequest, language: str) -> str | None:
    """The cache key of the page `request` asks for, or None when it is not a page worth
    keeping: an unknown parameter, a parameter given twice, or an overlong value."""
    params = []
    for name in sorted(request.GET):
        values = request.GET.getlist(name)
        if name not in PAGE_PARAMETERS or len(values) != 1:
            return None
        if len(values[0]) > MAX_PARAMETER_LENGTH:
            return None
        params.append(f"{name}={values[0]}")
    digest = hashlib.sha256(f"{request.path}?{'&'.join(params)}".encode()).hexdigest()[:32]
    return f"public:page:{language}:{digest}"


def is_signed_in(request: HttpRequest) -> bool:
    # Without a session cookie nobody is signed in: decided without touching the session store.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def conditional(request: HttpRequest, response: HttpResponse, etag: str, modified: float):
    """`response` with its validators, or a 304 when the client already has it."""
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(modified)
    return get_conditional_response(
        request, etag=etag, last_modified=int(modified), response=response
    )


def public_page(view: Callable | None = None, *, timeout: int | None = None):
    """Mark `view`'s anonymous GET/HEAD answers as public pages: validators, revalidation and
    a lifetime for the middleware that keeps them (`timeout`, default PAGE_CACHE_SECONDS,
    capped by the next scheduled publication). Signed-in users and previews get a private,
    uncached answer.

    Use as `@public_page`, `public_page(timeout=60)`, `public_page(SomeFeed())` in a URLconf,
    or `method_decorator(public_page, name="dispatch")` on a class-based view."""
    if view is None:
        return functools.partial(public_page, timeout=timeout)

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        from news import editions

        now = timezone.now()
        # A scheduled edition whose moment has come takes over before the page reads (no
        # query until that moment; a page cached before it expires at that moment).
        editions.apply_due_if_any(now)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        private = (
            request.method not in ("GET", "HEAD")
            or getattr(request, "is_preview", False)
            or is_signed_in(request)
        )
        if private:
            patch_cache_control(response, private=True, no_cache=True)
        elif response.status_code in CACHEABLE_STATUSES and not response.streaming:
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
            response.public_page = {"until": now.timestamp() + lifetime(now, timeout)}
        if response.status_code == 200 and not response.streaming:
            return conditional(request, response, etag_of(response.content), now.timestamp())
        return response

    return wrapped
