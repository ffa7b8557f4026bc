"""Revisions of a release: what belongs to one, and restoring one as a new version.

A revision is a `HistoricalRelease` row (django-simple-history). Its authors and sources are
the link rows that existed just before the next revision of the release was saved: the admin
saves them right after the release in the same request, so "as of the revision's own time"
would miss them. Every change of those links must therefore reach their own history; nothing
here writes them in bulk.

A restore leaves status, dates and categories alone (they belong to the workflow and are not
part of a revision). A refused restore changes nothing: PermissionDenied where the user may not
edit the release, ValidationError (code "stale_version") when it changed since the user looked,
or ("source_clash") when the revision's original page address now belongs to another release.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from news import workflow
from news.models import (
    EDITION_TEXT_FIELDS,
    Author,
    Release,
    ReleaseAuthor,
    ReleaseSource,
    Status,
)

if TYPE_CHECKING:
    # Made by django-simple-history when news.models is imported.
    from news.models import HistoricalRelease

# The content a restore copies back, in reading order (the diff shows the same fields).
# Status, dates and categories are not part of it: they belong to the workflow and the editor.
RESTORED_FIELDS = EDITION_TEXT_FIELDS  # the content a revision restores, as an edition carries
SOURCE_FIELDS = ("url", "label_ru", "label_en", "kind", "position")


def related_until(revision: HistoricalRelease) -> datetime.datetime | None:
    """The moment up to which inline rows belong to this revision: just before the next
    revision of the release, or None (= now) for the latest one."""
    later = (
        Release.history.filter(id=revision.id, history_date__gt=revision.history_date)
        .order_by("history_date", "history_id")
        .values_list("history_date", flat=True)
        .first()
    )
    return later - datetime.timedelta(microseconds=1) if later else None


def _links_of(model, revision: HistoricalRelease):
    until = related_until(revision)
    if until is None:
        return model.objects.filter(release_id=revision.id)
    return model.history.as_of(until).filter(release_id=revision.id)


def restore_revision(
    release: Release,
    *,
    revision: HistoricalRelease,
    by: AbstractBaseUser,
    base_version: int | None,
) -> Release:
    """Copy an earlier revision's texts, image, authors and sources into the release as a new
    version, only for someone who may edit it and only while it is still the version they were
    shown (`base_version`; None skips that check), so that a newer edit is never overwritten."""
    if revision.id != release.pk:
        raise ValueError(
            f"revision {revision.history_id} is not a revision of release {release.pk}"
        )
    with transaction.atomic():
        current = Release.objects.select_for_update().get(pk=release.pk)
        if not workflow.can_edit(by, current):
            raise PermissionDenied(
                _("You cannot restore a revision of a release you may not edit.")
            )
        if base_version is not None and base_version != current.version:
            raise ValidationError(
                _(
                    "The release changed while you were looking at this page. Nothing was "
                    "restored; check the differences again."
                ),
                code="stale_version",
            )
        old_authors = [
            (link.author_id, link.position) for link in _links_of(ReleaseAuthor, revision)
        ]
        old_sources = [
            {field: getattr(source, field) for field in SOURCE_FIELDS}
            for source in _links_of(ReleaseSource, revision)
        ]
        if current.status == Status.PUBLISHED:
            # A live release is never changed in place: the revision becomes its pending
            # changes, reviewed and published like any other (news.editions).
            from news import editions

            editions.save_pending(
                current,
                by=by,
                content={field: getattr(revision, field) for field in RESTORED_FIELDS},
                relations={
                    "authors": [a for a, _p in sorted(old_authors, key=lambda a: a[1])],
                    "sources": [
                        {f: s[f] for f in SOURCE_FIELDS if f != "position"}
                        for s in sorted(old_sources, key=lambda s: s["position"])
                    ],
                },
                notes={},
            )
            return current
        for field in RESTORED_FIELDS:
            setattr(current, field, getattr(revision, field))
        current.version += 1
        current.updated_by = by
        current._history_user = by
        current._change_reason = f"restore: {revision.version}"
        current.save()
        _replace_authors(current, old_authors, by=by)
        _replace_sources(current, old_sources, by=by)
    # The caller's instance reflects the new version.
    for field in ("version", "updated_by_id", "slug", "updated_at", *RESTORED_FIELDS):
        setattr(release, field, getattr(current, field))
    return current


# Row by row, never in bulk: each delete and insert lands in the links' own history (with who
# did it), which is what later snapshots and restores of this revision read.


def _replace_authors(
    release: Release, authors: list[tuple[int, int]], *, by: AbstractBaseUser
) -> None:
    # An author deleted since the revision is left out (only unlinked authors can be deleted).
    existing = set(
        Author.objects.filter(pk__in=[a for a, _p in authors]).values_list("pk", flat=True)
    )
    for link in ReleaseAuthor.objects.filter(release=release):
        link._history_user = by
        link.delete()
    for author_id, position in authors:
        if author_id in existing:
            link = ReleaseAuthor(release=release, author_id=author_id, position=position)
            link._history_user = by
            link.save()


def _replace_sources(release: Release, sources: list[dict], *, by: AbstractBaseUser) -> None:
    for source in ReleaseSource.objects.filter(release=release):
        source._history_user = by
        source.delete()
    try:
        with transaction.atomic():
            for values in sources:
                source = ReleaseSource(release=release, **values)
                source._history_user = by
                source.save()
    except IntegrityError as error:
        raise ValidationError(
            _(
                "This revision's original page address now belongs to another release; "
                "nothing was restored."
            ),
            code="source_clash",
        ) from error
