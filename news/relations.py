"""A release's categories, authors and sources in the release's own row.

Each relation is a correlated subquery that the database turns into the text of a JSON array
(`StringAgg` of `JSONObject`s, in the relation's order), so one query brings a page's
releases together with what they relate to, on PostgreSQL and on SQLite alike: a release page
is one query, a list page and a feed too. `rows()` reads such a column back.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.aggregates import StringAgg
from django.db.models.functions import Cast, JSONObject

from news.models import Release, ReleaseAuthor, ReleaseSource


def _related(queryset: QuerySet, order_by: tuple[str, ...], **fields: str) -> Subquery:
    """The rows of `queryset` that belong to the outer release, as JSON objects of `fields`
    (name -> lookup), joined with commas: a JSON array without its brackets (NULL if none),
    in the order `order_by`. A database that cannot order an aggregate (SQLite before 3.44)
    adds the ordering values to each object (`_0`, `_1`...) and `rows()` sorts by them (SQLite
    compares text by code point, as Python does)."""
    ordered = connection.features.supports_aggregate_order_by_clause
    if not ordered:
        fields = {**fields, **{f"_{n}": key for n, key in enumerate(order_by)}}
    return Subquery(
        queryset.filter(release_id=OuterRef("pk"))
        .order_by()
        .values("release_id")
        .annotate(
            rows=StringAgg(
                Cast(JSONObject(**fields), TextField()),
                Value(","),
                order_by=order_by if ordered else (),
            )
        )
        .values("rows")
    )


def categories() -> Subquery:
    """The release's categories by Russian name: id, slug, name_ru, name_en."""
    return _related(
        Release.categories.through.objects.all(),
        ("category__name_ru", "category_id"),
        id="category_id",
        slug="category__slug",
        name_ru="category__name_ru",
        name_en="category__name_en",
    )


def authors() -> Subquery:
    """The release's signatures in signing order: names, positions, the user account."""
    return _related(
        ReleaseAuthor.objects.all(),
        ("position", "id"),
        name_ru="author__name_ru",
        name_en="author__name_en",
        position_ru="author__position_ru",
        position_en="author__position_en",
        user="author__user_id",
    )


def sources() -> Subquery:
    """The release's source addresses in their order: url, labels, kind."""
    return _related(
        ReleaseSource.objects.all(),
        ("position", "id"),
        url="url",
        label_ru="label_ru",
        label_en="label_en",
        kind="kind",
    )


def rows(text: str | None) -> list[dict]:
    """The rows of one relation column, in the relation's order."""
    found = json.loads(f"[{text}]") if text else []
    if found and "_0" in found[0]:
        keys = sorted(key for key in found[0] if key.startswith("_"))
        found.sort(key=lambda row: [row[key] for key in keys])
        found = [{k: v for k, v in row.items() if not k.startswith("_")} for row in found]
    return found
