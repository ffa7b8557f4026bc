"""Attachments of a release: ordered documents and an ordered photo gallery, stored in the
private attachment storage under content-hashed names (a stable URL per file content).

A row belongs either to its release (`release`: the live attachments, what the public sees)
or to a pending edition of it (`edition`: the edition's whole proposed set, which replaces the
release's when the edition is published, `news.editions`). Rows may share a stored file: a
file is deleted only when no row uses it any more."""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from imagekit.models import ImageSpecField
from imagekit.processors import ResizeToFill, ResizeToFit, Transpose

from news.attachments.storage import attachment_storage, attachments_storage
from news.attachments.validation import CONTENT_TYPES
from news.models import translated
from news.slugs import transliterate

RENDITIONS_DIR = "CACHE/images"  # imagekit's IMAGEKIT_CACHEFILE_DIR, by default


def _content_hash(field_file) -> str:
    digest = hashlib.sha256()
    upload = field_file.file
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1 << 20), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()[:32]


def _hashed_name(folder: str, field_file, filename: str) -> str:
    stem, extension = os.path.splitext(os.path.basename(filename))
    stem = slugify(transliterate(stem))[:60] or folder.rstrip("s")
    return f"{folder}/{_content_hash(field_file)}/{stem}{extension.lower()}"


def document_path(instance: ReleaseDocument, filename: str) -> str:
    return _hashed_name("documents", instance.file, filename)


def photo_path(instance: ReleasePhoto, filename: str) -> str:
    return _hashed_name("photos", instance.image, filename)


class DocumentFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    ODT = "odt", "ODT"
    ODS = "ods", "ODS"
    ODP = "odp", "ODP"
    DOCX = "docx", "DOCX"
    XLSX = "xlsx", "XLSX"


class DocumentLanguages(models.TextChoices):
    RU = "ru", pgettext_lazy("language of a document", "Russian")
    EN = "en", pgettext_lazy("language of a document", "English")
    BOTH = "ru+en", pgettext_lazy("language of a document", "Russian and English")


class ReleaseDocument(models.Model):
    """A document published with a release (a signed agreement, a joint statement)."""

    release = models.ForeignKey(
        "news.Release",
        on_delete=models.CASCADE,
        related_name="documents",
        null=True,
        blank=True,
    )
    # Set instead of `release` on the rows a pending edition proposes.
    edition = models.ForeignKey(
        "news.ReleaseEdition",
        verbose_name=_("pending edition"),
        on_delete=models.CASCADE,
        related_name="documents",
        null=True,
        blank=True,
        editable=False,
    )
    file = models.FileField(
        _("file"), upload_to=document_path, storage=attachment_storage, max_length=300
    )
    title_ru = models.CharField(_("title (Russian)"), max_length=500)
    title_en = models.CharField(_("title (English)"), max_length=500, blank=True)
    languages = models.CharField(
        _("language of the document"),
        max_length=8,
        choices=DocumentLanguages.choices,
        default=DocumentLanguages.RU,
    )
    accessible = models.BooleanField(
        _("accessible"),
        default=True,
        help_text=_(
            "Untick for a scan or a document a screen reader cannot read: the page then "
            "tells readers whom to ask for another format."
        ),
    )
    format = models.CharField(
        _("format"), max_length=8, choices=DocumentFormat.choices, editable=False
    )
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0, editable=False)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(release__isnull=False, edition__isnull=True)
                | Q(release__isnull=True, edition__isnull=False),
                name="document_of_release_or_edition",
            )
        ]

    def __str__(self) -> str:
        return self.title_ru or self.file.name

    def title(self, language: str) -> str:
        return translated(self.title_ru, self.title_en, language)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.format, "application/octet-stream")


