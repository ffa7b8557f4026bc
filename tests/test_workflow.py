"""The editorial workflow: every transition for every role, allowed and forbidden."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import override
from freezegun import freeze_time

from news import workflow
from news.models import Release, Status, WorkflowEvent
from news.roles import ROLES
from tests.factories import (
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    UserFactory,
    WithdrawnFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English here (the site's default language is Russian)."""
    with override("en"):
        yield


def assert_unchanged(release, status):
    release.refresh_from_db()
    assert release.status == status
    assert WorkflowEvent.objects.filter(release=release).count() == 0


@pytest.fixture
def own_draft(author_user):
    return DraftFactory(created_by=author_user)


class TestSubmit:
    def test_author_submits_own_draft(self, own_draft, author_user, editor_user):
        event = workflow.submit(own_draft, by=author_user)
        assert own_draft.status == Status.REVIEW
        own_draft.refresh_from_db()
        assert own_draft.status == Status.REVIEW
        assert (event.actor, event.from_status, event.to_status) == (
            author_user,
            Status.DRAFT,
            Status.REVIEW,
        )
        assert own_draft.version == 2

    def test_author_cannot_submit_someone_elses_draft(self, author_user, other_author_user):
        draft = DraftFactory(created_by=other_author_user)
        with pytest.raises(PermissionDenied):
            workflow.submit(draft, by=author_user)
        assert_unchanged(draft, Status.DRAFT)

    def test_editor_may_submit_any_draft(self, editor_user, author_user):
        draft = DraftFactory(created_by=author_user)
        workflow.submit(draft, by=editor_user)
        assert draft.status == Status.REVIEW

    @pytest.mark.parametrize("factory", [ReviewFactory, PublishedFactory, WithdrawnFactory])
    def test_only_drafts_are_submitted(self, factory, editor_user):
        release = factory()
        before = release.status
        count = WorkflowEvent.objects.count()
        with pytest.raises(ValidationError, match="Cannot submit"):
            workflow.submit(release, by=editor_user)
        release.refresh_from_db()
        assert release.status == before
        assert WorkflowEvent.objects.count() == count

    def test_user_without_role_cannot_submit(self, db):
        nobody = UserFactory(username="nobody")
        draft = DraftFactory(created_by=nobody)
        with pytest.raises(PermissionDenied):
            workflow.submit(draft, by=nobody)
        assert_unchanged(draft, Status.DRAFT)

    def test_inactive_user_cannot_act(self, editor_user):
        editor_user.is_active = False
        editor_user.save()
        draft = DraftFactory(created_by=editor_user)
        with pytest.raises(PermissionDenied):
            workflow.submit(draft, by=editor_user)
        assert_unchanged(draft, Status.DRAFT)


