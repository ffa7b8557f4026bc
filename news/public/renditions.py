"""Lead image renditions as the public pages and feeds use them: URL, dimensions and file size
of each imagekit spec (`image_list`, `image_detail`, `image_social`), described once per image
file and kept in the cache, so a page reads all it shows in one cache round trip. A rendition
that failed is left out for a few minutes, and so are the fragments rendered without it
(`news.cache.fragments.provisional`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from imagekit.cachefiles.backends import CacheFileState

from news.cache.fragments import PROVISIONAL_SECONDS, addresses, provisional
from news.models import Release
from news.public.site import absolute

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendition:
    url: str
    width: int
    height: int
    size: int  # bytes (a feed enclosure's length)

    @property
    def absolute_url(self) -> str:
        return self.url if "://" in self.url else absolute(self.url)


RENDITION_SECONDS = 7 * 24 * 3600


def _rendition_key(pk: int, image: str, spec: str, site: str) -> str:
    digest = hashlib.blake2s(f"{pk}:{image}".encode(), digest_size=12)
    return f"public:rendition:v2:{site}:{spec}:{digest.hexdigest()}"


def retry_later(*renditions) -> None:
    """After `renditions` (imagekit files) failed: imagekit keeps a file it failed to
    generate marked as being generated and would never try it again, so the mark goes; the
    fragments rendered without them are kept a few minutes only."""
    for rendition in renditions:
        rendition.cachefile_backend.set_state(rendition, CacheFileState.DOES_NOT_EXIST)
    provisional()


def renditions(images: dict[int, str], *specs: str) -> dict[str, dict[int, Rendition]]:
    """URL, dimensions and file size of imagekit renditions (`image_list`, `image_detail`,
    `image_social`) of each lead image (`images`: release id -> image name in media storage),
    by spec and release id. Described once per image file and kept in the cache, so a page
    reads all it shows in one cache round trip; an unreadable image is left out, not an
    error."""
    site = addresses()
    keys = {
        _rendition_key(pk, image, spec, site): (spec, pk, image)
        for spec in specs
        for pk, image in images.items()
        if image
    }
    result: dict[str, dict[int, Rendition]] = {spec: {} for spec in specs}
    if not keys:
        return result
    found = cache.get_many(list(keys))
    fresh, failed = {}, {}
    for key, (spec, pk, image) in keys.items():
        value = found.get(key)
        if value is None:
            rendition = getattr(Release(pk=pk, image=image), spec)
            try:
                value = (rendition.url, rendition.width, rendition.height, rendition.size)
                fresh[key] = value
            except Exception as error:  # a missing or broken file must not break the page
                logger.warning("Rendition %s of release %s failed: %s", spec, pk, error)
                retry_later(rendition)
                value = failed[key] = ()
        if value:
            result[spec][pk] = Rendition(*value)
        else:
            provisional()
    if fresh:
        cache.set_many(fresh, RENDITION_SECONDS)
    if failed:
        cache.set_many(failed, PROVISIONAL_SECONDS)
    return result
