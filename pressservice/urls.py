from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from news.attachments import views as attachment_views
from news.public import sitemaps
from news.public import views as news_views
from pressservice import views

urlpatterns = [
    path("", news_views.root_redirect, name="root"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", news_views.robots_txt, name="robots"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.section, name="sitemap-section"),
    re_path(r"^news/(?P<number>\d{1,9})/?$", news_views.legacy_redirect, name="legacy"),
    path("admin/second-factor/", include("accounts.urls")),
    path("attachments/<path:name>", attachment_views.serve, name="attachment"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the admin's language switch
]
urlpatterns += i18n_patterns(
    # /ru/ and /en/: the news of that language.
    path("", RedirectView.as_view(pattern_name="news:list", permanent=True), name="home"),
    path("news/", include("news.public.urls")),
    prefix_default_language=True,
)

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
