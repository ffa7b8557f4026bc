"""Pending editions: how a release that has a live version changes, on the record.

The `Release` row is always the live content. Saving a published (or scheduled) release in
the newsroom writes its *pending edition* (`ReleaseEdition`) instead; the edition goes draft ->
review -> published through the same workflow services (`news.workflow` hands the transitions
of a release with a pending edition to `fire` below), and publishing it copies it into the
release in one transaction. The edition holds its own whole set of documents and photos
(`ReleaseDocument` / `ReleasePhoto` rows with `edition` set, started as copies of the live
ones that share their stored files); publishing replaces the release's set with it, and
discarding deletes it, with the files no live row uses. A future moment schedules it:
`apply_due` promotes it once that moment has come, called by every public page
(`news.cache.pages.public_page`) before it reads, so no job has to run; pages cached before
that moment expire at it.

A published change is major (with a change note, listed on the page as an update; it moves
`Release.last_major_change_at`, the public "modified" date) or minor (a typo: no public trace
but its revision). A correction is a major change whose note heads the page.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from news import journalists, notifications
from news.models import (
    EDITION_TEXT_FIELDS,
    EditionState,
    Release,
    ReleaseAuthor,
    ReleaseDocument,
    ReleaseEdition,
    ReleasePhoto,
    ReleaseSource,
    Status,
    WorkflowEvent,
    normalize_content,
)
from news.revisions import SOURCE_FIELDS, _replace_authors, _replace_sources

RU_TEXT = ("title_ru", "lead_ru", "body_ru")
EN_TEXT = ("title_en", "lead_en", "body_en")
NOTE_FIELDS = ("change_note_ru", "change_note_en", "minor_change", "correction")
ATTACHMENT_MODELS = (ReleaseDocument, ReleasePhoto)


# --- what an edition holds ----------------------------------------------------------------


def live_relations(release: Release) -> dict:
    """The release's live categories, authors (signing order) and sources, as an edition
    keeps them."""
    return {
        "categories": sorted(release.categories.values_list("pk", flat=True)),
        "authors": list(
            ReleaseAuthor.objects.filter(release=release)
            .order_by("position", "id")
            .values_list("author_id", flat=True)
        ),
        "sources": [
            {field: getattr(source, field) for field in SOURCE_FIELDS if field != "position"}
            for source in ReleaseSource.objects.filter(release=release).order_by("position", "id")
        ],
    }


def copy_live_attachments(release: Release, edition: ReleaseEdition) -> dict:
    """Start the edition's documents and photos as copies of the release's live ones (the
    stored files are shared, not copied). Returns each copy by (model, pk of its live row)."""
    copies = {}
    for model in ATTACHMENT_MODELS:
        for row in model.objects.filter(release=release):
            live_pk = row.pk
            row.pk = None
            row._state.adding = True
            row.release, row.edition = None, edition
            row.save()
            copies[(model, live_pk)] = row
    return copies


def note_errors(
    content, *, minor_change: bool, correction: bool, notes: dict
) -> list[tuple[str, str]]:
    """The change-note rule, as (field, message) pairs: a major change needs its Russian
    note, and its English note too when the release (as changed) has a public English
    version; a correction is a major change."""
    errors = []
    if minor_change:
        if correction:
            errors.append(
                ("correction", _("A correction is a major change: untick “minor change”."))
            )
        return errors
    if not (notes.get("change_note_ru") or "").strip():
        errors.append(("change_note_ru", _("A major change needs a change note in Russian.")))
    if content.is_complete("en") and not (notes.get("change_note_en") or "").strip():
        errors.append(("change_note_en", _("A major change needs a change note in English too.")))
    return errors


def save_pending(
    release: Release,
    *,
    by: AbstractBaseUser | None,
    content: dict,
    relations: dict,
    notes: dict,
    base_version: int | None = None,
    attachments_changed: bool = False,
) -> ReleaseEdition:
    """Store a change of a live release as its pending edition (started now if it has none),
    leaving the release itself untouched. `base_version` is the edition version the person
    started from (0: no edition yet); a save over a newer one is refused.

    An edition started here starts with copies of the live attachments; its `live_copies`
    maps each live row (model, pk) to its copy, for the caller that changes them next (the
    admin's inlines, which say whether they change any: `attachments_changed`)."""
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.status != Status.PUBLISHED:
            raise ValidationError(
                _("Only a published release gets pending changes."), code="invalid_state"
            )
        edition = ReleaseEdition.objects.select_for_update().open().filter(release=locked).first()
        current_version = edition.version if edition else 0
        if base_version is not None and base_version != current_version:
            raise ValidationError(
                _(
                    "Someone else saved pending changes of this release while you were "
                    "editing it. Your changes have NOT been saved."
                ),
                code="stale_version",
            )
        if edition is None:
            edition = ReleaseEdition(
                release=locked, created_by=by, relations=live_relations(locked), version=0
            )
            for field in EDITION_TEXT_FIELDS:
                setattr(edition, field, getattr(locked, field))
        before = {field: getattr(edition, field) for field in EDITION_TEXT_FIELDS}
        before_relations = edition.relations
        for field, value in content.items():
            if field in EDITION_TEXT_FIELDS:
                setattr(edition, field, value)
        edition.relations = {**edition.relations, **relations}
        for field in NOTE_FIELDS:
            if field in notes:
                setattr(edition, field, notes[field])
        if edition.minor_change:
            edition.correction = False
        normalize_content(edition)
        after = {field: getattr(edition, field) for field in EDITION_TEXT_FIELDS}
        started = edition.pk is None
        if (
            started
            or attachments_changed
            or (after, edition.relations) != (before, before_relations)
        ):
            edition.text_changed_by = by
        edition.version += 1
        edition._history_user = by
        edition.save()
        edition.live_copies = copy_live_attachments(locked, edition) if started else {}
    release._pending_edition = edition
    return edition


def as_release(release: Release, edition: ReleaseEdition) -> Release:
    """An unsaved copy of `release` showing `edition`'s content and relations (for previews
    and the comparison with the live version)."""
    from news.models import Author, Category

    copy = Release.objects.get(pk=release.pk)
    for field in EDITION_TEXT_FIELDS:
        setattr(copy, field, getattr(edition, field))
    relations = edition.relations or {}
    authors = Author.objects.in_bulk(relations.get("authors", []))
    links = [
        ReleaseAuthor(release=copy, author=authors[pk], position=position)
        for position, pk in enumerate(relations.get("authors", []))
        if pk in authors
    ]
    sources = [
        ReleaseSource(release=copy, position=position, **values)
        for position, values in enumerate(relations.get("sources", []))
    ]
    categories = list(Category.objects.filter(pk__in=relations.get("categories", [])))
    copy._prefetched_objects_cache = {
        "release_authors": _prefetched(ReleaseAuthor, links),
        "sources": _prefetched(ReleaseSource, sources),
        "categories": _prefetched(Category, categories),
        "documents": _prefetched(ReleaseDocument, list(edition.documents.all())),
        "photos": _prefetched(ReleasePhoto, list(edition.photos.all())),
    }
    copy._pending_edition = edition
    return copy


def _prefetched(model, rows: list):
    queryset = model.objects.none()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


# --- transitions --------------------------------------------------------------------------


def has_pending(release: Release) -> bool:
    """Whether the (live) release has an open edition that the workflow acts on."""
    return (
        ReleaseEdition.objects.open()
        .filter(release_id=release.pk, release__status=Status.PUBLISHED)
        .exists()
    )


def fire(
    release: Release,
    name: str,
    *,
    by: AbstractBaseUser | None,
    comment: str = "",
    at: datetime.datetime | None = None,
    force: bool = False,
    reason: str = "",
) -> WorkflowEvent:
    """Fire the workflow transition `name` (submit, publish, request_changes, discard, recall,
    reschedule, cancel_schedule) on the release's pending edition: the same permissions as for
    a first publication (from `news.workflow.TRANSITIONS`) and the same second pair of eyes
    (the edition's submitter or last text author publishes only by force, with a reason), the
    edition's state checked under the release's row lock, one event, notifications after
    commit."""
    from news.workflow import DEFAULT_REFUSAL, EDITION_SOURCES, REFUSALS, TRANSITIONS, may_fire

    transition = TRANSITIONS[name]
    comment = (comment or "").strip()
    if transition.comment_required and not comment:
        raise ValidationError(
            _("A comment is required to %(action)s.") % {"action": str(transition.label).lower()},
            code="comment_required",
        )
    if not may_fire(by, release, name):
        raise PermissionDenied(str(REFUSALS.get(name, DEFAULT_REFUSAL)))
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        edition = ReleaseEdition.objects.select_for_update().open().filter(release=locked).first()
        if edition is None or edition.state not in EDITION_SOURCES.get(name, transition.sources):
            raise ValidationError(
                _("Cannot %(action)s: the release has no pending changes in that state.")
                % {"action": str(transition.label).lower()},
                code="invalid_state",
            )
        if (
            name == "discard"
            and by is not None
            and edition.state != EditionState.DRAFT
            and not by.has_perm("news.publish_release")
        ):
            raise PermissionDenied(
                _("Only an editor may discard pending changes once they were submitted.")
            )
        from_state = edition.state
        now = timezone.now()
        if name == "submit":
            from news.workflow import completeness_errors

            errors = completeness_errors(edition)
            if errors:
                raise ValidationError(errors, code="incomplete")
            edition.state = EditionState.REVIEW
            edition.submitted_by = by
        elif name == "request_changes":
            edition.state = EditionState.DRAFT
        elif name == "discard":
            edition.state = EditionState.DISCARDED
            discard_attachments(edition)
        elif name == "recall":
            if by is not None and edition.submitted_by_id != by.pk:
                raise PermissionDenied(str(REFUSALS["recall"]))
            edition.state = EditionState.DRAFT
        elif name in ("reschedule", "cancel_schedule"):
            if edition.publish_at is None or edition.publish_at <= now:
                raise ValidationError(
                    _("These changes are already due: their schedule cannot be changed."),
                    code="not_scheduled",
                )
            if name == "reschedule":
                edition.publish_at = at
                comment = _("Pending changes rescheduled for %(when)s") % {
                    "when": timezone.localtime(at).isoformat()
                }
            else:
                edition.state = EditionState.REVIEW
                edition.publish_at = None
        elif name == "publish":
            from news.workflow import check_forced, completeness_errors, needs_second_pair

            locked._pending_edition = edition
            forced = needs_second_pair(locked, by)
            reason = (reason or "").strip()
            check_forced(forced, by=by, force=force, reason=reason)

            errors = completeness_errors(edition) + [
                message
                for _field, message in note_errors(
                    edition,
                    minor_change=edition.minor_change,
                    correction=edition.correction,
                    notes={f: getattr(edition, f) for f in NOTE_FIELDS},
                )
            ]
            if errors:
                raise ValidationError(errors, code="incomplete")
            if at is not None and at > now:
                edition.state = EditionState.SCHEDULED
                edition.publish_at = at
                comment = _("Pending changes scheduled for %(when)s") % {
                    "when": timezone.localtime(at).isoformat()
                }
            else:
                _promote(locked, edition, by=by, moment=now)
            if forced:
                locked.needs_review = True
                locked.save(update_fields=["needs_review"])
                comment = "\n".join(
                    filter(None, [comment, _("Published without a second editor: %(reason)s")
                                  % {"reason": reason}])
                )  # fmt: skip
        edition.version += 1
        edition._history_user = by
        edition.save()
        event = WorkflowEvent.objects.create(
            release=locked,
            edition=edition,
            actor=by,
            from_status=from_state,
            to_status=edition.state,
            comment=comment,
        )
        transaction.on_commit(lambda: notifications.transition_done(event), robust=True)
    for field in ("version", "updated_by_id", "updated_at", *EDITION_TEXT_FIELDS):
        setattr(release, field, getattr(locked, field))
    release.__dict__.pop("_pending_edition", None)
    return event


def _promote(
    release: Release,
    edition: ReleaseEdition,
    *,
    by: AbstractBaseUser | None,
    moment: datetime.datetime,
) -> None:
    """Copy `edition` into the (locked) live release as its next version: text, image,
    categories, authors, sources, and its documents and photos in place of the live ones
    (files that no row uses any more are deleted once committed); a major change moves the
    public "modified" date and the English version's freshness."""
    english_was_public = release.is_complete("en")
    old_ru = [getattr(release, field) for field in RU_TEXT]
    old_en = [getattr(release, field) for field in EN_TEXT]
    for field in EDITION_TEXT_FIELDS:
        setattr(release, field, getattr(edition, field))
    new_ru = [getattr(edition, field) for field in RU_TEXT]
    new_en = [getattr(edition, field) for field in EN_TEXT]
    if new_en != old_en:
        release.en_outdated_since = None
    if not edition.minor_change:
        release.last_major_change_at = moment
        if new_ru != old_ru and new_en == old_en and english_was_public:
            release.en_outdated_since = moment
    release.version += 1
    release.updated_by = edition.text_changed_by or by
    release._history_user = by
    note = edition.change_note_ru if not edition.minor_change else _("minor change")
    reason = f"publish: {note}" if note else "publish"
    release._change_reason = reason if len(reason) <= 100 else reason[:99] + "…"
    release.save()
    relations = edition.relations or {}
    if "categories" in relations:
        from news.models import Category

        release.categories.set(Category.objects.filter(pk__in=relations["categories"]))
    live = live_relations(release)
    if "authors" in relations and relations["authors"] != live["authors"]:
        _replace_authors(
            release,
            [(pk, position) for position, pk in enumerate(relations["authors"])],
            by=by,
        )
    if "sources" in relations and relations["sources"] != live["sources"]:
        _replace_sources(
            release,
            [{**values, "position": n} for n, values in enumerate(relations["sources"])],
            by=by,
        )
    for model in ATTACHMENT_MODELS:
        model.objects.filter(release=release).delete()
        model.objects.filter(edition=edition).update(release=release, edition=None)
    edition.state = EditionState.PUBLISHED
    edition.published_at = moment
    if not edition.minor_change and release.published_at and release.published_at <= moment:
        # Subscribers hear of a major change of a public release, with its note, once.
        transaction.on_commit(
            lambda: journalists.release_became_public(release, edition=edition), robust=True
        )


def discard_attachments(edition: ReleaseEdition) -> None:
    """A discarded edition's documents and photos go, and with them (once committed) the
    files that no live row uses."""
    for model in ATTACHMENT_MODELS:
        model.objects.filter(edition=edition).delete()


# --- scheduled editions take over at their moment -----------------------------------------


def apply_due(now: datetime.datetime | None = None) -> int:
    """Promote every scheduled edition whose moment has come (each in its own transaction;
    one that another process is promoting is skipped). Idempotent; returns how many."""
    now = now or timezone.now()
    promoted = 0
    for pk in list(ReleaseEdition.objects.due(now).values_list("pk", flat=True)):
        with transaction.atomic():
            edition = (
                ReleaseEdition.objects.select_for_update(skip_locked=True)
                .due(now)
                .filter(pk=pk)
                .first()
            )
            if edition is None:
                continue
            release = Release.objects.select_for_update().get(pk=edition.release_id)
            _promote(release, edition, by=None, moment=edition.publish_at)
            edition.version += 1
            edition.save()
            WorkflowEvent.objects.create(
                release=release,
                edition=edition,
                actor=None,
                from_status=EditionState.SCHEDULED,
                to_status=EditionState.PUBLISHED,
            )
        promoted += 1
    return promoted


def apply_due_if_any(now: datetime.datetime | None = None) -> int:
    """`apply_due`, skipped without a query until the earliest scheduled moment (the page
    cache's `next_scheduled_at`, remembered for its generation, which every workflow event
    replaces)."""
    from news.cache.pages import next_scheduled_at

    now = now or timezone.now()
    upcoming = next_scheduled_at(now)
    if upcoming is None or upcoming > now:
        return 0
    return apply_due(now)


# --- translation freshness ----------------------------------------------------------------


def confirm_translation(release: Release, *, by: AbstractBaseUser | None) -> bool:
    """An editor confirms that the English version still says what the Russian one says:
    the "out of date" mark goes (a new version of the release). False if it had none."""
    if by is not None and not by.has_perm("news.publish_release"):
        raise PermissionDenied(_("Only an editor may confirm a translation."))
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.en_outdated_since is None:
            return False
        locked.en_outdated_since = None
        locked.version += 1
        locked.updated_by = by
        locked._history_user = by
        locked._change_reason = "confirm_translation"
        locked.save()
    release.en_outdated_since = None
    release.version = locked.version
    return True
