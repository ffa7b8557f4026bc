"""What the public pages read. Every release here comes from
`Release.objects.published(language)`, the one public rule; nothing public is decided
anywhere else.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from news.cache.fragments import FRAGMENT_SECONDS, KEY_FIELDS
from news.cache.pages import NAVIGATION_KEY, keep_stamped, lifetime, read_stamped
from news.models import (
    LANGUAGES,
    Category,
    Release,
    ReleaseAuthor,
    ReleaseEdition,
    ReleaseQuerySet,
    is_fallback,
    translated,
)

NEIGHBOURS_KEY = "public:neighbours:{language}:{pk}"


def public_releases(language: str) -> ReleaseQuerySet:
    """The public releases of `language`, newest first."""
    return Release.objects.published(language).order_by("-published_at", "-id")


def whole(releases: list[Release]) -> list[Release]:
    """The whole rows of `releases` read with `only()` (one query), in the same order: what a
    missing fragment is rendered from."""
    rows = Release.objects.in_bulk([release.pk for release in releases])
    return [rows[release.pk] for release in releases]


def signatures() -> Prefetch:
    """A release's signatures (`release_authors` with their authors), in signing order."""
    return Prefetch(
        "release_authors",
        queryset=ReleaseAuthor.objects.select_related("author").order_by("position", "id"),
    )


def read_relations(releases: list[Release]) -> list[Release]:
    """Read what a release page shows of `releases` besides their own rows: categories,
    signatures in signing order, sources, documents and photos (five queries for any number
    of releases)."""
    prefetch_related_objects(releases, "categories", signatures(), "sources", "documents", "photos")
    return releases


def feed_releases(language: str, category: Category | None = None) -> list[Release]:
    """The newest public releases of `language` (in `category`), at most FEED_ITEMS, with
    what a feed item needs besides its fragment (`news.public.feeds.feed_parts`): one
    query whatever the size of the archive."""
    releases = public_releases(language).only(*KEY_FIELDS, "published_at", "last_major_change_at")
    if category is not None:
        releases = releases.filter(categories=category)
    return list(releases[: settings.FEED_ITEMS])


def release_updates(release: Release, language: str) -> dict:
    """The public record of a release's changes in `language`: "Updates to this release"
    (the first publication, then each published major change with its note; empty when
    there was none), its corrections (newest first), and on an English page whose Russian
    text changed since, when it did."""
    # Only a release with a published major change has any (no query for the others).
    changes = []
    if release.last_major_change_at is not None:
        changes = list(release.editions.public_updates())

    def entry(edition: ReleaseEdition) -> dict:
        note = translated(edition.change_note_ru, edition.change_note_en, language)
        fallback = language == "en" and not edition.change_note_en
        return {"date": edition.published_at, "note": note, "lang": "ru" if fallback else ""}

    updates = []
    if changes:
        updates = [{"date": release.first_published_at, "note": None, "lang": ""}]
        updates += [entry(edition) for edition in changes]
    corrections = [entry(edition) for edition in reversed(changes) if edition.correction]
    outdated = None
    if language == "en" and release.en_outdated_since and release.is_complete("ru"):
        outdated = {
            "date": release.en_outdated_since,
            "url": release.get_absolute_url("ru"),
        }
    return {"updates": updates, "corrections": corrections, "outdated": outdated}


def read_categories(releases: list[Release]) -> list[Release]:
    """Read the categories of `releases` (one query for any number of them)."""
    prefetch_related_objects(releases, "categories")
    return releases


def public_between(language: str, start: datetime.date, end: datetime.date) -> bool:
    """Whether `language` has public releases from day `start` up to day `end` (excluded),
    in the site's time zone, as the date archives count them."""
    first, last = (
        timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        for day in (start, end)
    )
    return public_releases(language).filter(published_at__gte=first, published_at__lt=last).exists()


def neighbours(release: Release, language: str) -> dict[str, dict]:
    """Links to the public releases just before ("previous", older) and after ("next",
    newer) `release` in the public order of `language` (newest first, ties by id), as
    {"url", "title", "pk"}: two queries, kept for the generation (they change when the
    public releases do)."""
    key = NEIGHBOURS_KEY.format(language=language, pk=release.pk)
    found = read_stamped(key)
    if found is not None:
        return found
    now = timezone.now()
    public = Release.objects.published(language, now=now).only("pk", "slug", f"title_{language}")
    moment, pk = release.published_at, release.pk
    older = (
        public.filter(published_at__lte=moment)
        .exclude(published_at=moment, pk__gte=pk)
        .order_by("-published_at", "-pk")
        .first()
    )
    newer = (
        public.filter(published_at__gte=moment)
        .exclude(published_at=moment, pk__lte=pk)
        .order_by("published_at", "pk")
        .first()
    )
    found = {
        name: {"url": row.get_absolute_url(language), "title": row.title(language), "pk": row.pk}
        for name, row in (("previous", older), ("next", newer))
        if row is not None
    }
    keep_stamped(key, found, lifetime(now, FRAGMENT_SECONDS))
    return found


def release_on_record(pk: int, language: str) -> Release | None:
    """The release `pk` if its `language` page exists: public, or withdrawn after it was
    public (`Release.objects.on_record`); None otherwise."""
    return Release.objects.on_record(language).filter(pk=pk).first()


def unpublished_release(pk: int, language: str) -> Release | None:
    """The release `pk` if it was unpublished after its `language` version was public."""
    return (
        Release.objects.unpublished()
        .filter(pk=pk, published_at__lte=F("withdrawn_at"), **{f"{language}_complete": True})
        .select_related("replacement")
        .first()
    )


def replacement_url(release: Release, language: str) -> str | None:
    """Where an unpublished release sends its visitors: its replacement in `language`, else
    in the other language, while the replacement is public; None for 410 Gone."""
    replacement = release.replacement
    if replacement is None:
        return None
    for candidate in (language, *(lang for lang in LANGUAGES if lang != language)):
        if replacement.is_public(candidate):
            return replacement.get_absolute_url(candidate)
    return None


def site_navigation(language: str) -> dict:
    """The sidebar of every public page: the categories that have public releases in
    `language` and the years of its archive. Two queries, kept in the cache for the
    generation (until the next change or the next scheduled publication)."""
    key = NAVIGATION_KEY.format(language=language)
    navigation = read_stamped(key)
    if navigation is not None:
        return navigation
    now = timezone.now()
    public = Release.objects.published(language, now=now)
    categories = Category.objects.filter(Exists(public.filter(categories=OuterRef("pk")))).order_by(
        f"name_{language}", "name_ru"
    )
    with override(language):
        navigation = {
            "categories": [
                {
                    "slug": category.slug,
                    "name": category.name(language),
                    "fallback": is_fallback(category.name_en, language),
                    "url": category.get_absolute_url(language),
                }
                for category in categories
            ],
            "years": [
                (day.year, reverse("news:archive_year", kwargs={"year": day.year}))
                for day in public.dates("published_at", "year", order="DESC")
            ],
        }
    keep_stamped(key, navigation, lifetime(now, FRAGMENT_SECONDS))
    return navigation
