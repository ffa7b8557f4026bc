"""GIN indexes for the public search (news/search.py) on PostgreSQL: one weighted tsvector
expression per language, exactly the expression `news.search.vector_sql()` builds, so the
planner can use it for `@@`. Other databases need no index: this migration does nothing there.
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


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for language, vector in VECTORS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS release_search_{language}_idx "
            f"ON news_release USING gin ({vector})"
        )
    # Statistics on the indexed expressions, so the planner picks these indexes at once.
    schema_editor.execute("ANALYZE news_release")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for language in VECTORS:
        schema_editor.execute(f"DROP INDEX IF EXISTS release_search_{language}_idx")


class Migration(migrations.Migration):
    dependencies = [("news", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
