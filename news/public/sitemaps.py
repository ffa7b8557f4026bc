"""The sitemap on `django.contrib.sitemaps`: `/sitemap.xml` is Django's sitemap index of the
sections that have URLs, each served at `/sitemap-<section>.xml` (`?p=<n>` from the second page
on): `news` (the news lists), `releases` (every public language version of every release, with
its `lastmod` as a full W3C datetime) and `categories` (those with public releases, in the
languages that have them). Every URL carries its hreflang alternates, exactly the languages
that exist there, and an x-default (the Russian version) when there are several. Everything
public comes from `Release.objects.published(language)`. URLs are absolute under SITE_URL,
never on the request's Host header; every document goes through the public page cache.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap, views
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import get_language

from news.cache import public_page
from news.models import LANGUAGES, Category, Release


class PublicSitemap(Sitemap):
    """A section in every language in which its items are public (`get_languages_for_item`),
    on SITE_URL."""

    i18n = True
    alternates = True
    limit = 5000  # URLs per page

    @property
    def protocol(self) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    @cached_property
    def paginator(self):
        # Read once per request: the index asks for the count, the number of pages and the
        # latest lastmod.
        return super().paginator

    def get_latest_lastmod(self):
        if not hasattr(self, "lastmod"):
            return None
        return max((self.lastmod(item) for item, _ in self.paginator.object_list), default=None)

    def get_urls(self, page=1, site=None, protocol=None) -> list[dict]:
        """Django's URL entries, with an x-default (the Russian version) where a URL has
        several languages (Django's `x_default` adds one to single-language URLs too, and
        points it at an unprefixed path this site does not serve)."""
        urls = super().get_urls(page, site, protocol)
        for url in urls:
            locations = {a["lang_code"]: a["location"] for a in url["alternates"]}
            if len(locations) > 1:
                default = locations.get(settings.LANGUAGE_CODE, url["alternates"][0]["location"])
                url["alternates"].append({"lang_code": "x-default", "location": default})
        return urls


class ReleaseSitemap(PublicSitemap):
    """Each release in each language in which it is public, newest first. Paged in the
    database by release (at most 2,500 releases, so 5,000 URLs, a page): Django's i18n
    sitemaps would read every release of the archive to build any one page."""

    i18n = False
    alternates = False
    limit = PublicSitemap.limit // len(LANGUAGES)

    def items(self):
        public = Release.objects.published(LANGUAGES[0])
        for language in LANGUAGES[1:]:
            public |= Release.objects.published(language)
        fields = (
            "pk",
            "slug",
            "published_at",
            "last_major_change_at",
            *(f"{lang}_complete" for lang in LANGUAGES),
        )
        return public.only(*fields).order_by("-published_at", "-id")

    def get_languages_for_item(self, item: Release) -> list[str]:
        # The rest of the public rule (status, date) holds for every release of items().
        return [language for language in LANGUAGES if getattr(item, f"{language}_complete")]

    def lastmod(self, item: Release):
        # Only published major changes move it (minor ones leave no public trace).
        return item.public_modified_at

    def get_latest_lastmod(self):
        modified = Coalesce("last_major_change_at", "published_at")
        return self.items().aggregate(latest=Max(modified))["latest"]

    def get_urls(self, page=1, site=None, protocol=None) -> list[dict]:
        """A URL per public language version of each release of the page, each with the
        alternates of all of them (and the x-default, the Russian one, when there are
        several)."""
        base = f"{self.get_protocol(protocol)}://{self.get_domain(site)}"
        urls = []
        self.latest_lastmod = None
        for release in self.paginator.page(page).object_list:
            locations = {
                language: base + release.get_absolute_url(language)
                for language in self.get_languages_for_item(release)
            }
            alternates = [{"lang_code": code, "location": url} for code, url in locations.items()]
            if len(locations) > 1:
                default = locations.get(settings.LANGUAGE_CODE, alternates[0]["location"])
                alternates.append({"lang_code": "x-default", "location": default})
            lastmod = self.lastmod(release)
            if self.latest_lastmod is None or lastmod > self.latest_lastmod:
                self.latest_lastmod = lastmod
            urls += [
                {"item": release, "location": url, "lastmod": lastmod, "alternates": alternates}
                for url in locations.values()
            ]
        return urls


class NewsListSitemap(PublicSitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["news:list"]

    def location(self, item: str) -> str:
        return reverse(item)


class CategorySitemap(PublicSitemap):
    """Categories, in the languages in which they have public releases."""

    changefreq = "weekly"

    def items(self):
        flags = {
            f"public_{language}": Exists(
                Release.objects.published(language).filter(categories=OuterRef("pk"))
            )
            for language in LANGUAGES
        }
        categories = Category.objects.only("pk", "slug").annotate(**flags)
        return [
            category
            for category in categories.order_by("slug")
            if self.get_languages_for_item(category)
        ]

    def get_languages_for_item(self, item: Category) -> list[str]:
        return [language for language in LANGUAGES if getattr(item, f"public_{language}")]

    def location(self, item: Category) -> str:
        return item.get_absolute_url(get_language())


SITEMAPS = {"news": NewsListSitemap, "releases": ReleaseSitemap, "categories": CategorySitemap}


def on_site_url(view):
    """Django's sitemap index writes its links on the request's host (`RequestSite`): make it
    SITE_URL's, whatever Host header a client sends (the page cache keeps what it gets)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        request.get_host = lambda: urlsplit(settings.SITE_URL).netloc
        return view(request, *args, **kwargs)

    return wrapped


@public_page
@on_site_url
def index(request):
    """`/sitemap.xml`: Django's index of every page of every section that has URLs (an empty
    <urlset> is not a valid sitemap)."""
    sections = {name: section() for name, section in SITEMAPS.items()}
    sections = {name: section for name, section in sections.items() if section.paginator.count}
    return views.index(request, sections, sitemap_url_name="sitemap-section")


@public_page
def section(request, section: str):
    """`/sitemap-<section>.xml?p=<n>`: one page of one section, in Django's sitemap format
    (written by Jinja2, several times faster over thousands of URLs), lastmod as full W3C
    datetimes (Django's template writes the day only)."""
    return views.sitemap(request, SITEMAPS, section=section, template_name="news/sitemap.xml")
