"""The newsroom's forms: the release edit form with its rich-text bodies, lead image check and
optimistic lock, and the small forms of the workflow actions."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorFormField
from django_prose_editor.widgets import AdminProseEditorWidget

from news import editions
from news.images import LeadImageField
from news.models import (
    EDITION_TEXT_FIELDS,
    Category,
    Release,
    ReleaseEdition,
    ReleaseSource,
    Status,
    normalize_content,
)
from news.publication_dates import check_publication_date
from news.sanitize import sanitize_html, strip_control_characters

# What the body editor offers. Everything it can produce is kept by news.sanitize (the model's
# one HTML policy, applied again on save); tests/test_admin.py checks the two stay in step.
BODY_EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Underline": True,
    "Strike": True,
    "Subscript": True,
    "Superscript": True,
    "HardBreak": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": {"enableListAttributes": False},
    "ListItem": True,
    "Blockquote": True,
    "HorizontalRule": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto", "tel"]},
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
    "History": True,
    # The browser's spell-checker stays on (the package turns it off by default); the editor
    # gets the field's language from newsroom.js, so Russian is checked as Russian.
    "NoSpellCheck": False,
}

# The fields a release needs before it can be published (workflow.completeness_errors).
REQUIRED_TO_PUBLISH = ("title_ru", "lead_ru", "body_ru")


def body_field(label, language: str) -> ProseEditorFormField:
    return ProseEditorFormField(
        label=capfirst(label),
        required=False,
        extensions=BODY_EDITOR_EXTENSIONS,
        sanitize=sanitize_html,
        widget=AdminProseEditorWidget(attrs={"lang": language, "spellcheck": "true"}),
    )


class ImageThumbnailInput(AdminFileWidget):
    """The admin's file input with the current image shown as a thumbnail above it."""

    def render(self, name, value, attrs=None, renderer=None):
        field = super().render(name, value, attrs, renderer)
        if not value or not getattr(value, "url", None):
            return field
        return format_html(
            '<img class="newsroom-thumbnail" src="{}" alt="" loading="lazy">{}', value.url, field
        )


def with_language(form: forms.BaseForm) -> None:
    """Every text field of one language says which (`lang`), so that the browser spell-checks
    Russian as Russian and English as English."""
    for name, field in form.fields.items():
        language = name.rsplit("_", 1)[-1]
        if language in ("ru", "en") and isinstance(field.widget, (forms.TextInput, forms.Textarea)):
            field.widget.attrs.setdefault("lang", language)
            field.widget.attrs.setdefault("spellcheck", "true")


PLAIN_TEXT_FIELDS = [
    f"{name}_{language}"
    for name in ("title", "lead", "image_alt", "image_caption")
    for language in ("ru", "en")
]


