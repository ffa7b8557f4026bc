"""The change page's one way to act (issue 14): "Save and …" buttons save the edit before the
transition; recall, reschedule and cancel in the workflow panel."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from news import workflow
from news.models import Status
from tests.factories import DraftFactory, PublishedFactory, ReviewFactory, ScheduledFactory
from tests.test_admin import change_url, message_texts, release_data, transitions_shown

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def author_client(client, author_user):
    client.force_login(author_user)
    return client


@pytest.fixture
def editor_client(client, editor_user):
    client.force_login(editor_user)
    return client


def transition_url(release, name):
    return reverse("admin:news_release_transition", args=[release.pk, name])


class TestSaveAndAct:
    @pytest.fixture
    def one_editor_office(self, settings):
        """ "Save and publish" is the shortcut of an office without a second reviewer."""
        settings.SECOND_REVIEWER_REQUIRED = False

    def test_save_and_publish_is_not_offered_with_a_second_reviewer(self, editor_client):
        release = ReviewFactory()
        assert (
            'name="_save_and_publish"'
            not in editor_client.get(change_url(release)).content.decode()
        )
        # Posted anyway: the edit is kept, the publication refused with the rule's reason.
        data = release_data(release, title_ru="Исправленный заголовок", _save_and_publish="1")
        del data["_save"]
        response = editor_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="en")
        release.refresh_from_db()
        assert (release.title_ru, release.status) == ("Исправленный заголовок", Status.REVIEW)
        assert "another editor must publish it" in message_texts(response)[-1]

    @pytest.mark.usefixtures("one_editor_office")
    def test_save_and_publish_publishes_the_edit(self, editor_client):
        release = ReviewFactory()
        data = release_data(release, title_ru="Исправленный заголовок", _save_and_publish="1")
        del data["_save"]
        response = editor_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302
        release.refresh_from_db()
        assert (release.title_ru, release.status) == ("Исправленный заголовок", Status.PUBLISHED)
        assert release.is_public("ru")
        assert message_texts(response)[-1] == "“Исправленный заголовок” is published."

    @pytest.mark.usefixtures("one_editor_office")
    def test_save_and_publish_of_an_incomplete_edit_saves_and_explains(self, editor_client):
        release = ReviewFactory()
        data = release_data(release, lead_ru="", _save_and_publish="1")
        response = editor_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="en")
        release.refresh_from_db()
        assert release.lead_ru == ""  # the edit is kept...
        assert release.status == Status.REVIEW  # ...and not published
        assert "The Russian lead is required." in message_texts(response)[-1]

    def test_save_and_submit_submits_the_edit(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, title_ru="Новый", _submit_for_review="1")
        author_client.post(change_url(release), data)
        release.refresh_from_db()
        assert (release.title_ru, release.status) == ("Новый", Status.REVIEW)

    def test_save_and_submit_refuses_half_an_english_version(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, body_en="", _submit_for_review="1")
        response = author_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="en")
        release.refresh_from_db()
        assert release.status == Status.DRAFT
        assert "English version is incomplete" in message_texts(response)[-1]

    @pytest.mark.usefixtures("one_editor_office")
    def test_buttons_offered_by_state(self, editor_client):
        page = editor_client.get(change_url(ReviewFactory())).content.decode()
        assert 'name="_save_and_publish"' in page
        assert "unsaved_changes.js" in page
        page = editor_client.get(change_url(DraftFactory())).content.decode()
        assert 'name="_save_and_publish"' not in page


class TestPanel:
    def test_recall_by_the_submitter(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        workflow.submit(release, by=author_user)
        assert "recall" in transitions_shown(author_client.get(change_url(release)))
        author_client.post(transition_url(release, "recall"))
        release.refresh_from_db()
        assert release.status == Status.DRAFT

    def test_recall_by_someone_else_is_refused(self, editor_client, author_user):
        release = DraftFactory(created_by=author_user)
        workflow.submit(release, by=author_user)
        assert "recall" not in transitions_shown(editor_client.get(change_url(release)))
        response = editor_client.post(transition_url(release, "recall"))
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert "not allowed" in message_texts(response)[0]

    def test_reschedule_and_cancel(self, editor_client):
        release = ScheduledFactory()
        page = editor_client.get(change_url(release)).content.decode()
        assert "Europe/Minsk (UTC+3)" in page
        at = timezone.localtime(timezone.now() + datetime.timedelta(days=5)).replace(
            second=0, microsecond=0
        )
        response = editor_client.post(
            transition_url(release, "reschedule"), {"at": at.strftime("%Y-%m-%dT%H:%M")}
        )
        release.refresh_from_db()
        assert release.published_at == at
        assert "is scheduled" in message_texts(response)[0]
        editor_client.post(transition_url(release, "cancel_schedule"))
        release.refresh_from_db()
        assert (release.status, release.published_at) == (Status.REVIEW, None)

    def test_reschedule_needs_a_future_time(self, editor_client):
        release = ScheduledFactory()
        before = release.published_at
        past = timezone.localtime(timezone.now() - datetime.timedelta(days=1))
        for data in ({"at": ""}, {"at": past.strftime("%Y-%m-%dT%H:%M")}):
            response = editor_client.post(transition_url(release, "reschedule"), data)
            assert message_texts(response)
        release.refresh_from_db()
        assert release.published_at == before

    def test_public_release_offers_no_reschedule(self, editor_client):
        shown = transitions_shown(editor_client.get(change_url(PublishedFactory())))
        assert not shown & {"reschedule", "cancel_schedule"}


def test_authors_see_the_date_only_as_text(author_client, author_user):
    release = DraftFactory(created_by=author_user)
    page = author_client.get(change_url(release), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'name="published_at' not in page
    assert "ещё не задана: её задают при публикации" in page


class TestPanelOnPendingChanges:
    """The same buttons act on the pending changes of a live release."""

    @staticmethod
    def pending(release, *, by, at=None):
        from news import editions
        from news.models import ReleaseEdition

        editions.save_pending(
            release, by=by, content={"title_ru": "Новый заголовок"}, relations={},
            notes={"change_note_ru": "Уточнено.", "change_note_en": "Clarified."},
        )  # fmt: skip
        workflow.submit(release, by=by)
        if at:
            workflow.publish(release, by=None, at=at)
        return ReleaseEdition.objects.get(release=release)

    def test_the_submitter_recalls_them(self, author_client, author_user):
        release = PublishedFactory(created_by=author_user)
        edition = self.pending(release, by=author_user)
        assert "recall" in transitions_shown(author_client.get(change_url(release)))
        response = author_client.post(transition_url(release, "recall"))
        assert "The changes to" in message_texts(response)[0]
        edition.refresh_from_db()
        release.refresh_from_db()
        assert edition.state == "draft" and release.title_ru != "Новый заголовок"

    def test_someone_else_sees_no_recall_and_is_refused(self, client, editor_user, author_user):
        release = PublishedFactory(created_by=author_user)
        edition = self.pending(release, by=author_user)
        client.force_login(editor_user)
        assert "recall" not in transitions_shown(client.get(change_url(release)))
        response = client.post(transition_url(release, "recall"))
        assert "not allowed" in message_texts(response)[0]
        edition.refresh_from_db()
        assert edition.state == "review"

    def test_an_editor_reschedules_and_cancels_them(self, client, editor_user, author_user):
        release = PublishedFactory(created_by=author_user)
        title = release.title_ru
        soon = timezone.localtime(timezone.now() + datetime.timedelta(hours=3)).replace(
            second=0, microsecond=0
        )
        edition = self.pending(release, by=None, at=soon)
        client.force_login(author_user)
        shown = transitions_shown(client.get(change_url(release)))
        assert not shown & {"reschedule", "cancel_schedule"}
        client.force_login(editor_user)
        response = client.get(change_url(release))
        assert {"reschedule", "cancel_schedule"} <= transitions_shown(response)
        # The form starts from the changes' moment.
        assert f'value="{soon.strftime("%Y-%m-%dT%H:%M")}"' in response.content.decode()
        at = soon + datetime.timedelta(days=2)
        response = client.post(
            transition_url(release, "reschedule"), {"at": at.strftime("%Y-%m-%dT%H:%M")}
        )
        assert "The changes to" in message_texts(response)[0]
        edition.refresh_from_db()
        assert edition.publish_at == at
        response = client.post(transition_url(release, "cancel_schedule"))
        assert "they are back in review" in message_texts(response)[-1]
        edition.refresh_from_db()
        release.refresh_from_db()
        assert (edition.state, edition.publish_at) == ("review", None)
        assert (release.status, release.title_ru) == (Status.PUBLISHED, title)
