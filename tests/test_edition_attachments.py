"""Attachments belong to an edition: a pending edition of a live release adds, replaces,
changes or removes documents and photos without touching the live page; its files stay
private (staff and its preview link excepted) until it is published, when its set replaces
the live one at once; discarding it deletes its files, never one a live row still uses."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from news import editions, workflow
from news.models import ReleaseDocument, ReleaseEdition, ReleasePhoto
from news.public import preview
from tests.factories import PublishedFactory
from tests.test_admin import change_url
from tests.test_attachments import (
    attach_document,
    attach_photo,
    jpeg,
    pdf,
    stored_files,
    upload,
)
from tests.test_editions import live_data

pytestmark = pytest.mark.django_db

NOTES = {"change_note_ru": "Добавлен документ.", "change_note_en": "A document was added."}


@pytest.fixture(autouse=True)
def one_editor_publishes(settings):
    """One editor may propose and publish here (the second pair of eyes has its own tests)."""
    settings.SECOND_REVIEWER_REQUIRED = False


@pytest.fixture
def live(author_user):
    """A live release written by an Author, with one public document."""
    release = PublishedFactory(created_by=author_user)
    attach_document(release, pdf(2), title_ru="Старое соглашение", title_en="Old agreement")
    return release


def document_forms(rows: list[dict], initial: int) -> dict:
    """The documents inline as posted: `rows` in order (the first `initial` are existing rows,
    with their "id")."""
    data = {"documents-TOTAL_FORMS": str(len(rows)), "documents-INITIAL_FORMS": str(initial)}
    for n, row in enumerate(rows):
        row = {"languages": "ru", "accessible": "on", "position": str(n), **row}
        data.update({f"documents-{n}-{key}": value for key, value in row.items()})
    return data


def existing(document: ReleaseDocument, **changes) -> dict:
    return {
        "id": str(document.pk),
        "title_ru": document.title_ru,
        "title_en": document.title_en,
        "languages": document.languages,
        "position": str(document.position),
        **changes,
    }


def new_document(title: str, content: bytes) -> dict:
    return {"file": upload("new.pdf", content), "title_ru": title, "title_en": ""}


def save_live_form(client, release, rows: list[dict], initial: int, **fields):
    """Save the change form of a live release (its pending edition) with these documents."""
    data = live_data(release, **NOTES, **fields)
    edition = release.editions.open().first()
    data["edition_version"] = str(edition.version if edition else 0)
    data.update(document_forms(rows, initial))
    return client.post(change_url(release), data)


def publish(release, *, by):
    workflow.submit(release, by=by)
    return workflow.publish(release, by=by)


def links(page: str) -> list[str]:
    return [
        link.replace("&amp;", "&")
        for link in re.findall(r'(?:href|src)="(/attachments/[^"]+)"', page)
    ]


class TestAPendingDocument:
    def test_is_private_until_published_then_public(
        self, client, live, author_user, editor_user, django_capture_on_commit_callbacks
    ):
        (old,) = live.documents.all()
        client.force_login(author_user)
        content = pdf(5)
        response = save_live_form(
            client, live, [existing(old), new_document("Новое соглашение", content)], 1
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        edition = live.editions.get()
        assert edition.text_changed_by == author_user
        # The live rows are as they were; the edition holds the whole proposed set.
        assert list(live.documents.all()) == [old]
        assert [d.title_ru for d in edition.documents.all()] == [old.title_ru, "Новое соглашение"]
        pending = edition.documents.get(title_ru="Новое соглашение")
        assert pending.release is None and pending.pages == 5
        assert edition.documents.get(title_ru=old.title_ru).file.name == old.file.name

        # The public sees the live set only: page, JSON-LD, feeds; the new file is 404.
        client.logout()
        page = client.get(live.get_absolute_url("en")).content.decode()
        assert "Old agreement" in page and pending.file.url not in page
        for feed in ("/en/news/atom/", "/en/news/feed.json", "/en/news/rss/"):
            response = client.get(feed)
            assert response.status_code == 200, feed
            body = response.content.decode()
            assert old.file.name in body and pending.file.name not in body, feed
        assert client.get(pending.file.url).status_code == 404
        assert client.get(old.file.url).status_code == 200

        # Staff and the edition's preview link see it.
        preview_page = client.get(preview.preview_path(live, "ru")).content.decode()
        assert "Новое соглашение" in preview_page
        link = next(link for link in links(preview_page) if pending.file.name in link)
        assert "?preview=" in link
        response = client.get(link)
        assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
        client.force_login(author_user)
        assert client.get(pending.file.url).status_code == 200
        client.force_login(editor_user)
        assert client.get(pending.file.url).status_code == 200

        # Published: the new set is live, in one step.
        with django_capture_on_commit_callbacks(execute=True):
            publish(live, by=editor_user)
        client.logout()
        assert [d.title_ru for d in live.documents.all()] == [old.title_ru, "Новое соглашение"]
        assert not ReleaseDocument.objects.filter(edition__isnull=False).exists()
        response = client.get(pending.file.url)
        assert response.status_code == 200 and "immutable" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == content
        assert "Новое соглашение" in client.get(live.get_absolute_url("ru")).content.decode()
        assert client.get(old.file.url).status_code == 200  # kept: its file is still used

    def test_a_replaced_file_goes_when_the_edition_is_published(
        self, client, live, author_user, editor_user, django_capture_on_commit_callbacks
    ):
        (old,) = live.documents.all()
        old_path = Path(settings.ATTACHMENTS_ROOT) / old.file.name
        client.force_login(author_user)
        response = save_live_form(client, live, [existing(old, file=upload("v2.pdf", pdf(7)))], 1)
        assert response.status_code == 302, response.context["adminform"].form.errors
        (proposed,) = live.editions.get().documents.all()
        assert proposed.pages == 7 and proposed.file.name != old.file.name
        old.refresh_from_db()
        assert old.pages == 2 and old.release == live  # the live row is untouched
        client.logout()
        assert client.get(proposed.file.url).status_code == 404
        assert client.get(old.file.url).status_code == 200

        with django_capture_on_commit_callbacks(execute=True):
            publish(live, by=editor_user)
        (document,) = live.documents.all()
        assert document.pages == 7
        assert client.get(document.file.url).status_code == 200
        assert client.get(old.file.url).status_code == 404
        assert not old_path.exists()  # no row uses the replaced file any more

    def test_a_scheduled_edition_swaps_the_attachments_at_its_moment(
        self, client, live, editor_user, monkeypatch
    ):
        edition = editions.save_pending(
            live, by=editor_user, content={}, relations={}, notes={"minor_change": True}
        )
        added = attach_document(None, pdf(9), title_ru="К сроку", edition=edition)
        photo = attach_photo(None, edition=edition)
        workflow.submit(live, by=editor_user)
        moment = timezone.now() + timezone.timedelta(hours=1)
        workflow.publish(live, by=editor_user, at=moment)
        assert client.get(added.file.url).status_code == 404
        assert client.get(photo.thumbnail.url).status_code == 404
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + timezone.timedelta(hours=2))
        # A file asked for before any page: the edition takes over then too.
        assert client.get(added.file.url).status_code == 200
        assert client.get(photo.thumbnail.url).status_code == 200
        page = client.get(live.get_absolute_url("ru")).content.decode()
        assert "К сроку" in page
        assert live.photos.count() == 1 and live.documents.count() == 2

    def test_a_file_a_scheduled_edition_removes_closes_at_its_moment(
        self, client, live, editor_user, monkeypatch
    ):
        old = attach_document(live, pdf(2))
        edition = editions.save_pending(
            live, by=editor_user, content={}, relations={}, notes={"minor_change": True}
        )
        edition.documents.all().delete()  # the correction removes the document
        workflow.submit(live, by=editor_user)
        workflow.publish(live, by=editor_user, at=timezone.now() + timezone.timedelta(hours=1))
        assert client.get(old.file.url).status_code == 200  # live until the moment
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + timezone.timedelta(hours=2))
        # Asked for before any page past the moment: the edition takes over, the file is gone.
        assert client.get(old.file.url).status_code == 404


class TestDiscard:
    def test_discard_deletes_the_pending_files_and_keeps_the_live_ones(
        self, client, live, editor_user, django_capture_on_commit_callbacks
    ):
        (old,) = live.documents.all()
        edition = editions.save_pending(
            live, by=editor_user, content={}, relations={}, notes={"minor_change": True}
        )
        added = attach_document(None, pdf(4), edition=edition)
        photo = attach_photo(None, edition=edition)
        photo.thumbnail.generate()
        added_path = Path(settings.ATTACHMENTS_ROOT) / added.file.name
        photo_path = Path(settings.ATTACHMENTS_ROOT) / photo.image.name
        renditions = Path(settings.ATTACHMENTS_ROOT) / "CACHE/images" / Path(photo.image.name)
        assert added_path.exists() and photo_path.exists()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.discard(live, by=editor_user)
        assert not ReleaseDocument.objects.filter(edition=edition).exists()
        assert not ReleasePhoto.objects.filter(edition=edition).exists()
        assert not added_path.exists() and not photo_path.exists()
        assert not any(renditions.parent.glob(f"{renditions.stem}/*"))
        # The live document and its file (which the edition's copy shared) stay.
        assert list(live.documents.all()) == [old]
        assert (Path(settings.ATTACHMENTS_ROOT) / old.file.name).exists()
        assert client.get(old.file.url).status_code == 200

    def test_withdrawing_the_release_discards_the_pending_files_too(
        self, live, editor_user, django_capture_on_commit_callbacks
    ):
        edition = editions.save_pending(
            live, by=editor_user, content={}, relations={}, notes={"minor_change": True}
        )
        added = attach_document(None, pdf(4), edition=edition)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.withdraw(live, by=editor_user, reason="Ошибка")
        assert not ReleaseDocument.objects.filter(pk=added.pk).exists()
        assert not (Path(settings.ATTACHMENTS_ROOT) / added.file.name).exists()
        assert live.documents.count() == 1

    def test_a_file_shared_with_another_release_is_never_deleted(
        self, live, editor_user, django_capture_on_commit_callbacks
    ):
        other = attach_document(PublishedFactory(), pdf(3))
        edition = editions.save_pending(
            live, by=editor_user, content={}, relations={}, notes={"minor_change": True}
        )
        same = ReleaseDocument.objects.create(
            edition=edition, file=other.file.name, title_ru="Тот же файл", format="pdf"
        )
        with django_capture_on_commit_callbacks(execute=True):
            workflow.discard(live, by=editor_user)
        assert (Path(settings.ATTACHMENTS_ROOT) / same.file.name).exists()
        assert not ReleaseDocument.objects.filter(pk=same.pk).exists()


class TestNewsroom:
    def test_the_inline_changes_the_edition_never_the_live_rows(self, client, live, author_user):
        (old,) = live.documents.all()
        photo = attach_photo(live)
        client.force_login(author_user)
        page = client.get(change_url(live)).content.decode()
        assert 'name="documents-0-title_ru"' in page  # editable again, as pending changes

        # First save: a new title for the live document (into its copy).
        response = save_live_form(client, live, [existing(old, title_ru="Новое название")], 1)
        assert response.status_code == 302, response.context["adminform"].form.errors
        old.refresh_from_db()
        assert old.title_ru == "Старое соглашение" and old.edition is None
        edition = live.editions.get()
        (copy,) = edition.documents.all()
        assert copy.pk != old.pk and copy.title_ru == "Новое название"
        assert copy.file.name == old.file.name
        assert edition.photos.get().image.name == photo.image.name

        # The form now shows the edition's rows; a second save deletes the copy and adds one.
        page = client.get(change_url(live)).content.decode()
        assert "Новое название" in page and f'value="{copy.pk}"' in page
        response = save_live_form(
            client,
            live,
            [existing(copy, DELETE="on"), new_document("Вместо него", pdf(1))],
            1,
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert [d.title_ru for d in edition.documents.all()] == ["Вместо него"]
        assert list(live.documents.all()) == [old] and list(live.photos.all()) == [photo]
        assert ReleaseEdition.objects.get().version == 2

    def test_a_refused_upload_leaves_the_release_and_its_edition_as_they_were(
        self, client, live, author_user
    ):
        client.force_login(author_user)
        before = stored_files()
        response = save_live_form(
            client, live, [new_document("Программа", b"MZ\x90\x00" + bytes(100))], 0
        )
        assert response.status_code == 200
        assert "This file is a program, not a document" in response.content.decode()
        assert not ReleaseEdition.objects.exists()
        assert ReleaseDocument.objects.count() == 1 and stored_files() == before

        save_live_form(client, live, [], 0, title_ru="Заголовок правки")
        edition = live.editions.get()
        response = save_live_form(
            client,
            live,
            [
                {"file": upload("photo.pdf", jpeg()), "title_ru": "Не PDF", "title_en": ""},
            ],
            0,
        )
        assert response.status_code == 200
        edition.refresh_from_db()
        assert edition.version == 1 and edition.documents.count() == 1
        assert stored_files() == before

    def test_an_edition_with_only_attachment_changes_follows_the_note_rules(
        self, client, live, author_user, editor_user
    ):
        client.force_login(author_user)
        data = live_data(live, edition_version="0")
        data.update(document_forms([new_document("Приложение", pdf(1))], 0))
        response = client.post(change_url(live), data)  # major, without a note
        assert response.status_code == 200
        assert "A major change needs a change note" in response.content.decode()
        assert not ReleaseEdition.objects.exists()
        data = live_data(live, edition_version="0", minor_change="on")
        data.update(document_forms([new_document("Приложение", pdf(1))], 0))
        assert client.post(change_url(live), data).status_code == 302
        publish(live, by=editor_user)
        live.refresh_from_db()
        assert live.documents.count() == 2 and live.last_major_change_at is None

    def test_the_compare_view_names_the_attachment_changes(
        self, client, live, author_user, editor_user
    ):
        (old,) = live.documents.all()
        removed = attach_document(live, pdf(6), title_ru="Устаревшая справка", position=1)
        photo = attach_photo(live)
        client.force_login(author_user)
        response = save_live_form(
            client,
            live,
            [
                existing(old, title_en="Agreement, signed"),
                existing(removed, DELETE="on"),
                new_document("Новая справка", pdf(8)),
            ],
            2,
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        client.force_login(editor_user)
        url = reverse("admin:news_release_pending_compare", args=[live.pk])
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert re.search(r"Document added</strong>: Новая справка", page)
        assert re.search(r"Document removed</strong>: Устаревшая справка", page)
        assert re.search(r"Document changed</strong>: Старое соглашение .*title \(English\)", page)
        assert "Photo added" not in page and "Photo changed" not in page  # kept as it was
        assert "Photo removed" not in page and photo.caption_ru not in page
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
        page = client.get(url).content.decode()
        assert "Документ добавлен" in page and "Документы и фотографии" in page

    def test_a_release_in_review_keeps_its_pending_attachments_read_only(
        self, client, live, author_user, editor_user
    ):
        client.force_login(author_user)
        save_live_form(client, live, [new_document("На проверке", pdf(1))], 0)
        workflow.submit(live, by=author_user)
        page = client.get(change_url(live)).content.decode()
        assert "На проверке" in page and 'name="documents-0-title_ru"' not in page


def test_pending_attachments_cost_the_public_page_no_query(client, editor_user):
    def cold_queries(pending: int) -> int:
        release = PublishedFactory()
        attach_document(release)
        attach_photo(release)
        if pending:
            edition = editions.save_pending(
                release, by=editor_user, content={}, relations={}, notes={"minor_change": True}
            )
            for n in range(pending):
                attach_document(None, pdf(n + 1), edition=edition)
                attach_photo(None, edition=edition)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(release.get_absolute_url("ru"))
        assert response.status_code == 200
        assert len(links(response.content.decode())) == 4  # the live document and photo only
        return len(queries)

    assert cold_queries(0) == cold_queries(3)


@pytest.mark.django_db(transaction=True)
def test_the_migration_starts_open_editions_with_the_live_attachments():
    """0010 and 0011 on data of the previous schema: an open edition gets copies of its
    release's live documents and photos (publishing it keeps them); a closed one gets none."""
    from django.db.migrations.executor import MigrationExecutor

    release = PublishedFactory()
    document = attach_document(release)
    photo = attach_photo(release)
    before = ("news", "0009_withdraw_unpublish_second_reviewer")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    executor.loader.build_graph()
    old = executor.loader.project_state([before]).apps
    Edition = old.get_model("news", "ReleaseEdition")
    fields = {"release_id": release.pk, "title_ru": release.title_ru}
    open_edition = Edition.objects.create(state="review", **fields)
    Edition.objects.create(state="published", **fields)
    executor.migrate(executor.loader.graph.leaf_nodes())  # 0010, 0011 and any later
    edition = ReleaseEdition.objects.get(pk=open_edition.pk)
    assert [d.file.name for d in edition.documents.all()] == [document.file.name]
    assert [p.image.name for p in edition.photos.all()] == [photo.image.name]
    assert list(release.documents.all()) == [document] and list(release.photos.all()) == [photo]
    assert ReleaseDocument.objects.count() == 2 and ReleasePhoto.objects.count() == 2
