"""What search engines and social networks read: titles, descriptions, canonical and hreflang
links, Open Graph and Twitter cards, schema.org JSON-LD, the sitemap and robots.txt."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.utils import timezone

from news.models import Release, ReleaseAuthor
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyPublishedFactory,
    ScheduledFactory,
    SourceFactory,
    WithdrawnFactory,
)
from tests.test_public import demo_image_bytes, parse

pytestmark = pytest.mark.django_db
SITE = "https://press.example.org"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def head(client, url: str):
    response = client.get(url, HTTP_HOST="127.0.0.1")  # not the site's host: links ignore it
    assert response.status_code == 200, url
    return parse(response.content).find("head")


def meta(document, **attrs) -> str:
    element = document.find("meta", **attrs)
    return element.attrs["content"] if element is not None else ""


def jsonld(document) -> list[dict]:
    blocks = []
    for script in document.find_all("script"):
        assert script.attrs.get("type") == "application/ld+json"
        blocks.append(json.loads(script.text))
    return blocks


def alternates(document) -> dict[str, str]:
    return {
        link.attrs["hreflang"]: link.attrs["href"]
        for link in document.find_all("link", rel="alternate")
        if "hreflang" in link.attrs
    }


@pytest.fixture
def release(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    release = PublishedFactory(
        title_ru="Исполнительный комитет СНГ и МОМ договорились о сотрудничестве",
        lead_ru="Подписание плана состоялось 14 декабря в Минске. " * 6,
        title_en="CIS Executive Committee and IOM agreed to cooperate",
        lead_en="The plan was signed on 14 December in Minsk.",
    )
    release.image.save("lead.jpg", ContentFile(demo_image_bytes()), save=False)
    Release.objects.filter(pk=release.pk).update(image=release.image.name)
    release.refresh_from_db()
    ReleaseAuthor.objects.create(release=release, author=AuthorFactory(), position=0)
    SourceFactory(release=release, url="https://cis.minsk.by/news/437")
    return release


class TestReleaseHead:
    def test_title_description_canonical(self, client, release):
        document = head(client, release.get_absolute_url("ru"))
        assert document.find("title").text == (
            f"{release.title_ru} — Пресс-служба Исполнительного комитета СНГ"
        )
        description = meta(document, name="description")
        assert description.startswith("Подписание плана состоялось 14 декабря в Минске.")
        assert len(description) <= 160
        canonical = document.find("link", rel="canonical").attrs["href"]
        assert canonical == SITE + release.get_absolute_url("ru")
        assert meta(document, name="robots") == ""

    def test_hreflang_for_both_versions_and_x_default(self, client, release):
        for language in ("ru", "en"):
            links = alternates(head(client, release.get_absolute_url(language)))
            assert links == {
                "ru": SITE + release.get_absolute_url("ru"),
                "en": SITE + release.get_absolute_url("en"),
                "x-default": SITE + release.get_absolute_url("ru"),
            }

    def test_no_hreflang_to_a_version_that_does_not_exist(self, client):
        release = RussianOnlyPublishedFactory()
        document = head(client, release.get_absolute_url("ru"))
        assert alternates(document) == {}
        assert "/en/" not in json.dumps(jsonld(document))

    def test_open_graph_and_twitter_card_with_the_1200x630_rendition(self, client, release):
        document = head(client, release.get_absolute_url("en"))
        assert meta(document, property="og:type") == "article"
        assert meta(document, property="og:title") == release.title_en
        assert meta(document, property="og:description") == release.lead_en
        assert meta(document, property="og:url") == SITE + release.get_absolute_url("en")
        assert meta(document, property="og:locale") == "en_GB"
        assert meta(document, property="og:locale:alternate") == "ru_RU"
        image = meta(document, property="og:image")
        assert image.startswith(SITE + "/media/") and image.endswith(".webp")
        assert meta(document, property="og:image:width") == "1200"
        assert meta(document, property="og:image:height") == "630"
        assert meta(document, property="article:published_time").startswith(
            release.published_at.astimezone().strftime("%Y-")
        )
        assert meta(document, name="twitter:card") == "summary_large_image"
        assert meta(document, name="twitter:image") == image

    def test_without_an_image_the_card_is_a_summary(self, client):
        release = PublishedFactory()
        document = head(client, release.get_absolute_url("ru"))
        assert meta(document, name="twitter:card") == "summary"
        assert meta(document, property="og:image") == ""

    def test_news_article_json_ld(self, client, release):
        ru_url = SITE + release.get_absolute_url("ru")
        en_url = SITE + release.get_absolute_url("en")
        (article,) = jsonld(head(client, release.get_absolute_url("ru")))
        assert article["@context"] == "https://schema.org"
        assert article["@type"] == "NewsArticle"
        assert article["headline"] == release.title_ru
        assert article["inLanguage"] == "ru"
        assert article["url"] == article["mainEntityOfPage"] == ru_url
        assert article["datePublished"] == release.published_at.isoformat()
        # Without a published major change, the public "modified" date is the publication.
        assert article["dateModified"] == release.published_at.isoformat()
        assert article["author"] == [
            {"@type": "Organization", "name": "Пресс-служба Исполнительного комитета СНГ"}
        ]
        assert article["publisher"]["@type"] == "Organization"
        assert article["publisher"]["name"] == (
            "Исполнительный комитет Содружества Независимых Государств"
        )
        assert article["publisher"]["logo"]["url"] == SITE + "/static/news/emblem.png"
        assert article["image"]["url"].startswith(SITE + "/media/")
        assert (article["image"]["width"], article["image"]["height"]) == (1200, 630)
        assert article["isBasedOn"] == "https://cis.minsk.by/news/437"
        assert article["workTranslation"]["@id"] == en_url
        assert article["workTranslation"]["inLanguage"] == "en"
        assert "translationOfWork" not in article

        (english,) = jsonld(head(client, release.get_absolute_url("en")))
        assert english["inLanguage"] == "en"
        assert english["headline"] == release.title_en
        assert english["translationOfWork"]["@id"] == ru_url
        assert english["author"][0]["name"] == "Press Service of the CIS Executive Committee"
        assert "workTranslation" not in english

    def test_a_person_signs_with_a_job_title(self, client):
        release = PublishedFactory()
        author = AuthorFactory(
            name_ru="Анна Ковалёва",
            name_en="Anna Kovaleva",
            position_ru="пресс-секретарь",
            position_en="press secretary",
        )
        ReleaseAuthor.objects.create(release=release, author=author)
        (article,) = jsonld(head(client, release.get_absolute_url("en")))
        assert article["author"] == [
            {"@type": "Person", "name": "Anna Kovaleva", "jobTitle": "press secretary"}
        ]

    def test_json_ld_cannot_be_closed_by_the_text(self, client):
        release = PublishedFactory(title_ru="</script><script>alert(1)</script>")
        html = client.get(release.get_absolute_url("ru")).content.decode()
        assert "<script>alert(1)" not in html
        (article,) = jsonld(parse(html).find("head"))
        assert article["headline"] == "</script><script>alert(1)</script>"


class TestListHeads:
    def test_news_list(self, client):
        PublishedFactory.create_batch(21)
        document = head(client, "/ru/news/")
        assert document.find("title").text == "Новости — Пресс-служба Исполнительного комитета СНГ"
        assert alternates(document) == {
            "ru": SITE + "/ru/news/",
            "en": SITE + "/en/news/",
            "x-default": SITE + "/ru/news/",
        }
        (website,) = jsonld(document)
        assert website["@type"] == "WebSite"
        assert website["potentialAction"]["target"] == SITE + "/ru/news/search/?q={query}"
        second = head(client, "/ru/news/?page=2")
        assert second.find("link", rel="canonical").attrs["href"] == SITE + "/ru/news/?page=2"
        assert "страница 2" in second.find("title").text

    def test_category_page(self, client):
        category = CategoryFactory(name_ru="Экономика", name_en="Economy", slug="economy")
        PublishedFactory().categories.add(category)
        document = head(client, "/en/news/category/economy/")
        assert document.find("title").text.startswith("Economy — ")
        assert meta(document, name="description") == "Press releases in the category “Economy”."
        assert alternates(document)["ru"] == SITE + "/ru/news/category/economy/"

    def test_search_and_empty_pages_are_not_indexed(self, client):
        assert meta(head(client, "/ru/news/search/?q=заседание"), name="robots") == "noindex"
        CategoryFactory(slug="empty")
        assert meta(head(client, "/ru/news/category/empty/"), name="robots") == "noindex"


def sitemap_pages(client, **headers) -> list[bytes]:
    """The documents /sitemap.xml (a sitemap index) points to, each checked."""
    response = client.get("/sitemap.xml", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    assert root.tag == f"{SITEMAP}sitemapindex"
    pages = []
    for loc in root.iter(f"{SITEMAP}loc"):
        assert loc.text.startswith(SITE + "/sitemap-"), loc.text
        page = client.get(loc.text.removeprefix(SITE), **headers)
        assert page.status_code == 200
        assert page["Content-Type"].startswith("application/xml")
        pages.append(page.content)
    return pages


def sitemap_text(client, **headers) -> str:
    return "".join(page.decode() for page in sitemap_pages(client, **headers))


def sitemap(client) -> dict[str, dict[str, str]]:
    """loc -> {hreflang: href} of every URL of every sitemap page, checking lastmod of releases
    and that no URL is listed twice."""
    entries = {}
    for page in sitemap_pages(client, HTTP_HOST="127.0.0.1"):
        root = ET.fromstring(page)  # noqa: S314 - our own response
        assert root.tag == f"{SITEMAP}urlset"
        for url in root.findall(f"{SITEMAP}url"):
            loc = url.find(f"{SITEMAP}loc").text
            if "/news/category/" not in loc and not loc.endswith("/news/"):
                assert url.find(f"{SITEMAP}lastmod") is not None, loc
            assert loc not in entries
            entries[loc] = {
                link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")
            }
    return entries


class TestSitemap:
    def test_lists_exactly_the_public_language_versions(self, client):
        both = PublishedFactory()
        russian = RussianOnlyPublishedFactory()
        hidden = [DraftFactory(), ReviewFactory(), ScheduledFactory(), WithdrawnFactory()]
        entries = sitemap(client)
        releases = {loc for loc in entries if "/news/" in loc and loc.rstrip("/").count("/") > 4}
        releases = {loc for loc in releases if "/category/" not in loc}
        assert releases == {
            SITE + both.get_absolute_url("ru"),
            SITE + both.get_absolute_url("en"),
            SITE + russian.get_absolute_url("ru"),
        }
        assert entries[SITE + both.get_absolute_url("en")] == {
            "ru": SITE + both.get_absolute_url("ru"),
            "en": SITE + both.get_absolute_url("en"),
            "x-default": SITE + both.get_absolute_url("ru"),
        }
        assert entries[SITE + russian.get_absolute_url("ru")] == {
            "ru": SITE + russian.get_absolute_url("ru")
        }
        text = sitemap_text(client)
        for release in hidden:
            assert f"/news/{release.pk}/" not in text

    def test_lists_the_news_lists_and_categories_with_releases(self, client):
        category = CategoryFactory(slug="economy")
        CategoryFactory(slug="empty")
        RussianOnlyPublishedFactory().categories.add(category)
        entries = sitemap(client)
        assert SITE + "/ru/news/" in entries and SITE + "/en/news/" in entries
        assert SITE + "/ru/news/category/economy/" in entries
        assert SITE + "/en/news/category/economy/" not in entries
        assert not any("/category/empty/" in loc for loc in entries)

    def test_lastmod_is_the_last_public_change_as_a_w3c_datetime(self, client):
        """The publication, until a major change is published (minor edits leave no trace)."""
        release = PublishedFactory()
        release.title_ru += " (опечатка исправлена)"
        release.save()
        text = sitemap_text(client)
        lastmod = timezone.localtime(release.published_at).replace(microsecond=0)
        assert lastmod.utcoffset() is not None
        assert f"<lastmod>{lastmod.isoformat()}</lastmod>" in text

    def test_a_forged_host_does_not_change_the_urls(self, client):
        PublishedFactory()
        with override_settings(ALLOWED_HOSTS=["*"]):
            index = client.get("/sitemap.xml", HTTP_HOST="evil.example").content.decode()
            text = sitemap_text(client, HTTP_HOST="evil.example")
        assert "evil.example" not in index + text
        assert SITE + "/ru/news/" in text


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /ru/news/search/" in lines
    assert "Disallow: /ru/news/" not in lines


class TestSitemapPages:
    def test_the_index_lists_every_page_of_every_nonempty_section(self, client, monkeypatch):
        from news.public.sitemaps import ReleaseSitemap

        monkeypatch.setattr(ReleaseSitemap, "limit", 2)  # releases (4 URLs) per page
        releases = PublishedFactory.create_batch(3)  # 6 release URLs: two pages of releases
        root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our response
        assert [loc.text for loc in root.iter(f"{SITEMAP}loc")] == [
            f"{SITE}/sitemap-news.xml",
            f"{SITE}/sitemap-releases.xml",
            f"{SITE}/sitemap-releases.xml?p=2",
        ]  # no category has releases: no categories section
        first, second = (
            client.get("/sitemap-releases.xml", {"p": n}).content.decode() for n in (1, 2)
        )
        newest_first = sorted(releases, key=lambda r: (r.published_at, r.pk), reverse=True)
        for release, page in zip(newest_first, (first, first, second), strict=True):
            for language in ("ru", "en"):
                assert f"<loc>{SITE}{release.get_absolute_url(language)}</loc>" in page
        assert first.count("<url>") == 4 and second.count("<url>") == 2

    @pytest.mark.parametrize(
        "path", ["/sitemap-releases.xml?p=2", "/sitemap-releases.xml?p=x", "/sitemap-nothing.xml"]
    )
    def test_pages_that_do_not_exist_are_404(self, client, path):
        PublishedFactory()
        assert client.get(path).status_code == 404

    def test_an_empty_archive_has_a_valid_index(self, client):
        root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our response
        assert [loc.text for loc in root.iter(f"{SITEMAP}loc")] == [f"{SITE}/sitemap-news.xml"]

    def test_a_page_costs_the_same_queries_for_any_number_of_releases(
        self, client, settings, monkeypatch
    ):
        """One query per section, however many releases (no query per URL)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from news.public.sitemaps import ReleaseSitemap

        settings.PAGE_CACHE_SECONDS = 0
        monkeypatch.setattr(ReleaseSitemap, "limit", 50)
        category = CategoryFactory()

        def queries(path: str) -> int:
            client.get("/ru/news/")  # the schedule of this cache generation is read once
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200
            return len(captured)

        PublishedFactory().categories.add(category)
        few = {path: queries(path) for path in ("/sitemap.xml", "/sitemap-releases.xml")}
        few["categories"] = queries("/sitemap-categories.xml")
        for release in PublishedFactory.create_batch(6) + RussianOnlyPublishedFactory.create_batch(
            3
        ):
            release.categories.add(category)
        many = {path: queries(path) for path in ("/sitemap.xml", "/sitemap-releases.xml")}
        many["categories"] = queries("/sitemap-categories.xml")
        # The index: the releases' count and latest change, the categories; a page of
        # releases: their count and the page's rows.
        assert many == few == {"/sitemap.xml": 3, "/sitemap-releases.xml": 2, "categories": 1}
        assert sitemap_text(client).count("<url>") == 2 + 2 * 7 + 3 + 2


def test_later_pages_of_a_list_have_no_language_alternates(client):
    PublishedFactory.create_batch(21)
    assert alternates(head(client, "/ru/news/?page=2")) == {}
    assert set(alternates(head(client, "/ru/news/"))) == {"ru", "en", "x-default"}
