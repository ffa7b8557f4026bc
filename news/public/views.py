"""The public site: news list, release pages, date archives, categories, search, redirects.

Every release shown here comes from `Release.objects.published(language)`, the one public rule
(`PublicReleaseMixin.published()`), for the language of the URL (`/ru/...`, `/en/...`). Pages
are served through the public page cache (`news.cache.public_page`) and run a fixed number of
queries whatever the number of releases: lists fetch one row more than a page instead of
counting, and a page's releases come with what they relate to (`news.relations`; a release
page also with its neighbours and its other language) in one query, prepared once
(`news.prepared`). The templates are Jinja2 (`news.environment`).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import get_language, get_language_from_request, gettext_lazy, override
from django.utils.translation import gettext as _
from django.views import View

from news import relations
from news.cache.pages import generation, keep_shared, next_scheduled_at, public_page, read_shared
from news.models import (
    LANGUAGES,
    Category,
    Release,
    ReleaseQuerySet,
    SourceKind,
)
from news.prepared import PreparedQuery
from news.public import search as release_search
from news.public.renditions import Rendition, renditions
from news.templatetags.public import iso_datetime, public_date

logger = logging.getLogger(__name__)

PER_PAGE = 20
MAX_PAGE = 2000
DESCRIPTION_LENGTH = 160
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}
OG_LOCALES = {"ru": "ru_RU", "en": "en_GB"}

# The publishing body, as it signs its pages.
BODY_NAME = gettext_lazy("Executive Committee of the Commonwealth of Independent States")
BODY_SHORT_NAME = gettext_lazy("CIS Executive Committee")
SITE_NAME = gettext_lazy("Press Service of the CIS Executive Committee")
SITE_DESCRIPTION = gettext_lazy(
    "Press releases of the Executive Committee of the Commonwealth of Independent States: "
    "meetings, agreements and cooperation of the participating states."
)


def other_language(language: str) -> str:
    return "en" if language == "ru" else "ru"


def current_language() -> str:
    language = get_language()
    return language if language in LANGUAGES else settings.LANGUAGE_CODE


def absolute(path: str) -> str:
    """An absolute URL on the public site, from SITE_URL (never from the Host header)."""
    return settings.SITE_URL + path


def url_in(language: str, name: str, **kwargs) -> str:
    with override(language):
        return reverse(name, kwargs=kwargs or None)


# Placeholders that every converter of the public URLs (int, slug) accepts unchanged.
_URL_PLACEHOLDERS = {"pk": 918273645, "year": 918273646, "month": 918273647, "slug": "zq918273648"}
_url_formats: dict[tuple, str] = {}


def url_builder(language: str, name: str, *fields: str) -> Callable[..., str]:
    """A cheap `url_in(language, name, **values)` for hot loops: `reverse()` runs once (per
    language, URL name and script prefix, then remembered), each URL is a `str.format`."""
    key = (language, name, fields, get_script_prefix())
    pattern = _url_formats.get(key)
    if pattern is None:
        path = url_in(language, name, **{field: _URL_PLACEHOLDERS[field] for field in fields})
        pattern = path.replace("{", "{{").replace("}", "}}")
        for field in fields:
            pattern = pattern.replace(str(_URL_PLACEHOLDERS[field]), f"{{{field}}}", 1)
        _url_formats[key] = pattern
    return pattern.format


# Site-wide navigation, remembered per cache generation --------------------------------------


def site_navigation(language: str) -> dict:
    """Categories that have public releases in `language` and the years of its archive.

    Computed once per cache generation and language (two queries) and kept for the whole
    generation, not for a page's lifetime: it changes only when a release changes (a new
    generation) or when a scheduled release goes live, which caps its lifetime. So cold pages
    (also with the page cache off) do not repeat these queries."""
    gen, now = generation(), timezone.now()
    navigation = read_shared(f"nav:{language}", gen)
    if navigation is not None and navigation["valid_until"] > now.timestamp():
        return navigation
    upcoming = next_scheduled_at(gen, now)
    public = Release.objects.published(language, now=now)
    category_url = url_builder(language, "news:category", "slug")
    year_url = url_builder(language, "news:archive_year", "year")
    categories = [
        {"slug": slug, "name": (name_en if language == "en" else "") or name_ru,
         "fallback": language == "en" and not name_en, "url": category_url(slug=slug)}
        for slug, name_ru, name_en in Category.objects.filter(
            Exists(public.filter(categories=OuterRef("pk")))
        )
        .order_by(f"name_{language}" if language == "ru" else "name_en", "name_ru")
        .values_list("slug", "name_ru", "name_en")
    ]  # fmt: skip
    years = [d.year for d in public.dates("published_at", "year", order="DESC")]
    valid_until = upcoming or float("inf")
    navigation = {
        "categories": categories,
        "years": years,
        "year_links": [(year, year_url(year=year)) for year in years],
        "valid_until": valid_until,
    }
    timeout = max(1, int(upcoming - now.timestamp())) if upcoming else None
    keep_shared(f"nav:{language}", gen, navigation, timeout)
    return navigation


def layout_context(language: str) -> dict:
    """What the layout of every public page (`templates/base.html`) shows: the body's names, the
    navigation, and its links (the URLs from `url_builder`, reversed once per process)."""
    return {
        "language": language,
        "navigation": site_navigation(language),
        "site_name": SITE_NAME,
        "body_name": BODY_NAME,
        "body_short_name": BODY_SHORT_NAME,
        "links": {
            **{name: url_builder(language, f"news:{name}")() for name in LAYOUT_URLS},
            "emblem": static("news/emblem.svg"),
            "stylesheet": static("news/site.css"),
        },
    }


LAYOUT_URLS = ("list", "search", "rss", "atom", "json_feed")


# Pagination without COUNT(*) ------------------------------------------------------------------


@dataclass
class PageWindow:
    number: int
    has_previous: bool
    has_next: bool
    previous_url: str = ""
    next_url: str = ""

    @property
    def is_paginated(self) -> bool:
        return self.has_previous or self.has_next


def page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Http404(_("No such page."))
    return int(raw)


def page_window(request: HttpRequest, number: int, rows: list, *, keep=()) -> PageWindow:
    """The window of page `number`, given its rows read with one row more than a page (so
    a next page exists when that row came back); 404 past the last page."""
    if number > 1 and not rows:
        raise Http404(_("No such page."))
    window = PageWindow(number, has_previous=number > 1, has_next=len(rows) > PER_PAGE)

    def link(n: int) -> str:
        params = [(name, request.GET[name]) for name in keep if request.GET.get(name)]
        if n > 1:
            params.append(("page", str(n)))
        return request.path + ("?" + urlencode(params) if params else "")

    if window.has_previous:
        window.previous_url = link(number - 1)
    if window.has_next:
        window.next_url = link(number + 1)
    return window


def paginate(request: HttpRequest, queryset: QuerySet, *, keep=()) -> tuple[list, PageWindow]:
    """One page of `queryset`, read with one row more than a page instead of a COUNT(*)."""
    number = page_number(request)
    start = (number - 1) * PER_PAGE
    rows = list(queryset[start : start + PER_PAGE + 1])
    return rows[:PER_PAGE], page_window(request, number, rows, keep=keep)


# SEO -----------------------------------------------------------------------------------------


def describe(text: str) -> str:
    """A meta description: plain text, one line, at most DESCRIPTION_LENGTH characters."""
    plain = " ".join(strip_tags(text or "").split())
    return Truncator(plain).chars(DESCRIPTION_LENGTH)


def publisher_jsonld(language: str) -> dict:
    with override(language):
        return {
            "@type": "Organization",
            "name": str(BODY_NAME),
            "url": absolute(url_in(language, "news:list")),
            "logo": {"@type": "ImageObject", "url": absolute(static("news/emblem.png"))},
        }


def release_jsonld(
    release: Release,
    language: str,
    *,
    url: str,
    other_url: str | None,
    image: Rendition | None,
    authors: list[dict],
    original_url: str | None,
) -> dict:
    """schema.org NewsArticle of one language version, linked to its translation."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": Truncator(release.title(language)).chars(110),
        "description": describe(release.lead(language) or release.body(language)),
        "inLanguage": language,
        "datePublished": release.published_at.isoformat() if release.published_at else None,
        "dateModified": (release.updated_at or release.published_at).isoformat()
        if (release.updated_at or release.published_at)
        else None,
        "author": [
            {"@type": author["type"], "name": author["name"], **(
                {"jobTitle": author["position"]} if author["position"] else {}
            )}
            for author in authors
        ] or [publisher_jsonld(language)],
        "publisher": publisher_jsonld(language),
    }  # fmt: skip
    if image:
        data["image"] = {
            "@type": "ImageObject",
            "url": image.absolute_url,
            "width": image.width,
            "height": image.height,
        }
    if original_url:
        data["isBasedOn"] = original_url
    if other_url:
        # Russian is the primary language: the English version is its translation.
        relation = "workTranslation" if language == "ru" else "translationOfWork"
        data[relation] = {
            "@type": "NewsArticle",
            "@id": other_url,
            "url": other_url,
            "inLanguage": other_language(language),
        }
    return {key: value for key, value in data.items() if value is not None}


