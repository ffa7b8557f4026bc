"""The public site: news list, release pages, date archives, categories, search, redirects.

Django's generic views, in the manner of djangoproject.com's blog: the list and the date
archives are `ArchiveIndexView`, `YearArchiveView` and `MonthArchiveView`, a category is a
`ListView`, a release a `DetailView`, all with `PublicReleaseMixin`, which supplies the one
public rule (`Release.objects.published(language)` for the language of the URL) and what every
page shows around its releases. Lists read one row more than a page instead of counting
(`LookaheadPaginator`). Pages are marked for the public page cache (`news.cache`), and each
release card and release article is a fragment kept by the release's version
(`news.cache.fragments`), so a page rebuilt after a publication is mostly read from the cache.
"""

from __future__ import annotations

import datetime
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_from_request, override
from django.utils.translation import gettext as _
from django.views.generic import (
    ArchiveIndexView,
    DetailView,
    ListView,
    MonthArchiveView,
    YearArchiveView,
)

from news.attachments.public import article_attachments, associated_media
from news.cache.fragments import KEY_FIELDS, fragments
from news.cache.pages import public_page
from news.models import LANGUAGES, Category, Release, SourceKind, Status, is_fallback
from news.public import search as release_search
from news.public import selectors
from news.public.renditions import renditions
from news.public.seo import (
    describe,
    language_switch,
    publisher_jsonld,
    release_jsonld,
    seo_context,
    url_in,
)
from news.public.site import (
    BODY_NAME,
    BODY_SHORT_NAME,
    SITE_DESCRIPTION,
    SITE_NAME,
    absolute,
    other_language,
)
from news.templatetags.public import month_name

PER_PAGE = 20
MAX_PAGE = 2000


def current_language() -> str:
    language = get_language()
    return language if language in LANGUAGES else settings.LANGUAGE_CODE


# Pagination without COUNT(*) ------------------------------------------------------------------


class LookaheadPage(Page):
    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


class LookaheadPaginator(Paginator):
    """Reads a page with one row more than the page instead of a COUNT(*): that row tells
    whether a next page exists. Page numbers are ASCII digits from 1 to MAX_PAGE; a page past
    the end is empty (404), except an empty first page where `allow_empty_first_page`."""

    def validate_number(self, number) -> int:
        text = str(number)
        if not (text.isascii() and text.isdigit()):
            raise PageNotAnInteger(_("That page number is not an integer"))
        number = int(text)
        if not 1 <= number <= MAX_PAGE:
            raise EmptyPage(_("That page contains no results"))
        return number

    def page(self, number) -> LookaheadPage:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        rows = list(self.object_list[start : start + self.per_page + 1])
        if not rows and (number > 1 or not self.allow_empty_first_page):
            raise EmptyPage(_("That page contains no results"))
        return LookaheadPage(
            rows[: self.per_page], number, self, has_next=len(rows) > self.per_page
        )


def page_link(request, number: int) -> str:
    """The URL of page `number` of the list `request` shows (its other parameters kept)."""
    params = request.GET.copy()
    params.pop("page", None)
    if number > 1:
        params["page"] = str(number)
    return request.path + ("?" + params.urlencode() if params else "")


# What every page shows -----------------------------------------------------------------------


def layout_context(language: str) -> dict:
    """What the layout of every public page (`jinja2/base.html`) shows: the body's names, the
    navigation and its links."""
    with override(language):
        links = {
            name: reverse(f"news:{name}") for name in ("list", "search", "rss", "atom", "json_feed")
        }
    return {
        "language": language,
        "navigation": selectors.site_navigation(language),
        "site_name": SITE_NAME,
        "body_name": BODY_NAME,
        "body_short_name": BODY_SHORT_NAME,
        "links": {
            **links,
            "emblem": static("news/emblem.svg"),
            "stylesheet": static("news/site.css"),
        },
    }


def category_link(category: Category, language: str) -> dict:
    return {
        "name": category.name(language),
        "url": category.get_absolute_url(language),
        "fallback": is_fallback(category.name_en, language),
    }


