from django.urls import path, register_converter

from news.journalists import views as journalists
from news.public import feeds, preview, views
from news.publication_dates import MonthConverter, YearConverter

register_converter(YearConverter, "year")
register_converter(MonthConverter, "month")

app_name = "news"
urlpatterns = [
    path("", views.ReleaseListView.as_view(), name="list"),
    path("<int:pk>/", views.ReleaseDetailView.as_view(), name="detail_short"),
    path("<int:pk>/<slug:slug>/", views.ReleaseDetailView.as_view(), name="detail"),
    path("archive/", views.ReleaseArchiveView.as_view(), name="archive"),
    path("archive/<year:year>/", views.ReleaseYearArchiveView.as_view(), name="archive_year"),
    path(
        "archive/<year:year>/<month:month>/",
        views.ReleaseMonthArchiveView.as_view(),
        name="archive_month",
    ),
    path("category/<slug:slug>/", views.CategoryReleaseListView.as_view(), name="category"),
    path("category/<slug:slug>/rss/", feeds.CategoryRssFeed(), name="category_rss"),
    path("category/<slug:slug>/atom/", feeds.CategoryAtomFeed(), name="category_atom"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("rss/", feeds.ReleaseFeed(), name="rss"),
    path("atom/", feeds.AtomFeed(), name="atom"),
    path("feed.json", feeds.JsonFeedView(), name="json_feed"),
    path("preview/<str:token>/", preview.preview, name="preview"),
    path("subscribe/", journalists.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", journalists.confirm, name="confirm"),
    path("subscribe/preferences/<str:token>/", journalists.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", journalists.unsubscribe, name="unsubscribe"),
    path("embargo/<str:token>/", journalists.embargoed_copy, name="embargo"),
]
