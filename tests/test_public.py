"""The public site: pages in both languages, the language switch, redirects, 404/410, the public
rule on every surface, dates, the preview contract and fixed query counts."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import NoReverseMatch
from django.utils import timezone

from news import demo, workflow
from news.cache import invalidate
from news.models import Release, ReleaseAuthor, SourceKind
from news.public import selectors, views
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    RussianOnlyPublishedFactory,
    ScheduledFactory,
    SourceFactory,
    UnpublishedFactory,
    WithdrawnFactory,
)
from tests.html_safety import executable_parts, inline_style_attributes

pytestmark = pytest.mark.django_db

VOID = {"meta", "link", "img", "input", "br", "hr", "source", "area", "base", "col", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent: Element | None):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, attrs, parent, [], []

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(
                _matches(child.attrs, name.rstrip("_").replace("_", "-"), value)
                for name, value in attrs.items()
            ):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None


def _matches(attrs: dict, name: str, value: str) -> bool:
    if name == "class":
        return value in attrs.get("class", "").split()
    return attrs.get(name) == value


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        node = self.current
        while node is not None:
            node.parts.append(data)
            node = node.parent


def parse(html: str | bytes) -> Element:
    builder = _Builder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    return builder.root


def page(client, url: str, status: int = 200, **headers) -> Element:
    response = client.get(url, **headers)
    assert response.status_code == status, (url, response.status_code)
    return parse(response.content)


def main_text(document: Element) -> str:
    return document.find("main").text


@pytest.fixture
def category():
    return CategoryFactory(name_ru="Миграция", name_en="Migration", slug="migration")


@pytest.fixture
def release(category):
    """A public release in both languages with an author, an original source and a category."""
    release = PublishedFactory(
        title_ru="Совет руководителей миграционных органов провёл заседание",
        title_en="Council of heads of migration bodies met",
        published_at=timezone.make_aware(datetime.datetime(2011, 12, 14, 15, 0)),
    )
    release.categories.add(category)
    ReleaseAuthor.objects.create(release=release, author=AuthorFactory(), position=0)
    SourceFactory(release=release, url="https://cis.minsk.by/news/437")
    return release


class TestPagesInBothLanguages:
    @pytest.mark.parametrize("language", ["ru", "en"])
    def test_every_page_answers_in_its_language(self, client, release, category, language):
        urls = [
            f"/{language}/news/",
            release.get_absolute_url(language),
            f"/{language}/news/archive/2011/",
            f"/{language}/news/archive/2011/12/",
            f"/{language}/news/category/migration/",
            f"/{language}/news/search/?q=" + ("заседание" if language == "ru" else "council"),
        ]
        for url in urls:
            document = page(client, url)
            html = document.find("html")
            assert html.attrs["lang"] == language, url
            assert len(document.find_all("h1")) == 1, url
            assert release.title(language) in main_text(document), url

    def test_list_shows_lead_date_category_newest_first(self, client, release):
        newer = PublishedFactory(title_ru="Более новый пресс-релиз")
        document = page(client, "/ru/news/")
        titles = [h2.text for h2 in document.find("main").find_all("h2")]
        assert titles[:2] == [newer.title_ru, release.title_ru]
        card = document.find("main").find_all("li")[1]
        assert "14 декабря 2011 г." in card.text
        assert release.lead_ru in card.text
        assert card.find("a", href="/ru/news/category/migration/").text == "Миграция"

    def test_list_pages_twenty_at_a_time_without_counting(self, client):
        PublishedFactory.create_batch(21)
        first = page(client, "/ru/news/")
        assert len(first.find("main").find_all("article")) == 20
        assert first.find("a", href="/ru/news/?page=2") is not None
        second = page(client, "/ru/news/?page=2")
        assert len(second.find("main").find_all("article")) == 1
        assert second.find("a", href="/ru/news/") is not None
        assert second.find("a", href="/ru/news/?page=3") is None

    @pytest.mark.parametrize("bad", ["3", "0", "-1", "abc", "99999999999", "1.5"])
    def test_a_page_that_does_not_exist_is_404(self, client, bad):
        PublishedFactory.create_batch(2)
        assert client.get(f"/ru/news/?page={bad}").status_code == 404

    def test_empty_site_says_so(self, client):
        document = page(client, "/en/news/")
        assert "There are no releases yet." in main_text(document)
        assert page(client, "/ru/news/").find("p", class_="empty").text == "Пресс-релизов пока нет."

    def test_detail_shows_everything_once(self, client, release):
        document = page(client, release.get_absolute_url("ru"))
        main = document.find("main")
        assert main.find("h1").text == release.title_ru
        assert main.find("time").text == "14 декабря 2011 г."
        assert main.find("time").attrs["datetime"].startswith("2011-12-14T15:00:00")
        # The lead opens the body; it is not printed a second time.
        assert main.text.count(release.lead_ru) == 1
        assert "Обсуждены вопросы миграции." in main.text
        assert "Пресс-служба Исполнительного комитета СНГ" in main.find(class_="signature").text
        sources = main.find("dl", class_="sources")
        assert sources.find("dt").text == "Адрес страницы в интернете"
        assert sources.find("a").attrs["href"] == "https://cis.minsk.by/news/437"
        assert main.find("a", href="/ru/news/category/migration/") is not None

    def test_the_lead_opens_the_page_once(self, client):
        release = PublishedFactory(
            lead_ru="Главное в одном абзаце.", body_ru="<p>Подробности заседания.</p>"
        )
        main = page(client, release.get_absolute_url("ru")).find("main")
        assert main.find("p", class_="release-lead").text == "Главное в одном абзаце."
        assert main.text.count("Главное в одном абзаце.") == 1
        # A text that opens with the lead itself does not get it a second time.
        repeated = PublishedFactory(
            lead_ru="Итоги встречи.", body_ru="<p>Итоги встречи.</p><p>Ещё.</p>"
        )
        main = page(client, repeated.get_absolute_url("ru")).find("main")
        assert main.find("p", class_="release-lead") is None
        assert main.text.count("Итоги встречи.") == 1

    def test_english_detail_uses_english_words_and_dates(self, client, release):
        document = page(client, release.get_absolute_url("en"))
        main = document.find("main")
        assert main.find("time").text == "14 December 2011"
        assert main.find("dl", class_="sources").find("dt").text == "Source"
        assert "Press Service of the CIS Executive Committee" in main.text
        assert main.find("a", href="/en/news/category/migration/").text == "Migration"

    def test_a_russian_name_on_an_english_page_is_marked_russian(self, client, category):
        release = PublishedFactory()
        ReleaseAuthor.objects.create(
            release=release, author=AuthorFactory(name_en="", name_ru="Анна Ковалёва")
        )
        unnamed = CategoryFactory(name_en="", name_ru="Безопасность")
        release.categories.add(unnamed)
        main = page(client, release.get_absolute_url("en")).find("main")
        assert main.find("span", lang="ru").text == "Анна Ковалёва"
        assert main.find("a", lang="ru").text == "Безопасность"

    def test_lead_image_with_caption_and_alt_text(self, client, release, tmp_path, settings):
        from django.core.files.base import ContentFile

        settings.MEDIA_ROOT = tmp_path
        image = demo_image_bytes()
        release.image.save("lead.jpg", ContentFile(image), save=False)
        Release.objects.filter(pk=release.pk).update(
            image=release.image.name,
            image_alt_ru="Подписание плана в Минске",
            image_caption_ru="Подписание плана. Фото пресс-службы",
        )
        figure = page(client, release.get_absolute_url("ru")).find("figure")
        img = figure.find("img")
        assert img.attrs["alt"] == "Подписание плана в Минске"
        assert img.attrs["src"].endswith(".webp")
        assert (img.attrs["width"], img.attrs["height"]) == ("1024", "576")
        assert figure.find("figcaption").text == "Подписание плана. Фото пресс-службы"

    def test_previous_and_next_follow_the_public_order(self, client):
        now = timezone.now()
        older = PublishedFactory(published_at=now - datetime.timedelta(days=3))
        middle = PublishedFactory(published_at=now - datetime.timedelta(days=2))
        DraftFactory()
        ScheduledFactory()
        newest = PublishedFactory(published_at=now - datetime.timedelta(days=1))
        nav = page(client, middle.get_absolute_url("ru")).find("nav", class_="neighbours")
        links = {a.attrs["href"] for a in nav.find_all("a")}
        assert links == {older.get_absolute_url("ru"), newest.get_absolute_url("ru")}
        last = page(client, newest.get_absolute_url("ru")).find("nav", class_="neighbours")
        assert [a.attrs["href"] for a in last.find_all("a")] == [middle.get_absolute_url("ru")]

    def test_neighbours_at_the_same_moment_follow_the_id(self):
        moment = timezone.now() - datetime.timedelta(days=1)
        before = PublishedFactory(published_at=moment - datetime.timedelta(seconds=1))
        first, middle, last = PublishedFactory.create_batch(3, published_at=moment)
        after = PublishedFactory(published_at=moment + datetime.timedelta(seconds=1))
        expected = {
            before.pk: (None, first.pk),
            first.pk: (before.pk, middle.pk),
            middle.pk: (first.pk, last.pk),
            last.pk: (middle.pk, after.pk),
            after.pk: (last.pk, None),
        }
        for pk, (previous, following) in expected.items():
            found = selectors.neighbours(Release.objects.get(pk=pk), "ru")
            shown = (found.get("previous"), found.get("next"))
            assert tuple(r["pk"] if r else None for r in shown) == (previous, following), pk

    def test_neighbours_skip_releases_missing_in_that_language(self, client):
        now = timezone.now()
        first = PublishedFactory(published_at=now - datetime.timedelta(days=3))
        RussianOnlyPublishedFactory(published_at=now - datetime.timedelta(days=2))
        last = PublishedFactory(published_at=now - datetime.timedelta(days=1))
        nav = page(client, last.get_absolute_url("en")).find("nav", class_="neighbours")
        assert [a.attrs["href"] for a in nav.find_all("a")] == [first.get_absolute_url("en")]


class TestRelationsComeWithTheRelease:
    """Categories, authors and sources are read with the releases (prefetched), in
    their own order on every page: categories by Russian name, authors and sources by their
    position, whatever the order in which they were added."""

    @pytest.fixture
    def signed(self):
        release = PublishedFactory(title_ru="Заседание", title_en="Meeting")
        for name_ru, name_en in (
            ("Экономика", "Economy"),
            ("Безопасность", ""),
            ("Культура", "Culture"),
        ):
            release.categories.add(CategoryFactory(name_ru=name_ru, name_en=name_en))
        for position, name_ru, name_en in (
            (2, "Третий", "Third"),
            (0, "Первый", ""),
            (1, "Второй", "Second"),
        ):
            ReleaseAuthor.objects.create(
                release=release,
                author=AuthorFactory(name_ru=name_ru, name_en=name_en, position_ru="советник"),
                position=position,
            )
        SourceFactory(
            release=release,
            kind=SourceKind.RELATED,
            position=2,
            url="https://e.example/c",
            label_ru="В",
            label_en="",
        )
        SourceFactory(
            release=release, kind=SourceKind.ORIGINAL, position=0, url="https://cis.minsk.by/news/9"
        )
        SourceFactory(
            release=release,
            kind=SourceKind.RELATED,
            position=1,
            url="https://e.example/b",
            label_ru="Б",
            label_en="B",
        )
        return release

    def test_on_the_release_page(self, client, signed):
        russian = page(client, signed.get_absolute_url("ru"))
        links = russian.find("p", class_="release-categories").find_all("a")
        assert [a.text for a in links] == ["Безопасность", "Культура", "Экономика"]
        signature = [p.text for p in russian.find("div", class_="signature").find_all("p")]
        assert signature == ["Первый, советник", "Второй, советник", "Третий, советник"]
        sources = [a.attrs["href"] for a in russian.find("dl", class_="sources").find_all("a")]
        assert sources == [
            "https://cis.minsk.by/news/9",
            "https://e.example/b",
            "https://e.example/c",
        ]
        english = page(client, signed.get_absolute_url("en"))
        links = english.find("p", class_="release-categories").find_all("a")
        assert [(a.text, a.attrs.get("lang")) for a in links] == [
            ("Безопасность", "ru"),
            ("Culture", None),
            ("Economy", None),
        ]
        related = [a.text for a in english.find("dl", class_="sources").find_all("a")][1:]
        assert related == ["B", "https://e.example/c"]  # no English label: the address

    def test_on_the_list_and_in_the_feed(self, client, signed):
        card = page(client, "/ru/news/").find("p", class_="card-meta")
        assert [a.text for a in card.find_all("a")] == ["Безопасность", "Культура", "Экономика"]
        feed = client.get("/ru/news/rss/").content.decode()
        assert re.findall(r"<category[^>]*>([^<]+)</category>", feed) == [
            "Безопасность",
            "Культура",
            "Экономика",
        ]
        assert re.findall(r"<dc:creator>([^<]+)</dc:creator>", feed) == [
            "Первый",
            "Второй",
            "Третий",
        ]

    def test_a_release_without_any(self, client):
        bare = PublishedFactory()
        document = page(client, bare.get_absolute_url("ru"))
        assert document.find("p", class_="release-categories") is None
        assert document.find("div", class_="signature") is None
        assert document.find("dl", class_="sources") is None


class TestArchivesAndCategories:
    def test_year_archive_lists_its_months(self, client, release):
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2011, 3, 2, 12)))
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2012, 1, 5, 12)))
        main = page(client, "/ru/news/archive/2011/").find("main")
        months = main.find("nav", class_="months")
        assert [a.text for a in months.find_all("a")] == ["Март 2011", "Декабрь 2011"]
        assert len(main.find_all("article")) == 2
        assert [a.text for a in page(client, "/en/news/archive/2011/").find(
            "nav", class_="months").find_all("a")] == ["March 2011", "December 2011"]  # fmt: skip

    def test_the_archive_lists_every_month_by_year(self, client, release):
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2012, 1, 5, 12)))
        DraftFactory()
        main = page(client, "/ru/news/archive/").find("main")
        assert main.find("h1").text == "Архив новостей"
        assert [h.text for h in main.find_all("h2")] == ["2012", "2011"]
        assert [a.text for a in main.find_all("a")] == [
            "2012",
            "Январь 2012",
            "2011",
            "Декабрь 2011",
        ]
        assert page(client, "/ru/news/").find("a", href="/ru/news/archive/") is not None

    def test_date_archives_link_the_months_and_years_around_them(self, client, release):
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2011, 10, 3, 12)))
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2012, 2, 1, 12)))
        ScheduledFactory()  # a future month is no neighbour yet
        links = page(client, "/ru/news/archive/2011/12/").find("nav", class_="archive-neighbours")
        assert [(a.attrs["class"], a.attrs["href"]) for a in links.find_all("a")] == [
            ("newer", "/ru/news/archive/2012/2/"),
            ("older", "/ru/news/archive/2011/10/"),
        ]
        years = page(client, "/en/news/archive/2012/").find("nav", class_="archive-neighbours")
        assert [a.attrs["href"] for a in years.find_all("a")] == ["/en/news/archive/2011/"]

    def test_month_archive_lists_that_month_only(self, client, release):
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2011, 11, 30, 23)))
        main = page(client, "/ru/news/archive/2011/12/").find("main")
        assert [a.text for a in main.find_all("h2")] == [release.title_ru]
        assert main.find("h1").text == "Архив новостей: декабрь 2011"

    def test_months_follow_the_press_service_time_zone(self, client):
        # 23:30 in Minsk on 31 January is still January there, though February in UTC+4.
        release = PublishedFactory(
            published_at=timezone.make_aware(datetime.datetime(2012, 1, 31, 23, 30))
        )
        assert release.title_ru in main_text(page(client, "/ru/news/archive/2012/1/"))
        assert client.get("/ru/news/archive/2012/2/").status_code == 404

    @pytest.mark.parametrize(
        "url", ["/ru/news/archive/2010/", "/ru/news/archive/2011/13/", "/ru/news/archive/2011/0/",
                "/ru/news/archive/0/", "/ru/news/archive/99999/", "/ru/news/archive/2011/11/"]
    )  # fmt: skip
    def test_empty_or_impossible_archives_are_404(self, client, release, url):
        assert client.get(url).status_code == 404

    def test_category_lists_only_its_releases(self, client, release):
        other = PublishedFactory()
        main = page(client, "/ru/news/category/migration/").find("main")
        assert main.find("h1").text == "Миграция"
        assert release.title_ru in main.text
        assert other.title_ru not in main.text

    def test_unknown_category_is_404(self, client):
        assert client.get("/ru/news/category/nothing-here/").status_code == 404

    def test_sidebar_lists_categories_and_years_that_have_public_releases(self, client, release):
        CategoryFactory(name_ru="Пустая", slug="empty")
        sidebar = page(client, "/ru/news/").find("aside")
        assert [a.text for a in sidebar.find_all("a")] == ["Миграция", "2011"]


class TestLanguageSwitch:
    def switch(self, document: Element) -> Element:
        return document.find("nav", class_="language-switch").find("a")

    def test_release_switches_to_the_same_release(self, client, release):
        link = self.switch(page(client, release.get_absolute_url("ru")))
        assert link.attrs["href"] == release.get_absolute_url("en")
        assert (link.attrs["lang"], link.attrs["hreflang"], link.text) == ("en", "en", "English")
        back = self.switch(page(client, release.get_absolute_url("en")))
        assert back.attrs["href"] == release.get_absolute_url("ru")
        assert back.text == "Русский"

    def test_the_language_roots_lead_to_their_news(self, client):
        for language in ("ru", "en"):
            response = client.get(f"/{language}/")
            assert response.status_code == 301
            assert response["Location"] == f"/{language}/news/"

    def test_release_without_english_switches_to_the_english_list(self, client):
        release = RussianOnlyPublishedFactory()
        document = page(client, release.get_absolute_url("ru"))
        assert self.switch(document).attrs["href"] == "/en/news/"
        note = document.find("span", class_="switch-note")
        assert note.text == "No English version of this page: the English news list"
        assert note.attrs["lang"] == "en"
        both = PublishedFactory()
        assert page(client, both.get_absolute_url("ru")).find("span", class_="switch-note") is None

    def test_lists_switch_to_the_same_list(self, client, release):
        assert self.switch(page(client, "/ru/news/")).attrs["href"] == "/en/news/"
        category = "/ru/news/category/migration/"
        assert self.switch(page(client, category)).attrs["href"] == "/en/news/category/migration/"
        search = self.switch(page(client, "/ru/news/search/?q=миграция"))
        assert (
            search.attrs["href"]
            == "/en/news/search/?q=%D0%BC%D0%B8%D0%B3%D1%80%D0%B0%D1%86%D0%B8%D1%8F"
        )

    def test_a_month_inside_a_russian_sentence_is_in_lower_case(self, client):
        PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2025, 9, 3, 12)))
        russian = page(client, "/ru/news/archive/2025/9/")
        assert russian.find("h1").text == "Архив новостей: сентябрь 2025"
        assert russian.find("title").text.startswith("Архив новостей: сентябрь 2025")
        year = page(client, "/ru/news/archive/2025/").find("nav", class_="months")
        assert [a.text for a in year.find_all("a")] == ["Сентябрь 2025"]  # a link stands alone
        english = page(client, "/en/news/archive/2025/9/")
        assert english.find("h1").text == "News archive: September 2025"

    def test_date_archives_switch_to_the_same_period_where_it_has_releases(self, client):
        """A year or month shown in both languages switches to itself; one the other
        language has nothing in switches to that language's news, saying so."""
        moment = timezone.make_aware(datetime.datetime(2025, 3, 31, 23, 30))  # the last hour
        PublishedFactory(published_at=moment)
        RussianOnlyPublishedFactory(published_at=moment.replace(month=5, day=10))
        for language, other in (("ru", "en"), ("en", "ru")):
            for url in ("2025/", "2025/3/"):
                document = page(client, f"/{language}/news/archive/{url}")
                link = self.switch(document)
                assert link.attrs["href"] == f"/{other}/news/archive/{url}"
                assert document.find("span", class_="switch-note") is None
        document = page(client, "/ru/news/archive/2025/5/")
        assert self.switch(document).attrs["href"] == "/en/news/"
        assert document.find("span", class_="switch-note") is not None
        assert client.get("/en/news/archive/2025/5/").status_code == 404

    @pytest.mark.parametrize(
        "accept, expected",
        [("en-GB,en;q=0.9", "/en/news/"), ("ru-RU,ru;q=0.9,en;q=0.5", "/ru/news/"),
         ("de-DE,fr;q=0.8", "/ru/news/"), ("", "/ru/news/")],
    )  # fmt: skip
    def test_root_follows_accept_language_russian_by_default(self, client, accept, expected):
        response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
        assert response.status_code == 302
        assert response["Location"] == expected
        assert "Accept-Language" in response["Vary"]


