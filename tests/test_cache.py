"""The public page cache: warm hits without SQL, conditional GET, invalidation when what the
public sees changes (after the transaction commits), scheduled releases on time, bypass for
signed-in staff."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.http import http_date
from freezegun import freeze_time

from news import workflow
from news.cache import fragments, receivers
from news.cache import pages as page_cache
from news.models import Release, ReleaseAuthor, ReleaseSource, SourceKind
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ScheduledFactory,
    UserFactory,
)
from tests.test_public import demo_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def release():
    return PublishedFactory(title_ru="Первоначальный заголовок", title_en="Original title")


def text(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def test_a_cold_page_after_a_publication_reuses_the_fragments_of_unchanged_releases(
    client, release, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """A publication invalidates whole pages, but the cards and articles of the releases it
    did not touch are kept: a cold release page reads just the release and its neighbours,
    not its categories, signatures and sources again."""
    client.get("/ru/news/")
    client.get(release.get_absolute_url("ru"))
    with django_capture_on_commit_callbacks(execute=True):
        other = PublishedFactory(title_ru="Новый релиз")
    client.get("/ru/news/search/")  # the new generation's sidebar and schedule
    # The page's fragment keys; the new card's row and categories.
    with django_assert_num_queries(3):
        assert "Новый релиз" in text(client, "/ru/news/")
    settings.PAGE_CACHE_SECONDS = 0  # the release page is built at each request from here on
    with django_assert_num_queries(3):  # the release and its two neighbours
        page = text(client, release.get_absolute_url("ru"))
    assert "Первоначальный заголовок" in page
    assert other.get_absolute_url("ru") in page  # the new neighbour link
    with django_assert_num_queries(1):  # the neighbours are kept for the generation
        assert text(client, release.get_absolute_url("ru")) == page


class TestFragments:
    """What a kept card or article shows changes as soon as what it shows changes."""

    def test_an_edit_of_the_release_shows_at_once(
        self, client, release, django_capture_on_commit_callbacks
    ):
        assert "Первоначальный заголовок" in text(client, release.get_absolute_url("ru"))
        with django_capture_on_commit_callbacks(execute=True):
            release.title_ru = "Исправленный заголовок"
            release.save()
        assert "Исправленный заголовок" in text(client, release.get_absolute_url("ru"))
        assert "Исправленный заголовок" in text(client, "/ru/news/")

    def test_a_renamed_category_shows_in_cards_and_articles(
        self, client, release, django_capture_on_commit_callbacks
    ):
        category = CategoryFactory(name_ru="Старая рубрика")
        with django_capture_on_commit_callbacks(execute=True):
            release.categories.add(category)
        assert "Старая рубрика" in text(client, "/ru/news/")
        assert "Старая рубрика" in text(client, release.get_absolute_url("ru"))
        with django_capture_on_commit_callbacks(execute=True):
            category.name_ru = "Новая рубрика"
            category.save()
        for url in ("/ru/news/", release.get_absolute_url("ru")):
            page = text(client, url)
            assert "Новая рубрика" in page and "Старая рубрика" not in page, url

    def test_a_renamed_signature_shows_on_the_release_page(
        self, client, release, django_capture_on_commit_callbacks
    ):
        author = AuthorFactory(name_ru="Пресс-служба")
        with django_capture_on_commit_callbacks(execute=True):
            ReleaseAuthor.objects.create(release=release, author=author, position=0)
        assert "Пресс-служба" in text(client, release.get_absolute_url("ru"))
        with django_capture_on_commit_callbacks(execute=True):
            author.name_ru = "Управление информации"
            author.save()
        assert "Управление информации" in text(client, release.get_absolute_url("ru"))

    def test_a_page_built_while_a_category_is_renamed_is_not_kept_stale(
        self, client, release, monkeypatch, django_capture_on_commit_callbacks
    ):
        """A rename writes two things, a new generation of pages and a new labels token for
        fragments; a visitor who comes in between them must not leave a page with the old
        name under the new generation."""
        category = CategoryFactory(name_ru="Старая рубрика")
        with django_capture_on_commit_callbacks(execute=True):
            release.categories.add(category)
        assert "Старая рубрика" in text(client, "/ru/news/")
        writes = []

        def visiting_after(write):
            def run():
                write()
                writes.append(write)
                if len(writes) == 1:
                    client.get("/ru/news/")

            return run

        monkeypatch.setattr(receivers.cache, "invalidate", visiting_after(page_cache.invalidate))
        monkeypatch.setattr(
            receivers.fragments,
            "invalidate_labels",
            visiting_after(receivers.fragments.invalidate_labels),
        )
        with django_capture_on_commit_callbacks(execute=True):
            category.name_ru = "Новая рубрика"
            category.save()
        assert len(writes) == 2
        page = text(client, "/ru/news/")
        assert "Новая рубрика" in page and "Старая рубрика" not in page

    def test_a_new_site_url_shows_in_kept_fragments(self, client, release, settings):
        """Fragments hold absolute URLs (the feed's links, the page's canonical head): a
        deployment under another address must not serve the old one for a week."""
        settings.SITE_URL = "https://old.example.org"
        assert "https://old.example.org/ru/news/" in text(client, "/ru/news/rss/")
        assert "https://old.example.org" in text(client, release.get_absolute_url("ru"))
        page_cache.invalidate()  # a deployment starts with new pages
        settings.SITE_URL = "https://press.example.org"
        for url in ("/ru/news/rss/", release.get_absolute_url("ru")):
            page = text(client, url)
            assert "https://press.example.org" in page and "old.example.org" not in page, url

    def test_a_new_media_address_shows_in_kept_pages(self, client, settings, tmp_path):
        """The lead image's URLs are kept too (renditions, fragments): media moved to
        another host (a CDN, an S3 custom domain) show there at once."""
        settings.MEDIA_ROOT = tmp_path
        settings.PAGE_CACHE_SECONDS = 0
        release = PublishedFactory(title_ru="Релиз с фотографией")
        release.image.save("lead.jpg", ContentFile(demo_image_bytes()), save=False)
        Release.objects.filter(pk=release.pk).update(image=release.image.name)
        for url in ("/ru/news/", release.get_absolute_url("ru")):
            assert 'src="/media/CACHE/' in text(client, url), url
        settings.MEDIA_URL = "https://media.example.org/media/"
        for url in ("/ru/news/", release.get_absolute_url("ru")):
            page = text(client, url)
            assert 'src="https://media.example.org/media/CACHE/' in page, url
            assert 'src="/media/' not in page, url

    def test_an_image_the_storage_did_not_give_is_tried_again(self, client, settings, tmp_path):
        """A lead image the storage fails to give leaves the card and the article without it
        for a few minutes, not for the week that fragments are kept."""
        settings.MEDIA_ROOT = tmp_path
        settings.PAGE_CACHE_SECONDS = 0
        release = PublishedFactory(title_ru="Релиз с фотографией")
        release.image.save("lead.jpg", ContentFile(demo_image_bytes()), save=False)
        Release.objects.filter(pk=release.pk).update(image=release.image.name)
        source = tmp_path / release.image.name
        away = source.rename(tmp_path / "away.jpg")  # the storage does not answer
        urls = ("/ru/news/", release.get_absolute_url("ru"), "/ru/news/rss/")
        with freeze_time() as frozen:
            for url in urls:
                assert ".webp" not in text(client, url), url
            away.rename(source)
            frozen.tick(fragments.PROVISIONAL_SECONDS - 1)
            assert ".webp" not in text(client, "/ru/news/")
            frozen.tick(2)
            for url in urls:
                assert ".webp" in text(client, url), url


class TestWarmHits:
    def test_a_second_visit_runs_no_sql_and_gets_the_same_page(
        self, client, release, django_assert_num_queries
    ):
        first = client.get("/ru/news/")
        with django_assert_num_queries(0):
            second = client.get("/ru/news/")
        assert second.content == first.content
        assert second["ETag"] == first["ETag"]
        assert second["Last-Modified"] == first["Last-Modified"]
        assert second["Content-Type"] == "text/html; charset=utf-8"
        cache_control = {part.strip() for part in second["Cache-Control"].split(",")}
        assert cache_control == {"public", "max-age=0", "must-revalidate"}

    def test_languages_are_cached_apart(self, client, release):
        assert "Первоначальный заголовок" in text(client, "/ru/news/")
        english = text(client, "/en/news/")
        assert "Original title" in english and "Первоначальный заголовок" not in english

    def test_query_string_order_does_not_matter(self, client, django_assert_num_queries):
        PublishedFactory.create_batch(21)
        client.get("/ru/news/search/?q=заседание&page=2")
        with django_assert_num_queries(0):
            assert client.get("/ru/news/search/?page=2&q=заседание").status_code == 200

    @pytest.mark.parametrize(
        "query",
        [
            "utm_source=" + "x" * 400,  # a parameter no page reads
            "page=1&page=2",  # one the page reads, twice
            "page=2&z=X&page=1",
            "q=" + "а" * 250,  # longer than any value a page reads
        ],
    )
    def test_junk_parameters_are_served_but_never_stored(
        self, client, query, django_assert_max_num_queries
    ):
        PublishedFactory.create_batch(21)
        for _ in range(3):
            with django_assert_max_num_queries(20) as queries:
                assert client.get(f"/ru/news/?{query}").status_code in (200, 404)
            assert len(queries) > 0
        kept = [key for key in page_cache.cache._cache if ":public:page:" in key]
        assert kept == [], kept

    def test_redirects_and_gone_are_cached_too(self, client, release, django_assert_num_queries):
        short = f"/ru/news/{release.pk}/"
        assert client.get(short).status_code == 301
        with django_assert_num_queries(0):
            assert client.get(short).status_code == 301

    def test_not_found_is_not_cached(self, client):
        assert client.get("/ru/news/category/later/").status_code == 404
        CategoryFactory(slug="later")
        assert client.get("/ru/news/category/later/").status_code == 200

    def test_head_is_answered_from_the_cache(self, client, release, django_assert_num_queries):
        client.get("/ru/news/")
        with django_assert_num_queries(0):
            assert client.head("/ru/news/").status_code == 200

    def test_only_get_and_head(self, client):
        assert client.post("/ru/news/").status_code in (403, 405)


class TestConditionalGet:
    def test_if_none_match_answers_304_without_sql(
        self, client, release, django_assert_num_queries
    ):
        etag = client.get("/ru/news/")["ETag"]
        with django_assert_num_queries(0):
            response = client.get("/ru/news/", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag

    def test_a_changed_page_has_a_new_etag(
        self, client, release, django_capture_on_commit_callbacks
    ):
        etag = client.get("/ru/news/")["ETag"]
        with django_capture_on_commit_callbacks(execute=True):
            PublishedFactory(title_ru="Новый пресс-релиз")
        response = client.get("/ru/news/", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag

    def test_if_modified_since(self, client, release):
        modified = client.get("/ru/news/")["Last-Modified"]
        assert client.get("/ru/news/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
        earlier = http_date(timezone.now().timestamp() - 3600)
        assert client.get("/ru/news/", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200

    def test_release_pages_and_the_sitemap_answer_304(self, client, release):
        for url in (release.get_absolute_url("en"), "/sitemap.xml", "/ru/news/search/?q=x"):
            etag = client.get(url)["ETag"]
            assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, url


class TestInvalidation:
    """Any committed change to what the public sees empties the cache at once."""

    def test_publishing_shows_the_release_at_once(
        self, client, release, editor_user, django_capture_on_commit_callbacks
    ):
        draft = DraftFactory(title_ru="Только что опубликованный")
        assert "Только что опубликованный" not in text(client, "/ru/news/")
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit(draft, by=None)
            workflow.publish(draft, by=editor_user)
        assert "Только что опубликованный" in text(client, "/ru/news/")
        assert client.get(draft.get_absolute_url("ru")).status_code == 200

    def test_nothing_changes_before_the_commit(self, client, release):
        """Without the commit (the test transaction never commits) the cached page stays."""
        assert "Первоначальный заголовок" in text(client, "/ru/news/")
        release.title_ru = "Исправленный заголовок"
        release.save()
        assert "Первоначальный заголовок" in text(client, "/ru/news/")

    def test_a_rolled_back_change_invalidates_nothing(
        self, release, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            try:
                with transaction.atomic():
                    release.title_ru = "Так и не сохранённый"
                    release.save()
                    raise RuntimeError
            except RuntimeError:
                pass
        assert callbacks == []

    def test_many_changes_in_one_transaction_invalidate_once(
        self, release, monkeypatch, django_capture_on_commit_callbacks
    ):
        calls = []
        monkeypatch.setattr(receivers, "invalidate_public_pages", lambda **kwargs: calls.append(1))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for n in range(5):
                release.title_ru = f"Правка {n}"
                release.save()
            release.categories.add(CategoryFactory())
        assert calls == [1]

    def test_a_change_after_a_rolled_back_savepoint_still_invalidates(
        self, release, monkeypatch, django_capture_on_commit_callbacks
    ):
        calls = []
        monkeypatch.setattr(receivers, "invalidate_public_pages", lambda **kwargs: calls.append(1))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            try:
                with transaction.atomic():
                    release.save()
                    raise RuntimeError
            except RuntimeError:
                pass
            CategoryFactory()
        assert calls == [1]

    def test_outside_a_transaction_the_cache_is_invalidated_at_once(
        self, transactional_db, monkeypatch
    ):
        calls = []
        monkeypatch.setattr(receivers, "invalidate_public_pages", lambda **kwargs: calls.append(1))
        CategoryFactory()
        assert calls == [1]

    @pytest.mark.parametrize(
        "change",
        [
            "edit",
            "withdraw",
            "category_rename",
            "category_link",
            "author_rename",
            "author_link",
            "source",
            "delete",
        ],
    )
    def test_each_kind_of_change_invalidates(
        self, client, release, change, editor_user, django_capture_on_commit_callbacks
    ):
        category = CategoryFactory(name_ru="Старая рубрика")
        author = AuthorFactory(name_ru="Старая подпись")
        release.categories.add(category)
        ReleaseAuthor.objects.create(release=release, author=author)
        url = release.get_absolute_url("ru")
        before = client.get(url)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            if change == "edit":
                release.body_ru = "<p>Новый текст.</p>"
                release.save()
            elif change == "withdraw":
                workflow.withdraw(release, by=editor_user, reason="Ошибка")
            elif change == "category_rename":
                category.name_ru = "Новая рубрика"
                category.save()
            elif change == "category_link":
                release.categories.remove(category)
            elif change == "author_rename":
                author.name_ru = "Новая подпись"
                author.save()
            elif change == "author_link":
                ReleaseAuthor.objects.filter(release=release).delete()
            elif change == "source":
                ReleaseSource.objects.create(
                    release=release, url="https://example.org/a", kind=SourceKind.RELATED
                )
            elif change == "delete":
                release.delete()
        assert callbacks, change
        after = client.get(url)
        assert (after.status_code, after.content) != (before.status_code, before.content)

    def test_invalidate_forgets_every_page(self, client, release, django_assert_num_queries):
        client.get("/ru/news/")
        client.get("/en/news/")
        page_cache.invalidate()
        # The page (1) and the new generation's schedule (1) and sidebar (2).
        with django_assert_num_queries(4):
            client.get("/ru/news/")


class TestScheduledReleases:
    def test_a_cached_page_expires_when_a_scheduled_release_goes_live(
        self, client, release, django_assert_num_queries
    ):
        scheduled = ScheduledFactory(
            title_ru="Запланированный пресс-релиз",
            published_at=timezone.now() + datetime.timedelta(minutes=5),
        )
        live = scheduled.published_at
        assert "Запланированный" not in text(client, "/ru/news/")
        with freeze_time(live - datetime.timedelta(seconds=1)), django_assert_num_queries(0):
            assert "Запланированный" not in text(client, "/ru/news/")
        with freeze_time(live + datetime.timedelta(seconds=1)):
            assert "Запланированный" in text(client, "/ru/news/")
            assert client.get(scheduled.get_absolute_url("ru")).status_code == 200

    def test_the_sidebar_changes_when_a_scheduled_release_goes_live(self, client, release):
        category = CategoryFactory(name_ru="Запланированная рубрика")
        scheduled = ScheduledFactory(published_at=timezone.now() + datetime.timedelta(minutes=5))
        scheduled.categories.add(category)
        page_cache.invalidate()
        assert "Запланированная рубрика" not in text(client, "/ru/news/")
        with freeze_time(scheduled.published_at - datetime.timedelta(seconds=1)):
            assert "Запланированная рубрика" not in text(client, "/ru/news/search/")
        with freeze_time(scheduled.published_at + datetime.timedelta(seconds=1)):
            assert "Запланированная рубрика" in text(client, "/ru/news/search/")

    def test_the_next_scheduled_moment_caps_what_is_kept(self, client, release):
        scheduled = ScheduledFactory(published_at=timezone.now() + datetime.timedelta(minutes=2))
        assert page_cache.next_scheduled_at() == scheduled.published_at
        assert 118 <= page_cache.lifetime() <= 120

    def test_without_a_schedule_pages_live_their_full_time(self, client, release, settings):
        assert page_cache.next_scheduled_at() is None
        assert page_cache.lifetime() == settings.PAGE_CACHE_SECONDS
        first = client.get("/ru/news/")
        with freeze_time(
            timezone.now() + datetime.timedelta(seconds=settings.PAGE_CACHE_SECONDS - 5)
        ):
            again = client.get("/ru/news/", HTTP_IF_NONE_MATCH=first["ETag"])
            assert again.status_code == 304


class TestBypass:
    def test_signed_in_staff_see_fresh_pages(self, client, release, django_assert_max_num_queries):
        client.get("/ru/news/")  # cached for the public
        client.force_login(UserFactory(username="press-officer"))
        with django_assert_max_num_queries(20) as queries:
            response = client.get("/ru/news/")
        assert len(queries) > 0
        assert "private" in response["Cache-Control"]
        assert response["ETag"]

    def test_staff_visits_do_not_fill_the_cache(self, client, release, django_assert_num_queries):
        staff = client.__class__()
        staff.force_login(UserFactory(username="press-officer"))
        staff.get("/ru/news/")
        # The staff visit left the generation's sidebar and schedule, but no page.
        with django_assert_num_queries(1):
            client.get("/ru/news/")

    def test_an_anonymous_visitor_with_an_old_session_cookie_gets_the_public_page(
        self, client, release, settings, django_assert_num_queries
    ):
        public = client.get("/ru/news/")
        client.cookies[settings.SESSION_COOKIE_NAME] = "expired-session-key"
        with django_assert_num_queries(2):  # the session lookup, the page's releases
            response = client.get("/ru/news/")
        assert response.content == public.content
        assert "public" in response["Cache-Control"]

    def test_previews_are_never_cached(self, rf):
        calls = []

        @page_cache.public_page
        def view(request):
            from django.http import HttpResponse

            calls.append(1)
            return HttpResponse("preview")

        for _ in range(2):
            request = rf.get("/ru/news/x/")
            request.is_preview = True
            assert "private" in view(request)["Cache-Control"]
        assert len(calls) == 2


class TestEarlyMiddleware:
    """news/cache/middleware.py: finished anonymous pages, before sessions and locale."""

    @pytest.fixture
    def early(self, monkeypatch):
        """Counts the requests that got past the early middleware to the inner stack."""
        from news.cache import middleware as cache_middleware

        passed = []
        original = cache_middleware.PublicPageCacheMiddleware.keep

        def keep(key, gen, response, now):
            passed.append(key)
            original(key, gen, response, now)

        monkeypatch.setattr(cache_middleware.PublicPageCacheMiddleware, "keep", staticmethod(keep))
        return passed

    def test_a_warm_page_is_answered_early_with_every_header(
        self, client, release, early, django_assert_num_queries
    ):
        first = client.get("/ru/news/")
        with django_assert_num_queries(0):
            second = client.get("/ru/news/")
        assert len(early) == 1  # the second answer never reached the inner middleware
        assert second.content == first.content
        assert dict(second.items()) == dict(first.items())
        for header in ("Content-Security-Policy", "Content-Language", "ETag", "Last-Modified"):
            assert second[header], header
        assert second["Content-Language"] == "ru"
        assert second["X-Frame-Options"] == first["X-Frame-Options"]
        not_modified = client.get("/ru/news/", HTTP_IF_NONE_MATCH=first["ETag"])
        assert not_modified.status_code == 304
        assert not_modified["ETag"] == first["ETag"]
        assert not_modified["Content-Security-Policy"]
        assert client.get("/ru/news/", HTTP_IF_NONE_MATCH='"other"').status_code == 200
        assert len(early) == 1

    def test_a_host_not_allowed_is_refused_also_for_a_warm_page(self, client, release, early):
        assert client.get("/ru/news/").status_code == 200
        assert client.get("/ru/news/", HTTP_HOST="evil.example").status_code == 400

    def test_an_invalidated_page_is_not_answered_early(self, client, release, early):
        assert "Первоначальный заголовок" in text(client, "/ru/news/")
        release.title_ru = "Новый заголовок"
        release.save()
        page_cache.invalidate()
        assert "Новый заголовок" in text(client, "/ru/news/")
        assert len(early) == 2

    def test_each_language_has_its_own_answer(self, client, release, early):
        assert client.get("/ru/news/")["Content-Language"] == "ru"
        assert client.get("/en/news/")["Content-Language"] == "en"
        assert client.get("/en/news/")["Content-Language"] == "en"
        assert len(early) == 2

    def test_signed_in_users_are_never_answered_early(self, client, release, early):
        client.get("/ru/news/")
        client.force_login(UserFactory(username="press-officer"))
        response = client.get("/ru/news/")
        assert "private" in response["Cache-Control"]
        assert len(early) == 1  # not even looked up: the session cookie skips the middleware

    def test_responses_setting_a_cookie_are_not_kept(self, rf):
        from django.http import HttpResponse

        from news.cache.middleware import PublicPageCacheMiddleware

        response = HttpResponse("page")
        response.public_page = {"until": 1e12}
        response.set_cookie("csrftoken", "x")
        PublicPageCacheMiddleware.keep("public:page:ru:test", "g", response, 0.0)
        assert page_cache.cache.get("public:page:ru:test") is None
        del response.cookies["csrftoken"]
        PublicPageCacheMiddleware.keep("public:page:ru:test", "g", response, 0.0)
        assert page_cache.cache.get("public:page:ru:test")["content"] == b"page"
