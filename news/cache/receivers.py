"""Public cache invalidation: any change to what public pages show empties the page cache.

The receivers only schedule `news.cache.invalidate` for after the surrounding transaction
commits (`transaction.on_commit`), so a page is never invalidated for data that is rolled
back, and the cache is written once per transaction however many rows it changes.
They cover releases (saves, deletes, category links), their ordered authors and sources,
categories, authors and workflow events (every status change writes one).
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from news import cache
from news.cache import fragments
from news.models import (
    Author,
    Category,
    Release,
    ReleaseAuthor,
    ReleaseDocument,
    ReleasePhoto,
    ReleaseSource,
    WorkflowEvent,
)
from news.public import search

WATCHED = (
    Release,
    ReleaseAuthor,
    ReleaseSource,
    ReleaseDocument,
    ReleasePhoto,
    Category,
    Author,
    WorkflowEvent,
)
# What release fragments show of rows other than the release (`news.cache.fragments`).
LABELS = (
    ReleaseAuthor,
    ReleaseSource,
    ReleaseDocument,
    ReleasePhoto,
    Category,
    Author,
    Release.categories.through,
)


class _Pending:
    """The invalidation pending for one transaction: each change registers a callback, and
    whichever of them runs first invalidates (what every change asked for), the others find
    it done. Callbacks of rolled-back savepoints never run; once none is left registered, the
    next change starts afresh."""

    def __init__(self):
        self.done = False
        self.labels = False
        self.callbacks = []

    def is_live(self, connection) -> bool:
        registered = {id(func) for _savepoints, func, _robust in connection.run_on_commit}
        return not self.done and any(id(run) in registered for run in self.callbacks)


def invalidate_public_pages(*, labels: bool = False) -> None:
    # Labels first: a page built between the two writes would otherwise be kept under the
    # new generation with fragments of the old labels.
    if labels:
        fragments.invalidate_labels()
    cache.invalidate()


def schedule_invalidation(using: str | None = None, *, labels: bool = False) -> None:
    """Invalidate the public cache once the current transaction commits (at once outside
    one); `labels` also forgets the release fragments (`news.cache.fragments`)."""
    connection = transaction.get_connection(using)
    pending = getattr(connection, "_public_cache_pending", None)
    if pending is None or not pending.is_live(connection):
        pending = connection._public_cache_pending = _Pending()
    pending.labels = pending.labels or labels

    def run() -> None:
        if not pending.done:
            pending.done = True
            invalidate_public_pages(labels=pending.labels)

    pending.callbacks.append(run)
    transaction.on_commit(run, using=using)


def _on_change(sender, using=None, **kwargs):
    if kwargs.get("action", "post").startswith("pre_"):
        return  # m2m_changed: the post_ signal follows
    schedule_invalidation(using, labels=sender in LABELS)


for _model in WATCHED:
    post_save.connect(
        _on_change, sender=_model, dispatch_uid=f"public-cache-save-{_model.__name__}"
    )
    post_delete.connect(
        _on_change, sender=_model, dispatch_uid=f"public-cache-delete-{_model.__name__}"
    )
m2m_changed.connect(
    _on_change, sender=Release.categories.through, dispatch_uid="public-cache-categories"
)


@receiver(connection_created, dispatch_uid="public-search-sqlite-functions")
def _register_search_functions(sender, connection, **kwargs):
    search.register_sqlite_functions(connection)
