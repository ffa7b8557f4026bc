from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap

from news.models import Release


class ReleaseSitemap(Sitemap):
    i18n = True
    alternates = True
    languages = ["ru", "en"]

    def items(self):
        return Release.objects.published("ru")

    def lastmod(self, release):
        return release.updated_at


def sitemap_view(request):
    return sitemap(request, sitemaps={"releases": ReleaseSitemap})
