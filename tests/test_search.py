"""Public search. Every test runs on both backends (CI runs the suite on SQLite and on
PostgreSQL); where the backends differ by design, the test states each one's behaviour:
PostgreSQL stems words (russian/english configurations) and has GIN indexes, the SQLite
fallback stems them with the same Snowball stemmers in Python."""

from __future__ import annotations

import datetime
import importlib
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from news.models import Release
from news.public import search
from tests.factories import (
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    RussianOnlyPublishedFactory,
    ScheduledFactory,
    WithdrawnFactory,
)
from tests.test_public import parse

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def found(client, query: str, language: str = "ru") -> list[str]:
    """Titles on the search page, in order."""
    response = client.get(f"/{language}/news/search/", {"q": query})
    assert response.status_code == 200
    main = parse(response.content).find("main")
    return [h2.text for h2 in main.find_all("h2")]


@pytest.fixture
def migration_release():
    return PublishedFactory(
        title_ru="Совещание экспертов в Минске",
        lead_ru="Эксперты встретились в Минске.",
        body_ru="<p>Эксперты встретились в Минске.</p><p>Обсуждены вопросы миграции населения.</p>",
        title_en="Experts met in Minsk",
        lead_en="Experts met in Minsk.",
        body_en="<p>Experts met in Minsk.</p><p>Questions of migration were discussed.</p>",
    )


class TestWordsAndCase:
    def test_cyrillic_capitals_find_lower_case_text(self, client, migration_release):
        assert found(client, "МИГРАЦИИ") == [migration_release.title_ru]
        assert found(client, "минске") == [migration_release.title_ru]
        assert found(client, "MIGRATION", "en") == [migration_release.title_en]

    def test_sqlite_itself_would_miss_cyrillic_case(self, migration_release):
        """Why the fallback folds case itself: SQLite's LIKE folds ASCII letters only."""
        native = Release.objects.filter(body_ru__icontains="МИГРАЦИИ").exists()
        assert native is POSTGRES

    def test_yo_and_ye_are_the_same_letter(self, client):
        release = PublishedFactory(title_ru="Молодёжный форум", body_ru="<p>Встреча молодёжи.</p>")
        assert found(client, "молодежный") == [release.title_ru]

    def test_russian_word_forms(self, client, migration_release):
        """ "миграционной" (stem "миграцион") finds a release that says only "миграции" (stem
        "миграц"), through its derivational root, on both backends; an unrelated word does not."""
        assert found(client, "миграционной") == [migration_release.title_ru]
        assert found(client, "миграция") == [migration_release.title_ru]
        assert found(client, "экспертами") == [migration_release.title_ru]
        assert found(client, "мигранты") == []
        assert found(client, "минский") == [migration_release.title_ru]
        assert found(client, "экономика") == []

    def test_the_quick_start_finds_word_forms_in_titles(self, client):
        """Issue 14: on the quick-start database "миграция" found nothing among titles that
        say "миграции"."""
        release = PublishedFactory(title_ru="Вопросы трудовой миграции", body_ru="<p>Итоги.</p>")
        assert found(client, "миграция") == [release.title_ru]
        assert found(client, "трудовая") == [release.title_ru]

    def test_the_sample_release_is_found_by_a_word_form(self, client, sample_path):
        from django.core.management import call_command

        call_command(
            "import_releases", str(sample_path), "--published-at", "2011-12-14T15:00", verbosity=0
        )
        title = "Исполнительный комитет СНГ и Администрация МОМ договорились о сотрудничестве"
        hits = found(client, "миграционной политики")
        assert len(hits) == 1 and hits[0].startswith(title)
        assert found(client, "сотрудничества")[0].startswith(title)

    def test_english_stemming(self, client, migration_release):
        assert found(client, "migrations discussing", "en") == [migration_release.title_en]
        assert found(client, "migrants", "en") == []

    def test_all_words_must_match(self, client, migration_release):
        other = PublishedFactory(title_ru="Совещание в Бишкеке", body_ru="<p>Миграции нет.</p>")
        assert set(found(client, "совещание")) == {migration_release.title_ru, other.title_ru}
        assert found(client, "совещание минске") == [migration_release.title_ru]

    def test_title_ranks_above_lead_above_body(self, client):
        body = PublishedFactory(
            title_ru="Заседание", lead_ru="Встреча.", body_ru="<p>Транзит грузов.</p>"
        )
        lead = PublishedFactory(title_ru="Совещание", lead_ru="Транзит.", body_ru="<p>Итоги.</p>")
        title = PublishedFactory(title_ru="Транзит", lead_ru="Итоги.", body_ru="<p>Итоги.</p>")
        assert found(client, "транзит") == [title.title_ru, lead.title_ru, body.title_ru]

    def test_markup_in_the_body_is_not_searched(self, client):
        PublishedFactory(
            body_ru='<p>Текст со <a href="https://example.org/strong">ссылкой</a>.</p>'
        )
        assert found(client, "href") == []
        assert found(client, "strong") == []

    def test_exact_phrase_and_exclusion(self, client, migration_release):
        other = PublishedFactory(title_ru="Эксперты в Минске", body_ru="<p>Транспорт.</p>")
        phrase = found(client, '"вопросы миграции"')
        excluded = found(client, "минске -миграции")
        assert phrase == [migration_release.title_ru]
        assert excluded == [other.title_ru]
        assert set(found(client, "минске")) == {migration_release.title_ru, other.title_ru}


