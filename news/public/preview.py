"""Signed preview links: a not-yet-public release (or the pending changes of a live one)
shown as its public page will show it, to
whoever holds the link, for PREVIEW_LINK_HOURS. Nothing is stored: the link is the release id
signed with a timestamp (TimestampSigner, own salt), so it cannot be forged or extended, and it
is never indexed or cached. The link also carries the number of workflow steps the release had
taken when it was issued: once the release moves on (submitted, published, withdrawn,
reopened) the link is dead, so a link issued before a withdrawal never shows it again."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, override
from django.views.decorators.http import require_safe

from news import editions
from news.models import LANGUAGES, Release, Status
from news.public.views import detail_context

SALT = "news.preview.release"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.PREVIEW_LINK_HOURS)


def workflow_stamp(release: Release) -> int:
    """How many workflow steps `release` has taken: it changes with every transition."""
    return release.events.count()


def make_token(release: Release) -> str:
    return _signer().sign(f"{release.pk}.{workflow_stamp(release)}")


def preview_path(release: Release, language: str, token: str | None = None) -> str:
    with override(language):
        return reverse("news:preview", kwargs={"token": token or make_token(release)})


def preview_url(release: Release, language: str, token: str | None = None) -> str:
    """The absolute link to send to someone outside the newsroom."""
    return settings.SITE_URL + preview_path(release, language, token)


def expires_at(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) + lifetime()


def read_token(token: str) -> tuple[int, int]:
    """The release id and workflow stamp a token stands for; raises signing.SignatureExpired
    for a token older than PREVIEW_LINK_HOURS and signing.BadSignature for anything not
    signed by us (or signed in the old form, without a stamp)."""
    value = _signer().unsign(token, max_age=lifetime())
    pk, _, stamp = value.partition(".")
    if not (pk.isascii() and pk.isdigit() and stamp.isascii() and stamp.isdigit()):
        raise signing.BadSignature("not a release id and stamp")
    return int(pk), int(stamp)


def release_of(token: str) -> Release | None:
    """The release a token opens now: None once the release has moved on since it was
    issued (another workflow step) or is withdrawn or unpublished. Raises
    signing.SignatureExpired / signing.BadSignature like `read_token`."""
    release_id, stamp = read_token(token)
    release = (
        Release.objects.exclude(status__in=(Status.WITHDRAWN, Status.UNPUBLISHED))
        .filter(pk=release_id)
        .first()
    )
    if release is None or workflow_stamp(release) != stamp:
        return None
    return release


def _private(response):
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def preview(request, token: str):
    """A release by its signed preview link: 410 once the link has expired, 404 for a tampered
    link, a withdrawn or unpublished release or a language it has nothing in; a release
    already public in this language redirects to its public page."""
    language = get_language() if get_language() in LANGUAGES else "ru"
    try:
        release = release_of(token)
    except signing.SignatureExpired:
        response = render(
            request,
            "admin/news/release/preview_expired.html",
            {
                "hours": settings.PREVIEW_LINK_HOURS,
                "status": 410,
                "error_languages": [language, *(lang for lang in LANGUAGES if lang != language)],
            },
            status=410,
        )
        return _private(response)
    except signing.BadSignature as error:
        raise Http404("bad preview link") from error
    if release is None:
        raise Http404("the release has moved on since this link was issued")
    pending = release.pending_edition
    if pending is not None:
        # A live release with pending changes: the preview shows them, not the live text.
        release = editions.as_release(release, pending)
    if not (release.title(language) or release.body(language)):
        raise Http404("no such release in this language")
    if pending is None and release.is_public(language):
        return _private(HttpResponseRedirect(release.get_absolute_url(language)))
    context = detail_context(release, language, preview=True)
    response = render(request, "news/release_detail.html", context)
    return _private(response)
