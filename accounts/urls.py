from django.urls import path

from accounts.views import EnrolView, VerifyView

app_name = "second_factor"
urlpatterns = [
    path("enrol/", EnrolView.as_view(), name="enrol"),
    path("verify/", VerifyView.as_view(), name="verify"),
]