class TestSnippets:
    def test_hits_are_highlighted_and_the_text_escaped(self, client):
        PublishedFactory(
            title_ru="Миграция & <право>",
            lead_ru="Кратко.",
            body_ru="<p>Вводная часть.</p><p>Новые правила миграции &amp; учёта.</p>",
        )
        response = client.get("/ru/news/search/", {"q": "миграции"})
        html = response.content.decode()
        card = parse(html).find("main").find("ol")
        assert card.find("mark") is not None
        assert "миграци" in card.find("p", class_="card-lead").find("mark").text.lower()
        assert "&lt;право&gt;" in html and "<право>" not in html
        assert "<script" not in card.find("p", class_="card-lead").text

    def test_a_snippet_is_bounded(self, client):
        PublishedFactory(body_ru="<p>" + "Слово " * 2000 + "искомое " + "слово " * 2000 + "</p>")
        card = parse(client.get("/ru/news/search/", {"q": "искомое"}).content).find("ol")
        snippet = card.find("p", class_="card-lead")
        assert "искомое" in snippet.text
        assert len(snippet.text) < 600


class TestThePublicRule:
    @pytest.mark.parametrize("language", ["ru", "en"])
    def test_only_public_versions_are_found(self, client, language):
        word = {"ru": "Заседание", "en": "Meeting"}[language]
        public = PublishedFactory()
        DraftFactory()
        ScheduledFactory()
        WithdrawnFactory()
        russian_only = RussianOnlyPublishedFactory()
        hits = found(client, word, language)
        expected = [public.title(language)]
        if language == "ru":
            expected.insert(0, russian_only.title_ru)
        assert hits == expected


ABSURD = [
    "",
    "   ",
    "!!!",
    "—…«»()[]{}<>",
    "%",
    "_",
    "\\",
    "'",
    '"',
    "' OR 1=1 --",
    "'; DROP TABLE news_release; --",
    "SELECT * FROM auth_user",
    "a:* & !b | (c",
    "<script>alert(1)</script>",
    "заседание" * 1200,
    "x " * 5000,
    "\x00\x01\x02",
    "or or or",
    "- - -",
    '"unterminated',
]


