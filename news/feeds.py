"""Feeds for subscribers: RSS 2.0, Atom 1.0 and JSON Feed 1.1, per language and per category.

Every feed lists `Release.objects.published(language)` only, newest first, at most
`settings.FEED_ITEMS` items. Absolute URLs come from `settings.SITE_URL`, never from the
request's Host header (which the client controls). An item's guid/id is a tag URI built from
the release's id and the language alone, so editing a title or a slug never makes a reader show
the release twice. A feed costs a fixed number of queries whatever the size of the archive:
the releases, their authors and their categories (plus the category itself for an empty
category feed). Feeds are served through the public page cache (`news.cache.public_page`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import mimetypes
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.feedgenerator import Enclosure, rfc3339_date
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from news.cache import public_page
from news.models import Category, Release, ReleaseAuthor

logger = logging.getLogger(__name__)

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# The date in the tag URIs (RFC 4151): a day on which SITE_URL's host belonged to the press
# service. It is part of every guid, so it must never change.
TAG_DATE = "2026"
CHANNEL_IMAGE = "feeds/channel.png"
# Lead image enclosures (URL, length, type) are described once and kept in the cache: a feed
# request reads them all in one cache round trip, never a file or a query per item.
ENCLOSURE_CACHE_SECONDS = 7 * 24 * 3600
NO_ENCLOSURE_CACHE_SECONDS = 600
# Characters XML 1.0 cannot carry; an imported text could hold one, and it must not break a feed.
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RELATIVE_HREF = re.compile(r'(\shref=")/(?!/)')


def absolute(url: str) -> str:
    """`url` under `settings.SITE_URL` unless it is absolute already (e.g. media on a CDN)."""
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + url


def xml_text(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


def site_name() -> str:
    return _("Press Service of the Executive Committee")


def release_guid(release: Release, language: str) -> str:
    """The item's permanent id: the release's id and the language, nothing an editor changes."""
    host = urlsplit(settings.SITE_URL).hostname
    return f"tag:{host},{TAG_DATE}:news/{language}/{release.pk}"


# Lead images as enclosures ----------------------------------------------------------------


def _enclosure_key(release: Release) -> str:
    digest = hashlib.blake2s(f"{release.pk}:{release.image.name}".encode(), digest_size=16)
    return f"feeds:enclosure:v1:{digest.hexdigest()}"


def describe_lead_image(release: Release) -> tuple[str, str, str] | None:
    """(absolute URL, length in bytes, MIME type) of the social rendition of the lead image
    (1200x630 WebP), else of the original; None when neither file can be read."""
    try:
        rendition = release.image_social
        return absolute(rendition.url), str(rendition.size), "image/webp"
    except (OSError, ValueError) as exc:
        logger.warning("Lead image rendition of release %s failed: %s", release.pk, exc)
    try:
        mime = mimetypes.guess_type(release.image.name)[0] or "application/octet-stream"
        return absolute(release.image.url), str(release.image.size), mime
    except (OSError, ValueError) as exc:
        logger.warning("Lead image of release %s is unreadable: %s", release.pk, exc)
        return None


def lead_image_enclosures(releases: list[Release]) -> dict[int, Enclosure]:
    """Enclosures of the releases that have a lead image, read from the cache in one round trip;
    the ones not described yet are described now and stored (keyed by the image's file name,
    so a new image is a new key)."""
    keys = {_enclosure_key(release): release for release in releases if release.image}
    if not keys:
        return {}
    found = cache.get_many(list(keys))
    described, unreadable = {}, {}
    enclosures = {}
    for key, release in keys.items():
        if key in found:
            value = found[key]
        else:
            value = describe_lead_image(release) or ""
            (described if value else unreadable)[key] = value
        if value:
            enclosures[release.pk] = Enclosure(*value)
    if described:
        cache.set_many(described, ENCLOSURE_CACHE_SECONDS)
    if unreadable:
        cache.set_many(unreadable, NO_ENCLOSURE_CACHE_SECONDS)
    return enclosures


# Feed generators: Django's RSS and Atom, extended; JSON Feed 1.1 on the same interface -----


class ReleaseRssFeed(feedgenerator.Rss201rev2Feed):
    """RSS 2.0 with the channel image, `dc:creator` per author, `dc:language` and the full
    body in `content:encoded`."""

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
        super().add_item_elements(handler, item)
        for name in item["authors"]:
            handler.addQuickElement("dc:creator", name)
        handler.addQuickElement("dc:language", item["language"])
        handler.addQuickElement("content:encoded", item["content_html"])


class ReleaseAtomFeed(feedgenerator.Atom1Feed):
    """Atom 1.0: the lead as a text summary, the body as HTML content, every author, the
    categories with their labels and the lead image as an enclosure link."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.addQuickElement("icon", self.feed["image_url"])
        handler.addQuickElement("logo", self.feed["image_url"])

    def item_attributes(self, item):
        return {"xml:lang": item["language"]}

    def add_item_elements(self, handler, item):
        handler.addQuickElement("title", item["title"])
        handler.addQuickElement("link", "", {"href": item["link"], "rel": "alternate"})
        handler.addQuickElement("id", item["unique_id"])
        handler.addQuickElement("published", rfc3339_date(item["pubdate"]))
        handler.addQuickElement("updated", rfc3339_date(item["updateddate"]))
        for name in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        handler.addQuickElement("summary", item["summary"], {"type": "text"})
        handler.addQuickElement("content", item["content_html"], {"type": "html"})
        for enclosure in item["enclosures"]:
            handler.addQuickElement(
                "link",
                "",
                {
                    "rel": "enclosure",
                    "href": enclosure.url,
                    "length": enclosure.length,
                    "type": enclosure.mime_type,
                },
            )
        for term, label, scheme in item["category_terms"]:
            handler.addQuickElement(
                "category", "", {"term": term, "label": label, "scheme": scheme}
            )


