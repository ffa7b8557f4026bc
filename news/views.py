from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import get_language, get_language_from_request, override
from django.urls import reverse
from django.views.generic import DetailView, ListView

from news.models import Release


def root_redirect(request):
    language = get_language_from_request(request, check_path=False)
    with override(language if language in ("ru", "en") else "ru"):
        return redirect(reverse("news:list"))


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


class ReleaseYearArchiveView(ReleaseListView):
    pass


class ReleaseMonthArchiveView(ReleaseListView):
    pass


class CategoryReleaseListView(ReleaseListView):
    pass


class SearchView(ReleaseListView):
    pass


def robots_txt(request):
    return HttpResponse("User-agent: *\nAllow: /\n", content_type="text/plain")


def legacy_redirect(request, number):
    raise Http404
