"""The sitemap: `/sitemap.xml` is a <sitemapindex> of section pages `/sitemap-<section>.xml`
(`?p=<n>` from the second page on): `news` (the news lists), `releases` (every public language
version of every release, with `lastmod`) and `categories` (those with public releases, in
the languages that have them). Each URL carries its hreflang alternates (exactly the languages
that exist there) and an x-default (the Russian version) when there are several. URLs are
absolute from SITE_URL, never from the request's Host header (which is why the index is written
here rather than by django.contrib.sitemaps' `index` view, which takes the request's host).
Every document is served through the public page cache.

A page holds at most `URLS_PER_PAGE` URLs: the releases section pages over release rows,
`URLS_PER_PAGE // len(LANGUAGES)` per page, each giving one URL per public language. A page
costs a fixed number of queries (a count and one page of plain rows with just the columns a
URL needs, for the releases), so neither its time nor the worker's memory grows with the
archive; URLs are built and written without a `reverse()`, a language switch or a template
per URL.
"""

from __future__ import annotations

import datetime
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from news.cache import public_page
from news.models import LANGUAGES, Category, Release

XML = "application/xml; charset=utf-8"
URLS_PER_PAGE = 5000


class PublicSitemap(Sitemap):
    """A section whose items know their public languages (`languages_of`) and their path in
    each (`path`)."""

    i18n = True
    alternates = True
    languages = list(LANGUAGES)
    limit = URLS_PER_PAGE // len(LANGUAGES)  # items per page; each gives a URL per language

    @property
    def paginator(self) -> Paginator:
        """Pages of items (not of item-language pairs, which would need every item at once)."""
        if getattr(self, "_paginator", None) is None:
            self._paginator = Paginator(self.items(), self.limit)
        return self._paginator

    def get_languages_for_item(self, item) -> list[str]:
        return self.languages_of(item)

    def languages_of(self, item) -> list[str]:
        raise NotImplementedError

    def path(self, item, language: str) -> str:
        raise NotImplementedError

    def get_urls(self, page=1, site=None, protocol=None) -> list[dict]:
        """The URL entries of one page, as Django's sitemap template expects them."""
        base = settings.SITE_URL
        urls = []
        for item in self.paginator.page(page).object_list:
            languages = self.languages_of(item)
            for language in languages:
                urls.append(self.url(item, language, languages, base))
        return urls

    def url(self, item, language: str, languages: list[str], base: str) -> dict:
        """One URL entry, as Django's sitemap template expects it."""
        alternates = [
            {"lang_code": lang, "location": base + self.path(item, lang)} for lang in languages
        ]
        if len(alternates) > 1:
            default = settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in languages else None
            alternates.append(
                {
                    "lang_code": "x-default",
                    "location": base + self.path(item, default or languages[0]),
                }
            )
        return {
            "item": item,
            "location": base + self.path(item, language),
            "lastmod": self.lastmod(item) if hasattr(self, "lastmod") else None,
            "changefreq": getattr(self, "changefreq", None),
            "priority": "",
            "alternates": alternates,
        }


class ReleaseSitemap(PublicSitemap):
    """Each release in each language in which it is public. Items are plain rows
    `(pk, slug, last_major_change_at, published_at, ru_complete, en_complete)` (model
    instances would cost time and memory here) of the releases public in at least one
    language, newest first."""

    def __init__(self):
        self._prefixes = {}

    def items(self):
        now = timezone.now()
        public = Release.objects.published("ru", now=now)
        for language in LANGUAGES[1:]:
            public = public | Release.objects.published(language, now=now)
        return public.order_by("-published_at", "-id").values_list(
            "pk",
            "slug",
            "last_major_change_at",
            "published_at",
            *(f"{language}_complete" for language in LANGUAGES),
        )

    def languages_of(self, item) -> list[str]:
        # The rest of the public rule (status, date) holds for every row of items().
        return [
            language for language, complete in zip(LANGUAGES, item[4:], strict=True) if complete
        ]

    def path(self, item, language: str) -> str:
        # Release.get_absolute_url(), with the pattern reversed once per language.
        if language not in self._prefixes:
            with override(language):
                self._prefixes[language] = reverse(
                    "news:detail", kwargs={"pk": 1, "slug": "slug"}
                ).removesuffix("1/slug/")
        return f"{self._prefixes[language]}{item[0]}/{item[1]}/"

    def lastmod(self, item):
        # Release.public_modified_at: only published major changes move it.
        return item[2] or item[3]