def card(release: Release, language: str, thumbnail=None, **found) -> dict:
    """What a list shows of a release: title, link, date, lead, categories, thumbnail (and
    for a search hit, `title_html` and `snippet`)."""
    return {
        "title": release.title(language),
        "url": release.get_absolute_url(language),
        "date": release.published_at,
        "lead": release.lead(language),
        "categories": [category_link(c, language) for c in release.categories.all()],
        "thumbnail": thumbnail,
        "image_alt": release.image_alt(language),
        **found,
    }


def cards_data(releases: list[Release], language: str) -> list[dict]:
    """`card()` of each of `releases` (their categories read in one query, their thumbnails
    in one cache round trip)."""
    releases = selectors.read_categories(releases)
    thumbnails = renditions({r.pk: r.image.name for r in releases}, "image_list")["image_list"]
    return [card(release, language, thumbnails.get(release.pk)) for release in releases]


def render_card(data: dict, language: str) -> str:
    return render_to_string("includes/release_card.html", {"card": data, "language": language})


def release_cards(releases: list[Release], language: str) -> list[str]:
    """The cards of `releases`, from the fragment cache where it has them."""

    def render_missing(missing: list[Release]) -> list[str]:
        return [render_card(d, language) for d in cards_data(selectors.whole(missing), language)]

    return [mark_safe(html) for html in fragments("card", releases, language, render_missing)]


# The pages -----------------------------------------------------------------------------------


class PublicReleaseMixin:
    """The public releases of the URL's language, newest first, paginated without counting,
    with the layout, the SEO head and the language switch of every public page."""

    model = Release
    date_field = "published_at"
    paginate_by = PER_PAGE
    paginator_class = LookaheadPaginator
    http_method_names = ["get", "head"]

    @method_decorator(public_page)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    @property
    def language(self) -> str:
        return current_language()

    def get_queryset(self):
        # A list shows release cards, kept as fragments: it reads their keys and dates (from
        # the index alone on PostgreSQL), and the rows of the cards it has to render.
        return selectors.public_releases(self.language).only(*KEY_FIELDS, self.date_field)

    def paginate_queryset(self, queryset, page_size):
        # ASCII digits only, before Django reads the number: int() takes "１" and "٣", and
        # ListView takes "last" (which would need a COUNT).
        number = self.kwargs.get(self.page_kwarg) or self.request.GET.get(self.page_kwarg) or "1"
        if not (number.isascii() and number.isdigit()):
            raise Http404(_("That page number is not an integer"))
        return super().paginate_queryset(queryset, page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(layout_context(self.language))
        page = context.get("page_obj")
        if page is not None:
            context["cards"] = self.cards(page.object_list)
            context["page"] = {
                "number": page.number,
                "is_paginated": page.has_other_pages(),
                "previous_url": page_link(self.request, page.number - 1)
                if page.has_previous()
                else "",
                "next_url": page_link(self.request, page.number + 1) if page.has_next() else "",
            }
        context["seo"] = self.seo(context)
        context["switch"] = self.switch()
        return context

    def cards(self, releases: list[Release]) -> list[str]:
        return release_cards(releases, self.language)

    def seo(self, context: dict) -> dict:
        """The head of a list page: `seo_head()` for page 1, adjusted for the pages after it."""
        seo = self.seo_head()
        page = context.get("page_obj")
        if page is not None and page.number > 1:
            # Page n of one language is not a translation of page n of the other.
            seo.update(alternates=[], x_default="", og_locale_alternates=[])
            seo["canonical"] += f"?page={page.number}"
            seo["title"] = _("%(title)s, page %(number)s") % {
                "title": seo["title"],
                "number": page.number,
            }
        if page is not None and not page.object_list:
            seo["robots"] = "noindex"
        return seo

    def seo_head(self) -> dict:
        raise NotImplementedError

    def switch(self) -> dict:
        """The other language: the same list there (overridden where it may not exist)."""
        other = other_language(self.language)
        return language_switch(
            self.language, url_in(other, self.request.resolver_match.view_name, **self.kwargs)
        )


class ReleaseListView(PublicReleaseMixin, ArchiveIndexView):
    """The news: every public release of the language, newest first."""

    template_name = "news/release_list.html"
    allow_empty = True

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        # The archive's years are the sidebar's, read once per cache generation.
        return [year for year, _url in selectors.site_navigation(self.language)["years"]]

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=_("News"), is_news_list=True, **kwargs)

    def seo_head(self) -> dict:
        language = self.language
        path = url_in(language, "news:list")
        return seo_context(
            title=_("News"),
            description=str(SITE_DESCRIPTION),
            path=path,
            language=language,
            alternates={lang: url_in(lang, "news:list") for lang in LANGUAGES},
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
        )


