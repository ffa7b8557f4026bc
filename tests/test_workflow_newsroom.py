"""Submit checks completeness; recall; reschedule and cancel a schedule (issue 14)."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import override

from news import workflow
from news.models import Release, Status, WorkflowEvent
from tests.factories import DraftFactory, PublishedFactory, ScheduledFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with override("en"):
        yield


def submitted_by(user, **kwargs) -> Release:
    release = DraftFactory(created_by=user, **kwargs)
    workflow.submit(release, by=user)
    return release


class TestSubmitCompleteness:
    def test_half_an_english_version_is_refused(self, author_user):
        draft = DraftFactory(created_by=author_user, title_en="Title only", body_en="")
        with pytest.raises(ValidationError, match="English version is incomplete"):
            workflow.submit(draft, by=author_user)
        draft.refresh_from_db()
        assert draft.status == Status.DRAFT
        assert WorkflowEvent.objects.count() == 0

    def test_missing_russian_lead_is_refused(self, author_user):
        draft = DraftFactory(created_by=author_user, lead_ru="")
        with pytest.raises(ValidationError, match="Russian lead is required"):
            workflow.submit(draft, by=author_user)
        assert WorkflowEvent.objects.count() == 0

    def test_complete_release_and_russian_only_are_submitted(self, author_user):
        for english in ({}, {"title_en": "", "lead_en": "", "body_en": ""}):
            draft = DraftFactory(created_by=author_user, **english)
            workflow.submit(draft, by=author_user)
            assert draft.status == Status.REVIEW


class TestRecall:
    def test_submitter_recalls_and_editors_are_told(
        self, author_user, editor_user, django_capture_on_commit_callbacks, run_tasks
    ):
        release = submitted_by(author_user)
        run_tasks()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            event = workflow.recall(release, by=author_user)
        run_tasks()
        release.refresh_from_db()
        assert release.status == Status.DRAFT
        assert (event.from_status, event.to_status, event.actor) == (
            Status.REVIEW,
            Status.DRAFT,
            author_user,
        )
        assert [m.to for m in mail.outbox] == [[editor_user.email]]
        assert "Recalled" in mail.outbox[0].subject

    def test_someone_else_cannot_recall(self, author_user, other_author_user, editor_user):
        release = submitted_by(author_user)
        events = WorkflowEvent.objects.count()
        for user in (other_author_user, editor_user):
            with pytest.raises(PermissionDenied):
                workflow.recall(release, by=user)
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert WorkflowEvent.objects.count() == events

    def test_draft_cannot_be_recalled(self, author_user):
        draft = DraftFactory(created_by=author_user)
        with pytest.raises(ValidationError):
            workflow.recall(draft, by=author_user)
        assert WorkflowEvent.objects.count() == 0

    def test_offered_only_to_the_submitter(self, author_user, other_author_user):
        release = submitted_by(author_user)
        names = [t.name for t in workflow.allowed_transitions(author_user, release)]
        assert "recall" in names
        names = [t.name for t in workflow.allowed_transitions(other_author_user, release)]
        assert "recall" not in names


class TestReschedule:
    def test_editor_moves_the_moment(self, editor_user):
        release = ScheduledFactory()
        at = timezone.now() + datetime.timedelta(days=3)
        event = workflow.reschedule(release, by=editor_user, at=at)
        release.refresh_from_db()
        assert release.published_at == at
        assert release.first_published_at == at
        assert release.status == Status.PUBLISHED
        assert event.actor == editor_user
        assert "Rescheduled" in event.comment
        assert not Release.objects.published("ru").filter(pk=release.pk).exists()

    def test_to_the_past_is_refused(self, editor_user):
        release = ScheduledFactory()
        before = release.published_at
        events = WorkflowEvent.objects.count()
        with pytest.raises(ValidationError, match="in the future"):
            workflow.reschedule(
                release, by=editor_user, at=timezone.now() - datetime.timedelta(minutes=1)
            )
        release.refresh_from_db()
        assert release.published_at == before
        assert WorkflowEvent.objects.count() == events

    def test_a_public_release_is_not_rescheduled(self, editor_user):
        release = PublishedFactory()
        with pytest.raises(PermissionDenied):
            workflow.reschedule(
                release, by=editor_user, at=timezone.now() + datetime.timedelta(days=1)
            )

    def test_authors_may_not(self, author_user):
        release = ScheduledFactory(created_by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.reschedule(
                release, by=author_user, at=timezone.now() + datetime.timedelta(days=2)
            )


class TestCancelSchedule:
    def test_back_to_review_and_never_public(self, editor_user):
        release = ScheduledFactory()
        event = workflow.cancel_schedule(release, by=editor_user)
        release.refresh_from_db()
        assert (release.status, release.published_at, release.first_published_at) == (
            Status.REVIEW,
            None,
            None,
        )
        assert (event.from_status, event.to_status) == (Status.PUBLISHED, Status.REVIEW)
        assert "cancel_schedule" in [
            t.name for t in workflow.allowed_transitions(editor_user, ScheduledFactory())
        ]

    def test_public_release_cannot_be_cancelled(self, editor_user, author_user):
        release = PublishedFactory()
        events = WorkflowEvent.objects.count()
        with pytest.raises(PermissionDenied):
            workflow.cancel_schedule(release, by=editor_user)
        scheduled = ScheduledFactory()
        with pytest.raises(PermissionDenied):
            workflow.cancel_schedule(scheduled, by=author_user)
        assert WorkflowEvent.objects.count() == events + 2  # only the factories' events
        release.refresh_from_db()
        assert release.status == Status.PUBLISHED
