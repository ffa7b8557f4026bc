"""Who may fetch an attachment file: anyone once its release is public (the one public rule,
`Release.objects.published`), before that only the newsroom staff who may open the release,
holders of a preview link that still opens it (`news.public.preview.release_of`) and
journalists whose embargo link is still alive (its live files only). A file that only a
pending edition has stays as private as a release not public yet until the edition is
published."""

from __future__ import annotations

import posixpath

from django.core import signing
from django.db.models import F, Q

from news.attachments.models import RENDITIONS_DIR, ReleaseDocument, ReleasePhoto
from news.models import LANGUAGES, Release

RENDITIONS = f"{RENDITIONS_DIR}/"


def owner_of(name: str) -> tuple[int, bool] | None:
    """The id of the release that file `name` (a document, a photo or one of its renditions)
    belongs to, and whether it is one of the release's live attachments (False: only its
    pending edition has it, and the public never sees it before that edition is published);
    None for a name that is none of these."""
    if name != posixpath.normpath(name) or name.startswith(("/", "..")):
        return None
    if name.startswith("documents/"):
        rows = ReleaseDocument.objects.filter(file=name)
    elif name.startswith("photos/"):
        rows = ReleasePhoto.objects.filter(image=name)
    elif name.startswith(RENDITIONS + "photos/"):
        # CACHE/images/<photo name without extension>/<spec hash>.<ext>
        source_stem = posixpath.dirname(name.removeprefix(RENDITIONS))
        rows = ReleasePhoto.objects.filter(image__startswith=f"{source_stem}.")
    else:
        return None
    row = (
        rows.order_by(F("edition").asc(nulls_first=True))  # a live row first
        .values_list("release_id", "edition__release_id")
        .first()
    )
    if row is None:
        return None
    live_release_id, edition_release_id = row
    if live_release_id is not None:
        return live_release_id, True
    return edition_release_id, False


def is_public(release_id: int) -> bool:
    """Whether the release's page is public in at least one language (its files are then
    public): published, or withdrawn (the page stays on the record with its notice, and so do
    its documents). An unpublished release's files are gone with its page."""
    public = Q()
    for language in LANGUAGES:
        public |= Q(pk__in=Release.objects.on_record(language).values("pk"))
    return Release.objects.filter(public, pk=release_id).exists()


def may_see_unpublished(request, release_id: int, *, live: bool) -> bool:
    """Newsroom staff who may open the release in the admin, a preview link of the release
    that still opens it (`?preview=`), or, for a `live` file, a journalist's embargo link of
    the release that is still alive (`?embargo=`)."""
    if token := request.GET.get("preview"):
        from news.public.preview import release_of

        try:
            release = release_of(token)
        except signing.BadSignature:  # expired ones too
            release = None
        if release is not None and release.pk == release_id:
            return True
    if live and (token := request.GET.get("embargo")):
        from news.journalists import embargo

        try:
            release, journalist = embargo.read_token(token)
        except signing.BadSignature:
            release = None
        if release is not None and release.pk == release_id:
            return embargo.link_is_alive(release, journalist)
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("news.view_release")):
        return False
    from news.newsroom.releases import is_visible

    release = Release.objects.filter(pk=release_id).only("pk", "status", "created_by").first()
    return release is not None and is_visible(user, release)
