"""Who speaks on the public site and where it lives: the body's names, the site's name and
description, and absolute URLs from `settings.SITE_URL` (never from the Host header, which
the client controls). Everything public that needs one of these calls it from here."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy

from news.models import LANGUAGES

# The publishing body, as it signs its pages.
BODY_NAME = gettext_lazy("Executive Committee of the Commonwealth of Independent States")
BODY_SHORT_NAME = gettext_lazy("CIS Executive Committee")
SITE_NAME = gettext_lazy("Press Service of the CIS Executive Committee")
SITE_DESCRIPTION = gettext_lazy(
    "Press releases of the Executive Committee of the Commonwealth of Independent States: "
    "meetings, agreements and cooperation of the participating states."
)
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def absolute(url: str) -> str:
    """`url` on the public site (under SITE_URL), unless it is absolute already (media on a
    CDN or object storage)."""
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + url


def other_language(language: str) -> str:
    """The site's other language (Russian is primary, English its translation)."""
    return next(lang for lang in LANGUAGES if lang != language)