class ReleaseArchiveView(PublicReleaseMixin, ArchiveIndexView):
    """The archive: every month that has public releases, by year, newest first."""

    template_name = "news/release_archive.html"
    date_list_period = "month"
    paginate_by = None
    allow_empty = True

    def get_context_data(self, **kwargs):
        years: dict[int, list] = {}
        for month in kwargs.get("date_list") or []:
            years.setdefault(month.year, []).append(month)
        kwargs.update(heading=_("News archive"), archive_years=list(years.items()))
        return super().get_context_data(**kwargs)

    def seo_head(self) -> dict:
        return seo_context(
            title=_("News archive"),
            description=_("Press releases by year and month."),
            path=self.request.path,
            language=self.language,
            alternates={lang: url_in(lang, "news:archive") for lang in LANGUAGES},
        )


def period_switch(view: PublicReleaseMixin, start: datetime.date, end: datetime.date) -> dict:
    """The language switch of a date archive: the same year or month in the other language
    when it has public releases then (one query), else the other language's news list."""
    other = other_language(view.language)
    if selectors.public_between(other, start, end):
        return PublicReleaseMixin.switch(view)  # the same page there
    return language_switch(view.language, url_in(other, "news:list"), exists=False)


class ReleaseYearArchiveView(PublicReleaseMixin, YearArchiveView):
    """The public releases of one year, with links to its months; 404 for an empty year."""

    template_name = "news/release_archive_year.html"
    make_object_list = True
    allow_empty = False

    def get_context_data(self, **kwargs):
        year = int(self.get_year())
        kwargs.update(
            heading=_("News archive: %(year)s") % {"year": year},
            year=year,
            months=kwargs.get("date_list", []),
        )
        return super().get_context_data(**kwargs)

    def seo_head(self) -> dict:
        year = self.get_year()
        return seo_context(
            title=_("News archive: %(year)s") % {"year": year},
            description=_("Press releases of %(year)s.") % {"year": year},
            path=self.request.path,
            language=self.language,
        )

    def switch(self) -> dict:
        year = int(self.get_year())
        return period_switch(self, datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))


class ReleaseMonthArchiveView(PublicReleaseMixin, MonthArchiveView):
    """The public releases of one month; 404 for an empty month."""

    template_name = "news/release_archive_month.html"
    month_format = "%m"
    allow_empty = False

    def month_name(self) -> str:
        """The month inside a sentence: "сентябрь 2026" (Russian writes it in lower case
        there; the archive's links, standing alone, say "Сентябрь 2026"), "September 2026"."""
        month = datetime.date(int(self.get_year()), int(self.get_month()), 1)
        name = month_name(month, self.language)
        return name[:1].lower() + name[1:] if self.language == "ru" else name

    def get_context_data(self, **kwargs):
        heading = _("News archive: %(month)s") % {"month": self.month_name()}
        return super().get_context_data(heading=heading, year=int(self.get_year()), **kwargs)

    def seo_head(self) -> dict:
        return seo_context(
            title=_("News archive: %(month)s") % {"month": self.month_name()},
            description=_("Press releases of %(month)s.") % {"month": self.month_name()},
            path=self.request.path,
            language=self.language,
        )

    def switch(self) -> dict:
        start = datetime.date(int(self.get_year()), int(self.get_month()), 1)
        return period_switch(self, start, (start + datetime.timedelta(days=31)).replace(day=1))


class CategoryReleaseListView(PublicReleaseMixin, ListView):
    """The public releases of one category; 404 for an unknown category."""

    template_name = "news/release_list_category.html"

    def get(self, request, *args, **kwargs):
        self.category = get_object_or_404(Category, slug=kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().filter(categories=self.category)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.category.name(self.language),
            category=self.category,
            category_fallback=is_fallback(self.category.name_en, self.language),
            **kwargs,
        )

    def seo_head(self) -> dict:
        language, category = self.language, self.category
        name = category.name(language)
        alternates = {lang: category.get_absolute_url(lang) for lang in LANGUAGES}
        return seo_context(
            title=name,
            description=_("Press releases in the category “%(name)s”.") % {"name": name},
            path=alternates[language],
            language=language,
            alternates=alternates,
        )


