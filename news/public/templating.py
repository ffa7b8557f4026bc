"""The Jinja2 environment of the public pages (`jinja2/`: `base.html`, `news/`, `includes/`).

Translations come from Django's catalogues (the same msgids as Django's tags: `_("...")`,
`pgettext(...)` and `{% trans %}` blocks); the filters are those of
`news.templatetags.public`, so both engines format dates and JSON-LD the same way.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext, npgettext, pgettext

from jinja2 import Environment
from news.templatetags.public import iso_datetime, jsonld, month_name, public_date


def url(name: str, **kwargs) -> str:
    """The path of a named URL in the active language (`reverse`)."""
    return reverse(name, kwargs=kwargs or None)


def current_year() -> int:
    return timezone.localtime().year


def environment(**options) -> Environment:
    options.setdefault("keep_trailing_newline", True)
    options.pop("autoescape", None)  # Django's backend passes True; it is never off here
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(
        gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext, newstyle=True
    )
    env.globals.update(url=url, current_year=current_year)
    env.filters.update(
        iso_datetime=iso_datetime, public_date=public_date, month_name=month_name, jsonld=jsonld
    )
    return env