class ReleasePhoto(models.Model):
    """A photo of a release's gallery (the signing ceremony), with WebP renditions for the
    page. `image` is what journalists download: the upload as the newsroom's form stored it,
    re-encoded once in its own format without its metadata (EXIF, GPS;
    `news.images.clean_copy`), at full size."""

    release = models.ForeignKey(
        "news.Release",
        on_delete=models.CASCADE,
        related_name="photos",
        null=True,
        blank=True,
    )
    # Set instead of `release` on the rows a pending edition proposes.
    edition = models.ForeignKey(
        "news.ReleaseEdition",
        verbose_name=_("pending edition"),
        on_delete=models.CASCADE,
        related_name="photos",
        null=True,
        blank=True,
        editable=False,
    )
    image = models.ImageField(
        _("photo"),
        upload_to=photo_path,
        storage=attachment_storage,
        max_length=300,
        width_field="width",
        height_field="height",
    )
    width = models.PositiveIntegerField(_("width"), default=0, editable=False)
    height = models.PositiveIntegerField(_("height"), default=0, editable=False)
    alt_ru = models.CharField(
        _("alt text (Russian)"),
        max_length=300,
        help_text=_("What the photo shows, for readers who cannot see it."),
    )
    alt_en = models.CharField(_("alt text (English)"), max_length=300, blank=True)
    caption_ru = models.CharField(_("caption (Russian)"), max_length=500, blank=True)
    caption_en = models.CharField(_("caption (English)"), max_length=500, blank=True)
    credit_ru = models.CharField(_("credit (Russian)"), max_length=300, blank=True)
    credit_en = models.CharField(_("credit (English)"), max_length=300, blank=True)
    licence_ru = models.CharField(_("licence (Russian)"), max_length=300, blank=True)
    licence_en = models.CharField(_("licence (English)"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    thumbnail = ImageSpecField(
        source="image",
        processors=[Transpose(), ResizeToFill(400, 300)],
        format="WEBP",
        options={"quality": 80},
        cachefile_storage=attachments_storage,
    )
    large = ImageSpecField(
        source="image",
        processors=[Transpose(), ResizeToFit(1600, 1200, upscale=False)],
        format="WEBP",
        options={"quality": 85},
        cachefile_storage=attachments_storage,
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(release__isnull=False, edition__isnull=True)
                | Q(release__isnull=True, edition__isnull=False),
                name="photo_of_release_or_edition",
            )
        ]

    def __str__(self) -> str:
        return self.caption_ru or self.alt_ru or self.image.name

    def alt(self, language: str) -> str:
        return translated(self.alt_ru, self.alt_en, language)

    def caption(self, language: str) -> str:
        return getattr(self, f"caption_{language}")

    def credit(self, language: str) -> str:
        return translated(self.credit_ru, self.credit_en, language)

    def licence(self, language: str) -> str:
        return translated(self.licence_ru, self.licence_en, language)


def accessibility_contact() -> str:
    return settings.ATTACHMENTS_ACCESSIBILITY_CONTACT


def in_use(name: str) -> bool:
    """Whether a document or photo row (live or of a pending edition) uses the stored file."""
    return (
        ReleaseDocument.objects.filter(file=name).exists()
        or ReleasePhoto.objects.filter(image=name).exists()
    )


def remove_unused_file(name: str) -> None:
    """Delete the stored file `name` (and a photo's renditions) unless a row still uses it:
    names are content hashes, so the same file may serve a live row and its edition's copy,
    or two releases."""
    if not name or in_use(name):
        return
    attachments_storage.delete(name)
    if name.startswith("photos/"):
        folder = f"{RENDITIONS_DIR}/{os.path.splitext(name)[0]}"
        try:
            _dirs, files = attachments_storage.listdir(folder)
        except FileNotFoundError:
            return
        for rendition in files:
            attachments_storage.delete(f"{folder}/{rendition}")


@receiver(pre_save, sender=ReleaseDocument, dispatch_uid="attachments-replace-document")
@receiver(pre_save, sender=ReleasePhoto, dispatch_uid="attachments-replace-photo")
def _delete_replaced_file(sender, instance, using=None, raw=False, **kwargs):
    """A file replaced on its row (a new upload on a draft's document) leaves nothing behind
    either: once the save is committed, the previous file is removed unless a row uses it."""
    if raw or instance.pk is None:
        return
    field = "file" if sender is ReleaseDocument else "image"
    rows = sender.objects.using(using).filter(pk=instance.pk)
    previous = rows.values_list(field, flat=True).first()
    if previous and previous != getattr(instance, field).name:
        transaction.on_commit(lambda: remove_unused_file(previous), using=using)


@receiver(post_delete, sender=ReleaseDocument, dispatch_uid="attachments-delete-document")
@receiver(post_delete, sender=ReleasePhoto, dispatch_uid="attachments-delete-photo")
def _delete_stored_files(sender, instance, using=None, **kwargs):
    """A deleted attachment (by the admin, with its release, or a discarded edition's) leaves
    no file behind: once the deletion is committed, its file and a photo's renditions are
    removed from storage, unless another row uses the same file."""
    name = (instance.file if sender is ReleaseDocument else instance.image).name
    if name:
        transaction.on_commit(lambda: remove_unused_file(name), using=using)
