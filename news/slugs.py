"""Latin slugs from Russian (and other Cyrillic) titles."""

from __future__ import annotations

from django.db import models
from django.utils.text import slugify

# Transliteration after the ICAO Doc 9303 table used in Russian passports (2013), extended
# with the Belarusian and Ukrainian letters of CIS names.
CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "і": "i", "ї": "i", "є": "ie", "ґ": "g", "ў": "u",
}  # fmt: skip
_TABLE = str.maketrans(
    {**CYRILLIC_TO_LATIN, **{k.upper(): v.capitalize() for k, v in CYRILLIC_TO_LATIN.items()}}
)
MAX_LENGTH = 100


def transliterate(text: str) -> str:
    return text.translate(_TABLE)


def slug_from_title(title: str, max_length: int = MAX_LENGTH) -> str:
    """A lowercase ASCII slug, cut at a word boundary; "release" when nothing Latin remains."""
    slug = slugify(transliterate(title))
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-") or "release"


def unique_slug(title: str, model: type[models.Model], *, instance: models.Model) -> str:
    """The title's slug, with -2, -3... appended when another row of `model` has it."""
    base = slug_from_title(title)
    others = (
        model._default_manager.exclude(pk=instance.pk) if instance.pk else model._default_manager
    )
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug
