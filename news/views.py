from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import get_language, get_language_from_request, override
from django.urls import reverse
from django.views.generic import DetailView, ListView

from news.models import Release


def root_redirect(request):
    language = get_language_from_request(request, check_path=False)
    with override(language if language in ("ru", "en") else "ru"):
        return redirect(reverse("news:list"))


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


class PublicReleaseMixin:
    def get_queryset(self):
        return Release.objects.published(get_language())


class ReleaseListView(PublicReleaseMixin, ListView):
    paginate_by = 20

    def get_queryset(self):
        return super().get_queryset().for_listing()


class ReleaseDetailView(PublicReleaseMixin, DetailView):
    def get(self, request, *args, **kwargs):
        self.object = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        if kwargs.get("slug") != self.object.slug:
            return HttpResponsePermanentRedirect(self.object.get_absolute_url(get_language()))
        return self.render_to_response(self.get_context_data(object=self.object))
