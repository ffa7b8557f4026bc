"""Stored search vectors on PostgreSQL (news/search.py): one generated tsvector column per
language, `search_ru` / `search_en`, computed by PostgreSQL on every write from exactly the
expression `news.search.vector_sql()` builds, with a GIN index on each. Searching, re-checking
a hit and ranking then read the stored vector instead of re-parsing title, lead and body per
matching row (the expression indexes of 0002 served `@@` but every recheck and `ts_rank`
recomputed `to_tsvector`). The expression indexes are replaced by indexes on the columns (same
names). The columns are not model fields: Django never reads or writes them. Other databases
need neither: this migration does nothing there (the SQLite fallback compares folded text).
"""

from django.db import migrations

# Frozen copies of news.search.vector_sql("ru") / ("en"); a test checks they still match.
VECTORS = {
    "ru": (
        "(setweight(to_tsvector('russian'::regconfig, title_ru), 'A') || "
        "setweight(to_tsvector('russian'::regconfig, lead_ru), 'B') || "
        "setweight(to_tsvector('russian'::regconfig, body_ru), 'C'))"
    ),
    "en": (
        "(setweight(to_tsvector('english'::regconfig, title_en), 'A') || "
        "setweight(to_tsvector('english'::regconfig, lead_en), 'B') || "
        "setweight(to_tsvector('english'::regconfig, body_en), 'C'))"
    ),
}


def add_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for language, vector in VECTORS.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS release_search_{language}_idx")
        schema_editor.execute(
            f"ALTER TABLE news_release ADD COLUMN search_{language} tsvector "
            f"GENERATED ALWAYS AS ({vector}) STORED"
        )
        schema_editor.execute(
            f"CREATE INDEX release_search_{language}_idx "
            f"ON news_release USING gin (search_{language})"
        )
    schema_editor.execute("ANALYZE news_release")


def drop_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for language, vector in VECTORS.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS release_search_{language}_idx")
        schema_editor.execute(f"ALTER TABLE news_release DROP COLUMN IF EXISTS search_{language}")
        schema_editor.execute(
            f"CREATE INDEX release_search_{language}_idx ON news_release USING gin ({vector})"
        )


class Migration(migrations.Migration):
    dependencies = [("news", "0003_author_unique_names")]

    operations = [migrations.RunPython(add_columns, drop_columns, elidable=False)]
