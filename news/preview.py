from django.http import Http404


def preview(request, token):
    raise Http404