class TestPublish:
    def test_editor_publishes_now(self, editor_user, author_user):
        release = DraftFactory(created_by=author_user)
        workflow.submit(release, by=author_user)
        before = timezone.now()
        workflow.publish(release, by=editor_user)
        release.refresh_from_db()
        assert release.status == Status.PUBLISHED
        assert before <= release.published_at <= timezone.now()
        assert release.first_published_at == release.published_at
        assert list(Release.objects.published("ru")) == [release]
        assert list(Release.objects.published("en")) == [release]

    def test_author_cannot_publish(self, author_user):
        release = ReviewFactory(created_by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.publish(release, by=author_user)
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert release.events.count() == 1  # only the submit

    def test_superuser_can_do_everything(self, superuser):
        release = DraftFactory(created_by=superuser)
        workflow.submit(release, by=superuser)
        workflow.publish(release, by=superuser, force=True, reason="Один в редакции")
        workflow.withdraw(release, by=superuser, reason="Дубль")
        workflow.reopen(release, by=superuser)
        assert release.status == Status.DRAFT
        assert release.events.count() == 4

    def test_a_draft_is_not_published_without_review(self, editor_user):
        draft = DraftFactory()
        with pytest.raises(ValidationError, match="Cannot publish"):
            workflow.publish(draft, by=editor_user)
        assert_unchanged(draft, Status.DRAFT)

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"title_ru": ""}, "Russian title"),
            ({"lead_ru": ""}, "Russian lead"),
            ({"body_ru": "<p> </p>"}, "Russian text"),
            ({"body_en": ""}, "English version is incomplete"),
            ({"title_en": ""}, "English version is incomplete"),
            ({"title_en": "", "body_en": "", "lead_en": "Only a lead"}, "English version"),
        ],
    )
    def test_completeness_is_checked(self, editor_user, fields, message):
        release = ReviewFactory()  # submitted complete, then edited in review
        for name, value in fields.items():
            setattr(release, name, value)
        release.save()
        with pytest.raises(ValidationError, match=message):
            workflow.publish(release, by=editor_user)
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert release.published_at is None
        assert release.events.count() == 1

    def test_russian_only_release_publishes_without_english(self, editor_user):
        release = ReviewFactory(title_en="", lead_en="", body_en="")
        workflow.publish(release, by=editor_user)
        assert list(Release.objects.published("ru")) == [release]
        assert not Release.objects.published("en").exists()

    def test_republication_keeps_the_public_date_unless_changed(
        self, editor_user, second_editor_user
    ):
        release = PublishedFactory()
        original = release.published_at
        workflow.withdraw(release, by=editor_user, reason="Уточнение цифр")
        workflow.reopen(release, by=editor_user)
        workflow.submit(release, by=editor_user)
        workflow.publish(release, by=second_editor_user)
        release.refresh_from_db()
        assert release.published_at == original
        assert release.first_published_at == original

        workflow.withdraw(release, by=editor_user, reason="Ещё раз")
        workflow.reopen(release, by=editor_user)
        workflow.submit(release, by=editor_user)
        new_date = timezone.now() - datetime.timedelta(minutes=5)
        workflow.publish(release, by=second_editor_user, at=new_date)
        release.refresh_from_db()
        assert release.published_at == new_date
        assert release.first_published_at == original

    def test_slug_is_stable_once_published(self, editor_user):
        release = PublishedFactory(title_ru="Первый заголовок")
        slug = release.slug
        release.title_ru = "Совсем другой заголовок"
        release.save()
        assert release.slug == slug == "pervyi-zagolovok"
        draft = DraftFactory(title_ru="Черновик")
        draft.title_ru = "Черновик исправленный"
        draft.save()
        assert draft.slug == "chernovik-ispravlennyi"


class TestScheduling:
    def test_future_publication_is_public_only_from_its_moment(self, editor_user):
        moment = timezone.now() + datetime.timedelta(hours=3)
        release = ReviewFactory()
        workflow.publish(release, by=editor_user, at=moment)
        assert release.status == Status.PUBLISHED
        assert not Release.objects.published("ru").exists()
        assert not Release.objects.published("ru", now=moment - datetime.timedelta(seconds=1))
        assert list(Release.objects.published("ru", now=moment)) == [release]
        with freeze_time(moment + datetime.timedelta(seconds=1)):
            assert list(Release.objects.published("ru")) == [release]
            assert list(Release.objects.published("en")) == [release]

    def test_scheduling_event_says_when(self, editor_user):
        moment = timezone.now() + datetime.timedelta(days=2)
        event = workflow.publish(ReviewFactory(), by=editor_user, at=moment)
        assert "Scheduled" in event.comment