class TestRedirectsAndErrors:
    def test_short_url_and_stale_slug_redirect_permanently(self, client, release):
        canonical = release.get_absolute_url("ru")
        for url in (f"/ru/news/{release.pk}/", f"/ru/news/{release.pk}/old-slug/"):
            response = client.get(url)
            assert response.status_code == 301
            assert response["Location"] == canonical
        assert client.get(f"/en/news/{release.pk}/")["Location"] == release.get_absolute_url("en")

    def test_unknown_id_is_404(self, client, release):
        assert client.get(f"/ru/news/{release.pk + 1000}/").status_code == 404
        assert client.get(f"/ru/news/{release.pk + 1000}/some-slug/").status_code == 404

    def test_unpublished_release_is_gone_with_its_reason(self, client):
        release = UnpublishedFactory()
        for language in ("ru", "en"):
            for url in (release.get_absolute_url(language), f"/{language}/news/{release.pk}/"):
                response = client.get(url)
                assert response.status_code == 410, url
                document = parse(response.content)
                assert "Опубликовано по ошибке" in document.find("div", class_="notice").text
                assert document.find("meta", name="robots").attrs["content"] == "noindex"
                assert release.title_ru not in document.find("main").text

    def test_unpublished_release_in_a_language_it_never_had_is_404(self, client):
        release = RussianOnlyPublishedFactory()
        workflow.unpublish(release, by=None, reason="Ошибка")
        assert client.get(release.get_absolute_url("ru")).status_code == 410
        assert client.get(release.get_absolute_url("en")).status_code == 404

    def test_legacy_address_redirects_to_the_imported_release(self, client, release):
        for url in ("/news/437", "/news/437/", "/news/0437"):
            response = client.get(url)
            assert response.status_code == 301, url
            assert response["Location"] == release.get_absolute_url("ru")

    @pytest.mark.parametrize(
        "original", ["http://cis.minsk.by/news/52", "https://cis.minsk.by/news/52/"]
    )
    def test_legacy_address_accepts_http_and_a_trailing_slash(self, client, original):
        release = PublishedFactory()
        SourceFactory(release=release, url=original)
        assert client.get("/news/52")["Location"] == release.get_absolute_url("ru")

    def test_legacy_address_of_an_english_only_public_version(self, client):
        release = PublishedFactory()
        SourceFactory(release=release, url="https://cis.minsk.by/news/9")
        Release.objects.filter(pk=release.pk).update(title_ru="", body_ru="")
        assert client.get("/news/9")["Location"] == release.get_absolute_url("en")

    def test_legacy_address_without_a_public_release_is_404(self, client, release):
        SourceFactory(release=DraftFactory(), url="https://cis.minsk.by/news/500")
        SourceFactory(release=WithdrawnFactory(), url="https://cis.minsk.by/news/501")
        related = PublishedFactory()
        SourceFactory(release=related, url="https://cis.minsk.by/news/502", kind=SourceKind.RELATED)
        SourceFactory(release=PublishedFactory(), url="https://other.example/news/503")
        for number in (500, 501, 502, 503, 999):
            assert client.get(f"/news/{number}").status_code == 404, number

    def test_legacy_host_is_a_setting(self, client):
        release = PublishedFactory()
        SourceFactory(release=release, url="https://old.example.org/news/7")
        assert client.get("/news/7").status_code == 404
        with override_settings(LEGACY_HOST="old.example.org"):
            invalidate()
            assert client.get("/news/7")["Location"] == release.get_absolute_url("ru")