class JsonFeed(feedgenerator.SyndicationFeed):
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""

    content_type = "application/feed+json; charset=utf-8"

    def as_dict(self) -> dict:
        feed = self.feed
        return {
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
        if item["enclosures"]:
            enclosure = item["enclosures"][0]
            entry["image"] = enclosure.url
            entry["attachments"] = [
                {
                    "url": enclosure.url,
                    "mime_type": enclosure.mime_type,
                    "size_in_bytes": int(enclosure.length),
                }
            ]
        return entry

    def write(self, outfile, encoding):
        outfile.write(json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":")))


# The feeds ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FeedScope:
    """What one request's feed covers: a language, a category for a category feed, and the
    releases it lists."""

    language: str
    category: Category | None
    releases: list[Release]


def feed_releases(language: str, category_slug: str | None = None) -> list[Release]:
    """The newest public releases of `language` (in one category), at most FEED_ITEMS, with
    what a feed item shows: three queries whatever the size of the archive."""
    releases = Release.objects.published(language)
    if category_slug is not None:
        releases = releases.filter(categories__slug=category_slug)
    releases = list(
        releases.only(
            "id",
            "slug",
            "published_at",
            "updated_at",
            "image",
            f"title_{language}",
            f"lead_{language}",
            f"body_{language}",
        )
        .prefetch_related(
            Prefetch(
                "release_authors",
                queryset=ReleaseAuthor.objects.select_related("author").only(
                    "release_id", "position", "author__name_ru", "author__name_en"
                ),
                to_attr="feed_authors",
            ),
            Prefetch(
                "categories",
                queryset=Category.objects.only("id", "slug", "name_ru", "name_en"),
                to_attr="feed_categories",
            ),
        )
        .order_by("-published_at", "-id")[: settings.FEED_ITEMS]
    )
    enclosures = lead_image_enclosures(releases)
    for release in releases:
        release.feed_language = language
        release.feed_enclosure = enclosures.get(release.pk)
    return releases