class SearchView(PublicReleaseMixin, ListView):
    """Search among the public releases of the URL's language (`news.public.search`)."""

    template_name = "news/release_search.html"

    def get(self, request, *args, **kwargs):
        self.raw_query = request.GET.get("q", "")
        self.query = release_search.parse(self.raw_query)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return release_search.search(self.query, self.language)

    def cards(self, releases: list[Release]) -> list[str]:
        # A hit's card shows the words found: it depends on the query, so it is rendered each
        # time, from what a card shows besides them, kept by release version.
        language = self.language
        release_search.highlight(releases, self.query, language)
        data = fragments("card-data", releases, language, partial(cards_data, language=language))
        found = [{"title_html": hit.title_html, "snippet": hit.snippet} for hit in releases]
        return [
            mark_safe(render_card({**d, **f}, language)) for d, f in zip(data, found, strict=True)
        ]

    def get_context_data(self, **kwargs):
        query = self.query
        context = super().get_context_data(
            heading=_("Search"),
            query=query,
            raw_query=self.raw_query[: release_search.MAX_QUERY_LENGTH],
            truncated=bool(query) and len(" ".join(self.raw_query.split())) > len(query.text),
            **kwargs,
        )
        found, more = release_search.found(context["page_obj"].object_list)
        context.update(found=found, more=more)
        return context

    def seo_head(self) -> dict:
        query = self.query
        return seo_context(
            title=_("Search: %(query)s") % {"query": query.text} if query else _("Search"),
            description=str(SITE_DESCRIPTION),
            path=self.request.path,
            language=self.language,
            noindex=True,
        )

    def switch(self) -> dict:
        path = url_in(other_language(self.language), "news:search")
        if self.query:
            path += "?" + urlencode({"q": self.query.text})
        return language_switch(self.language, path)


# A release -------------------------------------------------------------------------------------


def signatures(release: Release, language: str) -> list[dict]:
    """The release's authors in signing order, as its page and its JSON-LD name them."""
    return [
        {
            "name": link.author.name(language),
            "position": link.author.position(language),
            "lang": "ru" if is_fallback(link.author.name_en, language) else language,
            "type": "Person" if link.author.is_person else "Organization",
        }
        for link in release.release_authors.all()
    ]


def release_parts(
    release: Release,
    language: str,
    *,
    preview: bool = False,
    access: dict[str, str] | None = None,
) -> dict:
    """The two parts of a release page that only the release decides, rendered: its <head>
    (SEO, Open Graph, JSON-LD) and its article (text, image, signatures, sources,
    categories). A preview's attachment links carry `access` (`article_attachments`), by
    default a preview link of the release."""
    other = other_language(language)
    path = release.get_absolute_url(language)
    other_public = not preview and release.is_on_record(other)
    withdrawn = release.status == Status.WITHDRAWN
    alternates = {language: path}
    if other_public:
        alternates[other] = release.get_absolute_url(other)
    if preview and access is None:  # the files of a release not public yet need a token
        from news.public.preview import make_token  # it renders with this module

        access = {"preview": make_token(release)}
    found = renditions({release.pk: release.image.name}, "image_detail", "image_social")
    social_image = found["image_social"].get(release.pk)
    authors = signatures(release, language)
    sources = list(release.sources.all())
    original = next((s for s in sources if s.kind == SourceKind.ORIGINAL), None)
    lead, body = release.lead(language), release.body(language)
    record = selectors.release_updates(release, language)
    seo = seo_context(
        title=release.title(language),
        description=describe(lead or body),
        path=path,
        language=language,
        alternates=alternates,
        noindex=preview or withdrawn,
        og_type="article",
        image=social_image,
        published=release.published_at,
        modified=release.public_modified_at,
        jsonld=None
        if preview
        else release_jsonld(
            release,
            language,
            url=absolute(path),
            other_url=absolute(alternates[other]) if other_public else None,
            image=social_image,
            authors=authors,
            original_url=original.url if original else None,
            corrections=record["corrections"],
            media=associated_media(release, language),
        ),
    )
    article = {
        "release": release,
        "title": release.title(language),
        "lead": "" if release.repeats_lead(language) else lead,
        "body": body,
        "authors": authors,
        "original_source": original,
        "related_sources": [
            {"url": s.url, "label": getattr(s, f"label_{language}") or s.url}
            for s in sources
            if s.kind != SourceKind.ORIGINAL
        ],
        "categories": [category_link(c, language) for c in release.categories.all()],
        "image": found["image_detail"].get(release.pk),
        "image_alt": release.image_alt(language),
        "image_caption": release.image_caption(language),
        "language": language,
        **record,
        **article_attachments(release, language, access=access),
    }
    return {
        "head": render_to_string("includes/seo_head.html", {"seo": seo, "site_name": SITE_NAME}),
        "article": render_to_string("includes/release_article.html", article),
        "title": seo["title"],
        "canonical": seo["canonical"],
    }


