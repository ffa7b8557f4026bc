"""`manage.py check`: attachments must not sit where a web server serves files directly."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


@register()
def attachments_are_private(app_configs=None, **kwargs) -> list[Error]:
    """The local attachments folder may be neither inside MEDIA_ROOT or STATIC_ROOT nor hold
    them: those folders are served without the public rule."""
    options = settings.STORAGES.get("attachments", {})
    if not options.get("BACKEND", "").endswith("LocalAttachmentStorage"):
        return []
    private = Path(options.get("OPTIONS", {}).get("location", "")).resolve()
    errors = []
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        served = Path(getattr(settings, name)).resolve()
        if private == served or served in private.parents or private in served.parents:
            errors.append(
                Error(
                    f"ATTACHMENTS_ROOT ({private}) overlaps {name} ({served}), which is "
                    "served without the public rule.",
                    hint="Set ATTACHMENTS_ROOT to a folder of its own outside both.",
                    id="news.E101",
                )
            )
    return errors
