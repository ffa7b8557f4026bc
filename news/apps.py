from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsConfig(AppConfig):
    name = "news"
    verbose_name = _("Press releases")

    def ready(self):
        # Public cache invalidation and the SQLite search functions (news/signals.py).
        from news import signals  # noqa: F401
