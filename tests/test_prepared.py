"""Prepared queries (news/prepared.py): compiled once per shape, the same rows as the ORM."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Q
from django.utils import timezone
from freezegun import freeze_time

from news.models import Release
from news.prepared import PreparedQuery
from tests.factories import CategoryFactory, DraftFactory, PublishedFactory, ScheduledFactory

pytestmark = pytest.mark.django_db


def counting(build):
    """`build`, counting its calls (each call is one compilation)."""

    def wrapped(*args, **kwargs):
        wrapped.calls += 1
        return build(*args, **kwargs)

    wrapped.calls = 0
    wrapped.__qualname__ = build.__qualname__
    return wrapped


def public_ids(language, *, now, category):
    return (
        Release.objects.published(language, now=now)
        .filter(Q(categories=category) | Q(slug__startswith="zz"))
        .order_by("-published_at", "-id")
        .values("id", "slug", "published_at", f"{language}_complete")
        .distinct()
    )


def test_the_same_rows_as_the_queryset_for_any_values():
    economy, culture = CategoryFactory(), CategoryFactory()
    now = timezone.now()
    for days in (1, 2, 3):
        PublishedFactory(published_at=now - datetime.timedelta(days=days)).categories.add(economy)
    both = PublishedFactory(slug="zz-both")
    both.categories.add(economy, culture)
    DraftFactory().categories.add(economy)
    ScheduledFactory().categories.add(economy)
    prepared = PreparedQuery(public_ids, now=datetime.datetime, category=int)
    for language in ("ru", "en"):
        for moment in (now, now - datetime.timedelta(days=2), now + datetime.timedelta(days=30)):
            for category in (economy.pk, culture.pk, 0):
                expected = list(public_ids(language, now=moment, category=category))
                assert prepared(language, now=moment, category=category) == expected
    # The values reach the SQL as parameters: different values, different rows.
    assert prepared("ru", now=now, category=economy.pk) != prepared(
        "ru", now=now, category=culture.pk
    )
    row = prepared("ru", now=now, category=economy.pk)[0]
    assert isinstance(row["published_at"], datetime.datetime)  # converted as the ORM does
    assert row["ru_complete"] is True


def test_a_shape_is_compiled_once(django_assert_num_queries):
    PublishedFactory.create_batch(3)
    build = counting(
        lambda language, offset, *, now: (
            Release.objects.published(language, now=now)
            .order_by("-published_at")
            .values("id")[offset : offset + 2]
        )
    )
    prepared = PreparedQuery(build, now=datetime.datetime, max_shapes=2)
    with django_assert_num_queries(3):
        assert len(prepared("ru", 0, now=timezone.now())) == 2
        assert len(prepared("ru", 0, now=timezone.now())) == 2
        assert len(prepared("ru", 2, now=timezone.now())) == 1
    assert build.calls == 2
    prepared("en", 0, now=timezone.now())  # a third shape pushes out the least recently used
    prepared("ru", 2, now=timezone.now())
    assert build.calls == 3
    prepared("ru", 0, now=timezone.now())
    assert build.calls == 4


def test_works_while_time_is_frozen():
    release = ScheduledFactory()
    prepared = PreparedQuery(
        lambda *, now: Release.objects.published("ru", now=now).values("id"),
        now=datetime.datetime,
    )
    assert prepared(now=timezone.now()) == []
    with freeze_time(release.published_at + datetime.timedelta(seconds=1)):
        assert prepared(now=timezone.now()) == [{"id": release.pk}]


def test_an_id_out_of_the_database_range_finds_nothing(django_assert_num_queries):
    prepared = PreparedQuery(lambda *, pk: Release.objects.filter(pk=pk).values("id"), pk=int)
    with django_assert_num_queries(0):
        assert prepared(pk=10**30) == []
        assert prepared(pk=-(10**30)) == []


def test_str_parameters():
    release = PublishedFactory()
    prepared = PreparedQuery(
        lambda *, slug: Release.objects.filter(slug=slug).values("id"), slug=str
    )
    assert prepared(slug=release.slug) == [{"id": release.pk}]
    assert prepared(slug="no-such-slug") == []
    assert prepared(slug="'; DROP TABLE news_release; --") == []  # a parameter, never SQL


def test_misuse_is_reported_clearly():
    with pytest.raises(TypeError, match="int, a str or a datetime"):
        PreparedQuery(lambda *, x: None, x=float)
    models = PreparedQuery(lambda *, pk: Release.objects.filter(pk=pk), pk=int)
    with pytest.raises(TypeError, match=r"\.values\(\) queryset"):
        models(pk=1)
    # A value used only to choose the SQL (here: a slice) is a shape, not a parameter.
    sliced = PreparedQuery(lambda *, size: Release.objects.values("id")[: abs(size)], size=int)
    with pytest.raises(ValueError, match="'size' does not reach the SQL"):
        sliced(size=5)
    plain = PreparedQuery(lambda *, pk: Release.objects.filter(pk=pk).values("id"), pk=int)
    with pytest.raises(TypeError, match="expected the parameters"):
        plain(id=1)
