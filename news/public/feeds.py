"""Feeds for subscribers on `django.contrib.syndication`: RSS 2.0, Atom 1.0 and JSON Feed 1.1,
per language (the URL's) and per category.

Every feed lists `Release.objects.published(language)` only (`selectors.feed_releases`),
newest first, at most `settings.FEED_ITEMS` items. Absolute URLs come from `settings.SITE_URL`
(`site.absolute`), never from the request's Host header (which the client controls). An item's
guid/id is a tag URI built from the release's id and the language alone, so editing a title or
a slug never makes a reader show the release twice. Feeds are served through the public page
cache (`news.cache.public_page`).

The feed generators below are Django's, extended with what a press release carries: every
signature (`dc:creator` / `<author>`), the full text (`content:encoded` / `<content>`), the
lead as a plain-text Atom summary, labelled Atom categories and the channel image.
"""

from __future__ import annotations

import io
import json
import re
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.feedgenerator import Enclosure, rfc3339_date
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from news.attachments import public as attachments
from news.cache import public_page
from news.cache.fragments import fragments
from news.models import Category, Release
from news.public import selectors
from news.public.renditions import renditions
from news.public.site import SITE_NAME, absolute

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# The date in the tag URIs (RFC 4151): a day on which SITE_URL's host belonged to the press
# service. It is part of every guid, so it must never change.
TAG_DATE = "2026"
CHANNEL_IMAGE = "feeds/channel.png"
# Characters XML 1.0 cannot carry; an imported text could hold one, and it must not break a feed.
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RELATIVE_HREF = re.compile(r'(\shref=")/(?!/)')


