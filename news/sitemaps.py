"""`/sitemap.xml`: every public language version of every release, the news lists and the
categories, each with its hreflang alternates (only the languages that exist there) and an
x-default (the Russian version when there is one). URLs are absolute from SITE_URL, never
from the request's Host header. Served through the public page cache."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import get_language

from news.cache import public_page
from news.models import LANGUAGES, Category, Release


class SiteUrlSitemap(Sitemap):
    """URLs from SITE_URL; alternates list the item's languages, plus x-default when there
    are several."""

    i18n = True
    alternates = True
    languages = list(LANGUAGES)

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc

    def get_urls(self, page=1, site=None, protocol=None):
        urls = super().get_urls(page=page, site=site, protocol=protocol)
        for info in urls:
            alternates = {a["lang_code"]: a["location"] for a in info["alternates"]}
            if len(alternates) > 1:
                default = alternates.get(settings.LANGUAGE_CODE) or next(iter(alternates.values()))
                info["alternates"].append({"location": default, "lang_code": "x-default"})
        return urls


def _public_flags(queryset, field: str = "pk"):
    """Annotate `public_<lang>` for each language, from the one public rule."""
    return queryset.annotate(
        **{
            f"public_{language}": Exists(
                Release.objects.published(language).filter(**{field: OuterRef("pk")})
            )
            for language in LANGUAGES
        }
    )


class ReleaseSitemap(SiteUrlSitemap):
    """Each release in each language in which it is public."""

    def items(self):
        if not hasattr(self, "_releases"):
            public = Release.objects.published("ru") | Release.objects.published("en")
            self._releases = list(
                _public_flags(public.only("pk", "slug", "published_at", "updated_at")).order_by(
                    "-published_at", "-id"
                )
            )
        return self._releases

    def get_languages_for_item(self, item):
        return [language for language in LANGUAGES if getattr(item, f"public_{language}")]

    def location(self, item):
        return item.get_absolute_url(get_language())

    def lastmod(self, item):
        return item.updated_at


class NewsListSitemap(SiteUrlSitemap):
    changefreq = "daily"

    def items(self):
        return ["news:list"]

    def location(self, item):
        return reverse(item)


class CategorySitemap(SiteUrlSitemap):
    """Categories, in the languages in which they have public releases."""

    changefreq = "weekly"

    def items(self):
        if not hasattr(self, "_categories"):
            categories = _public_flags(Category.objects.only("pk", "slug"), field="categories")
            self._categories = [
                category
                for category in categories.order_by("slug")
                if any(getattr(category, f"public_{language}") for language in LANGUAGES)
            ]
        return self._categories

    def get_languages_for_item(self, item):
        return [language for language in LANGUAGES if getattr(item, f"public_{language}")]

    def location(self, item):
        return item.get_absolute_url(get_language())


SITEMAPS = {"news": NewsListSitemap, "releases": ReleaseSitemap, "categories": CategorySitemap}


@public_page
def sitemap_view(request):
    return sitemap(request, sitemaps=SITEMAPS)