def detail_context(
    release: Release,
    language: str,
    *,
    preview: bool = False,
    access: dict[str, str] | None = None,
) -> dict:
    """The context of `news/release_detail.html` for `release` in `language`.

    The public page passes a public release: its parts come from the fragment cache, its
    neighbours from the public order. The signed preview (`news.public.preview`) passes
    `preview=True` with any release: its parts are rendered afresh, nothing is read from the
    public order, and the language link goes to the other language's preview when that
    version has content; `access` is what opens its files (`release_parts`)."""
    other = other_language(language)
    if preview:
        parts = release_parts(
            selectors.read_relations([release])[0], language, preview=True, access=access
        )
        if release.title(other) or release.body(other):
            from news.public.preview import preview_path  # it renders with this module

            switch = language_switch(language, preview_path(release, other))
        else:
            switch = language_switch(language, "", exists=False)
        neighbours = {}
    else:

        def render_missing(missing: list[Release]) -> list[dict]:
            return [release_parts(r, language) for r in selectors.read_relations(missing)]

        (parts,) = fragments("release", [release], language, render_missing)
        other_public = release.is_on_record(other)
        switch = language_switch(
            language,
            release.get_absolute_url(other) if other_public else "",
            exists=other_public,
        )
        neighbours = selectors.neighbours(release, language)
    return {
        "release": release,
        "is_preview": preview,
        "parts": parts,
        "neighbours": neighbours,
        "switch": switch,
        "seo": {"title": parts["title"], "canonical": parts["canonical"]},
        **layout_context(language),
    }


@method_decorator(public_page, name="dispatch")
class ReleaseDetailView(DetailView):
    """A release in one language. `/<lang>/news/<id>/` and stale slugs redirect (301) to the
    canonical URL; a withdrawn release keeps its page with a withdrawal notice; an unpublished
    one answers 410 Gone with its reason, or 301 to its replacement; anything else, 404."""

    template_name = "news/release_detail.html"
    http_method_names = ["get", "head"]

    def get(self, request, *args, pk: int, slug: str | None = None, **kwargs):
        language = current_language()
        release = selectors.release_on_record(pk, language)
        if release is None:
            return self.gone(pk, language)
        if slug != release.slug:
            return HttpResponsePermanentRedirect(release.get_absolute_url(language))
        self.object = release
        return self.render_to_response(detail_context(release, language))

    def gone(self, pk: int, language: str):
        # Gone, not missing: it was unpublished, and this language version had been public.
        release = selectors.unpublished_release(pk, language)
        if release is None:
            raise Http404(_("No such release."))
        target = selectors.replacement_url(release, language)
        if target:
            return HttpResponsePermanentRedirect(target)
        return render(
            self.request,
            "news/release_gone.html",
            {
                **layout_context(language),
                "language": language,
                "unpublished_at": release.withdrawn_at,
                "reason": release.withdrawal_reason,
                "seo": seo_context(
                    title=_("Release removed"),
                    description="",
                    path=self.request.path,
                    language=language,
                    noindex=True,
                ),
                "switch": language_switch(language, "", exists=False),
            },
            status=410,
        )


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