class TestRequestChanges:
    def test_editor_sends_back_with_a_comment(self, editor_user, author_user):
        release = ReviewFactory(created_by=author_user)
        event = workflow.request_changes(release, by=editor_user, comment="Уточните дату.")
        assert release.status == Status.DRAFT
        assert event.comment == "Уточните дату."

    @pytest.mark.parametrize("comment", ["", "   "])
    def test_comment_is_required(self, editor_user, comment):
        release = ReviewFactory()
        with pytest.raises(ValidationError, match="comment is required"):
            workflow.request_changes(release, by=editor_user, comment=comment)
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert release.events.count() == 1

    def test_author_cannot_request_changes(self, author_user):
        release = ReviewFactory(created_by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.request_changes(release, by=author_user, comment="Сам себе")
        release.refresh_from_db()
        assert release.status == Status.REVIEW


class TestWithdrawAndReopen:
    def test_editor_withdraws_with_a_reason_and_reopens(self, editor_user):
        release = PublishedFactory()
        event = workflow.withdraw(release, by=editor_user, reason="Ошибка в фамилии")
        assert event.comment == "Ошибка в фамилии"
        assert release.status == Status.WITHDRAWN
        assert not Release.objects.published("ru").exists()
        workflow.reopen(release, by=editor_user)
        assert release.status == Status.DRAFT
        assert not Release.objects.published("ru").exists()

    def test_reason_is_required(self, editor_user):
        release = PublishedFactory()
        count = WorkflowEvent.objects.count()
        with pytest.raises(ValidationError):
            workflow.withdraw(release, by=editor_user, reason="")
        release.refresh_from_db()
        assert release.status == Status.PUBLISHED
        assert WorkflowEvent.objects.count() == count

    def test_author_cannot_withdraw_or_reopen(self, author_user):
        published = PublishedFactory(created_by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.withdraw(published, by=author_user, reason="Хочу")
        withdrawn = WithdrawnFactory(created_by=author_user)
        with pytest.raises(PermissionDenied):
            workflow.reopen(withdrawn, by=author_user)
        published.refresh_from_db()
        withdrawn.refresh_from_db()
        assert (published.status, withdrawn.status) == (Status.PUBLISHED, Status.WITHDRAWN)

    @pytest.mark.parametrize("factory", [DraftFactory, ReviewFactory])
    def test_only_published_releases_are_withdrawn(self, factory, editor_user):
        release = factory()
        before = release.status
        with pytest.raises(ValidationError, match="Cannot withdraw"):
            workflow.withdraw(release, by=editor_user, reason="x")
        release.refresh_from_db()
        assert release.status == before


class TestStaleInstance:
    def test_state_is_checked_in_the_database_not_on_the_callers_copy(self, editor_user):
        release = ReviewFactory()
        stale_copy = Release.objects.get(pk=release.pk)
        workflow.publish(release, by=editor_user)
        with pytest.raises(ValidationError, match="Cannot publish"):
            workflow.publish(stale_copy, by=editor_user)
        assert WorkflowEvent.objects.filter(to_status=Status.PUBLISHED).count() == 1


class TestAllowedTransitions:
    def test_what_each_role_may_do(self, author_user, editor_user):
        own = DraftFactory(created_by=author_user)
        names = lambda user, release: [t.name for t in workflow.allowed_transitions(user, release)]  # noqa: E731
        assert names(author_user, own) == ["submit"]
        assert names(editor_user, own) == ["submit"]
        review = ReviewFactory(created_by=author_user)
        assert names(author_user, review) == []
        assert names(editor_user, review) == ["publish", "request_changes"]
        published = PublishedFactory()
        assert names(author_user, published) == []
        assert names(editor_user, published) == ["withdraw", "unpublish"]
        withdrawn = WithdrawnFactory()
        assert names(editor_user, withdrawn) == ["reopen"]

    def test_can_edit(self, author_user, other_author_user, editor_user):
        own = DraftFactory(created_by=author_user)
        assert workflow.can_edit(author_user, own)
        assert not workflow.can_edit(other_author_user, own)
        assert workflow.can_edit(editor_user, own)
        in_review = ReviewFactory(created_by=author_user)
        assert not workflow.can_edit(author_user, in_review)
        assert workflow.can_edit(editor_user, in_review)
        # A published release: its writer may start (and edit) its pending changes, others not.
        assert workflow.can_edit(author_user, PublishedFactory(created_by=author_user))
        assert not workflow.can_edit(other_author_user, PublishedFactory(created_by=author_user))


class TestNotifications:
    def test_editors_hear_of_a_submission_after_commit(
        self, author_user, editor_user, django_capture_on_commit_callbacks, run_tasks
    ):
        release = DraftFactory(created_by=author_user, title_ru="Заседание Совета")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            workflow.submit(release, by=author_user)
        assert mail.outbox == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert mail.outbox == []  # queued for the background worker
        run_tasks()
        assert [m.to for m in mail.outbox] == [[editor_user.email]]
        message = mail.outbox[0]
        assert "Заседание Совета" in message.subject
        assert "На проверку" in message.subject and "For review" in message.subject
        assert f"/admin/news/release/{release.pk}/change/" in message.body
        assert "submitted for review" in message.body

    def test_creator_hears_of_changes_requested_and_publication(
        self, author_user, editor_user, django_capture_on_commit_callbacks, run_tasks
    ):
        release = ReviewFactory(created_by=author_user)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.request_changes(release, by=editor_user, comment="Добавьте цитату")
        run_tasks()
        assert [m.to for m in mail.outbox] == [[author_user.email]]
        assert "Добавьте цитату" in mail.outbox[0].body
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit(release, by=author_user)
            workflow.publish(release, by=editor_user)
        run_tasks()
        assert [m.to for m in mail.outbox] == [[editor_user.email], [author_user.email]]
        assert "Опубликовано" in mail.outbox[1].subject

    def test_no_mail_when_the_transition_fails(
        self, author_user, django_capture_on_commit_callbacks
    ):
        release = ReviewFactory(created_by=author_user)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
            workflow.publish(release, by=author_user)
        assert mail.outbox == []


class TestRoles:
    def test_setup_roles_is_idempotent_and_exact(self, roles):
        call_command("setup_roles", verbosity=0)
        call_command("setup_roles", verbosity=0)
        assert Group.objects.filter(name__in=ROLES).count() == 2
        for name, perms in ROLES.items():
            group = Group.objects.get(name=name)
            held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
            assert held == set(perms)
        authors = {p.codename for p in Group.objects.get(name="Authors").permissions.all()}
        assert "publish_release" not in authors
        assert "withdraw_release" not in authors
        assert "edit_any_release" not in authors

    def test_a_permission_granted_to_a_user_directly_works(self, db):
        from django.contrib.auth.models import Permission

        user = UserFactory(username="freelance-editor")
        user.user_permissions.add(Permission.objects.get(codename="publish_release"))
        release = ReviewFactory()
        workflow.publish(release, by=user)
        assert release.status == Status.PUBLISHED


def test_messages_speak_russian_to_russian_users(editor_user):
    release = ReviewFactory()
    release.title_ru = ""
    release.save()
    with override("ru"), pytest.raises(ValidationError, match="Нужен заголовок на русском"):
        workflow.publish(release, by=editor_user)
    with override("ru"), pytest.raises(ValidationError, match="Для действия «вернуть"):
        workflow.request_changes(release, by=editor_user, comment="")
    with override("en"), pytest.raises(ValidationError, match="Russian title is required"):
        workflow.publish(release, by=editor_user)


def test_system_actions_such_as_imports_send_no_mail(
    editor_user, author_user, django_capture_on_commit_callbacks
):
    release = DraftFactory(created_by=author_user)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(release, by=None)
        workflow.publish(release, by=None)
    assert mail.outbox == []
    assert release.events.count() == 2


def test_a_long_comment_is_kept_whole_in_the_event(editor_user):
    release = ReviewFactory()
    comment = "Уточните, пожалуйста, " * 30
    event = workflow.request_changes(release, by=editor_user, comment=comment)
    assert event.comment == comment.strip()
    assert len(release.history.first().history_change_reason) <= 100