def seo_context(
    *,
    title: str,
    description: str,
    path: str,
    language: str,
    alternates: dict[str, str] | None = None,
    noindex: bool = False,
    og_type: str = "website",
    image: Rendition | None = None,
    jsonld: dict | None = None,
    published: datetime.datetime | None = None,
    modified: datetime.datetime | None = None,
) -> dict:
    """What the <head> says to search engines and social networks. `alternates` maps each
    language in which this page exists to its path (hreflang; x-default is the Russian one)."""
    alternates = alternates or {}
    hreflang = [(lang, absolute(alternates[lang])) for lang in LANGUAGES if lang in alternates]
    x_default = alternates.get("ru") or alternates.get("en")
    return {
        "title": title,
        "description": description,
        "canonical": absolute(path),
        "alternates": hreflang if len(hreflang) > 1 else [],
        "x_default": absolute(x_default) if x_default and len(hreflang) > 1 else "",
        "robots": "noindex" if noindex else "",
        "og_type": og_type,
        "og_locale": OG_LOCALES[language],
        "og_locale_alternates": [OG_LOCALES[lang] for lang, _url in hreflang if lang != language],
        "image": image,
        "jsonld": jsonld,
        "published": published,
        "modified": modified,
    }


def language_switch(language: str, path: str, *, exists: bool = True) -> dict:
    """The link to the other language: the same page there, or that language's news list."""
    other = other_language(language)
    return {
        "language": other,
        "name": LANGUAGE_NAMES[other],
        "url": path if exists else url_in(other, "news:list"),
        "same_page": exists,
    }


