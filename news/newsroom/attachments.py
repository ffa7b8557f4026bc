"""The release change form's attachments: documents and photos as ordered inlines (the
order field renumbers on save, no dragging needed), each upload checked from its content and
refused with its own error under its own row."""

from __future__ import annotations

import os

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from news.attachments.models import ReleaseDocument, ReleasePhoto
from news.attachments.validation import inspect_document
from news.images import LeadImageField
from news.models import Status
from news.newsroom.releases import PositionedFormSet, ReleaseInlinePermissions


class AttachmentFormSet(PositionedFormSet):
    """Ordered rows saved on the release itself (attachments are not part of an edition yet:
    on a release with a live version the inlines are read-only, see below)."""

    def __init__(self, *args, **kwargs):
        BaseInlineFormSet.__init__(self, *args, **kwargs)
        self.for_edition = False


class AttachmentInlinePermissions(ReleaseInlinePermissions):
    """Attachments follow the release's editability, except that a release with a live
    version keeps its attachments as they are: what the public sees changes only when an
    edition is published, and editions do not carry attachments yet."""

    def _release_editable(self, request, obj) -> bool:
        return super()._release_editable(request, obj) and (
            obj is None or obj.status != Status.PUBLISHED
        )


class DocumentField(forms.FileField):
    """`inspect_document` decides; the stored file gets the extension of its real format."""

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        info = inspect_document(upload)
        stem = os.path.splitext(os.path.basename(upload.name))[0] or "document"
        upload.name = f"{stem}.{info.format}"
        upload.content_type = info.content_type
        upload.document_info = info
        return upload


class ReleaseDocumentForm(forms.ModelForm):
    class Meta:
        model = ReleaseDocument
        fields = ["file", "title_ru", "title_en", "languages", "accessible", "position"]
        field_classes = {"file": DocumentField}

    def clean(self):
        cleaned = super().clean()
        info = getattr(cleaned.get("file"), "document_info", None)
        if info is not None:
            self.instance.format = info.format
            self.instance.size = info.size
            self.instance.pages = info.pages
        return cleaned


class ReleasePhotoForm(forms.ModelForm):
    class Meta:
        model = ReleasePhoto
        fields = [
            "image",
            "alt_ru",
            "alt_en",
            "caption_ru",
            "caption_en",
            "credit_ru",
            "credit_en",
            "licence_ru",
            "licence_en",
            "position",
        ]
        field_classes = {"image": LeadImageField}


class ReleaseDocumentInline(AttachmentInlinePermissions, admin.StackedInline):
    model = ReleaseDocument
    form = ReleaseDocumentForm
    formset = AttachmentFormSet
    fields = [
        "file",
        ("title_ru", "title_en"),
        ("languages", "accessible"),
        "file_facts",
        "position",
    ]
    readonly_fields = ["file_facts"]
    extra = 0
    verbose_name_plural = _("documents (in the order the page lists them)")
    add_text = _("Add a document")

    @admin.display(description=_("file"))
    def file_facts(self, obj) -> str:
        if not obj.pk:
            return "—"
        from django.template.defaultfilters import filesizeformat

        facts = [obj.get_format_display(), str(filesizeformat(obj.size))]
        if obj.pages:
            facts.append(_("%(pages)s p.") % {"pages": obj.pages})
        return ", ".join(facts)


class ReleasePhotoInline(AttachmentInlinePermissions, admin.StackedInline):
    model = ReleasePhoto
    form = ReleasePhotoForm
    formset = AttachmentFormSet
    fields = [
        "image",
        ("alt_ru", "alt_en"),
        ("caption_ru", "caption_en"),
        ("credit_ru", "credit_en"),
        ("licence_ru", "licence_en"),
        "position",
    ]
    extra = 0
    verbose_name_plural = _("photo gallery (in the order the page shows it)")
    add_text = _("Add a photo")
