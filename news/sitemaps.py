"""`/sitemap.xml`: every public language version of every release, the news lists and the
categories, each with its hreflang alternates (exactly the languages that exist there) and an
x-default (the Russian version) when there are several. URLs are absolute from SITE_URL, never
from the request's Host header. Served through the public page cache.

The sections are `django.contrib.sitemaps.Sitemap` classes (`i18n`, `alternates`, `limit`,
pagination); their URLs are built and written without a `reverse()`, a language switch or a
template per URL, which over tens of thousands of URLs took seconds. While everything fits
the protocol's 50,000 URLs one <urlset> answers; beyond that `/sitemap.xml` is a
<sitemapindex> of `/sitemap.xml?section=<name>&p=<n>` pages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from news.cache import public_page
from news.models import LANGUAGES, Category, Release

XML = "application/xml; charset=utf-8"


class PublicSitemap(Sitemap):
    """A section whose items know their public languages (`languages_of`) and their path in
    each (`path`)."""

    i18n = True
    alternates = True
    languages = list(LANGUAGES)

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
        for item, language in self.paginator.page(page).object_list:
            languages = self.languages_of(item)
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
            urls.append(
                {
                    "item": item,
                    "location": base + self.path(item, language),
                    "lastmod": self.lastmod(item) if hasattr(self, "lastmod") else None,
                    "changefreq": getattr(self, "changefreq", None),
                    "priority": "",
                    "alternates": alternates,
                }
            )
        return urls


@dataclass(slots=True)
class SitemapRelease:
    """What the sitemap needs of a release (plain rows: model instances cost seconds here)."""

    pk: int
    slug: str
    published_at: datetime.datetime
    updated_at: datetime.datetime
    public_languages: list[str] = field(default_factory=list)


class ReleaseSitemap(PublicSitemap):
    """Each release in each language in which it is public (two queries, one per language)."""

    def __init__(self):
        self._releases = None
        self._prefixes = {}

    def items(self) -> list[SitemapRelease]:
        if self._releases is None:
            releases: dict[int, SitemapRelease] = {}
            for language in LANGUAGES:
                rows = Release.objects.published(language).values_list(
                    "pk", "slug", "published_at", "updated_at"
                )
                for pk, slug, published_at, updated_at in rows:
                    release = releases.get(pk)
                    if release is None:
                        release = releases[pk] = SitemapRelease(pk, slug, published_at, updated_at)
                    release.public_languages.append(language)
            self._releases = sorted(
                releases.values(), key=lambda r: (r.published_at, r.pk), reverse=True
            )
        return self._releases

    def languages_of(self, item) -> list[str]:
        return item.public_languages

    def path(self, item, language: str) -> str:
        # Release.get_absolute_url(), with the pattern reversed once per language.
        if language not in self._prefixes:
            with override(language):
                self._prefixes[language] = reverse(
                    "news:detail", kwargs={"pk": 1, "slug": "slug"}
                ).removesuffix("1/slug/")
        return f"{self._prefixes[language]}{item.pk}/{item.slug}/"

    def lastmod(self, item):
        return item.updated_at


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


@public_page
def sitemap_view(request):
    """One <urlset> of everything while it fits Sitemap.limit (50,000 URLs); beyond that a
    <sitemapindex> of `?section=<name>&p=<n>` pages, served by this same view."""
    maps = {name: cls() for name, cls in SITEMAPS.items()}
    section = request.GET.get("section")
    if section is not None:
        if section not in maps:
            raise Http404("No such sitemap section.")
        try:
            urls = maps[section].get_urls(page=request.GET.get("p", 1))
        except (EmptyPage, PageNotAnInteger) as error:
            raise Http404("No such sitemap page.") from error
        return HttpResponse(write_urlset(urls), content_type=XML)
    if sum(sitemap.paginator.count for sitemap in maps.values()) <= Sitemap.limit:
        urls = [url for sitemap in maps.values() for url in sitemap.get_urls()]
        return HttpResponse(write_urlset(urls), content_type=XML)
    base = settings.SITE_URL + "/sitemap.xml"
    entries = [
        f"<sitemap><loc>{escape(f'{base}?section={name}&p={page}')}</loc></sitemap>\n"
        for name, sitemap in maps.items()
        if sitemap.paginator.count
        for page in sitemap.paginator.page_range
    ]
    return HttpResponse(INDEX + "".join(entries) + "</sitemapindex>\n", content_type=XML)
