"""Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 per language and per category.

Every feed is parsed with feedparser (no `bozo` error); what the public may not see (drafts,
releases in review, scheduled, withdrawn, a missing English version) never appears in any of
them; URLs are absolute under SITE_URL whatever the Host header says.
"""

import datetime
import io
import json
import re

import feedparser
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from freezegun import freeze_time
from PIL import Image

from news import demo, workflow
from news.cache import pages as news_cache
from news.models import Author, Category, Release, ReleaseAuthor
from news.public import feeds
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyPublishedFactory,
    ScheduledFactory,
    WithdrawnFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://press.example.org"
XML_FEEDS = ["rss", "atom"]
LANGUAGE_FEEDS = ["rss", "atom", "json_feed"]


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def url(name, language="ru", **kwargs):
    with override(language):
        return reverse(f"news:{name}", kwargs=kwargs)


def fetch(client, name, language="ru", **kwargs):
    response = client.get(url(name, language, **kwargs))
    assert response.status_code == 200, response.content[:500]
    return response


def parse(client, name, language="ru", **kwargs):
    """The feed as feedparser reads it; a parse error (bozo) fails the test."""
    parsed = feedparser.parse(fetch(client, name, language, **kwargs).content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def json_feed(client, language="ru"):
    return json.loads(fetch(client, "json_feed", language).content)


def feed_ids(client, name, language="ru", **kwargs):
    """The release ids a feed lists, in its order (read from the stable guids)."""
    if name == "json_feed":
        items = json_feed(client, language)["items"]
        return [int(item["id"].rsplit("/", 1)[1]) for item in items]
    return [int(e.id.rsplit("/", 1)[1]) for e in parse(client, name, language, **kwargs).entries]


def jpeg_upload(name="lead.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 225), (21, 54, 97)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def release():
    """A published release with two ordered authors, a category and a lead image."""
    category = CategoryFactory(name_ru="Миграция", name_en="Migration", slug="migration")
    signature = AuthorFactory()
    secretary = AuthorFactory(name_ru="Анна Ковалёва", name_en="Anna Kovaleva")
    item = DraftFactory(
        title_ru="Исполком СНГ и МОМ договорились о сотрудничестве",
        lead_ru="Подписан план на 2012 – 2013 годы.",
        body_ru='<p>Подписан план.</p><p>См. <a href="/ru/news/">новости</a>.</p>',
        title_en="CIS Executive Committee and IOM agree to cooperate",
        lead_en="A plan for 2012–2013 was signed.",
        body_en="<p>A plan was signed.</p>",
        image=jpeg_upload(),
    )
    ReleaseAuthor.objects.create(release=item, author=secretary, position=1)
    ReleaseAuthor.objects.create(release=item, author=signature, position=0)
    item.categories.add(category)
    workflow.submit(item, by=None)
    workflow.publish(item, by=None, at=timezone.now() - datetime.timedelta(hours=2))
    item.refresh_from_db()
    return item


# Every feed is valid and typed ------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("name", XML_FEEDS)
def test_language_feeds_parse_with_content_type_and_charset(client, release, name, language):
    response = fetch(client, name, language)
    expected = {"rss": "application/rss+xml", "atom": "application/atom+xml"}[name]
    assert response["Content-Type"] == f"{expected}; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"rss": "rss20", "atom": "atom10"}[name]
    assert [e.link for e in parsed.entries] == [SITE + release.get_absolute_url(language)]


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("name", ["category_rss", "category_atom"])
def test_category_feeds_parse_and_list_only_that_category(client, release, name, language):
    other = PublishedFactory()
    other.categories.add(CategoryFactory())
    uncategorised = PublishedFactory()
    parsed = parse(client, name, language, slug="migration")
    ids = [int(e.id.rsplit("/", 1)[1]) for e in parsed.entries]
    assert ids == [release.pk]
    assert other.pk not in ids and uncategorised.pk not in ids
    assert parsed.feed.link == SITE + url("category", language, slug="migration")


def test_unknown_category_feed_is_404(client, release):
    assert client.get(url("category_rss", slug="no-such-category")).status_code == 404
    assert client.get(url("category_atom", slug="no-such-category")).status_code == 404


def test_json_feed_content_type_and_required_fields(client, release):
    response = fetch(client, "json_feed", "en")
    assert response["Content-Type"] == "application/feed+json; charset=utf-8"
    feed = json.loads(response.content)
    # Required by JSON Feed 1.1: version (the spec's URL), title, items; each item an id
    # (a string) and content_html or content_text.
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Press Service of the CIS Executive Committee: press releases"
    assert isinstance(feed["items"], list) and len(feed["items"]) == 1
    assert feed["home_page_url"] == SITE + "/en/news/"
    assert feed["feed_url"] == SITE + "/en/news/feed.json"
    assert feed["language"] == "en"
    assert feed["authors"] == [{"name": "Press Service of the CIS Executive Committee"}]
    assert feed["icon"].startswith(SITE + "/static/")
    item = feed["items"][0]
    assert isinstance(item["id"], str) and item["id"] == feeds.release_guid(release, "en")
    assert item["url"] == SITE + release.get_absolute_url("en")
    assert item["title"] == "CIS Executive Committee and IOM agree to cooperate"
    assert item["summary"] == "A plan for 2012–2013 was signed."
    assert item["content_html"] == "<p>A plan was signed.</p>"
    assert datetime.datetime.fromisoformat(item["date_published"]) == release.published_at
    assert datetime.datetime.fromisoformat(item["date_modified"]) >= release.published_at
    assert item["authors"] == [
        {"name": "Press Service of the CIS Executive Committee"},
        {"name": "Anna Kovaleva"},
    ]
    assert item["tags"] == ["Migration"]
    assert item["language"] == "en"
    assert item["image"].startswith(SITE + "/media/") and item["image"].endswith(".webp")
    (attachment,) = item["attachments"]
    assert attachment["mime_type"] == "image/webp"
    assert attachment["size_in_bytes"] == release.image_social.size > 0


# Item and channel fields -------------------------------------------------------------------


def test_rss_item_fields(client, release):
    parsed = parse(client, "rss", "ru")
    (entry,) = parsed.entries
    assert entry.title == "Исполком СНГ и МОМ договорились о сотрудничестве"
    assert entry.link == SITE + release.get_absolute_url("ru")
    assert entry.id == f"tag:press.example.org,2026:news/ru/{release.pk}"
    assert entry.guidislink is False
    assert entry.summary == "Подписан план на 2012 – 2013 годы."
    # The full sanitized body, its relative links made absolute under SITE_URL.
    assert entry.content[0].value == (
        f'<p>Подписан план.</p><p>См. <a href="{SITE}/ru/news/" rel="noopener noreferrer">'
        "новости</a>.</p>"
    )
    assert entry.published_parsed[:6] == release.published_at.utctimetuple()[:6]
    assert [a.name for a in entry.authors] == [
        "Пресс-служба Исполнительного комитета СНГ",
        "Анна Ковалёва",
    ]
    assert [t.term for t in entry.tags] == ["Миграция"]
    assert entry.language == "ru"
    (enclosure,) = entry.enclosures
    assert enclosure.href.startswith(SITE + "/media/") and enclosure.href.endswith(".webp")
    assert enclosure.type == "image/webp"
    assert int(enclosure.length) == release.image_social.size > 0
    raw = fetch(client, "rss", "ru").content.decode()
    assert "<content:encoded>" in raw and "<dc:language>ru</dc:language>" in raw


def test_rss_channel_fields(client, release):
    parsed = parse(client, "rss", "ru")
    channel = parsed.feed
    assert channel.title == "Пресс-служба Исполнительного комитета СНГ: пресс-релизы"
    assert (
        channel.subtitle == "Пресс-релизы пресс-службы Исполнительного комитета СНГ, сначала новые."
    )
    assert channel.link == SITE + "/ru/news/"
    assert channel.language == "ru"
    assert {"rel": "self", "href": SITE + "/ru/news/rss/"}.items() <= next(
        link for link in channel.links if link.rel == "self"
    ).items()
    # The channel is as new as its newest public change: publication or major change.
    assert channel.updated_parsed[:6] == release.public_modified_at.utctimetuple()[:6]
    assert channel.image.href == SITE + "/static/feeds/channel.png"
    assert channel.image.link == SITE + "/ru/news/"


def test_atom_entry_and_channel_fields(client, release):
    parsed = parse(client, "atom", "en")
    assert parsed.feed.title == "Press Service of the CIS Executive Committee: press releases"
    assert parsed.feed.language == "en"
    assert next(link for link in parsed.feed.links if link.rel == "self").href == (
        SITE + "/en/news/atom/"
    )
    assert parsed.feed.icon == SITE + "/static/feeds/channel.png"
    (entry,) = parsed.entries
    assert entry.id == f"tag:press.example.org,2026:news/en/{release.pk}"
    assert entry.link == SITE + release.get_absolute_url("en")
    assert entry.summary == "A plan for 2012–2013 was signed."
    assert entry.summary_detail.type == "text/plain"
    assert entry.content[0].value == "<p>A plan was signed.</p>"
    assert [a.name for a in entry.authors] == [
        "Press Service of the CIS Executive Committee",
        "Anna Kovaleva",
    ]
    assert [(t.term, t.label) for t in entry.tags] == [("migration", "Migration")]
    assert entry.title_detail.language == "en"
    (enclosure,) = [link for link in entry.links if link.rel == "enclosure"]
    assert enclosure.type == "image/webp" and int(enclosure.length) > 0


def test_category_feed_titles_are_translated(client, release):
    assert parse(client, "category_rss", "ru", slug="migration").feed.title == (
        "Пресс-служба Исполнительного комитета СНГ: Миграция"
    )
    english = parse(client, "category_rss", "en", slug="migration").feed
    assert english.title == "Press Service of the CIS Executive Committee: Migration"
    assert english.subtitle == "Press releases in the category “Migration”, newest first."


def test_release_without_image_has_no_enclosure(client):
    PublishedFactory()
    (entry,) = parse(client, "rss").entries
    assert entry.enclosures == []
    assert "image" not in json_feed(client)["items"][0]


def test_enclosure_is_described_once_then_read_from_the_cache(client, release):
    first = parse(client, "rss").entries[0].enclosures
    # Described once: another feed still carries it after the files are gone.
    release.image_social.storage.delete(release.image_social.name)
    release.image.storage.delete(release.image.name)
    second = [link for link in parse(client, "atom").entries[0].links if link.rel == "enclosure"]
    assert [(e.href, int(e.length)) for e in second] == [(first[0].href, int(first[0].length))]


def test_unreadable_lead_image_gives_no_enclosure_and_no_error(client, release):
    release.image_social.storage.delete(release.image.name)
    release.image_social.storage.delete(release.image_social.name)
    cache.clear()
    (entry,) = parse(client, "rss").entries
    assert entry.enclosures == []


def test_control_characters_from_an_import_do_not_break_the_feeds(client):
    PublishedFactory(lead_ru="Лид\x01 с управляющим символом", body_ru="<p>Текст\x02</p>")
    (entry,) = parse(client, "rss").entries
    assert entry.summary == "Лид с управляющим символом"
    assert parse(client, "atom").entries[0].summary == "Лид с управляющим символом"


# Ordering and bound ------------------------------------------------------------------------


@pytest.mark.parametrize("name", LANGUAGE_FEEDS)
def test_items_newest_first_and_bounded(client, settings, name):
    settings.FEED_ITEMS = 3
    now = timezone.now()
    releases = [PublishedFactory(published_at=now - datetime.timedelta(days=d)) for d in range(5)]
    assert feed_ids(client, name) == [r.pk for r in releases[:3]]


# The public rule's negative cases ----------------------------------------------------------


@pytest.fixture
def not_public():
    return {
        "draft": DraftFactory(),
        "review": ReviewFactory(),
        "scheduled": ScheduledFactory(),
        "withdrawn": WithdrawnFactory(),
    }


@pytest.mark.parametrize("name", LANGUAGE_FEEDS)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_only_public_releases_appear(client, not_public, name, language):
    public = PublishedFactory()
    assert feed_ids(client, name, language) == [public.pk]


@pytest.mark.parametrize("name", ["category_rss", "category_atom"])
def test_category_feeds_keep_the_public_rule(client, not_public, name):
    category = CategoryFactory(slug="economy")
    public = PublishedFactory()
    for item in [public, *not_public.values()]:
        item.categories.add(category)
    assert feed_ids(client, name, "ru", slug="economy") == [public.pk]


@pytest.mark.parametrize("name", [*LANGUAGE_FEEDS, "category_rss"])
def test_missing_english_version_is_only_in_russian_feeds(client, name):
    category = CategoryFactory(slug="economy")
    russian_only = RussianOnlyPublishedFactory()
    russian_only.categories.add(category)
    kwargs = {"slug": "economy"} if name.startswith("category") else {}
    assert feed_ids(client, name, "ru", **kwargs) == [russian_only.pk]
    assert feed_ids(client, name, "en", **kwargs) == []


def test_scheduled_release_appears_at_its_time(client):
    scheduled = ScheduledFactory()
    assert feed_ids(client, "rss") == []
    with freeze_time(scheduled.published_at + datetime.timedelta(minutes=1)):
        assert feed_ids(client, "rss") == [scheduled.pk]
        assert feed_ids(client, "json_feed") == [scheduled.pk]


@pytest.mark.django_db(transaction=True)  # invalidation runs when the transaction commits
def test_withdrawing_removes_the_release_from_a_feed_seen_before(client, release):
    assert feed_ids(client, "rss") == [release.pk]
    workflow.withdraw(release, by=None, reason="Ошибка в тексте")
    assert feed_ids(client, "rss") == []


# Absolute URLs under a forged Host header --------------------------------------------------


@pytest.mark.parametrize("name", LANGUAGE_FEEDS)
def test_urls_come_from_site_url_not_from_a_forged_host(client, settings, release, name):
    settings.ALLOWED_HOSTS = ["*"]  # even a server that accepts any Host must not echo it
    response = client.get(
        url(name), HTTP_HOST="evil.example", HTTP_X_FORWARDED_HOST="evil.example", secure=True
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "evil.example" not in body
    urls = re.findall(r"https?://[^\"'<\s]+", body)
    assert urls
    ours = [u for u in urls if not u.startswith(("http://www.w3.org", "http://purl.org"))]
    ours = [u for u in ours if not u.startswith("https://jsonfeed.org")]
    assert ours and all(u.startswith(SITE + "/") for u in ours), ours


# guid stability ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", LANGUAGE_FEEDS)
def test_guid_survives_title_and_slug_edits(client, release, name):
    before = feed_ids(client, name)
    guid = feeds.release_guid(release, "ru")
    release.title_ru = "Совершенно новый заголовок"
    release.save()
    Release.objects.filter(pk=release.pk).update(slug="sovershenno-novyi-zagolovok")
    cache.clear()
    assert feed_ids(client, name) == before
    if name == "json_feed":
        item = json_feed(client)["items"][0]
        assert (item["id"], item["title"]) == (guid, "Совершенно новый заголовок")
        assert item["url"].endswith("/sovershenno-novyi-zagolovok/")
    else:
        entry = parse(client, name).entries[0]
        assert (entry.id, entry.title) == (guid, "Совершенно новый заголовок")
        assert entry.link.endswith("/sovershenno-novyi-zagolovok/")


def test_guid_differs_per_language(release):
    assert feeds.release_guid(release, "ru") != feeds.release_guid(release, "en")


# Conditional GET and caching ---------------------------------------------------------------


@pytest.mark.parametrize("name", LANGUAGE_FEEDS)
def test_conditional_get_answers_304(client, release, name):
    first = fetch(client, name)
    assert first.has_header("ETag") and first.has_header("Last-Modified")
    by_etag = client.get(url(name), HTTP_IF_NONE_MATCH=first["ETag"])
    assert by_etag.status_code == 304 and by_etag.content == b""
    by_date = client.get(url(name), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 304
    stale = client.get(url(name), HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200


@pytest.mark.django_db(transaction=True)  # invalidation runs when the transaction commits
def test_publishing_invalidates_the_cached_feed(client, release):
    first = fetch(client, "rss")
    assert client.get(url("rss"), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    newer = DraftFactory()
    workflow.submit(newer, by=None)
    workflow.publish(newer, by=None)
    response = client.get(url("rss"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200
    assert [int(e.id.rsplit("/", 1)[1]) for e in feedparser.parse(response.content).entries] == [
        newer.pk,
        release.pk,
    ]


# Queries: a fixed number whatever the size of the archive ----------------------------------


def count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("size", [10, 200])
def test_query_count_is_fixed(client, settings, size):
    demo.seed(size, with_images=False)
    # Extra authors, so that some releases have several signatures.
    extra = Author.objects.create(name_ru="Мария Орлова", name_en="Maria Orlova")
    for item in Release.objects.published("ru")[:5]:
        ReleaseAuthor.objects.get_or_create(release=item, author=extra, defaults={"position": 5})
    slug = Category.objects.filter(releases__in=Release.objects.published("en")).first().slug
    paths = [url(name, language) for name in LANGUAGE_FEEDS for language in ["ru", "en"]]
    paths += [
        url(name, language, slug=slug)
        for name in ["category_rss", "category_atom"]
        for language in ["ru", "en"]
    ]
    # Cold: the releases' keys, their rows, categories, documents and signatures (a category
    # feed reads its category first), and the page cache's look at the schedule.
    for path in paths:
        cache.clear()
        expected = 6 if "/category/" in path else 5
        assert count_queries(client, path) == expected + 1, path
        assert count_queries(client, path) == 0, path  # served from the page cache
    # Without the page cache, the signatures and categories of unchanged releases come from
    # their fragments: the releases alone (and the category).
    settings.PAGE_CACHE_SECONDS = 0
    news_cache.invalidate()
    for path in paths:
        count_queries(client, path)
        assert count_queries(client, path) == (2 if "/category/" in path else 1), path


@pytest.mark.django_db(transaction=True)  # invalidation runs when the transaction commits
def test_a_feed_rebuilt_after_a_publication_reads_the_new_releases_relations_only(client, release):
    fetch(client, "rss")
    newer = DraftFactory()
    ReleaseAuthor.objects.create(release=newer, author=AuthorFactory(name_ru="Иван Петров"))
    workflow.submit(newer, by=None)
    workflow.publish(newer, by=None)
    # The releases' keys, then the row, categories, documents and signatures of the new release.
    assert count_queries(client, url("rss")) == 1 + 4 + 1  # and the schedule
    entries = parse(client, "rss").entries
    assert [[a.name for a in e.authors] for e in entries] == [
        ["Иван Петров"],
        ["Пресс-служба Исполнительного комитета СНГ", "Анна Ковалёва"],
    ]


@pytest.mark.django_db(transaction=True)  # invalidation runs when the transaction commits
def test_renaming_an_author_or_a_category_shows_in_the_feeds(client, release):
    assert [a.name for a in parse(client, "rss", "en").entries[0].authors][1] == "Anna Kovaleva"
    author = Author.objects.get(name_en="Anna Kovaleva")
    author.name_en = "Anna Kovalyova"
    author.save()
    category = Category.objects.get(slug="migration")
    category.name_en = "Migration and mobility"
    category.save()
    (entry,) = parse(client, "rss", "en").entries
    assert [a.name for a in entry.authors][1] == "Anna Kovalyova"
    assert [t.term for t in entry.tags] == ["Migration and mobility"]


def test_empty_category_feed_reads_the_category_and_no_relations(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    CategoryFactory(slug="empty")
    count_queries(client, url("category_rss", slug="empty"))
    assert count_queries(client, url("category_rss", slug="empty")) == 2


def test_documents_travel_as_enclosures(client):
    """Atom and JSON Feed carry every document after the lead image; RSS, which allows one
    enclosure, the first."""
    from tests.test_attachments import attach_document, pdf

    release = PublishedFactory(image=None)
    first = attach_document(release, pdf(2), title_ru="Соглашение", position=1)
    second = attach_document(release, pdf(1), title_ru="Протокол", position=2)
    atom = parse(client, "atom")
    links = [link.href for link in atom.entries[0].links if link.rel == "enclosure"]
    assert links == [f"{SITE}{first.file.url}", f"{SITE}{second.file.url}"]
    feed = json.loads(client.get(url("json_feed")).content)
    assert [a["url"] for a in feed["items"][0]["attachments"]] == links
    assert feed["items"][0]["attachments"][0]["mime_type"] == "application/pdf"
    rss = parse(client, "rss")
    assert [e.href for e in rss.entries[0].enclosures] == links[:1]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_feed_lists_the_documents_as_links_after_the_text(client, language):
    """RSS carries one enclosure, the lead image when there is one: the documents also
    follow the text as links with their format, size and pages, in every format."""
    from tests.test_attachments import attach_document, pdf

    release = PublishedFactory(image=jpeg_upload())
    document = attach_document(release, pdf(3), title_ru="Соглашение", title_en="Agreement")
    bare = PublishedFactory(image=jpeg_upload(), published_at=release.published_at)
    link = f'<a href="{SITE}{document.file.url}">{document.title(language)}</a>'
    with override(language):
        size = filesizeformat(document.size)
    facts = f"(PDF, {size}, " + {"ru": "3 страницы)", "en": "3 pages)"}[language]
    heading = {"ru": "<h2>Документы</h2>", "en": "<h2>Documents</h2>"}[language]
    rss = {e.link: e for e in parse(client, "rss", language).entries}
    item = rss[SITE + release.get_absolute_url(language)]
    assert item.enclosures[0].type == "image/webp"  # the one enclosure RSS has
    assert heading in item.content[0].value and link in item.content[0].value
    assert facts in item.content[0].value
    assert heading not in rss[SITE + bare.get_absolute_url(language)].content[0].value
    atom = {e.link: e for e in parse(client, "atom", language).entries}
    assert link in atom[SITE + release.get_absolute_url(language)].content[0].value
    items = {i["url"]: i for i in json_feed(client, language)["items"]}
    assert link in items[SITE + release.get_absolute_url(language)]["content_html"]