class TestAbsurdQueries:
    @pytest.mark.parametrize("query", ABSURD, ids=range(len(ABSURD)))
    def test_answers_calmly(self, client, query):
        PublishedFactory()
        response = client.get("/ru/news/search/", {"q": query})
        # Control characters in a query string are refused before any view (400, the site's
        # error page): pressservice.middleware.ControlCharactersMiddleware.
        controls = any(ord(ch) < 32 for ch in query)
        assert response.status_code == (400 if controls else 200)
        assert "<script>alert" not in response.content.decode()
        assert Release.objects.count() == 1

    def test_a_10_kb_query_is_cut_to_the_limit_and_says_so(self, client):
        release = PublishedFactory()
        query = "заседание " + "ж" * 10_000
        response = client.get("/ru/news/search/", {"q": query})
        main = parse(response.content).find("main")
        value = main.find("input", id="search-q").attrs["value"]
        assert len(value) <= search.MAX_QUERY_LENGTH
        assert "сокращён" in main.text
        # Cut at a word boundary: the endless second word is dropped, the first one searched.
        assert value == "заседание"
        assert found(client, query) == [release.title_ru]

    def test_punctuation_only_asks_for_a_word(self, client):
        PublishedFactory()
        main = parse(client.get("/en/news/search/", {"q": "?!…"}).content).find("main")
        assert "Enter at least one word or number to search for." in main.text
        assert main.find("ol") is None

    def test_an_empty_query_reads_no_releases(self, client, django_assert_num_queries):
        PublishedFactory()
        client.get("/ru/news/")  # the sidebar of this cache generation is read once
        with django_assert_num_queries(0):
            assert client.get("/ru/news/search/", {"q": "  "}).status_code == 200

    def test_the_number_of_words_is_bounded(self):
        query = search.parse(" ".join(f"слово{n}" for n in range(50)))
        assert len(query.terms) == search.MAX_TERMS

    def test_paging_keeps_the_query(self, client):
        PublishedFactory.create_batch(21)
        main = parse(client.get("/ru/news/search/", {"q": "заседание"}).content).find("main")
        nav = main.find("nav", class_="pagination")
        assert nav.find("a").attrs["href"] == (
            "/ru/news/search/?q=%D0%B7%D0%B0%D1%81%D0%B5%D0%B4%D0%B0%D0%BD%D0%B8%D0%B5&page=2"
        )


class TestIndexes:
    def test_the_migration_stores_exactly_the_documented_vector(self):
        migration = importlib.import_module("news.migrations.0004_release_stored_search_vectors")
        for language in ("ru", "en"):
            assert migration.VECTORS[language] == search.vector_sql(language)

    def test_the_stored_vector_follows_every_write_on_postgresql(self, client):
        """PostgreSQL regenerates `search_<language>` on each save: an edited release is found
        by its new words and no longer by its old ones."""
        release = PublishedFactory(title_ru="Совещание", body_ru="<p>Итоги.</p>")
        assert found(client, "транзит") == []
        release.body_ru = "<p>Транзит грузов.</p>"
        release.save()
        cache.clear()  # the page cache is not what this test is about
        assert found(client, "транзит") == [release.title_ru]
        assert found(client, "итоги") == []
        if POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT search_ru::text FROM news_release WHERE id = %s", [release.pk]
                )
                (vector,) = cursor.fetchone()
            assert "'транз':" in vector and "итог" not in vector

    def test_gin_indexes_exist_only_on_postgresql(self):
        with connection.cursor() as cursor:
            indexes = connection.introspection.get_constraints(cursor, "news_release")
        names = {name for name, info in indexes.items() if info["index"]}
        expected = {"release_search_ru_idx", "release_search_en_idx"} if POSTGRES else set()
        assert names & {"release_search_ru_idx", "release_search_en_idx"} == expected

    @pytest.mark.parametrize("language", ["ru", "en"])
    def test_postgresql_uses_the_index(self, language, migration_release):
        """The search condition is the indexed expression, so PostgreSQL answers it from the GIN
        index (sequential scans off, as the planner would choose on a large table); SQLite has
        no full-text index and compares folded text."""
        query = search.parse("миграции" if language == "ru" else "migration")
        if not POSTGRES:
            assert "press_stems" in str(search.matching(query, language).query)
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            condition = search.tsquery(query, language)
            plan = (
                Release.objects.alias(document=search.document(language))
                .filter(document=condition)
                .explain()
            )
            ranked = search.search(query, language)[:20].explain()
        assert f"release_search_{language}_idx" in plan
        # Matching and ranking read the stored column; no release text is parsed per row (the
        # only to_tsvector left reads the query's own words).
        assert f"search_{language}" in ranked
        assert not re.search(r"to_tsvector\([^()]*\(?[\w.\"]*(title|lead|body)_", ranked)