# The pages -----------------------------------------------------------------------------------


def card_fields(language: str) -> tuple[str, ...]:
    """The columns a list card of `language` shows."""
    return ("id", "slug", "published_at", "image", *(
        f"{name}_{language}" for name in ("title", "lead", "image_alt")
    ))  # fmt: skip


def category_link(language: str, slug: str, name_ru: str, name_en: str) -> dict:
    """A category as the public pages link it, in `language` (Russian when untranslated)."""
    return {
        "name": (name_en if language == "en" else "") or name_ru,
        "url": url_builder(language, "news:category", "slug")(slug=slug),
        "fallback": language == "en" and not name_en,
    }


def cards(
    rows: list[dict], language: str, thumbnails: dict[int, Rendition] | None = None
) -> list[dict]:
    """What a list shows of each release: title, link, date, lead, categories, thumbnail.

    `rows` hold the `card_fields(language)` of each release, on a list page also its
    `categories_json` (`news.relations`), a search hit its `title_html` and `snippet`.
    Everything is prepared here, ready to print (URLs from `url_builder`, dates by
    `public_date`), so the template loop stays cheap."""
    thumbnails = thumbnails or {}
    release_url = url_builder(language, "news:detail", "pk", "slug")
    title, lead, image_alt = (f"{name}_{language}" for name in ("title", "lead", "image_alt"))
    result = []
    for row in rows:
        published, pk = row["published_at"], row["id"]
        result.append(
            {
                "title": row[title],
                "url": release_url(pk=pk, slug=row["slug"]),
                "date": published,
                "date_iso": iso_datetime(published),
                "date_text": public_date(published, language),
                "lead": row[lead],
                "title_html": row.get("title_html", ""),
                "snippet": row.get("snippet", ""),
                "categories": [
                    category_link(language, c["slug"], c["name_ru"], c["name_en"])
                    for c in relations.rows(row.get("categories_json"))
                ],
                "thumbnail": thumbnails.get(pk),
                "image_alt": row[image_alt],
            }
        )
    return result


