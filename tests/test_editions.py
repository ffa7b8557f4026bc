"""Pending editions of live releases: invisible until published, scheduled take-over, change
notes, the public record of changes, corrections, translation freshness, discard, locking."""

import datetime
import importlib
import json
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone, translation

from news import editions, workflow
from news.models import EditionState, Release, ReleaseAuthor, ReleaseEdition, WorkflowEvent
from news.public import preview
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    PublishedFactory,
    ScheduledFactory,
)
from tests.test_admin import change_url, message_texts, release_data, transitions_shown

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_editor_publishes(request, settings):
    """Most tests here let one editor propose and publish (the second pair of eyes on pending
    changes has its own tests, `TestSecondPair`, with the rule on)."""
    if request.node.cls is not None and request.node.cls.__name__ == "TestSecondPair":
        return
    settings.SECOND_REVIEWER_REQUIRED = False


NEW_TITLE = "Уточнённый заголовок о заседании"
NEW_BODY = "<p>Совет министров утвердил новую программу сотрудничества.</p>"


def live_data(release, **fields) -> dict:
    """POST data of a live release's form: its inline rows are new rows of the edition."""
    data = release_data(release, **fields)
    data["release_authors-INITIAL_FORMS"] = data["sources-INITIAL_FORMS"] = "0"
    data = {key: value for key, value in data.items() if not re.search(r"-\d+-(id|release)$", key)}
    data.setdefault("edition_version", "0")
    return data


def propose(release, *, by, note="Уточнена формулировка.", note_en="Wording clarified.", **kw):
    """Start (or update) the pending edition of `release` as the admin does."""
    content = {"title_ru": NEW_TITLE, "body_ru": NEW_BODY, **kw.pop("content", {})}
    notes = {"change_note_ru": note, "change_note_en": note_en, **kw}
    return editions.save_pending(release, by=by, content=content, relations={}, notes=notes)


def publish_edition(release, *, by, at=None):
    workflow.submit(release, by=by)
    return workflow.publish(release, by=by, at=at)


def jsonld(page: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def public_surfaces(client, release) -> str:
    """Everything the public reads about `release`, concatenated."""
    category = release.categories.first()
    paths = [
        release.get_absolute_url("ru"),
        release.get_absolute_url("en"),
        "/ru/news/",
        "/en/news/",
        "/ru/news/rss/",
        "/ru/news/atom/",
        "/en/news/rss/",
        "/sitemap.xml",
        "/sitemap-releases.xml",
        "/ru/news/search/?q=уточнённый",
    ]
    if category is not None:
        paths.append(category.get_absolute_url("ru"))
    out = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        out.append(response.content.decode())
    return "\n".join(out)


@pytest.fixture
def live(editor_user):
    release = PublishedFactory(created_by=editor_user)
    release.categories.add(CategoryFactory())
    return release


class TestInvisibleUntilPublished:
    def test_an_edit_of_a_live_release_shows_nowhere_until_published(
        self, client, live, editor_user, django_capture_on_commit_callbacks
    ):
        before = public_surfaces(client, live)  # also fills the page cache
        version = Release.objects.get(pk=live.pk).version
        propose(live, by=editor_user)
        live.refresh_from_db()
        assert live.title_ru != NEW_TITLE and live.version == version
        assert NEW_TITLE not in public_surfaces(client, live)
        with pytest.MonkeyPatch.context() as patch:  # nor without the page cache
            patch.setattr("django.conf.settings.PAGE_CACHE_SECONDS", 0)
            from news import cache as news_cache

            news_cache.invalidate()
            assert NEW_TITLE not in public_surfaces(client, live)
            # The search index reads the release row only.
            assert not Release.objects.published("ru").filter(title_ru=NEW_TITLE).exists()
        assert before.count(live.title_ru) >= 1
        assert NEW_TITLE not in public_surfaces(client, live)  # cached again

        with django_capture_on_commit_callbacks(execute=True):  # the page cache follows
            publish_edition(live, by=editor_user)
        live.refresh_from_db()
        assert live.title_ru == NEW_TITLE and live.version == version + 1
        after = public_surfaces(client, live)
        assert NEW_TITLE in after and "Совет министров утвердил" in after
        found = client.get("/ru/news/search/?q=уточнённый").content.decode()
        assert f"{live.get_absolute_url('ru')}" in found  # the search reads the new text

    def test_a_scheduled_edition_takes_over_at_its_moment(
        self, client, live, editor_user, monkeypatch
    ):
        moment = timezone.now() + datetime.timedelta(hours=2)
        propose(live, by=editor_user)
        publish_edition(live, by=editor_user, at=moment)
        edition = live.editions.get()
        assert edition.state == EditionState.SCHEDULED
        page = client.get(live.get_absolute_url("ru")).content.decode()
        assert NEW_TITLE not in page  # cached now, with a lifetime capped by the moment
        assert editions.apply_due() == 0

        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + datetime.timedelta(hours=3))
        page = client.get(live.get_absolute_url("ru")).content.decode()
        assert NEW_TITLE in page
        edition.refresh_from_db()
        live.refresh_from_db()
        assert edition.state == EditionState.PUBLISHED and edition.published_at == moment
        assert live.last_major_change_at == moment
        assert editions.apply_due() == 0  # idempotent
        assert WorkflowEvent.objects.filter(edition=edition, to_status="published").count() == 1

    def test_a_scheduled_release_can_have_pending_changes_too(self, editor_user):
        release = ScheduledFactory()
        propose(release, by=editor_user)
        release.refresh_from_db()
        assert release.title_ru != NEW_TITLE
        assert release.pending_edition.state == EditionState.DRAFT


