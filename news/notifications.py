"""Email about workflow events: bilingual plain text with the admin link, sent by a background
task (`notify`) queued when the transition commits."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse

from news.models import Status, WorkflowEvent


def editors_emails() -> list[str]:
    """Active users who may publish (the Editors group or the permission granted directly)."""
    permission = Permission.objects.filter(
        codename="publish_release", content_type__app_label="news"
    ).first()
    if permission is None:
        return []
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    users = users.filter(
        Q(user_permissions=permission) | Q(groups__permissions=permission) | Q(is_superuser=True)
    )
    return sorted(set(users.values_list("email", flat=True)))


def recipients(event: WorkflowEvent) -> list[str]:
    """Who hears of it: editors when a release is submitted; its creator when changes are
    requested or it is published; editors again when its submitter recalls it. The actor is
    never mailed about their own action, and nobody about the system's own actions (imports
    run by the operator)."""
    release = event.release
    if event.actor is None:
        return []  # system actions (archive imports) would only flood the editors' mailboxes
    if event.to_status == Status.REVIEW or is_recall(event):
        emails = editors_emails()
    elif event.from_status == event.to_status:
        emails = []  # a confirmation of a forced publication: the record is enough
    elif event.to_status == Status.PUBLISHED or (
        event.from_status == Status.REVIEW and event.to_status == Status.DRAFT
    ):
        creator = release.created_by
        emails = [creator.email] if creator and creator.is_active and creator.email else []
    else:
        emails = []
    actor_email = event.actor.email if event.actor else None
    return [e for e in emails if e != actor_email]


def is_recall(event: WorkflowEvent) -> bool:
    """Review back to draft by the release's own writer (for pending changes, by who submitted
    them, with no comment: a request for changes always has one): a recall, not a request for
    changes."""
    if event.from_status != Status.REVIEW or event.to_status != Status.DRAFT:
        return False
    if event.actor_id is None:
        return False
    if event.edition_id is not None:
        return event.edition.submitted_by_id == event.actor_id and not event.comment
    return event.actor_id == event.release.created_by_id


def transition_done(event: WorkflowEvent) -> int:
    to = recipients(event)
    if not to:
        return 0
    release = event.release
    context = {
        "event": event,
        "release": release,
        "recalled": is_recall(event),
        "admin_url": settings.SITE_URL + reverse("admin:news_release_change", args=[release.pk]),
        "public_url_ru": settings.SITE_URL + release.get_absolute_url("ru"),
    }
    subject = " ".join(render_to_string("news/email/workflow_subject.txt", context).split())
    body = render_to_string("news/email/workflow_body.txt", context)
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in to]
    )


@task
def notify(event_id: int) -> int:
    """The background task of `transition_done`."""
    event = WorkflowEvent.objects.select_related("release", "actor").filter(pk=event_id).first()
    return transition_done(event) if event is not None else 0
