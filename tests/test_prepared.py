"""Prepared queries (news/prepared.py): compiled once per shape, the same rows as the ORM."""

from __future__ import annotations

import datetime

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Q
from django.utils import timezone
from freezegun import freeze_time

from news.models import Release
from news.prepared import PreparedQuery, _prepare
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
    # A value that only chooses the SQL (here: capped to a constant) is a shape.
    capped = PreparedQuery(lambda *, size: Release.objects.values("id")[: min(size, 5)], size=int)
    with pytest.raises(ValueError, match="'size' does not reach the SQL"):
        capped(size=5)
    plain = PreparedQuery(lambda *, pk: Release.objects.filter(pk=pk).values("id"), pk=int)
    with pytest.raises(TypeError, match="expected the parameters"):
        plain(id=1)


def test_a_slice_is_a_parameter_too():
    """Django writes a slice's LIMIT and OFFSET into the SQL text: they become parameters,
    so every page of a list is the same statement."""
    now = timezone.now()
    for days in range(7):
        PublishedFactory(published_at=now - datetime.timedelta(days=days, hours=1))
    build = counting(
        lambda language, *, now, offset, size: (
            Release.objects.published(language, now=now)
            .order_by("-published_at", "-id")
            .values("id")[offset : offset + size]
        )
    )
    prepared = PreparedQuery(build, now=datetime.datetime, offset=int, size=int)
    order = list(Release.objects.published("ru").order_by("-published_at", "-id").values("id"))
    for offset in range(0, 9):
        for size in (1, 3):
            rows = prepared("ru", now=now, offset=offset, size=size)
            assert rows == order[offset : offset + size], (offset, size)
    assert build.calls == 1


@pytest.mark.postgresql
def test_postgresql_plans_a_statement_once_per_session(django_assert_num_queries):
    release = PublishedFactory()
    prepared = PreparedQuery(
        lambda *, pk: Release.objects.filter(pk=pk, status="published").values("id"), pk=int
    )

    def statements(wrapper) -> set[str]:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            return {name for (name,) in cursor.fetchall()}

    with django_assert_num_queries(1):  # the PREPARE is set-up, not a query of the request
        assert prepared(pk=release.pk) == [{"id": release.pk}]
    compiled = prepared.compile(())
    assert compiled.statement.startswith("press_")
    assert compiled.sql.startswith(f"EXECUTE {compiled.statement}(")
    assert compiled.statement in statements(connection)
    with django_assert_num_queries(1):
        assert prepared(pk=release.pk + 1) == []
    # Another session (a new connection) has its own statements: prepared there on first use.
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        assert compiled.statement not in statements(other)
        _prepare(other, compiled)
        _prepare(other, compiled)  # once
        assert compiled.statement in statements(other)
    finally:
        other.close()


@pytest.mark.postgresql
def test_a_session_that_lost_its_statements_prepares_them_again(transactional_db):
    """DEALLOCATE ALL (or DISCARD ALL) outside a transaction: the next call prepares again."""
    release = PublishedFactory()
    prepared = PreparedQuery(
        lambda *, pk: Release.objects.filter(pk=pk, status="published").values("id"), pk=int
    )
    assert prepared(pk=release.pk) == [{"id": release.pk}]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert prepared(pk=release.pk) == [{"id": release.pk}]


@pytest.mark.postgresql
def test_server_side_statements_can_be_turned_off(settings, django_assert_num_queries):
    """DB_PREPARED_STATEMENTS=0 (a PgBouncer in transaction pooling mode): plain SQL."""
    settings.DB_PREPARED_STATEMENTS = False
    release = PublishedFactory()
    prepared = PreparedQuery(
        lambda *, pk: Release.objects.filter(pk=pk, status="published").values("id"), pk=int
    )
    with django_assert_num_queries(1) as queries:
        assert prepared(pk=release.pk) == [{"id": release.pk}]
    assert queries.captured_queries[0]["sql"].startswith("SELECT")
    assert not prepared.compile(()).statement


@pytest.mark.postgresql
def test_a_lost_connection_is_a_database_error_that_django_handles(transactional_db):
    """The PREPARE goes through the driver's connection: a lost connection must still come
    out as Django's OperationalError (the 503 page of an outage, tests/test_faults.py) and
    mark the connection to be dropped at the end of the request, not as a driver error that
    would be a 500."""
    from django.db import InterfaceError, OperationalError

    release = PublishedFactory()
    prepared = PreparedQuery(
        lambda *, pk: Release.objects.filter(pk=pk, slug__startswith="").values("id"), pk=int
    )
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    with pytest.raises((OperationalError, InterfaceError)):
        prepared(pk=release.pk)
    assert connection.errors_occurred
    connection.close_if_unusable_or_obsolete()  # what the end of a request does
    assert prepared(pk=release.pk) == [{"id": release.pk}]  # and the next one reconnects