class TestCounts:
    def test_the_page_says_how_many_releases_match(self, client, migration_release):
        PublishedFactory(title_ru="Миграционная политика", body_ru="<p>Итоги.</p>")
        main = parse(client.get("/ru/news/search/", {"q": "миграция"}).content).find("main")
        assert "найдено 2 пресс-релиза" in main.text
        main = parse(client.get("/en/news/search/", {"q": "minsk"}).content).find("main")
        assert "One release matches" in main.text

    def test_an_empty_result_gives_a_hint(self, client, migration_release):
        migration_release.categories.add(CategoryFactory())
        main = parse(client.get("/ru/news/search/", {"q": "космодром"}).content).find("main")
        assert "ничего не найдено" in main.text
        assert "поищите на другом языке" in main.text
        assert main.find("ol") is None
        # It suggests the archive and the categories instead.
        links = {a.attrs["href"] for a in main.find_all("a")}
        assert "/ru/news/archive/" in links
        categories = {c.get_absolute_url("ru") for c in migration_release.categories.all()}
        assert categories and categories <= links

    def test_ranking_reads_at_most_the_newest_candidates(self, client, monkeypatch):
        monkeypatch.setattr(search, "CANDIDATES", 3)
        moment = timezone.now() - datetime.timedelta(days=1)
        # The oldest has the word in its title: it would rank first on both databases (title
        # above text), were it read. The newer five have it in their text only.
        oldest = PublishedFactory(
            title_ru="Транзит грузов", published_at=moment - datetime.timedelta(hours=1)
        )
        newer = [
            PublishedFactory(
                title_ru=f"Заседание {n}",
                body_ru="<p>Обсуждён транзит грузов.</p>",
                published_at=moment + datetime.timedelta(minutes=n),
            )
            for n in range(5)
        ]
        hits = list(search.search(search.parse("транзит"), "ru"))
        assert len(hits) == 3 and oldest not in hits
        assert {r.pk for r in hits} <= {r.pk for r in newer[-4:]}  # the 3 + 1 newest
        assert search.found(hits) == (3, True)
        main = parse(client.get("/ru/news/search/", {"q": "транзит"}).content).find("main")
        assert "найдено больше 3 пресс-релизов" in main.text
        assert len(main.find("ol").find_all("h2")) == 3
        # Without the bound the oldest would lead: what this test guards.
        monkeypatch.setattr(search, "CANDIDATES", 100)
        assert search.search(search.parse("транзит"), "ru").first() == oldest

    @pytest.mark.parametrize("matches", [1, 3])
    def test_as_many_matches_as_candidates_are_not_called_more(self, client, monkeypatch, matches):
        monkeypatch.setattr(search, "CANDIDATES", 3)
        PublishedFactory.create_batch(matches, title_ru="Транзит грузов")
        PublishedFactory(title_ru="Таможенный союз")
        hits = list(search.search(search.parse("транзит"), "ru"))
        assert len(hits) == matches
        assert search.found(hits) == (matches, False)
        main = parse(client.get("/ru/news/search/", {"q": "транзит"}).content).find("main")
        assert "больше" not in main.text
        assert len(main.find("ol").find_all("h2")) == matches

    def test_a_hits_card_follows_its_release_and_category(
        self, client, migration_release, django_capture_on_commit_callbacks
    ):
        """What a hit's card shows besides the words found is kept by release version: a new
        version of the release or a renamed category shows at once, and the highlight always
        follows the query."""
        category = CategoryFactory(name_ru="Миграция")
        migration_release.categories.add(category)

        def card(query: str):
            main = parse(client.get("/ru/news/search/", {"q": query}).content).find("main")
            return main.find("ol").find("li")

        first = card("Минске")
        assert "Миграция" in first.text
        assert [m.text for m in first.find_all("mark")][:1] == ["Минске"]
        # The same release found by another word: its data from the cache, its marks new.
        again = card("совещание")
        assert "Миграция" in again.text
        assert [m.text for m in again.find_all("mark")][:1] == ["Совещание"]

        category.name_ru = "Миграционная политика"
        with django_capture_on_commit_callbacks(execute=True):
            category.save()
        assert "Миграционная политика" in card("Минске").text

        migration_release.lead_ru = "Эксперты собрались в Минске."
        with django_capture_on_commit_callbacks(execute=True):
            migration_release.save()
        assert "собрались" in card("Минске").text
