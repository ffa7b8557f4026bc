"""Submit checks completeness; recall; reschedule and cancel a schedule (issue 14)."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import override

from news import editions, workflow
from news.models import EditionState, Release, ReleaseEdition, Status, WorkflowEvent
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


# Pending editions of live releases: the same recall, reschedule and cancel --------------------

CHANGED_TITLE = "Изменённый заголовок"


def pending(release, *, by, submit=False, at=None) -> ReleaseEdition:
    """Start the pending edition of a live release; submit it (by `by`) and schedule it (by the
    system) when asked."""
    editions.save_pending(
        release,
        by=by,
        content={"title_ru": CHANGED_TITLE},
        relations={},
        notes={"change_note_ru": "Уточнено.", "change_note_en": "Clarified."},
    )
    if submit or at:
        workflow.submit(release, by=by)
    if at:
        workflow.publish(release, by=None, at=at)
    return ReleaseEdition.objects.get(release=release)


def live_title(release) -> str:
    return Release.objects.get(pk=release.pk).title_ru


class TestRecallPendingChanges:
    def test_the_submitter_recalls_them_the_live_version_stays_and_editors_are_told(
        self, author_user, editor_user, django_capture_on_commit_callbacks, run_tasks
    ):
        release = PublishedFactory(created_by=author_user)
        title = release.title_ru
        edition = pending(release, by=author_user, submit=True)
        assert "recall" in [t.name for t in workflow.allowed_transitions(author_user, release)]
        run_tasks()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            event = workflow.recall(release, by=author_user)
        run_tasks()
        edition.refresh_from_db()
        assert edition.state == EditionState.DRAFT and edition.title_ru == CHANGED_TITLE
        assert (event.edition, event.from_status, event.to_status, event.actor) == (
            edition, EditionState.REVIEW, EditionState.DRAFT, author_user
        )  # fmt: skip
        assert live_title(release) == title
        assert Release.objects.published("ru").filter(pk=release.pk, title_ru=title).exists()
        assert [m.to for m in mail.outbox] == [[editor_user.email]]
        assert "Recalled" in mail.outbox[0].subject and "Changes" in mail.outbox[0].subject
        # Back in the author's hands: edited and submitted again.
        assert workflow.can_edit(author_user, release)
        workflow.submit(release, by=author_user)
        edition.refresh_from_db()
        assert edition.state == EditionState.REVIEW

    def test_nobody_else_recalls_them(self, author_user, other_author_user, editor_user):
        release = PublishedFactory(created_by=author_user)
        edition = pending(release, by=author_user, submit=True)
        events = WorkflowEvent.objects.count()
        for user in (other_author_user, editor_user):
            assert "recall" not in [t.name for t in workflow.allowed_transitions(user, release)]
            with pytest.raises(PermissionDenied):
                workflow.recall(Release.objects.get(pk=release.pk), by=user)
        edition.refresh_from_db()
        assert edition.state == EditionState.REVIEW
        assert WorkflowEvent.objects.count() == events

    def test_changes_not_in_review_are_not_recalled(self, author_user):
        release = PublishedFactory(created_by=author_user)
        edition = pending(release, by=author_user)
        events = WorkflowEvent.objects.count()
        assert "recall" not in [t.name for t in workflow.allowed_transitions(author_user, release)]
        with pytest.raises((ValidationError, PermissionDenied)):
            workflow.recall(release, by=author_user)
        edition.refresh_from_db()
        assert edition.state == EditionState.DRAFT
        assert WorkflowEvent.objects.count() == events


class TestRescheduleAndCancelPendingChanges:
    def test_an_editor_moves_their_moment_the_live_version_stays(self, editor_user):
        release = PublishedFactory()
        title, public_since = release.title_ru, release.published_at
        soon = timezone.now() + datetime.timedelta(hours=2)
        edition = pending(release, by=editor_user, at=soon)
        names = [t.name for t in workflow.allowed_transitions(editor_user, release)]
        assert {"reschedule", "cancel_schedule"} <= set(names)
        later = timezone.now() + datetime.timedelta(days=2)
        event = workflow.reschedule(release, by=editor_user, at=later)
        edition.refresh_from_db()
        assert (edition.state, edition.publish_at) == (EditionState.SCHEDULED, later)
        assert (event.edition, event.from_status, event.to_status) == (
            edition, EditionState.SCHEDULED, EditionState.SCHEDULED
        )  # fmt: skip
        assert "rescheduled" in event.comment
        release.refresh_from_db()
        assert (release.title_ru, release.published_at) == (title, public_since)
        # The old moment promotes nothing; the new one does.
        assert editions.apply_due(soon + datetime.timedelta(minutes=1)) == 0
        assert live_title(release) == title
        assert editions.apply_due(later + datetime.timedelta(minutes=1)) == 1
        assert live_title(release) == CHANGED_TITLE

    def test_cancelled_they_go_back_to_review_the_live_version_stays(self, editor_user):
        release = PublishedFactory()
        title = release.title_ru
        at = timezone.now() + datetime.timedelta(hours=2)
        edition = pending(release, by=editor_user, at=at)
        event = workflow.cancel_schedule(release, by=editor_user)
        edition.refresh_from_db()
        assert (edition.state, edition.publish_at) == (EditionState.REVIEW, None)
        assert (event.from_status, event.to_status) == (EditionState.SCHEDULED, EditionState.REVIEW)
        release.refresh_from_db()
        assert release.status == Status.PUBLISHED and release.title_ru == title
        assert Release.objects.published("ru").filter(pk=release.pk).exists()
        assert editions.apply_due(at + datetime.timedelta(minutes=1)) == 0
        assert live_title(release) == title
        workflow.publish(release, by=None)  # and published again, now
        assert live_title(release) == CHANGED_TITLE

    def test_refused_to_authors_to_the_past_and_once_due(self, editor_user, author_user):
        release = PublishedFactory(created_by=author_user)
        at = timezone.now() + datetime.timedelta(hours=2)
        edition = pending(release, by=author_user, at=at)
        events = WorkflowEvent.objects.count()
        future = timezone.now() + datetime.timedelta(days=1)
        with pytest.raises(PermissionDenied):
            workflow.reschedule(release, by=author_user, at=future)
        with pytest.raises(PermissionDenied):
            workflow.cancel_schedule(release, by=author_user)
        with pytest.raises(ValidationError, match="in the future"):
            workflow.reschedule(
                release, by=editor_user, at=timezone.now() - datetime.timedelta(minutes=1)
            )
        # Its moment has come (no page read since, so not yet promoted): too late.
        ReleaseEdition.objects.filter(pk=edition.pk).update(
            publish_at=timezone.now() - datetime.timedelta(minutes=1)
        )
        for act in (
            lambda r: workflow.reschedule(r, by=editor_user, at=future),
            lambda r: workflow.cancel_schedule(r, by=editor_user),
        ):
            with pytest.raises((PermissionDenied, ValidationError)):
                act(Release.objects.get(pk=release.pk))
        edition.refresh_from_db()
        assert edition.state == EditionState.SCHEDULED
        assert WorkflowEvent.objects.count() == events
        # Due, it is promoted as before.
        assert editions.apply_due() == 1

    def test_a_scheduled_release_with_draft_changes_is_itself_rescheduled(self, editor_user):
        release = ScheduledFactory()
        edition = pending(release, by=editor_user)
        at = timezone.now() + datetime.timedelta(days=4)
        workflow.reschedule(release, by=editor_user, at=at)
        release.refresh_from_db()
        edition.refresh_from_db()
        assert release.published_at == at
        assert (edition.state, edition.publish_at) == (EditionState.DRAFT, None)
