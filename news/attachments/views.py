"""`/attachments/<name>`: the only way to an attachment file."""

from __future__ import annotations

import mimetypes
import posixpath

from django.http import FileResponse, Http404, HttpResponseRedirect
from django.views.decorators.http import require_safe

from news import editions
from news.attachments import access
from news.attachments.storage import attachment_storage
from news.attachments.validation import CONTENT_TYPES

PUBLIC_CACHING = "public, max-age=31536000, immutable"


@require_safe
def serve(request, name: str):
    """A file of a public release, with year-long caching (its name carries a hash of its
    content, so its URL never changes meaning); of any other release, or one that only a
    pending edition has, 404 unless the visitor may see it (`access.may_see_unpublished`),
    then never cached, and on S3 a redirect to a short-lived signed URL."""
    # A scheduled edition whose moment came before any page promoted it takes over first: its
    # files are then live, and those it removed are not (no query before the moment).
    editions.apply_due_if_any()
    owner = access.owner_of(name)
    if owner is None:
        raise Http404("no such attachment")
    release_id, live = owner
    public = live and access.is_public(release_id)
    if not public and not access.may_see_unpublished(request, release_id, live=live):
        raise Http404("no such attachment")
    storage = attachment_storage()
    if not public and (signed := storage.signed_url(name)):
        response = HttpResponseRedirect(signed)
    else:
        try:
            file = storage.open(name, "rb")
        except FileNotFoundError as error:
            raise Http404("attachment file missing") from error
        extension = posixpath.splitext(name)[1].lstrip(".")
        content_type = (
            CONTENT_TYPES.get(extension)
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        response = FileResponse(file, content_type=content_type, filename=posixpath.basename(name))
    if public:
        response["Cache-Control"] = PUBLIC_CACHING
    else:
        response["Cache-Control"] = "no-store, private"
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response