def xml_text(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


def release_guid(release: Release, language: str) -> str:
    """The item's permanent id: the release's id and the language, nothing an editor changes."""
    host = urlsplit(settings.SITE_URL).hostname
    return f"tag:{host},{TAG_DATE}:news/{language}/{release.pk}"


def release_enclosures(release: Release) -> list[Enclosure]:
    """The files a feed item carries: the lead image's 1200x630 WebP rendition, then the
    release's documents in their order (`feed_parts`). RSS allows one enclosure per item and
    takes the first; Atom and JSON Feed carry them all. Every format also lists the documents
    as links after the text (`attachments.documents_html`)."""
    image = release.feed_parts["image"]
    lead = [Enclosure(image.absolute_url, str(image.size), "image/webp")] if image else []
    return lead + release.feed_parts["documents"]


def feed_parts(releases: list[Release], *, language: str) -> list[dict]:
    """What each release's feed item shows: its texts in `language` (ready for XML), its
    absolute URL, its signatures' names in signing order, its categories as (slug, name,
    absolute URL), its lead image's 1200x630 rendition (None without one) and its documents
    as enclosures. Given releases read with `only()` (the feed's query reads the fragments'
    keys): four queries and one cache round trip for any number of releases."""
    releases = selectors.whole(releases)
    prefetch_related_objects(releases, "categories", "documents", selectors.signatures())
    images = renditions({r.pk: r.image.name for r in releases}, "image_social")["image_social"]
    terms = {}  # each category's URL reversed once
    for category in {c.pk: c for r in releases for c in r.categories.all()}.values():
        url = absolute(category.get_absolute_url(language))
        terms[category.pk] = (category.slug, xml_text(category.name(language)), url)
    site = absolute("/")
    return [
        {
            "title": xml_text(release.title(language)),
            "summary": xml_text(release.lead(language)),
            "content_html": xml_text(
                _RELATIVE_HREF.sub(rf"\1{site}", release.body(language))
                + attachments.documents_html(release, language)
            ),
            "link": absolute(release.get_absolute_url(language)),
            "authors": [xml_text(s.author.name(language)) for s in release.release_authors.all()],
            "category_terms": [terms[c.pk] for c in release.categories.all()],
            "image": images.get(release.pk),
            "documents": [
                Enclosure(e["url"], e["length"], e["mime_type"])
                for e in attachments.enclosures(release, language)
            ],
        }
        for release in releases
    ]


# Feed generators ---------------------------------------------------------------------------


class WrittenAtOnce:
    """The document is built in memory and handed to the response in one write (Django's
    generators write each element to the response: thousands of small writes)."""

    def write(self, outfile, encoding):
        buffer = io.StringIO()
        super().write(buffer, encoding)
        outfile.write(buffer.getvalue())


class ReleaseRssFeed(WrittenAtOnce, feedgenerator.Rss201rev2Feed):
    """RSS 2.0 with the channel image, `dc:creator` per author, `dc:language` and the full
    text in `content:encoded`."""

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:content": CONTENT_NS, "xmlns:dc": DC_NS}

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.startElement("image", {})
        handler.addQuickElement("url", self.feed["image_url"])
        handler.addQuickElement("title", self.feed["title"])
        handler.addQuickElement("link", self.feed["link"])
        handler.endElement("image")

    def add_item_elements(self, handler, item):
        # RSS allows one enclosure per item: the first (the lead image).
        super().add_item_elements(handler, {**item, "enclosures": item["enclosures"][:1]})
        for name in item["authors"]:
            handler.addQuickElement("dc:creator", name)
        handler.addQuickElement("dc:language", item["language"])
        handler.addQuickElement("content:encoded", item["content_html"])


class ReleaseAtomFeed(WrittenAtOnce, feedgenerator.Atom1Feed):
    """Atom 1.0: the lead as a plain-text summary, the text as HTML content, every author,
    the categories with their labels and the channel icon."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.addQuickElement("icon", self.feed["image_url"])
        handler.addQuickElement("logo", self.feed["image_url"])

    def add_item_elements(self, handler, item):
        # Django writes the summary as HTML and categories without labels: ours follow.
        super().add_item_elements(handler, {**item, "description": None, "categories": ()})
        for name in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        handler.addQuickElement("summary", item["summary"], {"type": "text"})
        handler.addQuickElement("content", item["content_html"], {"type": "html"})
        for term, label, scheme in item["category_terms"]:
            handler.addQuickElement(
                "category", "", {"term": term, "label": label, "scheme": scheme}
            )


class JsonFeed(feedgenerator.SyndicationFeed):
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) from the same items."""

    content_type = "application/feed+json; charset=utf-8"

    def write(self, outfile, encoding):
        feed = self.feed
        document = {
            "version": JSON_FEED_VERSION,
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": feed["feed_url"],
            "description": feed["description"],
            "language": feed["language"],
            "icon": feed["image_url"],
            "favicon": feed["image_url"],
            "authors": [{"name": feed["author_name"]}],
            "items": [self.item_dict(item) for item in self.items],
        }
        outfile.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")))

    @staticmethod
    def item_dict(item: dict) -> dict:
        entry = {
            "id": item["unique_id"],
            "url": item["link"],
            "title": item["title"],
            "summary": item["summary"],
            "content_html": item["content_html"],
            "date_published": rfc3339_date(item["pubdate"]),
            "date_modified": rfc3339_date(item["updateddate"]),
            "authors": [{"name": name} for name in item["authors"]],
            "tags": list(item["categories"]),
            "language": item["language"],
        }
        if item["image"]:
            entry["image"] = item["image"]
        if item["enclosures"]:
            entry["attachments"] = [
                {"url": e.url, "mime_type": e.mime_type, "size_in_bytes": int(e.length)}
                for e in item["enclosures"]
            ]
        return entry


# The feeds ---------------------------------------------------------------------------------


class ReleaseFeed(Feed):
    """The newest public releases of the URL's language (of one category when the URL names
    it), as RSS 2.0. Served through the public page cache (per language, invalidated on every
    change, ETag/Last-Modified, 304)."""

    feed_type = ReleaseRssFeed
    url_name = "news:rss"

    def __init__(self):
        super().__init__()
        self.cached_view = public_page(super().__call__)

    def __call__(self, request, *args, **kwargs):
        return self.cached_view(request, *args, **kwargs)

    def get_object(self, request, slug: str | None = None) -> Category | None:
        return get_object_or_404(Category, slug=slug) if slug is not None else None

    def items(self, category: Category | None) -> list[Release]:
        """The releases, each with what its item shows (`feed_parts`), kept as fragments by
        release version: a feed rebuilt after a publication reads the new release only."""
        language = get_language()
        releases = selectors.feed_releases(language, category)
        parts = fragments("feed-item", releases, language, partial(feed_parts, language=language))
        for release, release_parts in zip(releases, parts, strict=True):
            release.feed_parts = release_parts
        return releases

    # The channel.
    def title(self, category: Category | None) -> str:
        if category is not None:
            return _("%(site)s: %(category)s") % {
                "site": SITE_NAME,
                "category": category.name(get_language()),
            }
        return _("%(site)s: press releases") % {"site": SITE_NAME}

    def description(self, category: Category | None) -> str:
        if category is not None:
            return _("Press releases in the category “%(category)s”, newest first.") % {
                "category": category.name(get_language())
            }
        return _("Press releases of the CIS Executive Committee's press service, newest first.")

    def link(self, category: Category | None) -> str:
        if category is not None:
            return absolute(category.get_absolute_url(get_language()))
        return absolute(reverse("news:list"))

    def feed_url(self, category: Category | None) -> str:
        kwargs = {"slug": category.slug} if category is not None else {}
        return absolute(reverse(self.url_name, kwargs=kwargs))

    author_name = SITE_NAME

    def feed_extra_kwargs(self, category: Category | None) -> dict:
        return {"image_url": absolute(static(CHANNEL_IMAGE))}

    # The items.
    def item_title(self, release: Release) -> str:
        return release.feed_parts["title"]

    def item_description(self, release: Release) -> str:
        return escape(release.feed_parts["summary"])

    def item_link(self, release: Release) -> str:
        return release.feed_parts["link"]

    def item_guid(self, release: Release) -> str:
        return release_guid(release, get_language())

    item_guid_is_permalink = False
    # Hooks the items do not use, set so that the framework does not look them up in vain
    # for every item (the signatures are `authors`, in item_extra_kwargs).
    item_author_name = item_comments = item_copyright = None

    def item_pubdate(self, release: Release):
        return release.published_at

    def item_updateddate(self, release: Release):
        # Only published major changes move it; a scheduled release appears at its time.
        return max(release.public_modified_at, release.published_at)

    def item_categories(self, release: Release) -> list[str]:
        return [name for _slug, name, _url in release.feed_parts["category_terms"]]

    def item_enclosures(self, release: Release) -> list[Enclosure]:
        return release_enclosures(release)

    def item_extra_kwargs(self, release: Release) -> dict:
        return {
            "language": get_language(),
            "summary": release.feed_parts["summary"],
            "content_html": release.feed_parts["content_html"],
            "authors": release.feed_parts["authors"],
            "category_terms": release.feed_parts["category_terms"],
            "image": image.absolute_url if (image := release.feed_parts["image"]) else None,
        }


class AtomFeed(ReleaseFeed):
    """The language's newest public releases as Atom 1.0 (`news:atom`)."""

    feed_type = ReleaseAtomFeed
    url_name = "news:atom"


class CategoryRssFeed(ReleaseFeed):
    """One category's newest public releases as RSS 2.0 (`news:category_rss`)."""

    url_name = "news:category_rss"


class CategoryAtomFeed(AtomFeed):
    """One category's newest public releases as Atom 1.0 (`news:category_atom`)."""

    url_name = "news:category_atom"


class JsonFeedView(ReleaseFeed):
    """The language's newest public releases as JSON Feed 1.1 (`news:json_feed`)."""

    feed_type = JsonFeed
    url_name = "news:json_feed"
