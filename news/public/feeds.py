"""Feeds for subscribers: RSS 2.0, Atom 1.0 and JSON Feed 1.1, per language and per category.

Every feed lists `Release.objects.published(language)` only, newest first, at most
`settings.FEED_ITEMS` items. Absolute URLs come from `settings.SITE_URL`, never from the
request's Host header (which the client controls). An item's guid/id is a tag URI built from
the release's id and the language alone, so editing a title or a slug never makes a reader show
the release twice. A feed costs a fixed number of queries whatever the size of the archive:
one for the releases with their authors and categories (plus the category itself for an
empty category feed). Feeds are served through the public page cache (`news.cache.public_page`).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import logging
import mimetypes
import re
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as escape_xml
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.feedgenerator import Enclosure, rfc2822_date, rfc3339_date
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from news import relations
from news.cache import public_page
from news.models import Category, Release
from news.prepared import PreparedQuery

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
    return _("Press Service of the CIS Executive Committee")


def release_guid(release: Release | FeedEntry, language: str) -> str:
    """The item's permanent id: the release's id and the language, nothing an editor changes."""
    host = urlsplit(settings.SITE_URL).hostname
    return f"tag:{host},{TAG_DATE}:news/{language}/{release.pk}"


# Lead images as enclosures ----------------------------------------------------------------


def _enclosure_key(entry: FeedEntry) -> str:
    digest = hashlib.blake2s(f"{entry.pk}:{entry.image}".encode(), digest_size=16)
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


def lead_image_enclosures(entries: list[FeedEntry]) -> dict[int, Enclosure]:
    """Enclosures of the entries that have a lead image, read from the cache in one round trip;
    the ones not described yet are described now and stored (keyed by the image's file name,
    so a new image is a new key)."""
    keys = {_enclosure_key(entry): entry for entry in entries if entry.image}
    if not keys:
        return {}
    found = cache.get_many(list(keys))
    described, unreadable = {}, {}
    enclosures = {}
    for key, entry in keys.items():
        if key in found:
            value = found[key]
        else:
            value = describe_lead_image(Release(pk=entry.pk, image=entry.image)) or ""
            (described if value else unreadable)[key] = value
        if value:
            enclosures[entry.pk] = Enclosure(*value)
    if described:
        cache.set_many(described, ENCLOSURE_CACHE_SECONDS)
    if unreadable:
        cache.set_many(unreadable, NO_ENCLOSURE_CACHE_SECONDS)
    return enclosures


# Feed generators: Django's RSS and Atom, extended; JSON Feed 1.1 on the same interface -----


def _text(name: str, text: str, attrs: str = "") -> str:
    return f"<{name}{attrs}>{escape_xml(text)}</{name}>"


def _empty(name: str, **attrs: str) -> str:
    return f"<{name}{''.join(f' {key}={quoteattr(value)}' for key, value in attrs.items())}/>"


class FastItems:
    """Django's generators write the document and the channel; the items, which are most of
    a feed, are serialised here in one pass and handed to the XML writer as one piece
    (`XMLGenerator.ignorableWhitespace` writes its content verbatim, after closing any
    pending tag). Django's element-by-element writer costs about 5 ms for 50 items, this
    about 1 ms; every text goes through `escape_xml` and every attribute through `quoteattr`
    (control characters were stripped by `xml_text`). The whole document is built in memory
    and handed to the response in one write."""

    def write(self, outfile, encoding):
        buffer = io.StringIO()
        super().write(buffer, encoding)
        outfile.write(buffer.getvalue())

    def write_items(self, handler):
        handler.ignorableWhitespace("".join(map(self.item_xml, self.items)))

    def item_xml(self, item: dict) -> str:
        raise NotImplementedError


class ReleaseRssFeed(FastItems, feedgenerator.Rss201rev2Feed):
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

    def item_xml(self, item: dict) -> str:
        parts = [
            "<item>",
            _text("title", item["title"]),
            _text("link", item["link"]),
            _text("description", item["description"]),
            _text("pubDate", rfc2822_date(item["pubdate"])),
            _text("guid", item["unique_id"], ' isPermaLink="false"'),
        ]
        for enclosure in item["enclosures"][:1]:  # RSS allows one
            parts.append(
                _empty(
                    "enclosure",
                    url=enclosure.url,
                    length=enclosure.length,
                    type=enclosure.mime_type,
                )
            )
        parts.extend(_text("category", name) for name in item["categories"])
        parts.extend(_text("dc:creator", name) for name in item["authors"])
        parts.append(_text("dc:language", item["language"]))
        parts.append(_text("content:encoded", item["content_html"]))
        parts.append("</item>")
        return "".join(parts)


class ReleaseAtomFeed(FastItems, feedgenerator.Atom1Feed):
    """Atom 1.0: the lead as a text summary, the body as HTML content, every author, the
    categories with their labels and the lead image as an enclosure link."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.addQuickElement("icon", self.feed["image_url"])
        handler.addQuickElement("logo", self.feed["image_url"])

    def item_xml(self, item: dict) -> str:
        parts = [
            f"<entry xml:lang={quoteattr(item['language'])}>",
            _text("title", item["title"]),
            _empty("link", href=item["link"], rel="alternate"),
            _text("id", item["unique_id"]),
            _text("published", rfc3339_date(item["pubdate"])),
            _text("updated", rfc3339_date(item["updateddate"])),
        ]
        parts.extend(f"<author>{_text('name', name)}</author>" for name in item["authors"])
        parts.append(_text("summary", item["summary"], ' type="text"'))
        parts.append(_text("content", item["content_html"], ' type="html"'))
        parts.extend(
            _empty(
                "link",
                rel="enclosure",
                href=enclosure.url,
                length=enclosure.length,
                type=enclosure.mime_type,
            )
            for enclosure in item["enclosures"]
        )
        parts.extend(
            _empty("category", term=term, label=label, scheme=scheme)
            for term, label, scheme in item["category_terms"]
        )
        parts.append("</entry>")
        return "".join(parts)


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


