"""Warm public pages served before sessions, authentication, CSRF, axes and locale run.

`news.cache.public_page` caches what a view answers; every hit still crosses the whole
middleware stack. This middleware sits right after WhiteNoise: when a page that
`public_page` filled or served passes back through it, it keeps the *finished* response
(with the headers the inner middlewares added: Content-Language, Vary, X-Frame-Options...)
under its own key, stamped with the same generation, ETag, Last-Modified and lifetime.
The next anonymous GET/HEAD of that page is answered from one cache round trip
(`get_many` of the generation token and the entry), with 304 for a matching
`If-None-Match` / `If-Modified-Since`. SecurityMiddleware and the CSP middleware sit
before it, so their headers are added to every answer as usual.

The Host header is validated first (`ALLOWED_HOSTS`, 400 otherwise), as CommonMiddleware
would. Only requests that can never be personal are answered here: GET/HEAD under a language
prefix (`/ru/`, `/en/`: the language is the path's, nothing else), without a session or
messages cookie (so never a signed-in user; previews are never marked by `public_page`).
Only responses marked by `public_page` (cacheable status, public, no cookies set) are kept,
so exact invalidation and scheduled releases behave as in `news.cache`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response

from news.cache.pages import (
    CACHEABLE_STATUSES,
    GENERATION_KEY,
    request_digest,
    shared_key,
    shared_names,
)

MESSAGES_COOKIE = "messages"


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = frozenset(code for code, _name in settings.LANGUAGES)

    def key(self, request: HttpRequest) -> str | None:
        if request.method not in ("GET", "HEAD"):
            return None
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or MESSAGES_COOKIE in cookies:
            return None
        # ALLOWED_HOSTS is checked here as CommonMiddleware would (a bad Host answers 400).
        request.get_host()
        parts = request.path_info.split("/", 2)
        if len(parts) < 3 or parts[1] not in self.languages:
            return None
        digest = request_digest(request)
        return None if digest is None else f"public:full:{parts[1]}:{digest}"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self.key(request)
        if key is None:
            return self.get_response(request)
        language = request.path_info.split("/", 2)[1]
        # The page, the generation token, and what the page needs if it must be rendered
        # (the generation's shared entries, see `news.cache`): one round trip.
        found = cache.get_many([GENERATION_KEY, key, *map(shared_key, shared_names(language))])
        entry = found.get(key)
        now = timezone.now().timestamp()
        if (
            entry is not None
            and entry["gen"] == found.get(GENERATION_KEY)
            and entry["valid_until"] > now
        ):
            response = HttpResponse(entry["content"], status=entry["status"])
            for name, value in entry["headers"]:
                response.headers[name] = value
            return get_conditional_response(
                request,
                etag=entry["etag"],
                last_modified=int(entry["modified"]),
                response=response,
            )
        # Tell `news.cache.public_page` this page was just looked up, and what was read.
        request.public_page_missed = {GENERATION_KEY: "", **found}
        response = self.get_response(request)
        self.keep(key, response, now)
        return response

    @staticmethod
    def keep(key: str, response: HttpResponse, now: float) -> None:
        marker = getattr(response, "public_page", None)
        if (
            marker is None
            or response.status_code not in CACHEABLE_STATUSES
            or response.streaming
            or response.cookies
            or "private" in response.get("Cache-Control", "")
        ):
            return
        seconds = int(marker["valid_until"] - now)
        if seconds <= 0:
            return
        cache.set(
            key,
            {
                **marker,
                "status": response.status_code,
                "content": response.content,
                "headers": list(response.items()),
            },
            seconds + 1,
        )