class NewsListSitemap(PublicSitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["news:list"]

    def languages_of(self, item) -> list[str]:
        return list(LANGUAGES)

    def path(self, item, language: str) -> str:
        with override(language):
            return reverse(item)


class CategorySitemap(PublicSitemap):
    """Categories, in the languages in which they have public releases."""

    changefreq = "weekly"

    def __init__(self):
        self._categories = None

    def items(self) -> list[Category]:
        if self._categories is None:
            flags = {
                f"public_{language}": Exists(
                    Release.objects.published(language).filter(categories=OuterRef("pk"))
                )
                for language in LANGUAGES
            }
            categories = Category.objects.only("pk", "slug").annotate(**flags).order_by("slug")
            self._categories = [c for c in categories if self.languages_of(c)]
        return self._categories

    def languages_of(self, item) -> list[str]:
        return [language for language in LANGUAGES if getattr(item, f"public_{language}")]

    def path(self, item, language: str) -> str:
        return item.get_absolute_url(language)


SITEMAPS = {"news": NewsListSitemap, "releases": ReleaseSitemap, "categories": CategorySitemap}
URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/'
    'sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)
INDEX = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
)


def _day(value) -> str:
    if isinstance(value, datetime.datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value.isoformat()


def write_urlset(urls: list[dict]) -> str:
    """The <urlset> of Django's sitemap template, written directly (the template engine takes
    seconds over the URLs of a large archive)."""
    parts = [URLSET]
    for url in urls:
        parts.append(f"<url><loc>{escape(url['location'])}</loc>")
        if url["lastmod"]:
            parts.append(f"<lastmod>{_day(url['lastmod'])}</lastmod>")
        if url["changefreq"]:
            parts.append(f"<changefreq>{url['changefreq']}</changefreq>")
        for alternate in url["alternates"]:
            parts.append(
                f'<xhtml:link rel="alternate" hreflang="{alternate["lang_code"]}" '
                f'href="{escape(alternate["location"])}"/>'
            )
        parts.append("</url>\n")
    parts.append("</urlset>\n")
    return "".join(parts)


def section_url(name: str, page: int) -> str:
    """The absolute URL of one page of a section (the first without `?p=`)."""
    path = reverse("sitemap-section", kwargs={"section": name})
    return settings.SITE_URL + path + (f"?p={page}" if page > 1 else "")


@public_page
def sitemap_view(request):
    """`/sitemap.xml`: the <sitemapindex> of every page of every non-empty section (a count
    per section)."""
    entries = []
    for name, cls in SITEMAPS.items():
        paginator = cls().paginator
        if paginator.count:
            entries.extend(
                f"<sitemap><loc>{escape(section_url(name, page))}</loc></sitemap>\n"
                for page in paginator.page_range
            )
    return HttpResponse(INDEX + "".join(entries) + "</sitemapindex>\n", content_type=XML)


@public_page
def sitemap_section_view(request, section: str):
    """`/sitemap-<section>.xml?p=<n>`: the <urlset> of one page of one section."""
    if section not in SITEMAPS:
        raise Http404("No such sitemap section.")
    try:
        urls = SITEMAPS[section]().get_urls(page=request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger) as error:
        raise Http404("No such sitemap page.") from error
    return HttpResponse(write_urlset(urls), content_type=XML)