@dataclasses.dataclass(slots=True)
class FeedEntry:
    """One release as one feed shows it, in the feed's language."""

    pk: int
    slug: str
    published_at: datetime.datetime
    modified_at: datetime.datetime  # the last published major change (or publication)
    image: str  # the lead image's name in media storage, "" when there is none
    title: str
    lead: str
    body: str
    authors: list[str] = dataclasses.field(default_factory=list)
    categories: list[Category] = dataclasses.field(default_factory=list)
    enclosure: Enclosure | None = None


@dataclasses.dataclass(frozen=True)
class FeedScope:
    """What one request's feed covers: a language, a category for a category feed, and the
    entries it lists."""

    language: str
    category: Category | None
    entries: list[FeedEntry]


def _feed_rows(language: str, *, now, items: int, slug: str | None = None) -> QuerySet:
    """The newest public releases of a feed (of one category) with their authors and
    categories (`news.relations`), as plain rows."""
    releases = Release.objects.published(language, now=now)
    if slug is not None:
        releases = releases.filter(categories__slug=slug)
    return (
        releases.annotate(authors_json=relations.authors(), categories_json=relations.categories())
        .order_by("-published_at", "-id")
        .values(
            "id",
            "slug",
            "published_at",
            "last_major_change_at",
            "image",
            f"title_{language}",
            f"lead_{language}",
            f"body_{language}",
            "authors_json",
            "categories_json",
        )[:items]
    )


# Prepared (`news.prepared`) for the site feed (False) and for a category feed (True).
_FEED_ENTRIES = {
    False: PreparedQuery(_feed_rows, now=datetime.datetime, items=int),
    True: PreparedQuery(_feed_rows, now=datetime.datetime, items=int, slug=str),
}


def feed_entries(language: str, category_slug: str | None = None) -> list[FeedEntry]:
    """The newest public releases of `language` (in one category), at most FEED_ITEMS, with
    their authors (in signing order) and categories (`news.relations`): one prepared query
    whatever the size of the archive, read as plain rows (building model instances would cost
    more than the rest)."""
    scoped = category_slug is not None
    values = {"now": timezone.now(), "items": settings.FEED_ITEMS}
    if scoped:
        values["slug"] = category_slug
    categories: dict[int, Category] = {}
    entries = []
    for row in _FEED_ENTRIES[scoped](language, **values):
        entry = FeedEntry(
            row["id"],
            row["slug"],
            row["published_at"],
            row["last_major_change_at"] or row["published_at"],
            row["image"],
            row[f"title_{language}"],
            row[f"lead_{language}"],
            row[f"body_{language}"],
        )
        for author in relations.rows(row["authors_json"]):
            name_ru, name_en = author["name_ru"], author["name_en"]
            name = (name_en if language == "en" else name_ru) or name_ru or name_en
            entry.authors.append(xml_text(name))
        for term in relations.rows(row["categories_json"]):
            category = categories.get(term["id"])
            if category is None:
                category = categories[term["id"]] = Category(**term)
            entry.categories.append(category)
        entries.append(entry)
    enclosures = lead_image_enclosures(entries)
    for entry in entries:
        entry.enclosure = enclosures.get(entry.pk)
    return entries