def demo_image_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (18, 58, 107)).save(buffer, "JPEG")
    return buffer.getvalue()


def public_surfaces(language: str) -> list[str]:
    return [
        f"/{language}/news/",
        f"/{language}/news/archive/{timezone.localdate().year}/",
        f"/{language}/news/category/migration/",
        f"/{language}/news/search/?q=" + ("невидимый" if language == "ru" else "invisible"),
        "/sitemap-releases.xml",
    ]


class TestThePublicRuleOnEveryPage:
    """A draft, a release in review, a scheduled one, a withdrawn or unpublished one and a
    missing English version appear on no public page, and their own pages answer 404 (a
    withdrawn one keeps its page with a notice, an unpublished one answers 410)."""

    def hidden_releases(self, category):
        made = {
            "draft": DraftFactory(),
            "scheduled": ScheduledFactory(),
            "withdrawn": WithdrawnFactory(),
            "unpublished": UnpublishedFactory(),
        }
        from tests.factories import ReviewFactory

        made["review"] = ReviewFactory()
        for release in made.values():
            Release.objects.filter(pk=release.pk).update(
                title_ru=release.title_ru + " невидимый", title_en=release.title_en + " invisible"
            )
            release.refresh_from_db()
            release.categories.add(category)
        return made

    @pytest.mark.parametrize("language", ["ru", "en"])
    def test_non_public_releases_appear_nowhere(self, client, category, language):
        visible = PublishedFactory(title_ru="Видимый невидимый", title_en="Visible invisible")
        visible.categories.add(category)
        hidden = self.hidden_releases(category)
        for url in public_surfaces(language):
            content = client.get(url).content.decode()
            assert f"/news/{visible.pk}/" in content, url
            for state, release in hidden.items():
                assert f"/news/{release.pk}/" not in content, (url, state)
                assert release.title(language) not in content, (url, state)
        for state, release in hidden.items():
            expected = {"withdrawn": 200, "unpublished": 410}.get(state, 404)
            assert client.get(release.get_absolute_url(language)).status_code == expected

    def test_a_missing_english_version_appears_on_no_english_page(self, client, category):
        release = RussianOnlyPublishedFactory(title_ru="Только по-русски невидимый")
        release.categories.add(category)
        PublishedFactory(title_en="Anchor invisible").categories.add(category)
        for url in public_surfaces("en")[:-1]:
            assert f"/news/{release.pk}/" not in client.get(url).content.decode(), url
        assert client.get(release.get_absolute_url("en")).status_code == 404
        assert release.title_ru in client.get("/ru/news/").content.decode()

    def test_a_scheduled_release_appears_when_its_time_comes(self, client):
        from freezegun import freeze_time

        release = ScheduledFactory()
        assert client.get(release.get_absolute_url("ru")).status_code == 404
        with freeze_time(release.published_at + datetime.timedelta(seconds=1)):
            assert client.get(release.get_absolute_url("ru")).status_code == 200
            assert release.title_ru in client.get("/ru/news/").content.decode()