class TestWhoMayDoWhat:
    def test_an_author_proposes_and_cannot_publish(self, author_user, editor_user):
        release = PublishedFactory(created_by=author_user)
        propose(release, by=author_user)
        workflow.submit(release, by=author_user)
        events = WorkflowEvent.objects.count()
        with pytest.raises(PermissionDenied):
            workflow.publish(release, by=author_user)
        assert WorkflowEvent.objects.count() == events
        assert release.editions.get().state == EditionState.REVIEW
        assert not workflow.can_edit(author_user, release)  # in review: the editors' now
        workflow.publish(release, by=editor_user)
        release.refresh_from_db()
        assert release.title_ru == NEW_TITLE

    def test_another_author_cannot_edit_or_submit(self, author_user, other_author_user):
        release = PublishedFactory(created_by=author_user)
        assert not workflow.can_edit(other_author_user, release)
        propose(release, by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.submit(release, by=other_author_user)

    def test_editors_hear_of_a_submitted_edition_and_the_author_of_its_publication(
        self, author_user, editor_user, django_capture_on_commit_callbacks
    ):
        release = PublishedFactory(created_by=author_user)
        propose(release, by=author_user)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit(release, by=author_user)
        assert [m.to for m in mail.outbox] == [[editor_user.email]]
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(release, by=editor_user)
        assert mail.outbox[-1].to == [author_user.email]


class TestChangeNotes:
    def test_a_major_change_without_a_note_is_refused(self, live, editor_user):
        propose(live, by=editor_user, note="", note_en="")
        workflow.submit(live, by=editor_user)
        with pytest.raises(ValidationError) as refused, translation.override("en"):
            workflow.publish(live, by=editor_user)
        assert "change note in Russian" in " ".join(refused.value.messages)
        live.refresh_from_db()
        assert live.title_ru != NEW_TITLE

    def test_the_english_note_is_needed_when_english_is_public(self, live, editor_user):
        propose(live, by=editor_user, note_en="")
        workflow.submit(live, by=editor_user)
        with pytest.raises(ValidationError, match="English"), translation.override("en"):
            workflow.publish(live, by=editor_user)

    def test_the_form_refuses_a_major_change_without_its_note(self, client, live, editor_user):
        client.force_login(editor_user)
        response = client.post(change_url(live), live_data(live, title_ru=NEW_TITLE))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "change_note_ru" in errors and "change_note_en" in errors
        assert not ReleaseEdition.objects.exists()

    def test_a_minor_change_leaves_no_public_trace(self, client, live, editor_user):
        page_before = client.get(live.get_absolute_url("ru")).content.decode()
        modified = jsonld(page_before)["dateModified"]
        propose(live, by=editor_user, note="", note_en="", minor_change=True)
        publish_edition(live, by=editor_user)
        live.refresh_from_db()
        assert live.title_ru == NEW_TITLE and live.last_major_change_at is None
        page = client.get(live.get_absolute_url("ru")).content.decode()
        assert "Updates to this release" not in page and "Обновления" not in page
        assert jsonld(page)["dateModified"] == modified
        feed = client.get("/ru/news/atom/").content.decode()
        assert (
            f"<updated>{live.published_at.isoformat()}" in feed
            or live.published_at.strftime("%Y-%m-%dT%H:%M:%S") in feed
        )
        # Its revision keeps it.
        assert live.history.filter(title_ru=NEW_TITLE).exists()


class TestSubscribers:
    @pytest.mark.parametrize("minor", [False, True])
    def test_subscribers_hear_of_a_major_change_only(
        self, live, editor_user, monkeypatch, django_capture_on_commit_callbacks, minor
    ):
        told = []
        monkeypatch.setattr(
            "news.journalists.release_became_public",
            lambda release, *, edition=None: told.append((release.pk, edition)),
        )
        propose(live, by=editor_user, minor_change=minor)
        workflow.submit(live, by=editor_user)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(live, by=editor_user)
        if minor:
            assert told == []
        else:
            assert [(pk, edition.change_note_ru) for pk, edition in told] == [
                (live.pk, "Уточнена формулировка.")
            ]


class TestPublicRecord:
    def test_updates_list_correction_date_modified_and_feed(self, client, live, editor_user):
        propose(live, by=editor_user, note="Добавлены сведения.", note_en="Details added.")
        publish_edition(live, by=editor_user)
        propose(
            live,
            by=editor_user,
            note="Исправлена дата заседания.",
            note_en="The date of the meeting was corrected.",
            correction=True,
            content={"body_ru": "<p>Заседание прошло 5 мая.</p>"},
        )
        publish_edition(live, by=editor_user)
        live.refresh_from_db()
        changes = list(live.editions.public_updates())
        assert len(changes) == 2

        ru = client.get(live.get_absolute_url("ru")).content.decode()
        assert "Updates to this release" in ru or "Обновления" in ru
        updates = ru[ru.index('class="release-updates"') :]
        assert updates.index("Добавлены сведения.") < updates.index("Исправлена дата")
        first = ru.index("release-updates")
        assert ru.index("release-correction") < first  # the notice heads the page
        data = jsonld(ru)
        assert data["dateModified"] == live.last_major_change_at.isoformat()
        assert data["dateModified"] == changes[-1].published_at.isoformat()
        assert data["correction"] == [
            {
                "@type": "CorrectionComment",
                "text": "Исправлена дата заседания.",
                "datePublished": changes[-1].published_at.isoformat(),
            }
        ]
        en = client.get(live.get_absolute_url("en")).content.decode()
        assert "The date of the meeting was corrected." in en and "Details added." in en

        sitemap = client.get("/sitemap-releases.xml").content.decode()
        lastmod = timezone.localtime(live.last_major_change_at).replace(microsecond=0)
        assert f"<lastmod>{lastmod.isoformat()}</lastmod>" in sitemap
        atom = client.get("/ru/news/atom/").content.decode()
        assert live.last_major_change_at.strftime("%Y-%m-%dT%H:%M:%S") in atom

    def test_a_release_without_changes_shows_no_updates(self, client, live):
        page = client.get(live.get_absolute_url("ru")).content.decode()
        assert "release-updates" not in page and "release-correction" not in page
        assert "correction" not in jsonld(page)


class TestTranslationFreshness:
    def test_a_russian_change_marks_the_public_english_out_of_date(
        self, client, live, editor_user, django_capture_on_commit_callbacks
    ):
        propose(live, by=editor_user)
        publish_edition(live, by=editor_user)
        live.refresh_from_db()
        assert live.en_outdated_since == live.last_major_change_at
        en = client.get(live.get_absolute_url("en")).content.decode()
        assert "The Russian version was updated on" in en
        assert f'href="{live.get_absolute_url("ru")}"' in en
        ru = client.get(live.get_absolute_url("ru")).content.decode()
        assert "release-outdated" not in ru

        client.force_login(editor_user)
        listing = client.get(reverse("admin:news_release_changelist") + "?changes=en_outdated")
        assert live.title_ru in listing.content.decode()
        with django_capture_on_commit_callbacks(execute=True):  # the page cache follows
            response = client.post(
                reverse("admin:news_release_changelist"),
                {"action": "confirm_translation_selected", "_selected_action": [live.pk]},
            )
        assert response.status_code == 302
        live.refresh_from_db()
        assert live.en_outdated_since is None
        client.logout()
        assert "release-outdated" not in client.get(live.get_absolute_url("en")).content.decode()

    def test_updating_the_english_too_leaves_it_fresh(self, live, editor_user):
        propose(live, by=editor_user, content={"body_en": "<p>The Council approved it.</p>"})
        publish_edition(live, by=editor_user)
        live.refresh_from_db()
        assert live.en_outdated_since is None

    def test_an_author_cannot_confirm_a_translation(self, author_user, live):
        with pytest.raises(PermissionDenied):
            editions.confirm_translation(live, by=author_user)


class TestDiscardAndLocking:
    def test_discard_drops_the_pending_changes_as_an_event(self, live, editor_user):
        propose(live, by=editor_user)
        event = workflow.discard(live, by=editor_user)
        assert event.to_status == EditionState.DISCARDED and event.edition is not None
        live.refresh_from_db()
        assert live.title_ru != NEW_TITLE and live.pending_edition is None
        propose(live, by=editor_user)  # a new edition may start
        assert live.editions.count() == 2

    def test_discard_without_pending_changes_is_refused(self, live, editor_user):
        with pytest.raises(ValidationError):
            workflow.discard(live, by=editor_user)
        assert WorkflowEvent.objects.filter(edition__isnull=False).count() == 0

    def test_an_author_cannot_discard_submitted_changes(self, author_user):
        release = PublishedFactory(created_by=author_user)
        propose(release, by=author_user)
        workflow.submit(release, by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.discard(release, by=author_user)

    def test_a_stale_save_of_the_edition_is_refused(self, live, editor_user):
        edition = propose(live, by=editor_user)
        with pytest.raises(ValidationError):
            editions.save_pending(
                live,
                by=editor_user,
                content={"title_ru": "Устаревшая правка"},
                relations={},
                notes={},
                base_version=edition.version - 1,
            )
        edition.refresh_from_db()
        assert edition.title_ru == NEW_TITLE

    def test_one_open_edition_per_release(self, live, editor_user):
        propose(live, by=editor_user)
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            ReleaseEdition.objects.create(release=live, title_ru="Второй черновик")


class TestNewsroom:
    def test_saving_a_live_release_in_the_admin_stores_its_pending_edition(
        self, client, live, editor_user
    ):
        signature = AuthorFactory()
        ReleaseAuthor.objects.create(release=live, author=signature, position=0)
        client.force_login(editor_user)
        page = client.get(change_url(live)).content.decode()
        assert 'name="change_note_ru"' in page and 'name="published_at_0"' not in page
        data = live_data(
            live,
            title_ru=NEW_TITLE,
            change_note_ru="Уточнён заголовок.",
            change_note_en="Title clarified.",
        )
        response = client.post(change_url(live), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        live.refresh_from_db()
        assert live.title_ru != NEW_TITLE
        edition = live.pending_edition
        assert edition.title_ru == NEW_TITLE and edition.relations["authors"] == [signature.pk]
        assert edition.text_changed_by == editor_user
        assert edition.history.count() >= 1
        assert any("pending changes" in text for text in message_texts(response))
        assert not any("changed successfully" in text for text in message_texts(response))

        # The form now shows the pending text; the list says so and filters on it.
        page = client.get(change_url(live)).content.decode()
        assert NEW_TITLE in page and "Compare with the live version" in page
        assert {"submit", "discard"} <= transitions_shown(client.get(change_url(live)))
        listing = client.get(reverse("admin:news_release_changelist") + "?changes=pending")
        assert "with pending changes" in listing.content.decode()
        other = PublishedFactory()
        assert other.title_ru not in listing.content.decode()
        compare = client.get(reverse("admin:news_release_pending_compare", args=[live.pk]))
        assert compare.status_code == 200
        assert "<ins>" in compare.content.decode()

        # A second save from a form opened before the first one is refused.
        response = client.post(change_url(live), {**data, "title_ru": "Другая правка"})
        assert response.status_code == 200
        live.refresh_from_db()
        assert live.pending_edition.title_ru == NEW_TITLE

    def test_the_preview_link_shows_the_pending_text(self, client, live, editor_user):
        propose(live, by=editor_user)
        response = client.get(preview.preview_path(live, "ru"))
        assert response.status_code == 200
        assert NEW_TITLE in response.content.decode()
        # Without pending changes the preview goes to the public page.
        workflow.discard(live, by=editor_user)
        assert client.get(preview.preview_path(live, "ru")).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_release_revision_and_event():
    """0006 on data made by the previous schema: releases, revisions and events stay, a
    published release is the live version with its texts and no pending changes."""
    release = PublishedFactory(title_ru="Опубликованный релиз")
    counts = (Release.objects.count(), Release.history.count(), WorkflowEvent.objects.count())
    executor = MigrationExecutor(connection)
    # The migration before 0006, whatever the chain is when merged.
    previous = next(
        dependency
        for dependency in executor.loader.get_migration("news", "0007_editions").dependencies
        if dependency[0] == "news"
    )
    executor.migrate([previous])
    executor.loader.build_graph()
    old = executor.loader.project_state([previous]).apps
    assert old.get_model("news", "Release").objects.get(pk=release.pk).title_ru == (
        "Опубликованный релиз"
    )
    executor.migrate([("news", "0007_editions")])
    executor.loader.build_graph()
    # On to the end of the chain (the migrations after 0006 and the models as they are now).
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()
    assert counts == (
        Release.objects.count(),
        Release.history.count(),
        WorkflowEvent.objects.count(),
    )
    migrated = Release.objects.get(pk=release.pk)
    assert migrated.title_ru == "Опубликованный релиз" and migrated.pending_edition is None
    assert migrated.last_major_change_at is None and migrated.en_outdated_since is None
    assert importlib.import_module("news.migrations.0007_editions")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_edition_another_process_is_promoting_is_skipped_then_promoted_once(editor_user):
    """Two app servers meeting the same due edition: the one that finds it locked skips it,
    the other promotes it; running again changes nothing (idempotent)."""
    import threading

    from django.db import connections, transaction

    release = PublishedFactory()
    propose(release, by=editor_user)
    publish_edition(release, by=editor_user, at=timezone.now() + datetime.timedelta(hours=1))
    later = timezone.now() + datetime.timedelta(hours=2)
    locked, release_lock = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                ReleaseEdition.objects.select_for_update().get(release=release)
                locked.set()
                release_lock.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(10)
    assert editions.apply_due(later) == 0  # skipped, not waited for
    release_lock.set()
    holder.join()
    assert editions.apply_due(later) == 1
    assert editions.apply_due(later) == 0
    release.refresh_from_db()
    assert release.title_ru == NEW_TITLE
    assert WorkflowEvent.objects.filter(release=release, to_status="published").count() == 2


def test_a_new_lead_image_waits_in_the_edition(client, live, editor_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_admin import jpeg

    client.force_login(editor_user)
    data = live_data(live, minor_change="on")
    data["image"] = SimpleUploadedFile("new.jpg", jpeg(), content_type="image/jpeg")
    response = client.post(change_url(live), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    live.refresh_from_db()
    edition = live.pending_edition
    assert not live.image and edition.image.name.startswith("releases/")
    publish_edition(live, by=editor_user)
    live.refresh_from_db()
    assert live.image.name == edition.image.name


def test_the_publish_button_schedules_the_pending_changes(client, live, editor_user):
    propose(live, by=editor_user)
    workflow.submit(live, by=editor_user)
    client.force_login(editor_user)
    moment = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        reverse("admin:news_release_transition", args=[live.pk, "publish"]),
        {"at": moment.strftime("%Y-%m-%dT%H:%M")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert any("they replace the live version" in text for text in message_texts(response))
    live.refresh_from_db()
    assert live.pending_edition.state == EditionState.SCHEDULED
    assert live.title_ru != NEW_TITLE


class TestSecondPair:
    """The second pair of eyes applies to pending changes as to a first publication: who
    submitted them or changed their text last publishes them only by force, with a reason."""

    def test_the_author_of_the_changes_may_not_publish_them_alone(
        self, live, editor_user, second_editor_user
    ):
        propose(live, by=editor_user)
        workflow.submit(live, by=editor_user)
        with pytest.raises(PermissionDenied, match="another editor"):
            workflow.publish(live, by=editor_user)
        with pytest.raises(ValidationError):
            workflow.publish(live, by=editor_user, force=True)  # no reason
        live.refresh_from_db()
        assert live.title_ru != NEW_TITLE and live.pending_edition.state == EditionState.REVIEW
        workflow.publish(live, by=second_editor_user)
        live.refresh_from_db()
        assert live.title_ru == NEW_TITLE and not live.needs_review

    def test_forced_with_a_reason_it_needs_review_until_another_editor_confirms(
        self, live, editor_user, second_editor_user
    ):
        propose(live, by=editor_user)
        workflow.submit(live, by=editor_user)
        event = workflow.publish(live, by=editor_user, force=True, reason="Срочное уточнение")
        live.refresh_from_db()
        assert live.title_ru == NEW_TITLE and live.needs_review
        assert "Срочное уточнение" in event.comment
        with pytest.raises((PermissionDenied, ValidationError)):
            workflow.confirm(live, by=editor_user)
        workflow.confirm(live, by=second_editor_user)
        live.refresh_from_db()
        assert not live.needs_review
