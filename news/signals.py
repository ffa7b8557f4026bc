"""Public cache invalidation: any change to what public pages show empties the page cache.

The receivers only schedule `news.cache.invalidate` for after the surrounding transaction
commits (`transaction.on_commit`), once per transaction, so a page rendered from data that
is rolled back is never cached as current and a bulk import does not flood the cache.
They cover releases (saves, deletes, category links), their ordered authors and sources,
categories, authors and workflow events (every status change writes one).
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from news import cache, search
from news.models import Author, Category, Release, ReleaseAuthor, ReleaseSource, WorkflowEvent

WATCHED = (Release, ReleaseAuthor, ReleaseSource, Category, Author, WorkflowEvent)


def _already_scheduled(connection) -> bool:
    # Reuse a pending callback only if it was registered at this savepoint level or an outer
    # one: then any rollback that discards it also discards the change being recorded now.
    current = set(connection.savepoint_ids)
    return any(
        func is invalidate_public_pages and savepoints <= current
        for savepoints, func, *_ in connection.run_on_commit
    )


def invalidate_public_pages() -> None:
    cache.invalidate()


def schedule_invalidation(using: str | None = None) -> None:
    """Invalidate the public cache when the current transaction commits (at once outside one)."""
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and _already_scheduled(connection):
        return
    transaction.on_commit(invalidate_public_pages, using=using)


def _on_change(sender, using=None, **kwargs):
    schedule_invalidation(using)


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
