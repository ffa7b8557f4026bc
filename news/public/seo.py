"""What a public page says to search engines and social networks: the <head> (canonical,
hreflang alternates, Open Graph, Twitter) and schema.org JSON-LD. Absolute URLs from
`news.public.site.absolute` (SITE_URL)."""

from __future__ import annotations

import datetime

from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import override

from news.models import LANGUAGES, Release, Status
from news.public.renditions import Rendition
from news.public.site import BODY_NAME, LANGUAGE_NAMES, absolute, other_language

DESCRIPTION_LENGTH = 160
OG_LOCALES = {"ru": "ru_RU", "en": "en_GB"}


def url_in(language: str, name: str, **kwargs) -> str:
    """The path of the URL `name` in `language` (`reverse()` under that language's prefix)."""
    with override(language):
        return reverse(name, kwargs=kwargs or None)


def describe(text: str) -> str:
    """A meta description: plain text, one line, at most DESCRIPTION_LENGTH characters."""
    plain = " ".join(strip_tags(text or "").split())
    return Truncator(plain).chars(DESCRIPTION_LENGTH)


def publisher_jsonld(language: str) -> dict:
    with override(language):
        return {
            "@type": "Organization",
            "name": str(BODY_NAME),
            "url": absolute(url_in(language, "news:list")),
            "logo": {"@type": "ImageObject", "url": absolute(static("news/emblem.png"))},
        }


def release_jsonld(
    release: Release,
    language: str,
    *,
    url: str,
    other_url: str | None,
    image: Rendition | None,
    authors: list[dict],
    original_url: str | None,
    corrections: list[dict] = (),
    media: list[dict] | None = None,
) -> dict:
    """schema.org NewsArticle of one language version, linked to its translation; its
    `dateModified` follows published major changes only, its corrections are
    CorrectionComments."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": Truncator(release.title(language)).chars(110),
        "description": describe(release.lead(language) or release.body(language)),
        "inLanguage": language,
        "datePublished": release.published_at.isoformat() if release.published_at else None,
        "dateModified": release.public_modified_at.isoformat()
        if release.public_modified_at
        else None,
        "author": [
            {"@type": author["type"], "name": author["name"], **(
                {"jobTitle": author["position"]} if author["position"] else {}
            )}
            for author in authors
        ] or [publisher_jsonld(language)],
        "publisher": publisher_jsonld(language),
    }  # fmt: skip
    if release.status == Status.WITHDRAWN:
        # Kept on the record, no longer current (its dateModified stays the last major change).
        data["creativeWorkStatus"] = "Withdrawn"
    if image:
        data["image"] = {
            "@type": "ImageObject",
            "url": image.absolute_url,
            "width": image.width,
            "height": image.height,
        }
    if original_url:
        data["isBasedOn"] = original_url
    if corrections:
        data["correction"] = [
            {
                "@type": "CorrectionComment",
                "text": correction["note"],
                "datePublished": correction["date"].isoformat(),
            }
            for correction in corrections
        ]
    if media:
        data["associatedMedia"] = media
    if other_url:
        # Russian is the primary language: the English version is its translation.
        relation = "workTranslation" if language == "ru" else "translationOfWork"
        data[relation] = {
            "@type": "NewsArticle",
            "@id": other_url,
            "url": other_url,
            "inLanguage": other_language(language),
        }
    return {key: value for key, value in data.items() if value is not None}


def seo_context(
    *,
    title: str,
    description: str,
    path: str,
    language: str,
    alternates: dict[str, str] | None = None,
    noindex: bool = False,
    og_type: str = "website",
    image: Rendition | None = None,
    jsonld: dict | None = None,
    published: datetime.datetime | None = None,
    modified: datetime.datetime | None = None,
) -> dict:
    """What the <head> says to search engines and social networks. `alternates` maps each
    language in which this page exists to its path (hreflang; x-default is the Russian one)."""
    alternates = alternates or {}
    hreflang = [(lang, absolute(alternates[lang])) for lang in LANGUAGES if lang in alternates]
    x_default = alternates.get("ru") or alternates.get("en")
    return {
        "title": title,
        "description": description,
        "canonical": absolute(path),
        "alternates": hreflang if len(hreflang) > 1 else [],
        "x_default": absolute(x_default) if x_default and len(hreflang) > 1 else "",
        "robots": "noindex" if noindex else "",
        "og_type": og_type,
        "og_locale": OG_LOCALES[language],
        "og_locale_alternates": [OG_LOCALES[lang] for lang, _url in hreflang if lang != language],
        "image": image,
        "jsonld": jsonld,
        "published": published,
        "modified": modified,
    }


def language_switch(language: str, path: str, *, exists: bool = True) -> dict:
    """The link to the other language: the same page there, or that language's news list."""
    other = other_language(language)
    return {
        "language": other,
        "name": LANGUAGE_NAMES[other],
        "url": path if exists else url_in(other, "news:list"),
        "same_page": exists,
    }
