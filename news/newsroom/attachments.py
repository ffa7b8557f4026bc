"""The release change form's attachments: documents and photos as ordered inlines (the
order field renumbers on save, no dragging needed), each upload checked from its content and
refused with its own error under its own row. On a release with a live version they edit its
pending edition's documents and photos, as the rest of the form edits its text."""

from __future__ import annotations

import math
import os
import re

from django import forms
from django.contrib import admin
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from news.attachments.models import ReleaseDocument, ReleasePhoto, remove_unused_file
from news.attachments.validation import inspect_document
from news.images import LeadImageField
from news.models import ReleaseEdition, Status
from news.newsroom.releases import PositionedFormSet, ReleaseInlinePermissions


class AttachmentFormSet(PositionedFormSet):
    """Ordered rows saved on the release, or, on a release with a live version, in its
    pending edition: the form then shows the edition's documents and photos (the live ones
    until an edition exists), and saving changes only the edition's rows
    (`save_to_edition`); the live ones change when the edition is published."""

    def __init__(self, *args, **kwargs):
        BaseInlineFormSet.__init__(self, *args, **kwargs)
        release = self.instance
        self.for_edition = bool(release.pk and release.status == Status.PUBLISHED)
        edition = release.pending_edition if self.for_edition else None
        if edition is not None:
            self.queryset = self.model._default_manager.filter(edition=edition)

    def save_to_edition(self, edition: ReleaseEdition) -> None:
        """Make the rows as entered the edition's set: an edited or deleted row of the live
        set changes its copy in the edition (`edition.live_copies`, made when this save
        started the edition), never the live row; new rows are the edition's. A file that
        an edition's row no longer uses is deleted, unless a live row uses it."""
        copies = getattr(edition, "live_copies", {})
        file_field = "file" if self.model is ReleaseDocument else "image"
        kept, unused = [], []
        for index, form in enumerate(self.forms):
            obj = form.instance
            if form in self.initial_forms:
                if obj.edition_id is None:  # a live row: its copy in the edition
                    obj.pk = copies[(self.model, obj.pk)].pk
                if self._should_delete_form(form):
                    self.model.objects.get(pk=obj.pk).delete()
                    continue
                if form.has_changed():
                    if file_field in form.changed_data:
                        unused.append(form.initial[file_field].name)
                    obj.release, obj.edition = None, edition
                    obj.save()
            elif not form.has_changed() or self._should_delete_form(form):
                continue
            else:
                obj.release, obj.edition = None, edition
                obj.save()
            appended = form in self.extra_forms and "position" not in form.changed_data
            kept.append((math.inf if appended else obj.position, index, obj))
        kept.sort(key=lambda row: (row[0], row[1]))
        for number, (_position, _index, obj) in enumerate(kept):
            if obj.position != number:
                obj.position = number
                obj.save(update_fields=["position"])
        for name in unused:
            transaction.on_commit(lambda name=name: remove_unused_file(name))


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


# "Фото: …", "Photo - …", "Photo by …" typed in a credit: the page says "Photo:" itself.
_CREDIT_PREFIX = re.compile(r"^\s*(?:(?:фото|photo)\s*[:—–-]|photo\s+by\b)\s*", re.IGNORECASE)


class ReleasePhotoForm(forms.ModelForm):
    def clean_credit_ru(self) -> str:
        return _CREDIT_PREFIX.sub("", self.cleaned_data["credit_ru"])

    def clean_credit_en(self) -> str:
        return _CREDIT_PREFIX.sub("", self.cleaned_data["credit_en"])

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
        help_texts = {"credit_ru": _("Only the name: the page adds “Photo:” itself.")}


class ReleaseDocumentInline(ReleaseInlinePermissions, admin.StackedInline):
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

    @admin.display(description=_("format and size"))
    def file_facts(self, obj) -> str:
        if not obj.pk:
            return "—"
        from django.template.defaultfilters import filesizeformat

        facts = [obj.get_format_display(), str(filesizeformat(obj.size))]
        if obj.pages:
            facts.append(_("%(pages)s p.") % {"pages": obj.pages})
        return ", ".join(facts)


class ReleasePhotoInline(ReleaseInlinePermissions, admin.StackedInline):
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