class TestMarkup:
    def test_landmarks_skip_link_and_one_h1(self, client, release):
        for url in ("/ru/news/", release.get_absolute_url("en"), "/ru/news/search/?q=x"):
            document = page(client, url)
            body = document.find("body")
            skip = body.children[0]
            assert (skip.tag, skip.attrs["href"]) == ("a", "#content")
            assert document.find("main").attrs["id"] == "content"
            assert document.find("header") and document.find("footer") and document.find("nav")
            assert len(document.find_all("h1")) == 1

    def test_pages_run_no_inline_code(self, client, release):
        for url in ("/ru/news/", release.get_absolute_url("ru"), "/en/news/search/?q=council"):
            html = client.get(url).content.decode()
            assert executable_parts(html) == [], url
            assert inline_style_attributes(html) == [], url
            assert "<style" not in html

    def test_feed_autodiscovery_on_every_page_and_per_category(self, client, release):
        document = page(client, "/en/news/")
        feeds = {
            link.attrs["type"]: link.attrs["href"]
            for link in document.find_all("link", rel="alternate")
            if "type" in link.attrs
        }
        assert feeds == {
            "application/rss+xml": "/en/news/rss/",
            "application/atom+xml": "/en/news/atom/",
            "application/feed+json": "/en/news/feed.json",
        }
        category = page(client, "/ru/news/category/migration/")
        hrefs = [link.attrs["href"] for link in category.find_all("link", rel="alternate")]
        assert "/ru/news/category/migration/rss/" in hrefs
        assert "/ru/news/category/migration/atom/" in hrefs

    def test_body_html_is_rendered_and_titles_are_escaped(self, client):
        release = PublishedFactory(title_ru="Заседание <b>важное</b> & нужное")
        html = client.get(release.get_absolute_url("ru")).content.decode()
        assert "Заседание &lt;b&gt;важное&lt;/b&gt; &amp; нужное" in html
        assert "<p>Обсуждены вопросы миграции.</p>" in html