class ReleaseAdminForm(forms.ModelForm):
    """The release form. `base_version` carries the version the person started from; saving
    over a newer version is refused (their input stays in the form) instead of overwriting."""

    body_ru = body_field(_("body (Russian)"), "ru")
    body_en = body_field(_("body (English)"), "en")
    image = LeadImageField(
        label=capfirst(_("lead image")), required=False, widget=ImageThumbnailInput
    )
    categories = forms.ModelMultipleChoiceField(
        label=capfirst(_("categories")),
        queryset=Category.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    # Only on the form of a release with a live version (its changes become a pending edition).
    edition_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    change_note_ru = forms.CharField(
        label=_("Change note (Russian)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What changed, for the public list of updates on the release page."),
    )
    change_note_en = forms.CharField(
        label=_("Change note (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the English version is public."),
    )
    minor_change = forms.BooleanField(
        label=_("Minor change"),
        required=False,
        help_text=_(
            "A typo or a formatting fix: no change note, no public trace but the revision."
        ),
    )
    correction = forms.BooleanField(
        label=_("Correction"),
        required=False,
        help_text=_("The change note is shown as a correction notice at the top of the page."),
    )

    class Meta:
        model = Release
        fields = [
            "title_ru",
            "lead_ru",
            "body_ru",
            "title_en",
            "lead_en",
            "body_en",
            "categories",
            "image",
            "image_alt_ru",
            "image_alt_en",
            "image_caption_ru",
            "image_caption_en",
        ]
        widgets = {
            "lead_ru": forms.Textarea(attrs={"rows": 3}),
            "lead_en": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["base_version"] = self.instance.version
            if self.is_live:
                self.initial.update(pending_initial(self.instance))
        with_language(self)
        marker = gettext("required to publish")
        for name in REQUIRED_TO_PUBLISH:
            if name in self.fields:
                field = self.fields[name]
                field.widget.attrs["aria-describedby"] = f"id_{name}_helptext"
                field.help_text = format_html(
                    '<span class="newsroom-required">{}</span>{}',
                    marker,
                    format_html(" {}", field.help_text) if field.help_text else "",
                )
        # The locked current row, read in clean() (the admin saves in the same transaction),
        # and what a refused stale save ran into.
        self.locked = None
        self.conflict = None

    @property
    def is_live(self) -> bool:
        """A release with a live version: this form edits its pending edition."""
        return bool(self.instance.pk) and self.instance.status == Status.PUBLISHED

    def clean(self):
        cleaned = super().clean()
        # Plain-text fields lose stray control characters (NUL is refused by the field).
        for name in PLAIN_TEXT_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = strip_control_characters(cleaned[name])
        if self.is_live:
            self.check_version(cleaned.get("base_version"))
            self.check_edition_version(cleaned.get("edition_version"))
            stub = ReleaseEdition(**{f: cleaned.get(f) or "" for f in ("title_en", "body_en")})
            normalize_content(stub)
            for field, message in editions.note_errors(
                stub,
                minor_change=cleaned.get("minor_change", False),
                correction=cleaned.get("correction", False),
                notes=cleaned,
            ):
                self.add_error(field, message)
        elif self.instance.pk:
            self.check_version(cleaned.get("base_version"))
        return cleaned

    def check_version(self, base_version: int | None) -> None:
        """Lock the release row for the rest of the transaction and refuse the save when it
        changed since the form was opened. The refused form keeps what was typed; its
        base_version moves on, so that saving again (after reading the warning) is deliberate."""
        current = Release.objects.select_for_update().get(pk=self.instance.pk)
        self.locked = current
        if base_version is not None and base_version == current.version:
            return
        last = current.history.select_related("history_user").first()
        who = ""
        if last is not None and last.history_user is not None:
            who = last.history_user.get_full_name() or last.history_user.get_username()
        when = date_format(timezone.localtime(current.updated_at), "DATETIME_FORMAT")
        self.data = self.data.copy()
        self.data[self.add_prefix("base_version")] = str(current.version)
        self.conflict = {"version": current.version, "base_version": base_version}
        raise forms.ValidationError(
            _(
                "Someone else saved this release while you were editing it (%(who)s, "
                "%(when)s; it is now version %(version)s). Your changes have NOT been saved: "
                "they are still in the form below. Compare them with the saved version "
                "(History), then save again to replace it with yours."
            ),
            code="stale_version",
            params={
                "who": who or gettext("unknown"),
                "when": when,
                "version": current.version,
            },
        )

    def check_edition_version(self, edition_version: int | None) -> None:
        """Refuse a save over pending changes someone saved since the form was opened (the
        release row is locked, and every edition write locks it first)."""
        edition = self.instance.editions.open().first()
        current = edition.version if edition else 0
        if edition_version is None or edition_version == current:
            return
        self.data = self.data.copy()
        self.data[self.add_prefix("edition_version")] = str(current)
        raise forms.ValidationError(
            _(
                "Someone else saved pending changes of this release while you were editing "
                "it. Your changes have NOT been saved: they are still in the form below. "
                "Save again to replace theirs with yours."
            ),
            code="stale_edition",
        )


def pending_initial(release: Release) -> dict:
    """What the form of a live release starts from: its pending edition when it has one."""
    edition = release.pending_edition
    if edition is None:
        return {"edition_version": 0}
    initial = {field: getattr(edition, field) for field in EDITION_TEXT_FIELDS}
    initial["categories"] = (edition.relations or {}).get(
        "categories", [c.pk for c in release.categories.all()]
    )
    initial.update(
        {field: getattr(edition, field) for field in editions.NOTE_FIELDS},
        edition_version=edition.version,
    )
    return initial


def time_zone_name() -> str:
    """The press service's time zone as people read it: "Europe/Minsk (UTC+3)"."""
    now = timezone.localtime()
    offset = now.utcoffset() or datetime.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return (
        f"{timezone.get_current_timezone_name()} (UTC{sign}{hours}{f':{rest:02}' if rest else ''})"
    )


class ReleaseSourceForm(forms.ModelForm):
    """A source: "link text", not "label" (which read as the authors' signature in Russian)."""

    class Meta:
        model = ReleaseSource
        fields = ["url", "kind", "label_ru", "label_en", "position"]
        labels = {
            "label_ru": _("Link text (Russian)"),
            "label_en": _("Link text (English)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with_language(self)


class PublishForm(forms.Form):
    """The one scheduling control: publish now, or at a time in the press service's zone."""

    at = forms.DateTimeField(
        label=_("Publication time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[check_publication_date],
    )
    help = _(
        "Leave empty to publish now (or keep the date already set). A future time "
        "schedules the release: it appears on the site at that moment. Time zone: %(zone)s."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].help_text = self.help % {"zone": time_zone_name()}


class RescheduleForm(PublishForm):
    help = _("The new moment the release appears on the site. Time zone: %(zone)s.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].required = True
        self.fields["at"].label = _("New publication time")


class ForcePublishForm(PublishForm):
    """Publishing one's own submission or change (the second pair of eyes): force it with a
    reason, or leave it to another editor."""

    force = forms.BooleanField(
        label=_("Publish without a second editor"),
        required=False,
        help_text=_(
            "You submitted or last changed this release. Another editor should publish it; "
            "if it cannot wait, tick this and give the reason. It will be marked "
            "“needs review” until another editor confirms it."
        ),
    )
    reason = forms.CharField(
        label=_("Reason for publishing alone"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )


class UnpublishForm(forms.Form):
    """Unpublishing a release published in error: the reason (shown on its 410 page) and,
    optionally, the release its addresses now lead to."""

    comment = forms.CharField(
        label=_("Reason (shown to visitors)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    replacement = forms.ModelChoiceField(
        label=_("Replaced by release number"),
        queryset=Release.objects.all(),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=_(
            "Optional: the number (id) of a published release of this site. Its addresses "
            "then redirect there instead of answering “gone”."
        ),
        error_messages={
            "invalid_choice": _(
                "Enter the number of a release of this site; there is none numbered “%(value)s”."
            )
        },
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        # Whether a transition needs a comment is the workflow's rule (and message).
        required=False,
    )

    def clean_comment(self):
        return strip_control_characters(self.cleaned_data["comment"]).strip()
