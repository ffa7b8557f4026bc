"""Template helpers of the public site: dates in each language's own form, JSON-LD."""

from __future__ import annotations

import datetime
import functools
import json

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, override

register = template.Library()

# "14 декабря 2011 г." / "14 December 2011" (E: the month in the genitive in Russian).
DATE_FORMATS = {"ru": "j E Y г.", "en": "j F Y"}
MONTH_FORMATS = {"ru": "F Y", "en": "F Y"}


def _local(value: datetime.datetime | datetime.date) -> datetime.datetime | datetime.date:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@functools.lru_cache(maxsize=4096)
def day_text(day: datetime.date, language: str) -> str:
    """A day as `language` writes it (remembered: a list page shows the same days again)."""
    with override(language):
        return dateformat.format(day, DATE_FORMATS.get(language, DATE_FORMATS["en"]))


@register.filter
def public_date(value, language: str | None = None) -> str:
    """A date as the language writes it: "14 декабря 2011 г." or "14 December 2011"."""
    if not value:
        return ""
    value = _local(value)
    return day_text(value.date() if isinstance(value, datetime.datetime) else value,
                    language or get_language())  # fmt: skip


@register.filter
def month_name(value, language: str | None = None) -> str:
    """A month of the archive: "Декабрь 2011" / "December 2011"."""
    if not value:
        return ""
    language = language or get_language()
    with override(language):
        return dateformat.format(_local(value), MONTH_FORMATS.get(language, "F Y"))


@register.filter
def iso_datetime(value) -> str:
    """The machine-readable form for <time datetime> and Open Graph."""
    if not value:
        return ""
    value = _local(value)
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


@register.simple_tag
def jsonld(data) -> SafeString:
    """A schema.org JSON-LD data block; <, > and & are escaped so the text cannot end it."""
    if not data:
        return mark_safe("")
    text = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(  # escaped here (str.replace: translate() with a table is far slower)
            text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
        ),
    )