class ReleaseFeed(Feed):
    """The language's newest public releases as RSS 2.0 (`news:rss`), served through the
    public page cache (per language, invalidated on every change, ETag/Last-Modified, 304)."""

    feed_type = ReleaseRssFeed
    url_name = "news:rss"

    def __init__(self):
        super().__init__()
        self.cached_view = public_page(super().__call__)

    def __call__(self, request, *args, **kwargs):
        return self.cached_view(request, *args, **kwargs)

    def get_object(self, request, slug=None) -> FeedScope:
        language = get_language()
        releases = feed_releases(language, slug)
        category = None
        if slug is not None:
            # The category comes with its releases' prefetched categories; an empty category
            # feed costs one more query (and an unknown slug is a 404).
            category = next(
                (c for r in releases[:1] for c in r.feed_categories if c.slug == slug), None
            ) or get_object_or_404(
                Category.objects.only("id", "slug", "name_ru", "name_en"), slug=slug
            )
        return FeedScope(language=language, category=category, releases=releases)

    def items(self, scope: FeedScope) -> list[Release]:
        return scope.releases

    # The channel.
    def title(self, scope: FeedScope) -> str:
        if scope.category is not None:
            return _("%(site)s: %(category)s") % {
                "site": site_name(),
                "category": scope.category.name(scope.language),
            }
        return _("%(site)s: press releases") % {"site": site_name()}

    def description(self, scope: FeedScope) -> str:
        if scope.category is not None:
            return _("Press releases in the category “%(category)s”, newest first.") % {
                "category": scope.category.name(scope.language)
            }
        return _("Press releases of the Executive Committee's press service, newest first.")

    def link(self, scope: FeedScope) -> str:
        if scope.category is not None:
            return absolute(scope.category.get_absolute_url(scope.language))
        return absolute(reverse("news:list"))

    def feed_url(self, scope: FeedScope) -> str:
        kwargs = {"slug": scope.category.slug} if scope.category is not None else {}
        return absolute(reverse(self.url_name, kwargs=kwargs))

    def author_name(self, scope: FeedScope) -> str:
        return site_name()

    def feed_extra_kwargs(self, scope: FeedScope) -> dict:
        return {"image_url": absolute(static(CHANNEL_IMAGE))}

    # The items.
    def item_title(self, release: Release) -> str:
        return xml_text(release.title(release.feed_language))

    def item_description(self, release: Release) -> str:
        return escape(xml_text(release.lead(release.feed_language)))

    def item_link(self, release: Release) -> str:
        return absolute(release.get_absolute_url(release.feed_language))

    def item_guid(self, release: Release) -> str:
        return release_guid(release, release.feed_language)

    item_guid_is_permalink = False

    def item_pubdate(self, release: Release):
        return release.published_at

    def item_updateddate(self, release: Release):
        # A scheduled release edited before its time appears (is "updated") at that time.
        return max(release.updated_at, release.published_at)

    def item_categories(self, release: Release) -> list[str]:
        return [xml_text(c.name(release.feed_language)) for c in release.feed_categories]

    def item_enclosures(self, release: Release) -> list[Enclosure]:
        return [release.feed_enclosure] if release.feed_enclosure else []

    def item_extra_kwargs(self, release: Release) -> dict:
        language = release.feed_language
        body = _RELATIVE_HREF.sub(rf"\1{settings.SITE_URL}/", release.body(language))
        return {
            "language": language,
            "summary": xml_text(release.lead(language)),
            "content_html": xml_text(body),
            "authors": [xml_text(link.author.name(language)) for link in release.feed_authors],
            "category_terms": [
                (c.slug, xml_text(c.name(language)), absolute(c.get_absolute_url(language)))
                for c in release.feed_categories
            ],
        }


RssFeed = ReleaseFeed


class AtomFeed(ReleaseFeed):
    """The language's newest public releases as Atom 1.0 (`news:atom`)."""

    feed_type = ReleaseAtomFeed
    url_name = "news:atom"


class CategoryRssFeed(ReleaseFeed):
    """One category's newest public releases as RSS 2.0 (`news:category_rss`)."""

    url_name = "news:category_rss"


class CategoryAtomFeed(ReleaseFeed):
    """One category's newest public releases as Atom 1.0 (`news:category_atom`)."""

    feed_type = ReleaseAtomFeed
    url_name = "news:category_atom"


class JsonFeedView(ReleaseFeed):
    """The language's newest public releases as JSON Feed 1.1 (`news:json_feed`)."""

    feed_type = JsonFeed
    url_name = "news:json_feed"


json_feed = JsonFeedView()