def _listing(narrow: Callable[..., ReleaseQuerySet] | None = None, **kinds: type):
    """The rows of one list page, prepared (`news.prepared`): the page's ids are read by the
    public order on the partial index `release_public_<language>_idx` (an index-only scan,
    so a deep page costs about what page 1 costs), their rows by id with their categories
    (`news.relations`), in one query. `narrow` filters the public releases by the list's own
    parameters (`kinds`)."""

    def listing(language: str, *, now, offset: int, **values) -> QuerySet:
        public = Release.objects.published(language, now=now)
        if narrow is not None:
            public = narrow(public, **values)
        ids = public.order_by("-published_at", "-id").values("pk")
        return (
            Release.objects.filter(pk__in=ids[offset : offset + PER_PAGE + 1])
            .annotate(categories_json=relations.categories())
            .order_by("-published_at", "-id")
            .values(*card_fields(language), "categories_json")
        )

    return PreparedQuery(listing, now=datetime.datetime, offset=int, **kinds)


@method_decorator(public_page, name="dispatch")
class PublicReleaseMixin(View):
    """Supplies the public queryset of the URL's language and the context every page shares."""

    template_name = "news/release_list.html"
    http_method_names = ["get", "head"]

    @property
    def language(self) -> str:
        return current_language()

    def published(self) -> ReleaseQuerySet:
        return Release.objects.published(self.language)

    def base_context(self) -> dict:
        return layout_context(self.language)

    def render(self, context: dict, *, status: int = 200) -> TemplateResponse:
        return TemplateResponse(
            self.request, self.template_name, {**self.base_context(), **context}, status=status
        )


class ReleaseListMixin(PublicReleaseMixin):
    """A paginated list of public releases, newest first, with categories and thumbnails.

    A list class sets `listing` (`_listing(...)`: the page's rows, prepared) and
    `listing_values()` (the values of its own parameters)."""

    allow_empty = True
    listing = _listing()

    def listing_values(self) -> dict:
        return {}

    def page_context(self) -> dict:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        context = self.page_context()
        language, number = self.language, page_number(request)
        rows = self.listing(
            language,
            now=timezone.now(),
            offset=(number - 1) * PER_PAGE,
            **self.listing_values(),
        )
        window = page_window(request, number, rows)
        rows = rows[:PER_PAGE]
        if not rows and not self.allow_empty:
            raise Http404(_("There are no releases here."))
        context["cards"] = cards(
            rows,
            language,
            renditions({row["id"]: row["image"] for row in rows}, "image_list")["image_list"],
        )
        context["page"] = window
        seo = context["seo"]
        if window.number > 1:
            # Page n of one language is not a translation of page n of the other.
            seo.update(alternates=[], x_default="", og_locale_alternates=[])
            seo["canonical"] += f"?page={window.number}"
            seo["title"] = _("%(title)s, page %(number)s") % {
                "title": seo["title"],
                "number": window.number,
            }
        if not rows:
            seo["robots"] = "noindex"
        return self.render(context)


class ReleaseListView(ReleaseListMixin):
    def page_context(self) -> dict:
        language = self.language
        path = url_in(language, "news:list")
        alternates = {lang: url_in(lang, "news:list") for lang in LANGUAGES}
        return {
            "heading": _("News"),
            "is_news_list": True,
            "seo": seo_context(
                title=_("News"),
                description=str(SITE_DESCRIPTION),
                path=path,
                language=language,
                alternates=alternates,
                jsonld={
                    "@context": "https://schema.org",
                    "@type": "WebSite",
                    "name": str(SITE_NAME),
                    "url": absolute(path),
                    "inLanguage": language,
                    "publisher": publisher_jsonld(language),
                    "potentialAction": {
                        "@type": "SearchAction",
                        "target": absolute(url_in(language, "news:search")) + "?q={query}",
                        "query-input": "required name=query",
                    },
                },
            ),
            "switch": language_switch(language, alternates[other_language(language)]),
        }


