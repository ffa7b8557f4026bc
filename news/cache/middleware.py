"""Keeps and serves the public pages that views mark with `news.cache.public_page`.

It sits right after WhiteNoise, before sessions, authentication, CSRF, axes and locale: a warm
anonymous page is answered from one cache round trip (the generation token and the page,
`get_many`; with them what a page built afresh reads first, kept for the request), with 304
for a matching `If-None-Match` / `If-Modified-Since`. The security and
CSP middlewares sit before it, so their headers are added to every answer as usual.

A response is kept *finished* (with the headers the inner middlewares added: Content-Language,
Vary, X-Frame-Options...), stamped with the generation read before the view ran, so a change
committed meanwhile leaves it unreachable. Only requests that can never be personal are
answered or kept: GET/HEAD without a session or messages cookie, for a page as
`news.cache.pages.page_key` defines it; only responses the view marked, with a cacheable
status, no cookies set and not private. The Host header is checked first (`ALLOWED_HOSTS`, 400
otherwise), as CommonMiddleware would.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from news.cache.pages import (
    CACHEABLE_STATUSES,
    GENERATION_KEY,
    NAVIGATION_KEY,
    NEXT_KEY,
    conditional,
    generation,
    page_key,
    read_many,
    request_reads,
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
        request.get_host()  # a Host not in ALLOWED_HOSTS answers 400, cached page or not
        return page_key(request, self.language(request))

    def language(self, request: HttpRequest) -> str:
        # The path's (/ru/..., /en/...); other public paths (the sitemap, the old site's
        # addresses) do not depend on it.
        prefix = request.path_info.split("/", 2)[1]
        return prefix if prefix in self.languages else "-"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self.key(request)
        if key is None:
            return self.get_response(request)
        with request_reads():
            # With the page, what building it would read first: one round trip either way.
            keys = [GENERATION_KEY, key, NEXT_KEY]
            if (language := self.language(request)) != "-":
                keys.append(NAVIGATION_KEY.format(language=language))
            found = read_many(keys)
            gen, entry = found.get(GENERATION_KEY), found.get(key)
            now = timezone.now().timestamp()
            if entry is not None and entry["gen"] == gen and entry["until"] > now:
                response = HttpResponse(entry["content"], status=entry["status"])
                for name, value in entry["headers"]:
                    response.headers[name] = value
                if not entry["etag"]:
                    return response
                return conditional(request, response, entry["etag"], entry["modified"])
            gen = gen or generation()
            response = self.get_response(request)
        self.keep(key, gen, response, now)
        return response

    @staticmethod
    def keep(key: str, gen: str, response: HttpResponse, now: float) -> None:
        marker = getattr(response, "public_page", None)
        if (
            marker is None
            or response.status_code not in CACHEABLE_STATUSES
            or response.streaming
            or response.cookies
            or "private" in response.get("Cache-Control", "")
        ):
            return
        seconds = int(marker["until"] - now)
        if seconds <= 0:
            return
        cache.set(
            key,
            {
                "gen": gen,
                "until": marker["until"],
                "status": response.status_code,
                "content": response.content,
                "headers": list(response.items()),
                "etag": response.get("ETag", "") if response.status_code == 200 else "",
                "modified": now,
            },
            seconds + 1,
        )
