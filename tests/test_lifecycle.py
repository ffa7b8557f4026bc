"""The life of a published release: withdrawal with a public notice, unpublishing (410 or 301
to a replacement), and the second pair of eyes on publishing."""

import datetime
import importlib
import json

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from freezegun import freeze_time

from news import workflow
from news.models import Release, Status, WorkflowEvent
from news.public import search
from tests.factories import (
    DraftFactory,
    PublishedFactory,
    RussianOnlyPublishedFactory,
    ScheduledFactory,
    UnpublishedFactory,
    UserFactory,
    WithdrawnFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    """The services' messages are asserted in English (the admin asks for it below)."""
    with override("en"):
        yield


keep_reasons = importlib.import_module("news.migrations.0009_withdraw_unpublish_second_reviewer")


def public_surfaces(language: str) -> list[str]:
    return [
        f"/{language}/news/",
        f"/{language}/news/rss/",
        f"/{language}/news/atom/",
        "/sitemap-releases.xml",
    ]


# Withdraw ----------------------------------------------------------------------------------


class TestWithdraw:
    def test_withdrawn_page_stays_with_a_notice_in_the_page_language(self, client, editor_user):
        release = PublishedFactory()
        workflow.withdraw(release, by=editor_user, reason="Текст заменён заявлением")
        release.refresh_from_db()
        assert release.status == Status.WITHDRAWN
        assert release.withdrawal_reason == "Текст заменён заявлением"
        day = timezone.localtime(release.withdrawn_at)
        expected = {
            "ru": f"Отозван {day.day}",
            "en": f"Withdrawn on {day.day}",
        }
        for language in ("ru", "en"):
            response = client.get(release.get_absolute_url(language))
            assert response.status_code == 200
            html = response.content.decode()
            assert expected[language] in html
            assert "Текст заменён заявлением" in html
            assert release.title(language) in html
            assert '<meta name="robots" content="noindex">' in html
        english = client.get(release.get_absolute_url("en")).content.decode()
        assert day.strftime("%Y") in english and "Отозван" not in english

    def test_withdrawn_jsonld_does_not_claim_to_be_current(self, client):
        release = WithdrawnFactory()
        html = client.get(release.get_absolute_url("ru")).content.decode()
        start = html.index('<script type="application/ld+json">') + len(
            '<script type="application/ld+json">'
        )
        data = json.loads(html[start : html.index("</script>", start)])
        assert data["creativeWorkStatus"] == "Withdrawn"
        # The withdrawal is no change of the text: dateModified stays the last major change.
        assert data["dateModified"] == release.public_modified_at.isoformat()
        published = PublishedFactory()
        html = client.get(published.get_absolute_url("ru")).content.decode()
        assert "creativeWorkStatus" not in html

    def test_withdrawn_release_leaves_lists_feeds_sitemap_and_search(self, client):
        kept = PublishedFactory(title_ru="Заседание оставлено", title_en="Meeting kept")
        gone = WithdrawnFactory(title_ru="Заседание отозвано", title_en="Meeting withdrawn")
        for language in ("ru", "en"):
            for url in public_surfaces(language):
                response = client.get(url)
                assert response.status_code == 200, url
                body = response.content.decode()
                assert gone.get_absolute_url(language) not in body, url
                assert kept.get_absolute_url(language) in body, url
            word = {"ru": "Заседание", "en": "Meeting"}[language]
            assert list(search.search(search.parse(word), language)) == [kept]
            found = client.get(f"/{language}/news/search/", {"q": word}).content.decode()
            assert kept.get_absolute_url(language) in found
            assert gone.get_absolute_url(language) not in found

    def test_a_language_never_public_stays_404(self, client):
        release = RussianOnlyPublishedFactory()
        workflow.withdraw(release, by=None, reason="Ошибка")
        assert client.get(release.get_absolute_url("ru")).status_code == 200
        assert client.get(release.get_absolute_url("en")).status_code == 404

    def test_a_release_withdrawn_before_its_moment_never_gets_a_page_or_files(self, client):
        """Withdrawn while still scheduled, it was never public: its moment passing does not
        put its page (with a notice) or its documents and photos on the record."""
        from tests.test_attachments import attach_document, attach_photo

        moment = timezone.now() + datetime.timedelta(hours=2)
        scheduled = ScheduledFactory(published_at=moment)
        document, photo = attach_document(scheduled), attach_photo(scheduled)
        workflow.withdraw(scheduled, by=None, reason="Выпуск отменён")
        kept = PublishedFactory(published_at=timezone.now() - datetime.timedelta(hours=1))
        kept_document = attach_document(kept)
        workflow.withdraw(kept, by=None, reason="Устарело")
        with freeze_time(moment + datetime.timedelta(minutes=1)):
            for language in ("ru", "en"):
                assert client.get(scheduled.get_absolute_url(language)).status_code == 404
                assert client.get(kept.get_absolute_url(language)).status_code == 200
            for url in (document.file.url, photo.image.url, photo.thumbnail.url):
                assert client.get(url).status_code == 404, url
            assert client.get(kept_document.file.url).status_code == 200
            scheduled.refresh_from_db()
            assert not scheduled.is_on_record("ru")
            assert list(Release.objects.on_record("ru")) == [kept]

    def test_reopen_clears_the_notice(self, editor_user):
        release = WithdrawnFactory()
        workflow.reopen(release, by=editor_user)
        release.refresh_from_db()
        assert (release.status, release.withdrawn_at, release.withdrawal_reason) == (
            Status.DRAFT,
            None,
            "",
        )


# Unpublish ---------------------------------------------------------------------------------


class TestUnpublish:
    def test_unpublished_answers_410_with_the_reason(self, client, editor_user):
        release = PublishedFactory(title_ru="Заседание по ошибке", title_en="Meeting in error")
        workflow.unpublish(release, by=editor_user, reason="Опубликовано по ошибке")
        for language in ("ru", "en"):
            for url in (release.get_absolute_url(language), f"/{language}/news/{release.pk}/"):
                response = client.get(url)
                assert response.status_code == 410, url
                html = response.content.decode()
                assert "Опубликовано по ошибке" in html
                assert release.body_ru not in html
                assert '<meta name="robots" content="noindex">' in html
            word = {"ru": "Заседание", "en": "Meeting"}[language]
            for url in [*public_surfaces(language), f"/{language}/news/search/?q={word}"]:
                assert release.get_absolute_url(language) not in client.get(url).content.decode()
        assert "Removed on" in client.get(release.get_absolute_url("en")).content.decode()
        assert "Удалён" in client.get(release.get_absolute_url("ru")).content.decode()

    def test_unpublished_with_replacement_redirects_there(
        self, client, editor_user, django_capture_on_commit_callbacks
    ):
        replacement = RussianOnlyPublishedFactory()
        release = PublishedFactory()
        workflow.unpublish(release, by=editor_user, reason="Дубликат", replacement=replacement)
        response = client.get(release.get_absolute_url("ru"))
        assert response.status_code == 301
        assert response["Location"] == replacement.get_absolute_url("ru")
        # No English replacement: the English URL goes to the Russian one.
        response = client.get(release.get_absolute_url("en"))
        assert response["Location"] == replacement.get_absolute_url("ru")
        # Once the replacement itself leaves the site, the old URL is gone.
        with django_capture_on_commit_callbacks(execute=True):  # the page cache is emptied
            workflow.unpublish(replacement, by=editor_user, reason="Ошибка")
        assert client.get(release.get_absolute_url("ru")).status_code == 410

    @pytest.mark.parametrize(
        "make_replacement, message",
        [
            (lambda release: release, "cannot replace itself"),
            (lambda release: DraftFactory(), "not public"),
            (lambda release: UnpublishedFactory(), "not public"),
            (lambda release: "https://example.com/news/1", "must be a release of this site"),
            (lambda release: release.pk + 1000, "must be a release of this site"),
        ],
        ids=["itself", "draft", "unpublished", "outside-url", "an-id"],
    )
    def test_a_replacement_that_is_not_another_public_release_is_refused(
        self, editor_user, make_replacement, message
    ):
        release = PublishedFactory()
        replacement = make_replacement(release)
        before = WorkflowEvent.objects.count()
        with pytest.raises(ValidationError, match=message):
            workflow.unpublish(release, by=editor_user, reason="Ошибка", replacement=replacement)
        release.refresh_from_db()
        assert release.status == Status.PUBLISHED
        assert WorkflowEvent.objects.count() == before

    def test_a_reason_is_required(self, editor_user):
        release = PublishedFactory()
        with pytest.raises(ValidationError):
            workflow.unpublish(release, by=editor_user, reason="  ")
        assert Release.objects.get(pk=release.pk).status == Status.PUBLISHED

    def test_reopen_returns_an_unpublished_release_to_draft(self, editor_user):
        release = UnpublishedFactory()
        workflow.reopen(release, by=editor_user)
        assert Release.objects.get(pk=release.pk).status == Status.DRAFT


@pytest.mark.parametrize("service", ["withdraw", "unpublish"])
def test_only_editors_withdraw_or_unpublish(service, author_user, editor_user):
    release = PublishedFactory(created_by=author_user)
    with pytest.raises(PermissionDenied):
        getattr(workflow, service)(release, by=author_user, reason="Ошибка")
    assert Release.objects.get(pk=release.pk).status == Status.PUBLISHED
    event = getattr(workflow, service)(release, by=editor_user, reason="Ошибка")
    assert (event.actor, event.from_status, event.comment) == (
        editor_user,
        Status.PUBLISHED,
        "Ошибка",
    )


# Second pair of eyes -----------------------------------------------------------------------


class TestSecondPairOfEyes:
    def test_publishing_ones_own_submission_is_refused(self, editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        with pytest.raises(PermissionDenied, match="another editor must publish it"):
            workflow.publish(release, by=editor_user)
        assert Release.objects.get(pk=release.pk).status == Status.REVIEW
        assert WorkflowEvent.objects.filter(to_status=Status.PUBLISHED).count() == 0

    def test_publishing_ones_own_last_change_is_refused(self, author_user, editor_user):
        release = DraftFactory(created_by=author_user)
        workflow.submit(release, by=author_user)
        release.title_ru = "Исправленный заголовок"
        release.updated_by = editor_user  # the editor changed the text while reviewing
        release.save()
        with pytest.raises(PermissionDenied):
            workflow.publish(release, by=editor_user)

    def test_another_editor_publishes(self, author_user, editor_user):
        release = DraftFactory(created_by=author_user)
        workflow.submit(release, by=author_user)
        workflow.publish(release, by=editor_user)
        release.refresh_from_db()
        assert (release.status, release.needs_review) == (Status.PUBLISHED, False)

    def test_forced_with_a_reason_needs_review(self, editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        event = workflow.publish(
            release, by=editor_user, force=True, reason="Срочное заявление, ночью"
        )
        release.refresh_from_db()
        assert (release.status, release.needs_review) == (Status.PUBLISHED, True)
        assert "Срочное заявление, ночью" in event.comment
        assert list(Release.objects.needing_review()) == [release]

    def test_forced_without_a_reason_is_refused(self, editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        with pytest.raises(ValidationError, match="reason"):
            workflow.publish(release, by=editor_user, force=True, reason=" ")
        assert Release.objects.get(pk=release.pk).status == Status.REVIEW

    def test_forced_without_the_permission_is_refused(self, roles):
        from django.contrib.auth.models import Permission

        publisher = UserFactory(username="publisher")
        publisher.user_permissions.add(
            *Permission.objects.filter(codename__in=["submit_release", "publish_release"])
        )
        release = DraftFactory(created_by=publisher)
        workflow.submit(release, by=publisher)
        with pytest.raises(PermissionDenied, match="not allowed"):
            workflow.publish(release, by=publisher, force=True, reason="Срочно")
        assert Release.objects.get(pk=release.pk).status == Status.REVIEW

    def test_another_editor_confirms(self, editor_user, second_editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        workflow.publish(release, by=editor_user, force=True, reason="Срочно")
        assert "confirm" not in [t.name for t in workflow.allowed_transitions(editor_user, release)]
        assert "confirm" in [
            t.name for t in workflow.allowed_transitions(second_editor_user, release)
        ]
        event = workflow.confirm(release, by=second_editor_user)
        release.refresh_from_db()
        assert release.needs_review is False
        assert (event.actor, event.from_status, event.to_status) == (
            second_editor_user,
            Status.PUBLISHED,
            Status.PUBLISHED,
        )
        with pytest.raises(ValidationError, match="does not need review"):
            workflow.confirm(release, by=second_editor_user)

    def test_the_forcer_cannot_confirm(self, editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        workflow.publish(release, by=editor_user, force=True, reason="Срочно")
        before = WorkflowEvent.objects.count()
        with pytest.raises(PermissionDenied, match="another editor must confirm"):
            workflow.confirm(release, by=editor_user)
        assert Release.objects.get(pk=release.pk).needs_review is True
        assert WorkflowEvent.objects.count() == before

    def test_authors_cannot_confirm(self, author_user, editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        workflow.publish(release, by=editor_user, force=True, reason="Срочно")
        with pytest.raises(PermissionDenied):
            workflow.confirm(release, by=author_user)

    def test_setting_off_lets_one_editor_publish_alone(self, settings, editor_user):
        settings.SECOND_REVIEWER_REQUIRED = False
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        workflow.publish(release, by=editor_user)
        release.refresh_from_db()
        assert (release.status, release.needs_review) == (Status.PUBLISHED, False)

    def test_the_system_is_exempt(self):
        release = DraftFactory()
        workflow.submit(release, by=None)
        workflow.publish(release, by=None)
        assert Release.objects.get(pk=release.pk).needs_review is False


# Admin -------------------------------------------------------------------------------------


class TestAdmin:
    def transition(self, client, release, name, **data):
        url = reverse("admin:news_release_transition", args=[release.pk, name])
        return client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    def test_unpublish_with_a_replacement_id(self, client, editor_user):
        replacement = PublishedFactory()
        release = PublishedFactory()
        client.force_login(editor_user)
        page = client.get(
            reverse("admin:news_release_change", args=[release.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        assert 'data-transition="unpublish"' in page.content.decode()
        self.transition(
            client, release, "unpublish", comment="Дубликат", replacement=replacement.pk
        )
        release.refresh_from_db()
        assert (release.status, release.replacement) == (Status.UNPUBLISHED, replacement)

    def test_unpublish_with_a_bad_replacement_shows_the_error(self, client, editor_user):
        draft = DraftFactory()
        release = PublishedFactory()
        client.force_login(editor_user)
        response = self.transition(
            client, release, "unpublish", comment="Дубликат", replacement=draft.pk
        )
        assert "not public" in response.content.decode()
        response = self.transition(
            client, release, "unpublish", comment="Дубликат", replacement="abc"
        )
        assert "Enter the number of a release" in response.content.decode()
        assert Release.objects.get(pk=release.pk).status == Status.PUBLISHED

    def test_force_publish_and_confirm_in_the_admin(self, client, editor_user, second_editor_user):
        release = DraftFactory(created_by=editor_user)
        workflow.submit(release, by=editor_user)
        client.force_login(editor_user)
        page = client.get(
            reverse("admin:news_release_change", args=[release.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        assert 'name="force"' in page.content.decode()
        client.force_login(second_editor_user)  # not the submitter: a plain Publish button
        page = client.get(
            reverse("admin:news_release_change", args=[release.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        assert 'data-transition="publish"' in page.content.decode()
        assert 'name="force"' not in page.content.decode()
        client.force_login(editor_user)
        response = self.transition(client, release, "publish")
        assert "another editor must publish it" in response.content.decode()
        assert Release.objects.get(pk=release.pk).status == Status.REVIEW
        self.transition(client, release, "publish", force="on", reason="Срочно")
        assert Release.objects.get(pk=release.pk).needs_review is True
        listing = client.get(
            reverse("admin:news_release_changelist") + "?needs_review__exact=1",
            HTTP_ACCEPT_LANGUAGE="ru",
        )
        assert "требует проверки" in listing.content.decode()
        client.force_login(second_editor_user)
        self.transition(client, release, "confirm")
        assert Release.objects.get(pk=release.pk).needs_review is False


# Migration ---------------------------------------------------------------------------------


def test_migration_keeps_the_reason_of_an_old_withdrawal():
    release = PublishedFactory()
    workflow.withdraw(release, by=None, reason="Старая причина")
    moment = timezone.now() - datetime.timedelta(days=30)
    WorkflowEvent.objects.filter(release=release, to_status=Status.WITHDRAWN).update(
        created_at=moment
    )
    # As the previous schema left it: withdrawn, with nothing on the row.
    Release.objects.filter(pk=release.pk).update(withdrawn_at=None, withdrawal_reason="")
    untouched = PublishedFactory()
    keep_reasons.keep_withdrawal_reasons(apps, None)
    release.refresh_from_db()
    untouched.refresh_from_db()
    assert (release.withdrawn_at, release.withdrawal_reason) == (moment, "Старая причина")
    assert (untouched.withdrawn_at, untouched.withdrawal_reason) == (None, "")