def _month_bounds(year: int, month: int | None) -> tuple[datetime.datetime, datetime.datetime]:
    try:
        start = datetime.datetime(year, month or 1, 1)
        if month is None:
            end = datetime.datetime(year + 1, 1, 1)
        else:
            end = datetime.datetime(year + month // 12, month % 12 + 1, 1)
    except (ValueError, OverflowError) as error:
        raise Http404(_("No such date.")) from error
    zone = timezone.get_current_timezone()
    return timezone.make_aware(start, zone), timezone.make_aware(end, zone)


class DateArchiveMixin(ReleaseListMixin):
    """The public releases published in a period (`bounds()`: its start and its end)."""

    allow_empty = False
    listing = _listing(
        lambda releases, since, until: releases.filter(
            published_at__gte=since, published_at__lt=until
        ),
        since=datetime.datetime,
        until=datetime.datetime,
    )

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        raise NotImplementedError

    def releases(self) -> ReleaseQuerySet:
        start, end = self.bounds()
        return self.published().filter(published_at__gte=start, published_at__lt=end)

    def listing_values(self) -> dict:
        since, until = self.bounds()
        return {"since": since, "until": until}


class ReleaseYearArchiveView(DateArchiveMixin):
    """All public releases of one year, with links to its months; 404 for an empty year."""

    template_name = "news/release_archive_year.html"

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        return _month_bounds(self.kwargs["year"], None)

    def page_context(self) -> dict:
        language, year = self.language, self.kwargs["year"]
        path = url_in(language, "news:archive_year", year=year)
        months = self.releases().dates("published_at", "month", order="ASC")
        title = _("News archive: %(year)s") % {"year": year}
        return {
            "heading": title,
            "year": year,
            "months": list(months),
            "seo": seo_context(
                title=title,
                description=_("Press releases of %(year)s.") % {"year": year},
                path=path,
                language=language,
            ),
            "switch": language_switch(language, url_in(other_language(language), "news:list"),
                                      exists=False),
        }  # fmt: skip


class ReleaseMonthArchiveView(DateArchiveMixin):
    """All public releases of one month; 404 for an empty month."""

    template_name = "news/release_archive_month.html"

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        return _month_bounds(self.kwargs["year"], self.kwargs["month"])

    def page_context(self) -> dict:
        language, year, month = self.language, self.kwargs["year"], self.kwargs["month"]
        start, _end = _month_bounds(year, month)
        path = url_in(language, "news:archive_month", year=year, month=month)
        from news.templatetags.public import month_name

        title = _("News archive: %(month)s") % {"month": month_name(start, language)}
        return {
            "heading": title,
            "year": year,
            "month": start,
            "seo": seo_context(
                title=title,
                description=_("Press releases of %(month)s.") % {
                    "month": month_name(start, language)
                },
                path=path,
                language=language,
            ),
            "switch": language_switch(language, "", exists=False),
        }  # fmt: skip


class CategoryReleaseListView(ReleaseListMixin):
    """The public releases of one category; 404 for an unknown category."""

    template_name = "news/release_list_category.html"
    listing = _listing(
        lambda releases, category: releases.filter(categories=category), category=int
    )

    def get(self, request, *args, **kwargs):
        self.category = Category.objects.filter(slug=kwargs["slug"]).first()
        if self.category is None:
            raise Http404(_("No such category."))
        return super().get(request, *args, **kwargs)

    def listing_values(self) -> dict:
        return {"category": self.category.pk}

    def page_context(self) -> dict:
        language, category = self.language, self.category
        name = category.name(language)
        alternates = {lang: category.get_absolute_url(lang) for lang in LANGUAGES}
        return {
            "heading": name,
            "category": category,
            "category_fallback": language == "en" and not category.name_en,
            "seo": seo_context(
                title=name,
                description=_("Press releases in the category “%(name)s”.") % {"name": name},
                path=alternates[language],
                language=language,
                alternates=alternates,
            ),
            "switch": language_switch(language, alternates[other_language(language)]),
        }


class SearchView(PublicReleaseMixin):
    """Search among the public releases of the URL's language (see news/search.py)."""

    template_name = "news/release_search.html"

    def get(self, request, *args, **kwargs):
        language = self.language
        raw = request.GET.get("q", "")
        query = release_search.parse(raw)
        releases, window = [], PageWindow(1, False, False)
        if query:
            releases, window = paginate(
                request, release_search.search(query, language), keep=("q",)
            )
            fields = card_fields(language)
            hits = [release_search.present(hit, query, language) for hit in releases]
            releases = [
                {
                    **{field: getattr(hit, field) for field in fields},
                    "image": hit.image.name,
                    "title_html": hit.highlighted_title,
                    "snippet": hit.snippet,
                }
                for hit in hits
            ]
        path = url_in(language, "news:search")
        other_path = url_in(other_language(language), "news:search")
        if query:
            other_path += "?" + urlencode({"q": query.text})
        title = _("Search: %(query)s") % {"query": query.text} if query else _("Search")
        return self.render(
            {
                "heading": _("Search"),
                "query": query,
                "raw_query": raw[: release_search.MAX_QUERY_LENGTH],
                "truncated": len(" ".join(raw.split())) > len(query.text) and bool(query),
                "cards": cards(releases, language),
                "page": window,
                "seo": seo_context(
                    title=title,
                    description=str(SITE_DESCRIPTION),
                    path=path,
                    language=language,
                    noindex=True,
                ),
                "switch": language_switch(language, other_path),
            }
        )


RELATIONS = ("categories", "authors", "sources")


RELATION_COLUMNS = tuple(f"{name}_json" for name in RELATIONS)


def _relations() -> dict:
    return {f"{name}_json": getattr(relations, name)() for name in RELATIONS}


def _related_rows(row: dict) -> dict[str, list[dict]]:
    return {name: relations.rows(row[f"{name}_json"]) for name in RELATIONS}


# Every column of a release: a release page builds its Release from them (no deferred field
# can cost a query later).
RELEASE_FIELDS = tuple(field.attname for field in Release._meta.concrete_fields)
NEIGHBOUR_FIELDS = tuple(
    f"{name}_{field}" for name in ("previous", "next") for field in ("pk", "slug", "title")
)


def _public_release(language: str, *, pk: int, now: datetime.datetime) -> QuerySet:
    public = Release.objects.published(language, now=now)
    # Plain ordered ranges on the partial index `release_public_<language>_idx`
    # (-published_at, -id): the tie on the same moment is settled by the id, excluded row by
    # row, so the scan starts at the release and stops at the first neighbour (an OR of two
    # ranges would make PostgreSQL scan half the archive).
    older = (
        public.filter(published_at__lte=OuterRef("published_at"))
        .exclude(published_at=OuterRef("published_at"), pk__gte=OuterRef("pk"))
        .order_by("-published_at", "-pk")
    )
    newer = (
        public.filter(published_at__gte=OuterRef("published_at"))
        .exclude(published_at=OuterRef("published_at"), pk__lte=OuterRef("pk"))
        .order_by("published_at", "pk")
    )
    title = f"title_{language}"
    neighbours = {}
    for name, queryset in (("previous", older), ("next", newer)):
        for field in ("pk", "slug", title):
            neighbours[f"{name}_{'title' if field == title else field}"] = Subquery(
                queryset.values(field)[:1]
            )
    other = Release.objects.published(other_language(language), now=now).filter(pk=OuterRef("pk"))
    return (
        public.filter(pk=pk)
        .annotate(other_public=Exists(other), **neighbours, **_relations())
        .order_by()
        .values(*RELEASE_FIELDS, "other_public", *NEIGHBOUR_FIELDS, *RELATION_COLUMNS)
    )


_PUBLIC_RELEASE = PreparedQuery(_public_release, pk=int, now=datetime.datetime)
# The relations of any release (a preview), in one query.
_RELEASE_RELATIONS = PreparedQuery(
    lambda *, pk: Release.objects.filter(pk=pk).annotate(**_relations()).values(*RELATION_COLUMNS),
    pk=int,
)


def public_release(pk: int, language: str) -> Release | None:
    """The public release `pk` in `language`, with its neighbours in the public order,
    whether its other language version is public, and its categories, authors and sources,
    all in one prepared query (None if not public)."""
    rows = _PUBLIC_RELEASE(language, pk=pk, now=timezone.now())
    if not rows:
        return None
    row = rows[0]
    release = Release.from_db(DEFAULT_DB_ALIAS, RELEASE_FIELDS, [row[f] for f in RELEASE_FIELDS])
    release.other_public = row["other_public"]
    for name in NEIGHBOUR_FIELDS:
        setattr(release, name, row[name])
    release.relations = _related_rows(row)
    return release


def release_relations(release: Release) -> dict[str, list[dict]]:
    """The categories, authors and sources of `release` (read with it on a release page)."""
    found = getattr(release, "relations", None)
    if found is None:
        (row,) = _RELEASE_RELATIONS(pk=release.pk) or [dict.fromkeys(RELATION_COLUMNS)]
        found = release.relations = _related_rows(row)
    return found


def _authors(rows: list[dict], language: str) -> list[dict]:
    return [
        {
            "name": (row["name_en"] if language == "en" else row["name_ru"])
            or row["name_ru"]
            or row["name_en"],
            "position": row[f"position_{language}"],
            "lang": "ru" if language == "en" and not row["name_en"] else language,
            "type": "Person" if (row["user"] or row["position_ru"]) else "Organization",
        }
        for row in rows
    ]


def detail_context(release: Release, language: str, *, preview: bool = False) -> dict:
    """The context of `templates/news/release_detail.html` for `release` in `language`.

    Public pages pass a release from `public_release()` (neighbours and the other language
    annotated). The signed preview (`news/preview.py`) passes `preview=True` with any release,
    public or not: then nothing is read from the public order (no previous/next links), the
    page is marked noindex and shows the preview banner, and the language link goes to the
    other language's preview when that version has content. The categories, authors and
    sources come with a public release; for a preview they cost one query."""
    other = other_language(language)
    paths = {
        lang: url_builder(lang, "news:detail", "pk", "slug")(pk=release.pk, slug=release.slug)
        for lang in LANGUAGES
    }
    path = paths[language]
    if preview:
        other_exists = bool(release.title(other) or release.body(other))
        if other_exists:
            from news.public.preview import preview_path

            switch = language_switch(language, preview_path(release, other))
        else:
            switch = language_switch(language, "", exists=False)
        other_url = None
        neighbours = {}
    else:
        other_exists = bool(getattr(release, "other_public", False))
        other_path = paths[other] if other_exists else ""
        switch = language_switch(language, other_path, exists=other_exists)
        other_url = absolute(other_path) if other_exists else None
        detail_url = url_builder(language, "news:detail", "pk", "slug")
        neighbours = {
            name: {
                "url": detail_url(pk=pk, slug=getattr(release, f"{name}_slug")),
                "title": getattr(release, f"{name}_title"),
            }
            for name in ("previous", "next")
            if (pk := getattr(release, f"{name}_pk", None))
        }  # fmt: skip
    related = release_relations(release)
    authors = _authors(related["authors"], language)
    sources = related["sources"]
    original = next((s for s in sources if s["kind"] == SourceKind.ORIGINAL), None)
    image = {release.pk: release.image.name}
    found = renditions(image, "image_detail", "image_social")
    detail_image = found["image_detail"].get(release.pk)
    social_image = found["image_social"].get(release.pk)
    alternates = {language: path}
    if other_url:
        alternates[other] = paths[other]
    lead = release.lead(language)
    return {
        "object": release,
        "release": release,
        "is_preview": preview,
        "title": release.title(language),
        "lead": lead,
        "body": release.body(language),
        "categories": [
            category_link(language, row["slug"], row["name_ru"], row["name_en"])
            for row in related["categories"]
        ],
        "authors": authors,
        "original_source": original,
        "related_sources": [
            {"url": s["url"], "label": s[f"label_{language}"] or s["url"]}
            for s in sources
            if s["kind"] != SourceKind.ORIGINAL
        ],
        "image": detail_image,
        "image_alt": release.image_alt(language),
        "image_caption": release.image_caption(language),
        "neighbours": neighbours,
        "switch": switch,
        "seo": seo_context(
            title=release.title(language),
            description=describe(lead or release.body(language)),
            path=path,
            language=language,
            alternates=alternates,
            noindex=preview,
            og_type="article",
            image=social_image,
            published=release.published_at,
            modified=release.updated_at,
            jsonld=None
            if preview
            else release_jsonld(
                release,
                language,
                url=absolute(path),
                other_url=other_url,
                image=social_image,
                authors=authors,
                original_url=original["url"] if original else None,
            ),
        ),
        **layout_context(language),
    }


class ReleaseDetailView(PublicReleaseMixin):
    """A release in one language. `/<lang>/news/<id>/` and stale slugs redirect (301) to the
    canonical URL; a withdrawn release answers 410 Gone; anything else not public, 404."""

    template_name = "news/release_detail.html"

    def get(self, request, *args, pk: int, slug: str | None = None, **kwargs):
        language = self.language
        release = public_release(pk, language)
        if release is None:
            return self.not_public(pk, language)
        if slug != release.slug:
            return HttpResponsePermanentRedirect(release.get_absolute_url(language))
        return TemplateResponse(request, self.template_name, detail_context(release, language))

    def not_public(self, pk: int, language: str) -> HttpResponse:
        # Gone, not missing: it was withdrawn, and this language version existed.
        withdrawn = (
            Release.objects.withdrawn().filter(pk=pk, **{f"{language}_complete": True}).exists()
        )
        if not withdrawn:
            raise Http404(_("No such release."))
        response = render(
            self.request,
            "news/release_gone.html",
            {
                **self.base_context(),
                "seo": seo_context(
                    title=_("Release withdrawn"),
                    description="",
                    path=self.request.path,
                    language=language,
                    noindex=True,
                ),
                "switch": language_switch(language, "", exists=False),
            },
            status=410,
        )
        return response


# Redirects and robots ------------------------------------------------------------------------


def root_redirect(request):
    """`/` goes to the news list in the visitor's language (Accept-Language, Russian by
    default); the answer varies with those headers and is never cached as permanent."""
    language = get_language_from_request(request, check_path=False)
    response = HttpResponseRedirect(
        url_in(language if language in LANGUAGES else settings.LANGUAGE_CODE, "news:list")
    )
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        *(f"Disallow: /{lang}/news/search/" for lang in LANGUAGES),
        *(f"Disallow: /{lang}/news/preview/" for lang in LANGUAGES),
        "",
        f"Sitemap: {absolute('/sitemap.xml')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@public_page
def legacy_redirect(request, number):
    """`/news/<n>` of the old site: 301 to the public release imported from
    `http(s)://<LEGACY_HOST>/news/<n>` (Russian version first), 404 if there is none."""
    number = str(int(number))
    host = settings.LEGACY_HOST
    addresses = [
        f"{scheme}://{host}/news/{number}{slash}"
        for scheme in ("https", "http")
        for slash in ("", "/")
    ]
    for language in LANGUAGES:
        release = (
            Release.objects.published(language)
            .filter(sources__kind=SourceKind.ORIGINAL, sources__url__in=addresses)
            .only("pk", "slug")
            .first()
        )
        if release is not None:
            return HttpResponsePermanentRedirect(release.get_absolute_url(language))
    # LocaleMiddleware answers a 404 on a path without a language prefix by redirecting to the
    # same path under /ru/; for /news/<n> that is the short URL of release id <n>, a different
    # release (and CommonMiddleware would add a slash first). A language-prefixed path that
    # resolves to nothing tells both that this 404 is final.
    request.path_info = f"/{settings.LANGUAGE_CODE}/legacy-not-found{request.path_info}"
    raise Http404(_("No such release."))