class TestPreviewContract:
    """news/preview.py renders release_detail.html with detail_context(preview=True)."""

    def test_a_draft_renders_as_a_noindex_preview_without_neighbours(self, rf):
        PublishedFactory()
        draft = DraftFactory(title_ru="Черновик для предпросмотра")
        context = views.detail_context(draft, "ru", preview=True)
        request = rf.get("/ru/news/preview/x/")
        html = render_to_string("news/release_detail.html", context, request=request)
        document = parse(html)
        banner = document.find("div", class_="preview-banner")
        assert "Preview" in banner.text and "Предпросмотр" in banner.text
        assert document.find("meta", name="robots").attrs["content"] == "noindex"
        assert document.find("nav", class_="neighbours") is None
        assert document.find("h1").text == "Черновик для предпросмотра"
        assert 'type="application/ld+json"' not in html
        switch = document.find("nav", class_="language-switch").find("a")
        assert "/en/news/preview/" in switch.attrs["href"]

    def test_a_public_page_is_not_a_preview(self, client, release):
        document = page(client, release.get_absolute_url("ru"))
        assert document.find("div", class_="preview-banner") is None
        assert document.find("meta", name="robots") is None


# A page deep enough for PostgreSQL to skip rows by the index (page 6).
DEEP_OFFSET = 5 * views.PER_PAGE


