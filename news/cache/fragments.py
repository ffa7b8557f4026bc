"""Rendered fragments of public pages (a release card, a release's article), kept by what they
show, so a page rebuilt after a publication reassembles mostly cached pieces.

A fragment's key names its release, the release's version and last change, the language, and
the site's and the media's addresses (`addresses()`: fragments hold absolute URLs);
editing a release gives its fragments new keys, and a publication of another release leaves
them as they are. What a fragment shows of other rows (category names, signatures, sources)
is covered by the *labels* token: every change to those rows replaces it
(`news.cache.receivers`), and a fragment stamped with another token counts as missing. The
token and the fragments of a page are read in one round trip.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache

from news.models import Release

LABELS_KEY = "public:labels"
FRAGMENT_SECONDS = 7 * 24 * 3600
# How long a fragment rendered without something that failed (`provisional()`) is kept.
PROVISIONAL_SECONDS = 300
# Part of every key: raise it when what a kind of fragment holds changes shape, so that a
# deployment never reads a fragment the previous code kept.
FORMAT = 3
# What a fragment's key reads of a release: a page that shows fragments only reads these
# (`Release.objects.only(*KEY_FIELDS)`), and the whole row of a release whose fragment is
# missing.
KEY_FIELDS = ("pk", "version", "updated_at")


_provisional: ContextVar[bool] = ContextVar("provisional_fragments", default=False)


def provisional() -> None:
    """Say, while fragments are rendered, that they stand in for something that failed (an
    image the storage did not give): they are kept for PROVISIONAL_SECONDS only, then
    rendered again."""
    _provisional.set(True)


def invalidate_labels() -> None:
    """Forget every fragment at once (a category, an author, a signature or a source changed)."""
    cache.set(LABELS_KEY, uuid.uuid4().hex, None)


def fragment_key(kind: str, release: Release, language: str, site: str) -> str:
    """The key of a fragment; `site` is `addresses()`, read once per page."""
    stamp = release.updated_at.timestamp() if release.updated_at else 0
    return (
        f"public:fragment:{FORMAT}:{site}:{kind}:{language}:{release.pk}:{release.version}:{stamp}"
    )


def addresses() -> str:
    """A short stamp of the addresses kept URLs are built from: the site's (`SITE_URL`) and
    the media's (`MEDIA_URL` and the media storage with its options: an S3 bucket, endpoint
    or custom domain). A deployment under another address reads nothing kept under the
    previous one."""
    stamp = f"{settings.SITE_URL} {settings.MEDIA_URL} {settings.STORAGES.get('default')!r}"
    return f"{zlib.crc32(stamp.encode()):08x}"


def fragments(
    kind: str,
    releases: Sequence[Release],
    language: str,
    render: Callable[[list[Release]], list[Any]],
) -> list[Any]:
    """The `kind` fragment of each release in `language`: from the cache, else rendered by
    `render` (given the releases whose fragment is missing, in order) and kept."""
    site = addresses()
    keys = [fragment_key(kind, release, language, site) for release in releases]
    found = cache.get_many([LABELS_KEY, *keys])
    labels = found.get(LABELS_KEY)
    if labels is None:
        labels = uuid.uuid4().hex
        cache.add(LABELS_KEY, labels, None)
    html = {
        key: entry[1]
        for key in keys
        if (entry := found.get(key)) is not None and entry[0] == labels
    }
    missing = [
        (key, release) for key, release in zip(keys, releases, strict=True) if key not in html
    ]
    if missing:
        token = _provisional.set(False)
        try:
            rendered = render([release for _key, release in missing])
            seconds = PROVISIONAL_SECONDS if _provisional.get() else FRAGMENT_SECONDS
        finally:
            _provisional.reset(token)
        fresh = {key: text for (key, _release), text in zip(missing, rendered, strict=True)}
        cache.set_many({key: (labels, text) for key, text in fresh.items()}, seconds)
        html.update(fresh)
    return [html[key] for key in keys]
