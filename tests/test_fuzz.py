"""Fuzzing, bounded: every public URL pattern with generated path values and junk query
parameters, and every admin change list with junk filter values, answer anything but a 500.
Values are drawn with a fixed seed (the same requests every run); run on SQLite and on
PostgreSQL (where NUL, BC dates and overflowing dates used to fail)."""

from __future__ import annotations

import random
import re
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from tests.factories import CategoryFactory, PublishedFactory, ScheduledFactory

pytestmark = pytest.mark.django_db

SEED = 15
PATH_VALUES = [
    "1", "0", "-1", "2026", "1", "0001", "9999", "99999999999999999999", "²", "١٢", "１",
    "кириллица", "x" * 300, "%00", "%01", "..%2F..%2Fetc", "a%20b", "c",
]  # fmt: skip
QUERY_VALUES = [
    "", "1", "2", "0", "-1", "last", "²", "٣", "１", "9" * 40, "x" * 5000, "а" * 300,
    "\x00", "\x01", "\x1b[31m", "' OR 1=1 --", "<script>", "%", "0001-01-01", "9999-12-31",
    "2020-13-45", "1e309", "NaN", "None", "[]",
]  # fmt: skip
PUBLIC_PARAMETERS = ["page", "q", "p", "utm_source", "page[]", "o"]
ACCEPTABLE = {200, 301, 302, 304, 400, 403, 404, 405, 410}


def routes(resolver=None, prefix: str = ""):
    """Every path() route of the URLconf as a template string (regex routes are skipped)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        text = str(pattern) if isinstance(pattern, RoutePattern) else None
        if isinstance(entry, URLResolver):
            if text is None:
                # i18n_patterns: a language prefix.
                text = getattr(pattern, "language_prefix", "") or ""
                if text and not text.endswith("/"):
                    text += "/"
            yield from routes(entry, prefix + text)
        elif isinstance(entry, URLPattern) and text is not None:
            yield prefix + text


def fill(route: str, rng: random.Random, known: dict[str, str]) -> str:
    def value(match):
        name = match.group(2)
        if name in known and rng.random() < 0.5:
            return known[name]
        return rng.choice(PATH_VALUES)

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def query(rng: random.Random, names: list[str], count: int = 3) -> str:
    pairs = [(rng.choice(names), rng.choice(QUERY_VALUES)) for _ in range(count)]
    return "&".join(f"{quote(n)}={quote(v)}" for n, v in pairs)


def check(client, url: str, failures: list) -> None:
    response = client.get(url)
    if response.status_code not in ACCEPTABLE:
        failures.append((url[:160], response.status_code))


@pytest.fixture
def site():
    category = CategoryFactory(slug="c")
    release = PublishedFactory()
    release.categories.add(category)
    ScheduledFactory()
    return {"pk": str(release.pk), "slug": release.slug, "section": "releases"}


def test_public_url_patterns_never_answer_500(client, site):
    rng = random.Random(SEED)
    client.raise_request_exception = False
    public = [r for r in routes() if not r.startswith("admin/") and "preview" not in r]
    assert len(public) > 10
    failures: list = []
    for route in public:
        for _ in range(6):
            check(client, fill(route, rng, site), failures)
        url = fill(route, rng, site)
        for _ in range(4):
            check(client, url + "?" + query(rng, PUBLIC_PARAMETERS), failures)
        check(client, url + "?page=1&page=2&page=%C2%B2", failures)
    assert failures == []


def test_admin_change_lists_never_answer_500(client, superuser, site):
    rng = random.Random(SEED)
    client.raise_request_exception = False
    failures: list = []
    client.force_login(superuser)
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        names = ["q", "o", "p", "e", "_changelist_filters", "view", "languages"]
        for field in meta.get_fields():
            if getattr(field, "concrete", False):
                names += [f"{field.name}__exact", f"{field.name}__isnull"]
                if field.get_internal_type() in ("DateTimeField", "DateField"):
                    names += [
                        f"{field.name}__year",
                        f"{field.name}__month",
                        f"{field.name}__day",
                        f"{field.name}__gte",
                        f"{field.name}__lt",
                    ]
        hierarchy = model_admin.date_hierarchy
        if hierarchy:
            check(client, f"{url}?{hierarchy}__year=9999&{hierarchy}__month=12", failures)
            check(client, f"{url}?{hierarchy}__year=1", failures)
        for _ in range(12):
            check(client, url + "?" + query(rng, names, count=2), failures)
    for term in ["%00", "x", "кир", "9" * 40]:
        check(
            client,
            "/admin/autocomplete/?app_label=news&model_name=release&field_name=authors"
            f"&term={term}",
            failures,
        )
    assert failures == []
