"""The editorial workflow: the only way a release changes status.

`TRANSITIONS` is the one table of states, transitions and the permission each needs. Every
service below checks the release's current state (re-read under a row lock, so two editors
acting at once cannot both win) and the actor's permission, then saves the release and its
`WorkflowEvent` in one transaction; notifications leave only after that transaction commits.

`by=None` is the system itself (management commands run by the operator); views and the admin
always pass the signed-in user.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from news import journalists, notifications
from news.models import EditionState, Release, Status, WorkflowEvent
from news.publication_dates import check_publication_date


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    permission: str
    comment_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "submit", gettext_lazy("Submit for review"), frozenset({Status.DRAFT}),
            Status.REVIEW, "news.submit_release",
        ),
        Transition(
            "publish", gettext_lazy("Publish"), frozenset({Status.REVIEW}),
            Status.PUBLISHED, "news.publish_release",
        ),
        Transition(
            "request_changes", gettext_lazy("Request changes"), frozenset({Status.REVIEW}),
            Status.DRAFT, "news.publish_release", comment_required=True,
        ),
        Transition(
            "withdraw", gettext_lazy("Withdraw"), frozenset({Status.PUBLISHED}),
            Status.WITHDRAWN, "news.withdraw_release", comment_required=True,
        ),
        Transition(
            "unpublish", gettext_lazy("Unpublish"), frozenset({Status.PUBLISHED}),
            Status.UNPUBLISHED, "news.withdraw_release", comment_required=True,
        ),
        Transition(
            "reopen", gettext_lazy("Reopen as draft"),
            frozenset({Status.WITHDRAWN, Status.UNPUBLISHED}),
            Status.DRAFT, "news.withdraw_release",
        ),
        Transition(
            "discard", gettext_lazy("Discard pending changes"),
            frozenset({EditionState.DRAFT, EditionState.REVIEW, EditionState.SCHEDULED}),
            EditionState.DISCARDED, "news.submit_release",
        ),
        Transition(
            "confirm", gettext_lazy("Confirm publication"), frozenset({Status.PUBLISHED}),
            Status.PUBLISHED, "news.publish_release",
        ),
    ]
}  # fmt: skip
# The transitions that act on a release's pending edition when it has one (news.editions);
# `discard` exists only for editions.
EDITION_TRANSITIONS = frozenset({"submit", "publish", "request_changes", "discard"})
# Those that act on the pending edition when it is in the state they start from (recalled
# from review; rescheduled or its schedule cancelled while scheduled), and on the release
# otherwise (a scheduled release whose pending changes are a draft is still rescheduled).
EDITION_SOURCES: dict[str, frozenset[str]] = {
    "recall": frozenset({EditionState.REVIEW}),
    "reschedule": frozenset({EditionState.SCHEDULED}),
    "cancel_schedule": frozenset({EditionState.SCHEDULED}),
}


def acts_on_edition(release: Release, name: str) -> bool:
    """Whether the transition `name` acts on the release's pending edition (the live release
    stays as it is) rather than on the release."""
    edition = release.pending_edition
    if edition is None:
        return False
    return name in EDITION_TRANSITIONS or edition.state in EDITION_SOURCES.get(name, ())


def in_source_state(release: Release, transition: Transition) -> bool:
    """Whether what `transition` acts on (the pending edition or the release) is in a state it
    starts from."""
    if acts_on_edition(release, transition.name):
        sources = EDITION_SOURCES.get(transition.name, transition.sources)
        return release.pending_edition.state in sources
    return transition.name != "discard" and release.status in transition.sources


# What someone who may not fire a transition is told (one sentence each: the verbs do not
# share one grammatical frame).
REFUSALS = {
    "submit": gettext_lazy("You are not allowed to submit this release for review."),
    "publish": gettext_lazy("You are not allowed to publish this release."),
    "request_changes": gettext_lazy("You are not allowed to request changes to this release."),
    "withdraw": gettext_lazy("You are not allowed to withdraw this release."),
    "reopen": gettext_lazy("You are not allowed to reopen this release as a draft."),
    "recall": gettext_lazy("You are not allowed to recall this release: only its submitter can."),
    "reschedule": gettext_lazy("You are not allowed to reschedule this release."),
    "cancel_schedule": gettext_lazy("You are not allowed to cancel the schedule of this release."),
    "discard": gettext_lazy("You are not allowed to discard the pending changes of this release."),
    "unpublish": gettext_lazy("You are not allowed to unpublish this release."),
    "confirm": gettext_lazy("You are not allowed to confirm this publication."),
}
DEFAULT_REFUSAL = gettext_lazy("You are not allowed to do this to this release.")


def is_owner(user: AbstractBaseUser, release: Release) -> bool:
    return release.created_by_id is not None and release.created_by_id == user.pk


def may_fire(user: AbstractBaseUser | None, release: Release, name: str) -> bool:
    """True when `user` holds the transition's permission; submitting someone else's draft also
    needs `edit_any_release`."""
    if user is None:
        return True
    if not user.is_active:
        return False
    transition = TRANSITIONS[name]
    if not user.has_perm(transition.permission):
        return False
    if name in ("submit", "discard") and not is_owner(user, release):
        return user.has_perm("news.edit_any_release")
    condition = CONDITIONS.get(name)
    return condition is None or condition(user, release)


def allowed_transitions(user: AbstractBaseUser, release: Release) -> list[Transition]:
    """The transitions this user may fire on this release now, in table order (`confirm`
    only on a forced publication, and not to the editor who forced it)."""
    return [
        t
        for t in TRANSITIONS.values()
        if in_source_state(release, t)
        and may_fire(user, release, t.name)
        and (t.name != "confirm" or (release.needs_review and forced_by(release) != user.pk))
    ]


def _last_actor(release: Release, to_status: str) -> int | None:
    event = (
        release.events.filter(to_status=to_status)
        .order_by("-created_at", "-id")
        .only("actor_id")
        .first()
    )
    return event.actor_id if event else None


def forced_by(release: Release) -> int | None:
    """The id of the user whose publication of `release` awaits confirmation (None if none)."""
    if not release.needs_review:
        return None
    return _last_actor(release, Status.PUBLISHED)


def needs_second_pair(release: Release, by: AbstractBaseUser | None) -> bool:
    """The second-pair-of-eyes rule: with SECOND_REVIEWER_REQUIRED on, a person may not
    publish a release they submitted (the last submission) or whose text they changed last,
    unless they force it; for pending changes, the person who submitted them or changed their
    text last. The system (`by=None`) is exempt."""
    if by is None or not settings.SECOND_REVIEWER_REQUIRED:
        return False
    edition = release.pending_edition
    if edition is not None:  # pending changes: who submitted them, who wrote them last
        return by.pk in {edition.submitted_by_id, edition.text_changed_by_id}
    last_submitter = submitter(release)
    return by.pk in {getattr(last_submitter, "pk", None), release.updated_by_id}


def check_forced(forced: bool, *, by, force: bool, reason: str) -> None:
    """When the second-pair rule applies (`forced`), publishing needs `force`, a reason and
    the permission `force_publish_release`."""
    if not forced:
        return
    if not force:
        raise PermissionDenied(
            _(
                "You submitted this release or changed it last: another editor must "
                "publish it. If it cannot wait, publish it by force with a reason."
            )
        )
    if not reason:
        raise ValidationError(
            _("Give the reason for publishing without a second editor."),
            code="force_reason_required",
        )
    if not by.has_perm("news.force_publish_release"):
        raise PermissionDenied(_("You are not allowed to publish without a second editor."))


def can_edit(user: AbstractBaseUser, release: Release) -> bool:
    """Editors (edit_any_release) edit any release; others only their own drafts, and the
    pending changes of their own published releases while those are a draft."""
    if not user.is_active:
        return False
    if user.has_perm("news.edit_any_release"):
        return True
    if not user.has_perm("news.change_release"):
        return False
    if release.pk is None:
        return True
    if not is_owner(user, release):
        return False
    if release.status == Status.PUBLISHED:
        edition = release.pending_edition
        return edition is None or edition.state == EditionState.DRAFT
    return release.status == Status.DRAFT


def completeness_errors(release: Release) -> list[str]:
    """What keeps a release from being published: the Russian title, lead and body are
    required; an English version must have both title and body, or be left wholly empty."""
    errors = []
    if not release.title_ru.strip():
        errors.append(_("The Russian title is required."))
    if not release.lead_ru.strip():
        errors.append(_("The Russian lead is required."))
    if not release.body_ru.strip():
        errors.append(_("The Russian text is required."))
    english = [release.title_en.strip(), release.lead_en.strip(), release.body_en.strip()]
    if any(english) and not (english[0] and english[2]):
        errors.append(
            _(
                "The English version is incomplete: fill in both its title and its text, "
                "or leave all English fields empty."
            )
        )
    return errors


def _fire(
    release: Release,
    name: str,
    *,
    by: AbstractBaseUser | None,
    comment: str = "",
    apply=None,
) -> WorkflowEvent:
    transition = TRANSITIONS[name]
    comment = (comment or "").strip()
    if transition.comment_required and not comment:
        raise ValidationError(
            _("A comment is required to %(action)s.") % {"action": str(transition.label).lower()},
            code="comment_required",
        )
    if not may_fire(by, release, name):
        raise PermissionDenied(str(REFUSALS.get(name, DEFAULT_REFUSAL)))
    with transaction.atomic():
        current = Release.objects.select_for_update().get(pk=release.pk)
        if current.status not in transition.sources:
            raise ValidationError(
                _("Cannot %(action)s a release that is %(status)s.")
                % {
                    "action": str(transition.label).lower(),
                    "status": current.get_status_display().lower(),
                },
                code="invalid_state",
            )
        if apply is not None:
            apply(current)
        from_status = current.status
        if from_status == Status.PUBLISHED and transition.target != Status.PUBLISHED:
            _discard_pending(current, by=by)
        current.status = transition.target
        current.version += 1
        current.updated_by = by
        # The revision's reason column holds 100 characters; the event keeps the whole comment.
        reason = f"{name}: {comment}" if comment else name
        current._change_reason = reason if len(reason) <= 100 else reason[:99] + "…"
        current.save()
        event = WorkflowEvent.objects.create(
            release=current,
            actor=by,
            from_status=from_status,
            to_status=transition.target,
            comment=comment,
        )
        # robust: a mail server outage is logged, it does not undo or fail the transition.
        transaction.on_commit(lambda: notifications.notify.enqueue(event.pk), robust=True)
    # The caller's instance reflects the new state.
    for field in (
        "status",
        "version",
        "published_at",
        "first_published_at",
        "slug",
        "updated_by_id",
        "updated_at",
        "withdrawn_at",
        "withdrawal_reason",
        "replacement_id",
        "needs_review",
    ):
        setattr(release, field, getattr(current, field))
    return event


def _discard_pending(release: Release, *, by: AbstractBaseUser | None) -> None:
    """A release that stops being live (withdrawn, its schedule cancelled) has no pending
    changes any more: they are discarded (kept, with their revisions)."""
    from news.editions import discard_attachments
    from news.models import EditionState, ReleaseEdition

    for edition in ReleaseEdition.objects.open().filter(release=release):
        edition.state = EditionState.DISCARDED
        discard_attachments(edition)
        edition.version += 1
        edition._history_user = by
        edition.save()


def _pending(release: Release) -> bool:
    from news import editions

    return editions.has_pending(release)


def submit(release: Release, *, by: AbstractBaseUser | None) -> WorkflowEvent:
    """Send a draft (or the pending changes of a published release) to the editors for
    review; a draft is refused while it is incomplete (the same completeness errors as at
    publishing)."""
    if _pending(release):
        from news import editions

        return editions.fire(release, "submit", by=by)
    return _fire(release, "submit", by=by, apply=_require_complete)


def publish(
    release: Release,
    *,
    by: AbstractBaseUser | None,
    at: datetime.datetime | None = None,
    force: bool = False,
    reason: str = "",
) -> WorkflowEvent:
    """Publish a reviewed release, now or at `at` (a future `at` schedules it: it becomes
    public at that moment by the query rule, with no job to run). Without `at` a release keeps
    the public date it already had (a re-publication), else it gets the current time.

    The second pair of eyes (`needs_second_pair`): publishing one's own submission or change
    is refused unless `force=True` with a `reason` by someone with `force_publish_release`;
    such a publication needs review until another editor confirms it (`confirm`)."""
    check_publication_date(at)
    if _pending(release):
        from news import editions

        return editions.fire(release, "publish", by=by, at=at, force=force, reason=reason)
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)
    reason = (reason or "").strip()

    def apply(current: Release) -> None:
        forced = needs_second_pair(current, by)
        check_forced(forced, by=by, force=force, reason=reason)
        _require_complete(current)
        current.published_at = at or current.published_at or timezone.now()
        if current.first_published_at is None:
            current.first_published_at = current.published_at
        current.needs_review = forced

    notes = []
    if at is not None and at > timezone.now():
        notes.append(_("Scheduled for %(when)s") % {"when": timezone.localtime(at).isoformat()})
    if force and reason and needs_second_pair(release, by):
        notes.append(_("Published without a second editor: %(reason)s") % {"reason": reason})
    with transaction.atomic():
        event = _fire(release, "publish", by=by, apply=apply, comment="\n".join(notes))
        # Subscribers hear of it at its public moment (a task; news/journalists).
        transaction.on_commit(lambda: journalists.release_became_public(release), robust=True)
    return event


def confirm(release: Release, *, by: AbstractBaseUser | None) -> WorkflowEvent:
    """A second editor confirms a forced publication: it no longer needs review. The editor
    who forced it cannot confirm it."""

    def apply(current: Release) -> None:
        if not current.needs_review:
            raise ValidationError(
                _("This publication does not need review."), code="no_review_needed"
            )
        if by is not None and forced_by(current) == by.pk:
            raise PermissionDenied(
                _("You published this release yourself: another editor must confirm it.")
            )
        current.needs_review = False

    return _fire(release, "confirm", by=by, apply=apply)


def request_changes(
    release: Release, *, by: AbstractBaseUser | None, comment: str
) -> WorkflowEvent:
    """Send a release (or its pending changes) in review back to its author as a draft; the
    comment says what to change."""
    if _pending(release):
        from news import editions

        return editions.fire(release, "request_changes", by=by, comment=comment)
    return _fire(release, "request_changes", by=by, comment=comment)


def discard(release: Release, *, by: AbstractBaseUser | None) -> WorkflowEvent:
    """Drop the pending changes of a published release; the live version stays as it is."""
    from news import editions

    return editions.fire(release, "discard", by=by)


def withdraw(release: Release, *, by: AbstractBaseUser | None, reason: str) -> WorkflowEvent:
    """Withdraw a published release: its page stays at its URL with a notice (the date and
    the reason), and it leaves lists, feeds, sitemap and search."""

    def apply(current: Release) -> None:
        current.withdrawn_at = timezone.now()
        current.withdrawal_reason = reason.strip()
        current.needs_review = False

    return _taken_off(release, "withdraw", by=by, comment=reason, apply=apply)


def unpublish(
    release: Release,
    *,
    by: AbstractBaseUser | None,
    reason: str,
    replacement: Release | None = None,
) -> WorkflowEvent:
    """Unpublish a release published in error: its URLs answer 410 Gone with the reason, or
    301 to `replacement`, which must be another release of this site public in a language
    this one was public in."""
    if replacement is not None:
        replacement_errors(release, replacement)

    def apply(current: Release) -> None:
        current.withdrawn_at = timezone.now()
        current.withdrawal_reason = reason.strip()
        current.replacement = replacement
        current.needs_review = False

    comment = reason
    if replacement is not None and (reason or "").strip():
        comment = _("%(reason)s\nReplaced by release #%(id)s") % {
            "reason": reason.strip(),
            "id": replacement.pk,
        }
    return _taken_off(release, "unpublish", by=by, comment=comment, apply=apply)


def _taken_off(release: Release, name: str, **kwargs) -> WorkflowEvent:
    """Withdraw or unpublish; journalists who had the release under embargo for a moment
    still ahead are told."""
    moment = release.published_at
    with transaction.atomic():
        event = _fire(release, name, **kwargs)
        transaction.on_commit(
            lambda: journalists.embargo_cancelled(release, moment=moment), robust=True
        )
    return event


def replacement_errors(release: Release, replacement: object) -> None:
    """Refuse, with a ValidationError naming what is wrong, a replacement that is not another
    release of this site public in a language `release` was public in."""
    if not isinstance(replacement, Release):
        raise ValidationError(
            _("The replacement must be a release of this site, not %(value)s.")
            % {"value": replacement},
            code="replacement_not_release",
        )
    if replacement.pk == release.pk:
        raise ValidationError(_("A release cannot replace itself."), code="replacement_is_itself")
    current = Release.objects.filter(pk=replacement.pk).first()
    languages = [lang for lang in release.languages()] or ["ru"]
    if current is None or not any(current.is_public(lang) for lang in languages):
        raise ValidationError(
            _(
                "The replacement “%(title)s” (#%(id)s) is not public on the site; choose a "
                "published release."
            )
            % {"title": replacement, "id": replacement.pk},
            code="replacement_not_public",
        )


def reopen(release: Release, *, by: AbstractBaseUser | None) -> WorkflowEvent:
    """Return a withdrawn or unpublished release to draft so it can be corrected and
    submitted again (its withdrawal notice goes with it)."""

    def apply(current: Release) -> None:
        current.withdrawn_at = None
        current.withdrawal_reason = ""
        current.replacement = None

    return _fire(release, "reopen", by=by, apply=apply)


def _require_complete(release: Release) -> None:
    errors = completeness_errors(release)
    if errors:
        raise ValidationError(errors, code="incomplete")


# --- taking back a submission, changing a schedule -----------------------------------------

TRANSITIONS.update(
    {
        t.name: t
        for t in [
            Transition(
                "recall", gettext_lazy("Recall to draft"), frozenset({Status.REVIEW}),
                Status.DRAFT, "news.submit_release",
            ),
            Transition(
                "reschedule", gettext_lazy("Reschedule"), frozenset({Status.PUBLISHED}),
                Status.PUBLISHED, "news.publish_release",
            ),
            Transition(
                "cancel_schedule", gettext_lazy("Cancel the schedule"),
                frozenset({Status.PUBLISHED}), Status.REVIEW, "news.publish_release",
            ),
        ]
    }
)  # fmt: skip


def submitter(release: Release):
    """Who sent the release to review last (its creator when no event says so)."""
    event = release.events.filter(to_status=Status.REVIEW).select_related("actor").first()
    return event.actor if event is not None else release.created_by


def _scheduled(release: Release) -> bool:
    return release.published_at is not None and release.published_at > timezone.now()


def _recaller(user: AbstractBaseUser, release: Release) -> bool:
    """Only who submitted it recalls it: the release, or its pending changes in review."""
    if acts_on_edition(release, "recall"):
        return release.pending_edition.submitted_by_id == user.pk
    return submitter(release) == user


def _schedule_ahead(release: Release, name: str) -> bool:
    """The moment of the scheduled release, or of its scheduled pending changes, is ahead."""
    if acts_on_edition(release, name):
        publish_at = release.pending_edition.publish_at
        return publish_at is not None and publish_at > timezone.now()
    return _scheduled(release)


# Conditions beyond state and permission, checked by may_fire.
CONDITIONS = {
    "recall": _recaller,
    "reschedule": lambda user, release: _schedule_ahead(release, "reschedule"),
    "cancel_schedule": lambda user, release: _schedule_ahead(release, "cancel_schedule"),
}


def _require_scheduled(current: Release) -> None:
    if not _scheduled(current):
        raise ValidationError(
            _("This release is already public: its schedule cannot be changed."),
            code="not_scheduled",
        )


def recall(release: Release, *, by: AbstractBaseUser | None) -> WorkflowEvent:
    """The person who submitted a release (or the pending changes of a live one) takes it
    back from review to draft (to fix something before an editor reads it); the editors are
    told. The live version of a published release stays as it is."""
    if acts_on_edition(release, "recall"):
        from news import editions

        return editions.fire(release, "recall", by=by)
    return _fire(release, "recall", by=by)


def reschedule(
    release: Release, *, by: AbstractBaseUser | None, at: datetime.datetime
) -> WorkflowEvent:
    """Move a scheduled release's public moment to another future time (never to the past:
    publishing now is cancel + publish)."""
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at <= timezone.now():
        raise ValidationError(
            _("A new publication time must be in the future."), code="past_schedule"
        )
    check_publication_date(at)
    if acts_on_edition(release, "reschedule"):
        from news import editions

        return editions.fire(release, "reschedule", by=by, at=at)

    def apply(current: Release) -> None:
        _require_scheduled(current)
        if current.first_published_at == current.published_at:
            current.first_published_at = at
        current.published_at = at

    comment = _("Rescheduled for %(when)s") % {"when": timezone.localtime(at).isoformat()}
    moment = release.published_at
    with transaction.atomic():
        event = _fire(release, "reschedule", by=by, apply=apply, comment=comment)
        # Journalists who had it under embargo until the old moment are told; subscribers
        # hear of it at the new one (the old announcement finds it not public and sends nothing).
        transaction.on_commit(
            lambda: journalists.embargo_cancelled(release, moment=moment), robust=True
        )
        transaction.on_commit(lambda: journalists.release_became_public(release), robust=True)
    return event


def cancel_schedule(release: Release, *, by: AbstractBaseUser | None) -> WorkflowEvent:
    """Take a scheduled release back to review before its moment: it will not appear. With
    scheduled pending changes, those go back to review and the live version stays."""
    if acts_on_edition(release, "cancel_schedule"):
        from news import editions

        return editions.fire(release, "cancel_schedule", by=by)

    def apply(current: Release) -> None:
        _require_scheduled(current)
        if current.first_published_at == current.published_at:
            current.first_published_at = None  # it never was public
        current.published_at = None

    moment = release.published_at
    with transaction.atomic():
        event = _fire(release, "cancel_schedule", by=by, apply=apply)
        transaction.on_commit(
            lambda: journalists.embargo_cancelled(release, moment=moment), robust=True
        )
    return event