@dataclasses.dataclass
class ItemContext:
    """What every item of one feed shares, computed once per request."""

    language: str
    site_url: str
    # The absolute detail URL up to the id: "<SITE_URL>/<lang>/news/". The pattern is reversed
    # once per feed rather than once per item (slugs are ASCII, ids digits: nothing to quote).
    detail_base: str
    category_terms: dict[int, tuple[str, str, str]] = dataclasses.field(default_factory=dict)

    @classmethod
    def for_request(cls, language: str) -> ItemContext:
        sample = reverse("news:detail", kwargs={"pk": 1, "slug": "s"})
        if not sample.endswith("/1/s/"):
            raise ImproperlyConfigured(f"unexpected release URL pattern: {sample}")
        return cls(language, settings.SITE_URL, absolute(sample.removesuffix("1/s/")))

    def category_term(self, category: Category) -> tuple[str, str, str]:
        """(slug, name, absolute URL) of a category, memoised across the items."""
        term = self.category_terms.get(category.pk)
        if term is None:
            term = self.category_terms[category.pk] = (
                category.slug,
                xml_text(category.name(self.language)),
                absolute(reverse("news:category", kwargs={"slug": category.slug})),
            )
        return term


class ReleaseFeed(Feed):
    """The language's newest public releases as RSS 2.0 (`news:rss`), served through the
    public page cache (per language, invalidated on every change, ETag/Last-Modified, 304).

    Django's Feed builds the channel; `get_feed` adds the items in one pass (`item_fields`),
    as Feed's per-field dynamic look-ups would cost more than the rest of an item."""

    feed_type = ReleaseRssFeed
    url_name = "news:rss"

    def __init__(self):
        super().__init__()
        self.cached_view = public_page(super().__call__)

    def __call__(self, request, *args, **kwargs):
        return self.cached_view(request, *args, **kwargs)

    def get_object(self, request, slug=None) -> FeedScope:
        language = get_language()
        entries = feed_entries(language, slug)
        category = None
        if slug is not None:
            # The category comes with its entries' categories; an empty category feed costs
            # one more query (and an unknown slug is a 404).
            category = next(
                (c for e in entries[:1] for c in e.categories if c.slug == slug), None
            ) or get_object_or_404(
                Category.objects.only("id", "slug", "name_ru", "name_en"), slug=slug
            )
        return FeedScope(language=language, category=category, entries=entries)

    def items(self, scope: FeedScope) -> list:
        return []  # get_feed adds them

    def get_feed(self, scope: FeedScope, request):
        feed = super().get_feed(scope, request)
        context = ItemContext.for_request(scope.language)
        for entry in scope.entries:
            feed.add_item(**self.item_fields(entry, context))
        return feed

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
        return _("Press releases of the CIS Executive Committee's press service, newest first.")

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
    def item_fields(self, entry: FeedEntry, context: ItemContext) -> dict:
        """Everything one item shows, for `SyndicationFeed.add_item`."""
        terms = [context.category_term(category) for category in entry.categories]
        lead = xml_text(entry.lead)
        body = _RELATIVE_HREF.sub(rf"\1{context.site_url}/", entry.body)
        return {
            "title": xml_text(entry.title),
            "link": f"{context.detail_base}{entry.pk}/{entry.slug}/",
            "description": escape(lead),
            "unique_id": release_guid(entry, context.language),
            "unique_id_is_permalink": False,
            "pubdate": entry.published_at,
            # Only published major changes move it (Release.public_modified_at); a scheduled
            # release changed before its time appears (is "updated") at that time.
            "updateddate": max(entry.modified_at, entry.published_at),
            "categories": [name for _slug, name, _url in terms],
            "enclosures": [entry.enclosure] if entry.enclosure else [],
            "language": context.language,
            "summary": lead,
            "content_html": xml_text(body),
            "authors": entry.authors,
            "category_terms": terms,
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