def seed(count: int) -> None:
    demo.seed(count, with_images=False)
    assert Release.objects.published("ru").count() >= min(count // 2, 20)


# Query budget of each page: (first page after the cache was emptied, a page after a
# publication). The first also reads what the whole cache generation shares: the next
# scheduled publication (1) and the sidebar's categories and years (2), and renders the
# release fragments (a card's categories: 1; a release's categories, authors, sources,
# documents and photos: 5).
# After a publication the fragments are still there (`news.cache.fragments`).
BUDGETS = {
    # The page's fragment keys; with an empty cache also the rows and categories of its cards.
    "list": (6, 1),
    "list_en": (6, 1),
    "page2": (6, 1),
    "deep": (6, 1),
    # The release and its two neighbours; its fragment also reads its documents and photos (2).
    "detail": (11, 3),
    "detail_en": (11, 3),
    # An empty-year check, its months, the page, the previous and next year, and whether the
    # other language has the year (the language switch).
    "year": (11, 6),
    "month": (11, 6),  # the same for a month
    "category": (7, 2),  # the category and the page
    "search": (5, 1),  # the ranked hits (their categories are kept with the cards' data)
    "sitemap": (4, 3),  # the index: the releases' count and latest change, the categories
    "sitemap_page": (3, 2),  # a page of releases: their count, the page's rows
    "short": (2, 1),
}


def budget_urls() -> dict[str, str]:
    release = Release.objects.published("en").order_by("-published_at").first()
    month = timezone.localtime(release.published_at)
    return {
        "list": "/ru/news/",
        "list_en": "/en/news/",
        "page2": "/ru/news/?page=2",
        "deep": f"/ru/news/?page={DEEP_OFFSET // views.PER_PAGE + 1}",
        "detail": release.get_absolute_url("ru"),
        "detail_en": release.get_absolute_url("en"),
        "year": f"/ru/news/archive/{month.year}/",
        "month": f"/ru/news/archive/{month.year}/{month.month}/",
        "category": "/ru/news/category/migration/",
        "search": "/ru/news/search/?q=" + "сотрудничество",
        "sitemap": "/sitemap.xml",
        "sitemap_page": "/sitemap-releases.xml",
        "short": f"/ru/news/{release.pk}/",
    }


@pytest.mark.parametrize("count", [10, 200])
def test_query_counts_do_not_grow_with_the_archive(client, count, django_assert_num_queries):
    seed(count)
    if count == 10:  # the smaller archive needs a second and a deep page too
        PublishedFactory.create_batch(DEEP_OFFSET + 1)
    for name, url in budget_urls().items():
        first, other = BUDGETS[name]
        language = "en" if "/en/" in url else "ru"
        cache.clear()
        connection.queries_log.clear()
        with django_assert_num_queries(first):
            assert client.get(url).status_code in (200, 301), url
        invalidate()
        client.get(f"/{language}/news/search/")  # another page of the new generation first
        with django_assert_num_queries(other):
            assert client.get(url).status_code in (200, 301), url
        with django_assert_num_queries(0):
            assert client.get(url).status_code in (200, 301), url


def test_release_links_refuse_what_the_url_converters_refuse(release):
    """Links come from reverse(): an empty slug or a negative id is an error, never a link
    such as /en/news/5//."""
    assert views.card(release, "en")["url"] == f"/en/news/{release.pk}/{release.slug}/"
    for pk, slug in ((release.pk, ""), (-1, "x"), (release.pk, "не-латиница")):
        with pytest.raises(NoReverseMatch):
            views.card(Release(pk=pk, slug=slug, title_en="T", body_en="B"), "en")


def test_a_category_page_lists_its_own_releases_whatever_its_id(client):
    """Page 2 of a category whose id equals the page's offset shows exactly the category's
    releases 21 to 40, newest first, and page 3 the rest."""
    category = CategoryFactory(pk=views.PER_PAGE)
    now = timezone.now()
    mine = [PublishedFactory(published_at=now - datetime.timedelta(hours=n)) for n in range(1, 46)]
    category.releases.add(*mine)
    PublishedFactory.create_batch(5)

    def shown(number: int) -> list[str]:
        document = page(client, f"/ru/news/category/{category.slug}/?page={number}")
        return [h.find("a").attrs["href"] for h in document.find_all("h2", class_="card-title")]

    assert shown(2) == [r.get_absolute_url("ru") for r in mine[20:40]]
    assert shown(3) == [r.get_absolute_url("ru") for r in mine[40:]]


def test_deep_pages_show_the_public_order(client):
    PublishedFactory.create_batch(DEEP_OFFSET + 25)
    DraftFactory()
    ScheduledFactory()
    order = list(
        Release.objects.published("ru")
        .order_by("-published_at", "-id")
        .values_list("pk", flat=True)
    )
    number = DEEP_OFFSET // views.PER_PAGE + 1
    hrefs = [a.attrs["href"] for a in page(client, f"/ru/news/?page={number}").find_all("a")]
    shown = [
        int(m.group(1)) for href in hrefs if (m := re.fullmatch(r"/ru/news/(\d+)/[^/]+/", href))
    ]
    assert shown == order[DEEP_OFFSET : DEEP_OFFSET + views.PER_PAGE]
    assert client.get(f"/ru/news/?page={number + 1}").status_code == 200
    assert client.get(f"/ru/news/?page={number + 2}").status_code == 404


@override_settings(PAGE_CACHE_SECONDS=0)
def test_with_the_page_cache_off_the_navigation_is_read_once_per_generation(
    client, release, django_assert_num_queries
):
    client.get("/ru/news/")
    with django_assert_num_queries(1):  # the releases with their categories
        assert client.get("/ru/news/").status_code == 200
    invalidate()
    with django_assert_num_queries(4):  # and the schedule and sidebar of the new generation
        assert client.get("/ru/news/").status_code == 200


def test_stale_slug_costs_one_query_and_no_prefetches(client, release, django_assert_num_queries):
    client.get("/ru/news/")  # the generation's shared data is read once
    with django_assert_num_queries(1):
        assert client.get(f"/ru/news/{release.pk}/wrong/").status_code == 301


def test_dates_in_each_language(client):
    PublishedFactory(published_at=timezone.make_aware(datetime.datetime(2011, 5, 1, 9)))
    assert re.search(r">1 мая 2011 г\.<", client.get("/ru/news/").content.decode())
    assert re.search(r">1 May 2011<", client.get("/en/news/").content.decode())


def test_every_interface_string_of_the_public_templates_is_translated():
    """Each `_("...")`, `pgettext(...)` and `{% trans %}` text of the public templates
    (Jinja2: jinja2/base.html, includes/, news/) has a Russian translation in locale/public
    (or Django's own catalogue)."""
    from pathlib import Path

    from django.utils import translation

    root = Path(__file__).resolve().parent.parent / "jinja2"
    files = [
        root / "base.html",
        *sorted((root / "includes").glob("*.html")),
        *sorted((root / "news").glob("*.html")),
    ]
    simple = re.compile(r"""\b_\((["'])(.+?)\1\)""")
    contextual = re.compile(r"""\bpgettext\((["'])(.+?)\1, (["'])(.+?)\3\)""")
    block = re.compile(r"{% trans(?: [^%]*)? %}(.+?){% endtrans %}", re.S)
    missing, found = [], 0
    with translation.override("ru"):
        for path in files:
            source = path.read_text(encoding="utf-8")
            texts = [(None, text) for _quote, text in simple.findall(source)]
            texts += [(context, text) for _q, context, _q2, text in contextual.findall(source)]
            for text in block.findall(source):
                # A {% pluralize %} block's singular is its msgid.
                singular = text.split("{% pluralize %}")[0]
                texts.append((None, re.sub(r"{{ (\w+) }}", r"%(\1)s", singular)))
            for context, text in texts:
                found += 1
                russian = (
                    translation.pgettext(context, text) if context else translation.gettext(text)
                )
                if russian == text:
                    missing.append((path.name, text))
    assert found >= 35, found  # the patterns above still match the templates
    assert missing == []


def test_the_public_templates_are_jinja2_and_the_others_django():
    from django.template import engines
    from django.template.loader import get_template

    jinja2, django = engines["jinja2"], engines["django"]
    for name in ("base.html", "includes/release_cards.html", "news/release_detail.html"):
        assert get_template(name).backend is jinja2, name
    for name in ("404.html", "admin/base_site.html", "news/email/workflow_body.txt"):
        assert get_template(name).backend is django, name
