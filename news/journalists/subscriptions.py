"""Public e-mail subscriptions: double opt-in, preferences and one-click unsubscribe by signed
links, and the announcement of a release to those who follow it, once per edition."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from news.journalists import outbox
from news.journalists.models import Delivery, Frequency, Subscriber
from news.models import LANGUAGES, Category, EditionState, Release, ReleaseEdition, Status

CONFIRM_SALT = "news.journalists.confirm"
MANAGE_SALT = "news.journalists.manage"
CONFIRM_DAYS = 7
CONFIRMATION_INTERVAL = datetime.timedelta(hours=1)


# Signed links -------------------------------------------------------------------------------


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=CONFIRM_SALT, compress=True)


def manage_token(subscriber: Subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=MANAGE_SALT, compress=True)


def subscriber_from_token(token: str, *, purpose: str) -> Subscriber:
    """The subscriber a link stands for; raises `signing.BadSignature` (`SignatureExpired` for a
    confirmation link older than CONFIRM_DAYS) for a tampered, foreign or outdated link."""
    if purpose == "confirm":
        value = signing.loads(token, salt=CONFIRM_SALT, max_age=datetime.timedelta(CONFIRM_DAYS))
    else:
        value = signing.loads(token, salt=MANAGE_SALT)
    try:
        pk, email = value
        return Subscriber.objects.get(pk=pk, email=email)
    except (TypeError, ValueError, Subscriber.DoesNotExist) as error:
        raise signing.BadSignature("no such subscriber") from error


def link(name: str, language: str, token: str) -> str:
    with override(language):
        return settings.SITE_URL + reverse(name, kwargs={"token": token})


def list_headers(subscriber: Subscriber) -> dict:
    """RFC 2369 / RFC 8058: one-click unsubscribe by a POST to the link."""
    url = link("news:unsubscribe", subscriber.language, manage_token(subscriber))
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _message(template: str, subscriber: Subscriber, context: dict) -> dict:
    language = subscriber.language
    with override(language):
        context = {
            **context,
            "language": language,
            "site_url": settings.SITE_URL,
            "preferences_url": link("news:preferences", language, manage_token(subscriber)),
            "unsubscribe_url": link("news:unsubscribe", language, manage_token(subscriber)),
        }
        return {
            "to": subscriber.email,
            "subject": render_to_string(f"news/email/{template}_subject.txt", context),
            "text": render_to_string(f"news/email/{template}.txt", context),
            "html": render_to_string(f"news/email/{template}.html", context),
            "headers": list_headers(subscriber),
        }


# Services -----------------------------------------------------------------------------------


def subscribe(
    email: str,
    *,
    language: str,
    categories: Iterable[Category] = (),
    frequency: str = "immediate",
    digest_hour: int = 9,
) -> Subscriber:
    """Ask `email` to confirm a subscription to the news of `language` (all of it when no
    category is given). A new or lapsed address gets a confirmation link; a confirmed one keeps
    its preferences and gets the link to change them; either at most once an hour. The caller
    learns nothing it could show about whether the address was known."""
    email = (email or "").strip().lower()
    validate_email(email)
    if "\n" in email or "\r" in email:  # pragma: no cover - validate_email refuses them
        raise ValidationError(_("Enter a valid email address."), code="invalid")
    if language not in LANGUAGES:
        raise ValidationError(_("Unknown language %(language)s.") % {"language": language})
    if frequency not in Frequency.values:
        raise ValidationError(_("Unknown frequency %(value)s.") % {"value": frequency})
    if not 0 <= int(digest_hour) <= 23:
        raise ValidationError(_("The digest hour must be between 0 and 23."))
    categories = list(categories)
    now = timezone.now()
    with transaction.atomic():
        subscriber, _created = Subscriber.objects.select_for_update().get_or_create(
            email=email, language=language
        )
        if not subscriber.is_active:
            # Preferences of an unconfirmed address are whatever its last form said.
            subscriber.all_categories = not categories
            subscriber.frequency = frequency
            subscriber.digest_hour = int(digest_hour)
            subscriber.unsubscribed_at = None
            subscriber.confirmed_at = None
            subscriber.save()
            subscriber.categories.set(categories)
        recent = subscriber.confirmation_sent_at and (
            now - subscriber.confirmation_sent_at < CONFIRMATION_INTERVAL
        )
        if not recent:
            subscriber.confirmation_sent_at = now
            subscriber.save(update_fields=["confirmation_sent_at"])
            template = "subscription_known" if subscriber.is_active else "subscription_confirm"
            context = {"confirm_url": link("news:confirm", language, confirm_token(subscriber))}
            delivery = outbox.add(
                f"subscription:{subscriber.pk}:{now.isoformat()}",
                **_message(template, subscriber, context),
            )
            outbox.enqueue([delivery])
    return subscriber


def confirm(subscriber: Subscriber) -> None:
    """The address answered its confirmation link: from now on it gets what it asked for."""
    if subscriber.confirmed_at is None or subscriber.unsubscribed_at is not None:
        subscriber.confirmed_at = timezone.now()
        subscriber.unsubscribed_at = None
        subscriber.save(update_fields=["confirmed_at", "unsubscribed_at"])


def unsubscribe(subscriber: Subscriber) -> None:
    """Nothing more is sent to this subscription, at once."""
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])


def change_preferences(
    subscriber: Subscriber, *, categories: Iterable[Category], frequency: str, digest_hour: int
) -> None:
    categories = list(categories)
    with transaction.atomic():
        subscriber.all_categories = not categories
        subscriber.frequency = frequency
        subscriber.digest_hour = digest_hour
        subscriber.save(update_fields=["all_categories", "frequency", "digest_hour"])
        subscriber.categories.set(categories)


# Announcing releases ------------------------------------------------------------------------


@task
def announce_release(
    release_id: int, *, moment: str, edition_id: int | None = None, notes: dict | None = None
) -> int:
    """Tell the followers of a release that it is public, in each language it is public in now
    (the public rule, re-checked when the task runs: a release withdrawn or rescheduled since
    the task was queued sends nothing). Once per subscriber and edition: the first publication
    is keyed by its public moment, a major change by its edition. Returns the number of
    deliveries."""
    release = Release.objects.filter(pk=release_id).first()
    if release is None or release.published_at is None:
        return 0
    if edition_id is None and release.published_at.isoformat() != moment:
        return 0  # rescheduled: the task queued for the new moment announces it
    tag = f"edition-{edition_id}" if edition_id is not None else f"first-{moment}"
    # Who followed it when it became public (a catch-up run must not tell later subscribers).
    became_public = release.published_at
    if edition_id is not None:
        edition = ReleaseEdition.objects.filter(pk=edition_id).only("published_at").first()
        became_public = getattr(edition, "published_at", None) or timezone.now()
    deliveries = []
    with transaction.atomic():
        for language in LANGUAGES:
            if not Release.objects.published(language).filter(pk=release.pk).exists():
                continue  # the one public rule, as it stands when the task runs
            context = {
                "release": release,
                "title": release.title(language),
                "lead": release.lead(language),
                "url": settings.SITE_URL + release.get_absolute_url(language),
                "note": (notes or {}).get(language, ""),
            }
            followers = Subscriber.objects.following(release, language).filter(
                frequency=Frequency.IMMEDIATE, confirmed_at__lte=became_public
            )
            for subscriber in followers:
                deliveries.append(
                    outbox.add(
                        f"release:{release.pk}:{tag}:{subscriber.pk}",
                        release=release,
                        **_message("release", subscriber, context),
                    )
                )
        outbox.enqueue(deliveries)
    return len(deliveries)


def release_became_public(release: Release, *, edition=None) -> None:
    """The workflow's hook, called once a publication has committed: announce the release (or
    its newly published major edition, with its change note) at its public moment, now or
    later."""
    if release.published_at is None:
        return
    kwargs = {"moment": release.published_at.isoformat()}
    if edition is not None:
        kwargs["edition_id"] = edition.pk
        kwargs["notes"] = {
            language: getattr(edition, f"change_note_{language}", "") for language in LANGUAGES
        }
    queued = announce_release
    if release.published_at > timezone.now():
        queued = announce_release.using(run_after=release.published_at)
    queued.enqueue(release.pk, **kwargs)


def announce_missed(*, now: datetime.datetime | None = None, hours: int = 6) -> int:
    """Run again the announcements of what became public in the last `hours`: a worker killed
    in the middle of an announcement task leaves it "running" forever, and this catches it up.
    Idempotent (every delivery has its key: nobody is told twice); run hourly with the digests.
    Returns the number of deliveries written or found."""
    now = now or timezone.now()
    since = now - datetime.timedelta(hours=hours)
    count = 0
    first = Release.objects.filter(status=Status.PUBLISHED, published_at__range=(since, now))
    for release in first.only("pk", "published_at"):
        count += announce_release.call(release.pk, moment=release.published_at.isoformat())
    editions = ReleaseEdition.objects.filter(
        state=EditionState.PUBLISHED, minor_change=False, published_at__range=(since, now)
    ).select_related("release")
    for edition in editions:
        count += announce_release.call(
            edition.release_id,
            moment=edition.release.published_at.isoformat(),
            edition_id=edition.pk,
            notes={lang: getattr(edition, f"change_note_{lang}", "") for lang in LANGUAGES},
        )
    return count


# Daily digests ------------------------------------------------------------------------------


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """Queue today's digest for every confirmed daily subscriber whose hour (in the press
    service's TIME_ZONE) has come and who has not had today's yet: the releases that became
    public in their language since their last digest (the 24 hours before, for the first), and
    the major changes published in that period of releases already public before it (with
    their date and change note in the subscriber's language), of releases still public now, in
    the categories they follow. Nothing when there is nothing new. Safe to run as often as one
    likes (one digest per subscriber and day, keyed in the outbox; each digest starts where the
    last one ended, so a release or a change is in one digest only). Returns the number of
    digests queued."""
    from news import editions

    now = now or timezone.now()
    # A scheduled edition whose moment has come takes over first (no public page may have
    # been read since), so that its change falls in this period and not in none.
    editions.apply_due(min(now, timezone.now()))
    local = timezone.localtime(now)
    deliveries = []
    subscribers = Subscriber.objects.confirmed().filter(
        frequency=Frequency.DAILY, digest_hour__lte=local.hour
    )
    with transaction.atomic():
        for subscriber in subscribers.prefetch_related("categories"):
            key = f"digest:{subscriber.pk}:{local.date().isoformat()}"
            if Delivery.objects.filter(key=key).exists():
                continue
            # Since the last digest (a day for the first one, a week at most).
            last = (
                Delivery.objects.filter(key__startswith=f"digest:{subscriber.pk}:")
                .order_by("-created_at")
                .values_list("created_at", flat=True)
                .first()
            )
            since = max(last or now - datetime.timedelta(days=1), now - datetime.timedelta(days=7))
            context = digest_context(subscriber, since=since, now=now)
            if not context["items"] and not context["updates"]:
                continue
            context["date"] = local.date()
            deliveries.append(outbox.add(key, **_message("digest", subscriber, context)))
        outbox.enqueue(deliveries)
    return len(deliveries)


def digest_context(
    subscriber: Subscriber, *, since: datetime.datetime, now: datetime.datetime
) -> dict:
    """What one digest says: `items`, the releases that became public in the subscriber's
    language in (since, now]; `updates`, the major changes published in that period of the
    other releases public now in that language (withdrawn or unpublished ones are left out),
    each with its date and its change note in that language (a change without one, made while
    that language was not public, is not news to its readers); both limited to the
    subscriber's categories, 50 of each at most."""
    language = subscriber.language
    public = Release.objects.published(language, now=now)
    if not subscriber.all_categories:
        public = public.filter(categories__in=subscriber.categories.all()).distinct()
    releases = list(public.filter(published_at__gt=since)[:50])
    new = {release.pk for release in releases}
    changes = (
        ReleaseEdition.objects.public_updates()
        .filter(published_at__gt=since, published_at__lte=now, release__in=public)
        .exclude(release__in=new)
        .exclude(**{f"change_note_{language}": ""})
        .select_related("release")[:50]
    )
    return {
        "items": [
            {
                "title": release.title(language),
                "lead": release.lead(language),
                "url": settings.SITE_URL + release.get_absolute_url(language),
            }
            for release in releases
        ],
        "updates": [
            {
                "title": change.release.title(language),
                "url": settings.SITE_URL + change.release.get_absolute_url(language),
                "date": timezone.localtime(change.published_at),
                "note": getattr(change, f"change_note_{language}"),
                "correction": change.correction,
            }
            for change in changes
        ],
    }
