"""The release page shows the lead as the opening paragraph; the importer and the demo used to
copy it into the text as well. Texts that open with a paragraph equal to their lead lose that
paragraph (not when it is the whole text: a release of one paragraph keeps it)."""

from html import unescape

from django.db import migrations
from django.utils.html import strip_tags


def plain(html: str) -> str:
    return " ".join(unescape(strip_tags(html)).split())


def drop_repeated_lead(apps, schema_editor):
    Release = apps.get_model("news", "Release")
    for release in Release.objects.only("id", "lead_ru", "lead_en", "body_ru", "body_en"):
        changed = []
        for language in ("ru", "en"):
            lead, body = getattr(release, f"lead_{language}"), getattr(release, f"body_{language}")
            if not lead or "</p>" not in body:
                continue
            first, rest = body.split("</p>", 1)
            if plain(first) == " ".join(lead.split()) and plain(rest):
                setattr(release, f"body_{language}", rest.strip())
                changed.append(f"body_{language}")
        if changed:
            Release.objects.filter(pk=release.pk).update(
                **{field: getattr(release, field) for field in changed}
            )


class Migration(migrations.Migration):
    dependencies = [("news", "0004_release_stored_search_vectors")]
    operations = [migrations.RunPython(drop_repeated_lead, migrations.RunPython.noop)]
