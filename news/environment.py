"""The Jinja2 environment of the public pages: `templates/base.html`, `templates/news/` and
`templates/includes/` (`PUBLIC_TEMPLATES`). Every other template in `templates/` (the admin,
the mails in `news/email/`, the error pages) is not this engine's: it answers "not found" for
them and Django's own engine, next in `TEMPLATES`, renders them.

The public pages are the site's hot path: rendering the layout, the cards and the SEO head
with Django's template engine took 1.1 to 1.5 ms of a 4 ms cold page; Jinja2 compiles each
template to Python once per process. Translations come from Django's catalogues (the same
msgids as the Django tags: `_("...")`, `pgettext(...)` and `{% trans %}` blocks), and the
template helpers are those of `news.templatetags.public`.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext, npgettext, pgettext
from jinja2 import Environment, FileSystemLoader, TemplateNotFound

from news.templatetags.public import iso_datetime, jsonld, month_name, public_date


def url(name: str, **kwargs) -> str:
    """The path of a named URL in the active language (`reverse`)."""
    return reverse(name, kwargs=kwargs or None)


def current_year() -> int:
    return timezone.localtime().year


PUBLIC_TEMPLATES = ("base.html", "includes/", "news/")
NOT_PUBLIC = ("news/email/",)


class PublicTemplates(FileSystemLoader):
    """The public pages' templates only, from the same directories."""

    def get_source(self, environment, template):
        if not template.startswith(PUBLIC_TEMPLATES) or template.startswith(NOT_PUBLIC):
            raise TemplateNotFound(template)
        return super().get_source(environment, template)


def environment(**options) -> Environment:
    options = {name: value for name, value in options.items() if name != "autoescape"}
    options["loader"] = PublicTemplates(options["loader"].searchpath)
    options.setdefault("keep_trailing_newline", True)
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(
        gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext, newstyle=True
    )
    env.globals.update(url=url, current_year=current_year)
    env.filters.update(
        iso_datetime=iso_datetime, public_date=public_date, month_name=month_name, jsonld=jsonld
    )
    return env
