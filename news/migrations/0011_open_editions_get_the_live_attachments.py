# The data step of 0010 in a migration of its own: PostgreSQL refuses to change a table's
# schema in the transaction that wrote rows to it (pending trigger events), e.g. on the way back.

from django.db import migrations


def start_open_editions_with_the_live_attachments(apps, schema_editor):
    """An edition holds its release's whole proposed attachment set from now on: the editions
    open at this migration start from copies of the live rows (sharing their stored files),
    so that publishing them keeps the attachments the release has."""
    ReleaseEdition = apps.get_model("news", "ReleaseEdition")
    for model_name in ("ReleaseDocument", "ReleasePhoto"):
        model = apps.get_model("news", model_name)
        for edition in ReleaseEdition.objects.filter(state__in=["draft", "review", "scheduled"]):
            for row in model.objects.filter(release_id=edition.release_id).order_by("position", "id"):
                row.pk = None
                row.release_id = None
                row.edition_id = edition.pk
                row._state.adding = True
                row.save()


def drop_the_editions_attachments(apps, schema_editor):
    """Back to attachments of releases only: the pending editions' rows go (their files stay)."""
    for model_name in ("ReleaseDocument", "ReleasePhoto"):
        apps.get_model("news", model_name).objects.filter(edition__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0010_attachments_of_editions"),
    ]

    operations = [
        migrations.RunPython(
            start_open_editions_with_the_live_attachments, drop_the_editions_attachments
        ),
    ]
