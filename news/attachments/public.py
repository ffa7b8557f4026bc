"""What public surfaces show of a release's attachments: the article's document list and
gallery, JSON-LD `associatedMedia`, and feed enclosures. Callers pass a release whose
`documents` and `photos` are prefetched (`news.public.selectors.read_relations`)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, override

from news.attachments.models import DocumentLanguages, ReleaseDocument, ReleasePhoto
from news.attachments.validation import CONTENT_TYPES
from news.models import is_fallback
from news.public.renditions import retry_later
from news.public.site import absolute

logger = logging.getLogger(__name__)


def _with_access(url: str, access: dict[str, str] | None) -> str:
    return f"{url}?{urlencode(access)}" if access else url


def _marked(text: str, russian: bool) -> str:
    return format_html('<span lang="ru">{}</span>', text) if text and russian else text


def _fit(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    scale = min(1, box_width / width, box_height / height) if width and height else 1
    return round(width * scale), round(height * scale)


def document_entry(
    document: ReleaseDocument, language: str, access: dict[str, str] | None = None
) -> dict:
    with override(language):
        facts = [document.get_format_display(), filesizeformat(document.size)]
        if document.pages:
            facts.append(
                ngettext("%(pages)d page", "%(pages)d pages", document.pages)
                % {"pages": document.pages}
            )
        return {
            "url": _with_access(document.file.url, access),
            "title": document.title(language),
            "facts": ", ".join(str(fact) for fact in facts),
            "languages": str(DocumentLanguages(document.languages).label),
            # The document's own language (the link's hreflang), and the title's when an
            # English page shows the Russian one for want of an English title.
            "lang": document.languages if document.languages in ("ru", "en") else None,
            "title_lang": "ru" if is_fallback(document.title_en, language) else None,
            "accessible": document.accessible,
        }


def photo_entry(
    photo: ReleasePhoto, language: str, access: dict[str, str] | None = None
) -> dict | None:
    try:
        thumbnail, large, download = photo.thumbnail.url, photo.large.url, photo.image.url
    except Exception as error:  # a missing or broken file must not break the page
        logger.warning("Renditions of photo %s failed: %s", photo.pk, error)
        retry_later(photo.thumbnail, photo.large)
        return None
    credit, licence = photo.credit(language), photo.licence(language)
    return {
        "thumbnail": _with_access(thumbnail, access),
        "large": _with_access(large, access),
        "large_size": _fit(photo.width, photo.height, 1600, 1200),
        "download": _with_access(download, access),
        "width": photo.width,
        "height": photo.height,
        "alt": photo.alt(language),
        "caption": photo.caption(language),
        "credit": credit,
        "licence": licence,
        # Texts an English page shows in Russian for want of English ones are marked so.
        "alt_lang": "ru" if is_fallback(photo.alt_en, language) else None,
        "credit_html": _marked(credit, is_fallback(photo.credit_en, language)),
        "licence_html": _marked(licence, is_fallback(photo.licence_en, language)),
    }


def article_attachments(release, language: str, *, access: dict[str, str] | None = None) -> dict:
    """The documents and gallery of the release article (`includes/release_attachments.html`).
    A preview or an embargoed copy passes the query that opens the files of a release not
    public yet (`{"preview": token}`, `{"embargo": token}`: `news.attachments.access`)."""
    from news.attachments.models import accessibility_contact

    photos = [photo_entry(photo, language, access) for photo in release.photos.all()]
    return {
        "documents": [
            document_entry(document, language, access) for document in release.documents.all()
        ],
        "photos": [photo for photo in photos if photo],
        "accessibility_contact": accessibility_contact(),
    }


def associated_media(release, language: str) -> list[dict]:
    """schema.org MediaObject / ImageObject of each attachment, for the NewsArticle."""
    media = [
        {
            "@type": "MediaObject",
            "name": document.title(language),
            "contentUrl": absolute(document.file.url),
            "encodingFormat": document.content_type,
            "contentSize": str(document.size),
        }
        for document in release.documents.all()
    ]
    for photo in release.photos.all():
        entry = photo_entry(photo, language)
        if entry:
            media.append(
                {
                    "@type": "ImageObject",
                    "contentUrl": absolute(entry["large"]),
                    "caption": entry["caption"] or entry["alt"],
                    **({"creditText": entry["credit"]} if entry["credit"] else {}),
                    **({"copyrightNotice": entry["licence"]} if entry["licence"] else {}),
                }
            )
    return media


def documents_html(release, language: str) -> str:
    """The release's documents as a list of links with what a reader needs before opening
    them (format, size, pages), for a feed item's content: RSS carries one enclosure, and
    many readers show none."""
    documents = [document_entry(document, language) for document in release.documents.all()]
    if not documents:
        return ""
    with override(language):
        heading = gettext("Documents")
    links = format_html_join(
        "",
        '<li><a href="{}">{}</a> ({})</li>',
        ((absolute(d["url"]), d["title"], d["facts"]) for d in documents),
    )
    return format_html("<h2>{}</h2><ul>{}</ul>", heading, links)


def enclosures(release, language: str) -> list[dict]:
    """The documents of a release as feed enclosures: absolute `url`, `length` (bytes, as a
    string) and `mime_type`, in the release's order, titled in `language` (for a feed that
    lists them as links: `title`). For `django.contrib.syndication`:
    `[Enclosure(e["url"], e["length"], e["mime_type"]) for e in enclosures(item, lang)]`."""
    return [
        {
            "url": absolute(document.file.url),
            "length": str(document.size),
            "mime_type": CONTENT_TYPES.get(document.format, "application/octet-stream"),
            "title": document.title(language),
        }
        for document in release.documents.all()
    ]
