"""The table of the shared database cache (settings: no CACHE_URL), created by `migrate` so a
fresh site needs no extra step. Django's `createcachetable` writes it with the backend's own
SQL, and skips caches that are not database caches (Redis, locmem in tests). After switching
CACHE_URL to a database cache later, run `manage.py createcachetable`."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
