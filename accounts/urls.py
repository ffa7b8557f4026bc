from django.urls import path

from accounts.views import EnrolView, VerifyView
from news.newsroom.site import speaking_interface_language

# Pages of the admin, in the admin's interface language (the newsroom's rule).
app_name = "second_factor"
urlpatterns = [
    path("enrol/", speaking_interface_language(EnrolView.as_view()), name="enrol"),
    path("verify/", speaking_interface_language(VerifyView.as_view()), name="verify"),
]
