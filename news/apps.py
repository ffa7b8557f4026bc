from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class NewsConfig(AppConfig):
    default = True  # this module also defines the admin's config
    name = "news"
    verbose_name = _("Press releases")

    def ready(self):
        # ATTACHMENTS_ROOT never under a folder a web server serves (news/attachments/checks.py);
        # public cache invalidation and the SQLite search functions (news/cache/receivers.py).
        from news.attachments import checks  # noqa: F401
        from news.cache import receivers  # noqa: F401


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the newsroom's site (`news.newsroom.site.NewsroomAdminSite`)."""

    default = False
    default_site = "news.newsroom.site.NewsroomAdminSite"
