"""Backups keep everything: every release (all states), revision, workflow event, author,
source, category, account and image reference survives both round trips of README
"Deployment" > "Backups": `dumpdata` -> `loaddata` (any database) and `pg_dump` -> `pg_restore`
(PostgreSQL, into a scratch database created and dropped here)."""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from PIL import Image

from news import workflow
from news.models import (
    Author,
    Category,
    Release,
    ReleaseAuthor,
    ReleaseSource,
    SourceKind,
    Status,
    WorkflowEvent,
)
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyPublishedFactory,
    UnpublishedFactory,
    UserFactory,
    WithdrawnFactory,
)

# The dumpdata command of README "Backups" (content types and permissions are recreated by
# `migrate`; sessions and login-attempt records are not worth keeping).
DUMPDATA_ARGS = [
    "--format=xml",  # JSON would cut timestamps to milliseconds; XML keeps them whole
    "--natural-foreign",
    "--exclude=contenttypes",
    "--exclude=auth.permission",
    "--exclude=sessions",
    "--exclude=axes",
]


def jpeg() -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (18, 58, 107)).save(buffer, "JPEG")
    return ContentFile(buffer.getvalue())


def build_archive() -> dict:
    """A small press office: every state, edits (revisions), events, images, links."""
    editor = UserFactory(username="editor", role="Editors")
    author_user = UserFactory(username="officer", role="Authors")
    signature = AuthorFactory()
    categories = [CategoryFactory(), CategoryFactory()]

    published = PublishedFactory(created_by=author_user, with_author=signature)
    published.categories.set(categories)
    published.image.save("lead.jpg", jpeg(), save=False)
    published.image_alt_ru = "Участники заседания"
    published.title_en = "Meeting of the Council, corrected title"
    published.save()  # a revision after publication
    ReleaseSource.objects.create(
        release=published, url="https://cis.minsk.by/news/437", kind=SourceKind.ORIGINAL
    )
    ReleaseSource.objects.create(
        release=published, url="https://example.org/related", label_ru="Связанная ссылка"
    )

    draft = DraftFactory(created_by=author_user)
    draft.body_ru = "<p>Исправленный текст.</p>"
    draft.save()
    workflow.submit(draft, by=author_user)
    workflow.request_changes(draft, by=editor, comment="Уточните дату <b>заседания</b>")

    WithdrawnFactory()
    UnpublishedFactory()
    ReviewFactory(created_by=author_user)
    RussianOnlyPublishedFactory().categories.add(categories[0])
    return {"image": published.image.name, "published_pk": published.pk}


def snapshot() -> dict:
    """Every row that matters, as plain values, ordered."""
    User = get_user_model()
    models = [
        User,
        User.groups.through,
        Category,
        Author,
        Release,
        Release.categories.through,
        ReleaseAuthor,
        ReleaseSource,
        WorkflowEvent,
        Release.history.model,
        ReleaseAuthor.history.model,
        ReleaseSource.history.model,
    ]
    result = {}
    for model in models:
        rows = list(model.objects.order_by("pk").values())
        if model._meta.auto_created:
            # A many-to-many link is the pair it links; dumpdata does not keep its row id.
            rows = sorted(sorted((k, v) for k, v in row.items() if k != "id") for row in rows)
        result[model._meta.label] = rows
    return result


def test_dumpdata_loaddata_round_trip_keeps_everything(transactional_db, roles, tmp_path):
    archive = build_archive()
    before = snapshot()
    assert len(before["news.Release"]) == 6
    assert {r["status"] for r in before["news.Release"]} == set(Status.values)
    assert len(before["news.HistoricalRelease"]) >= 10
    assert len(before["news.WorkflowEvent"]) >= 6

    backup = tmp_path / "backup.xml"
    call_command("dumpdata", *DUMPDATA_ARGS, output=str(backup), verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    assert Release.objects.count() == 0 and WorkflowEvent.objects.count() == 0
    call_command("loaddata", str(backup), verbosity=0)

    assert snapshot() == before
    restored = Release.objects.get(pk=archive["published_pk"])
    assert restored.image.name == archive["image"]
    assert restored.image.storage.exists(restored.image.name)
    assert restored.history.count() >= 3
    # The sequences follow: a new release after the restore gets a fresh id.
    assert DraftFactory().pk > max(r["id"] for r in before["news.Release"])


# --- pg_dump -> pg_restore -------------------------------------------------------------------


def database_url(name: str) -> str:
    settings = connection.settings_dict
    credentials = quote(settings["USER"] or "postgres")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"])
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgresql://{credentials}@{host}:{port}/{name}"


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over all rows of every table in the public schema."""
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        fingerprints = {}
        for table in tables:
            fingerprints[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608
            ).fetchone()
        sequences = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        fingerprints["<sequences>"] = sorted(sequences, key=lambda s: s[0])
        return fingerprints


@pytest.mark.faults
def test_pg_dump_restore_round_trip_keeps_everything(transactional_db, roles, tmp_path):
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (postgresql-client) is not installed")
    archive = build_archive()
    source = database_url(connection.settings_dict["NAME"])
    scratch_name = f"press_restore_{secrets.token_hex(4)}"
    dump = tmp_path / "press.dump"

    # README: pg_dump --format=custom --file=... "$DATABASE_URL"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", source], check=True, timeout=120
    )
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch_name}"')
    try:
        # README: createdb ...; pg_restore --no-owner --exit-on-error --dbname=... press.dump
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error",
             f"--dbname={database_url(scratch_name)}", str(dump)],
            check=True,
            timeout=120,
        )  # fmt: skip
        original = table_fingerprints(source)
        restored = table_fingerprints(database_url(scratch_name))
        assert restored == original
        for table in ("news_release", "news_historicalrelease", "news_workflowevent",
                      "news_releasesource", "news_releaseauthor", "auth_user"):  # fmt: skip
            assert restored[table][0] > 0, table
        with psycopg.connect(database_url(scratch_name)) as conn:
            image = conn.execute(
                "SELECT image FROM news_release WHERE id = %s", [archive["published_pk"]]
            ).fetchone()[0]
        assert image == archive["image"]
    finally:
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')
    assert Path(dump).stat().st_size > 0
