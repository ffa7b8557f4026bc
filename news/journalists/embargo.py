"""The embargo list: accredited journalists get a scheduled release ahead of its public moment,
each by a personal signed link to the text, marked "EMBARGOED UNTIL <date time, zone>".

The link holds only the release and the journalist; whether it opens is decided when it is
opened: a journalist no longer active or accredited, or a release no longer scheduled
(withdrawn, unpublished, back to draft), gets nothing; once the moment has passed it redirects
to the public page."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from news.journalists import outbox
from news.journalists.models import Delivery, Journalist
from news.models import LANGUAGES, Release, Status

SALT = "news.journalists.embargo"


def make_token(release: Release, journalist: Journalist) -> str:
    return signing.dumps([release.pk, journalist.pk], salt=SALT, compress=True)


def read_token(token: str) -> tuple[Release, Journalist]:
    """The release and journalist of a link; `signing.BadSignature` for a tampered or foreign
    one, or one whose release or journalist no longer exists."""
    value = signing.loads(token, salt=SALT)
    try:
        release_id, journalist_id = value
        return Release.objects.get(pk=release_id), Journalist.objects.get(pk=journalist_id)
    except (TypeError, ValueError, Release.DoesNotExist, Journalist.DoesNotExist) as error:
        raise signing.BadSignature("no such embargoed copy") from error


def embargo_url(release: Release, journalist: Journalist, language: str) -> str:
    with override(language):
        return settings.SITE_URL + reverse(
            "news:embargo", kwargs={"token": make_token(release, journalist)}
        )


def is_under_embargo(release: Release) -> bool:
    """Scheduled: published with its public moment still ahead."""
    return (
        release.status == Status.PUBLISHED
        and release.published_at is not None
        and release.published_at > timezone.now()
    )


def link_is_alive(release: Release, journalist: Journalist) -> bool:
    return journalist.is_accredited() and release.status == Status.PUBLISHED


def send_under_embargo(
    release: Release,
    *,
    by: AbstractBaseUser | None,
    journalists: Iterable[Journalist] | None = None,
) -> list[Delivery]:
    """Send a scheduled release to accredited journalists (all of them who read one of its
    languages when `journalists` is None), each once per public moment. Only editors may; only a
    scheduled release may be sent."""
    if by is not None and not (by.is_active and by.has_perm("news.publish_release")):
        raise PermissionDenied(_("You are not allowed to send releases under embargo."))
    release = Release.objects.get(pk=release.pk)
    if not is_under_embargo(release):
        raise ValidationError(
            _("Only a scheduled release can be sent under embargo."), code="not_scheduled"
        )
    chosen = Journalist.objects.accredited() if journalists is None else journalists
    deliveries = []
    with transaction.atomic():
        for journalist in chosen:
            languages = [
                lang
                for lang in LANGUAGES
                if lang in journalist.languages and release.is_complete(lang)
            ]
            if not journalist.is_accredited() or not languages:
                continue
            deliveries.append(
                outbox.add(
                    f"embargo:{release.pk}:{journalist.pk}:{release.published_at.isoformat()}",
                    release=release,
                    journalist=journalist,
                    **message(release, journalist, languages),
                )
            )
        if not deliveries:
            raise ValidationError(
                _("No accredited journalist reads a language this release is in."),
                code="nobody",
            )
        outbox.enqueue(deliveries)
    return deliveries


def moment_text(moment) -> str:
    """The press service's local date, time and zone: "07.12.2026 10:00 (Europe/Minsk,
    UTC+0300)"."""
    local = timezone.localtime(moment)
    return f"{local:%d.%m.%Y %H:%M} ({settings.TIME_ZONE}, UTC{local:%z})"


def until_text(release: Release, language: str) -> str:
    """The embargo line in `language`: "EMBARGOED UNTIL <moment_text>"."""
    with override(language):
        return _("EMBARGOED UNTIL %(when)s") % {"when": moment_text(release.published_at)}


def message(release: Release, journalist: Journalist, languages: list[str]) -> dict:
    """One message in the journalist's languages (the first one leads the subject)."""
    versions = []
    for language in languages:
        versions.append(
            {
                "language": language,
                "until": until_text(release, language),
                "title": release.title(language),
                "lead": release.lead(language),
                "url": embargo_url(release, journalist, language),
            }
        )
    context = {"journalist": journalist, "versions": versions}
    first = versions[0]
    return {
        "to": journalist.email,
        "subject": f"{first['until']}: {first['title']}",
        "text": render_to_string("news/email/embargo.txt", context),
        "html": render_to_string("news/email/embargo.html", context),
    }


def embargo_cancelled(release: Release, *, moment) -> list[Delivery]:
    """Tell the journalists who got `release` under embargo for `moment` that it will not be
    published then (withdrawn, unpublished or rescheduled before its time). Nothing when the
    moment had already passed."""
    if moment is None or moment <= timezone.now():
        return []
    sent = Delivery.objects.filter(
        release=release,
        journalist__isnull=False,
        key__startswith=f"embargo:{release.pk}:",
        key__endswith=f":{moment.isoformat()}",
    ).select_related("journalist")
    deliveries = []
    with transaction.atomic():
        for previous in sent:
            journalist = previous.journalist
            languages = [lang for lang in LANGUAGES if lang in journalist.languages]
            versions = []
            for language in languages or ["ru"]:
                with override(language):
                    versions.append(
                        {
                            "language": language,
                            "subject": _("Embargo cancelled"),
                            "notice": _(
                                "The release you received under embargo until %(when)s will "
                                "not be published then. Do not publish it; the link to it no "
                                "longer opens."
                            )
                            % {"when": moment_text(moment)},
                            "title": release.title(language) or release.title_ru,
                        }
                    )
            context = {"versions": versions}
            deliveries.append(
                outbox.add(
                    f"embargo-cancelled:{release.pk}:{journalist.pk}:{moment.isoformat()}",
                    to=journalist.email,
                    release=release,
                    journalist=journalist,
                    subject=f"{versions[0]['subject']}: {versions[0]['title']}",
                    text=render_to_string("news/email/embargo_cancelled.txt", context),
                )
            )
        outbox.enqueue(deliveries)
    return deliveries
