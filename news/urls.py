from django.urls import path

from news import views

app_name = "news"
urlpatterns = [
    path("", views.ReleaseListView.as_view(), name="list"),
    path("<int:pk>/", views.ReleaseDetailView.as_view(), name="detail_short"),
    path("<int:pk>/<slug:slug>/", views.ReleaseDetailView.as_view(), name="detail"),
]
