"""The newsroom: the admin where press officers write releases and editors publish them.

Who sees what: editors (and anyone who may publish or edit any release) see every release;
authors see their own releases in any state plus published ones, and edit only what
`workflow.can_edit` allows (their own drafts); everything else opens read-only. Status changes
go through `news.workflow` only: the buttons on the change page and the list actions call it
and show its refusals as messages.
"""

from __future__ import annotations

import datetime
import json
import math

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from news import editions, revisions, workflow
from news.models import (
    LANGUAGES,
    Author,
    Category,
    EditionState,
    Release,
    ReleaseAuthor,
    ReleaseEdition,
    ReleaseSource,
    SourceKind,
    Status,
    WorkflowEvent,
)
from news.newsroom import diff
from news.newsroom.changelist import BoundedDatesChangeList
from news.newsroom.forms import (
    CommentForm,
    ForcePublishForm,
    PublishForm,
    ReleaseAdminForm,
    ReleaseSourceForm,
    RescheduleForm,
    UnpublishForm,
    time_zone_name,
)
from news.public import preview
from news.sanitize import sanitize_html

# How a language version stands: (complete, missing) wording per language.
LANGUAGE_STATE = {
    "ru": (_("Russian version complete"), _("Russian version missing or incomplete")),
    "en": (_("English version complete"), _("English version missing or incomplete")),
}

SUCCESS_MESSAGES = {
    "submit": _("“%(title)s” was submitted for review."),
    "publish": _("“%(title)s” is published."),
    "request_changes": _("“%(title)s” was sent back to its author with your comment."),
    "withdraw": _("“%(title)s” was withdrawn: its page stays with a withdrawal notice."),
    "unpublish": _("“%(title)s” was unpublished: its address no longer shows it."),
    "reopen": _("“%(title)s” is a draft again."),
    "recall": _("“%(title)s” is back in your drafts; submit it again when it is ready."),
    "cancel_schedule": _("The schedule of “%(title)s” is cancelled: it is back in review."),
    "recall_edition": _(
        "The changes to “%(title)s” are back in your drafts; the live version stays. Submit "
        "them again when they are ready."
    ),
    "cancel_schedule_edition": _(
        "The schedule of the changes to “%(title)s” is cancelled: they are back in review; "
        "the live version stays."
    ),
    "discard": _("The pending changes of “%(title)s” were discarded; the live version stays."),
    "confirm": _("“%(title)s”: publication confirmed."),
}
PENDING_SAVED = _(
    "Your changes to “%(title)s” are saved as its pending changes; the site keeps showing "
    "the live version until they are published."
)
TITLED = _("“%(title)s”: %(message)s")
FILES_NOT_KEPT = _(
    "Nothing was saved, and the files you chose were not kept: after correcting the errors "
    "below, choose them again: %(names)s."
)
SCHEDULED_MESSAGE = _("“%(title)s” is scheduled: it appears on the site on %(when)s.")
EDITION_SCHEDULED_MESSAGE = _(
    "The changes to “%(title)s” are scheduled: they replace the live version on %(when)s."
)


def sees_all_releases(user) -> bool:
    """Editors (and whoever may publish or edit any release) see every release."""
    return user.has_perm("news.edit_any_release") or user.has_perm("news.publish_release")


def visible_releases(user, queryset=None):
    """The releases `user` may open in the newsroom: everything for editors; for authors their
    own releases (any state) and published ones whose moment has come (not scheduled ones)."""
    queryset = Release.objects.all() if queryset is None else queryset
    if sees_all_releases(user):
        return queryset
    public = Q(status=Status.PUBLISHED, published_at__lte=timezone.now())
    return queryset.filter(Q(created_by=user) | public)


def is_visible(user, release: Release) -> bool:
    """An author sees another author's release only once it is public: a scheduled
    (embargoed) release is not, yet."""
    return (
        sees_all_releases(user)
        or release.created_by_id == user.pk
        # Published releases are always complete in Russian: public in Russian = public.
        or release.is_public("ru")
    )


def may_preview(user, release: Release, *, editable: bool) -> bool:
    """Preview links are for whoever may edit the release, its editors, and its writer."""
    return editable or sees_all_releases(user) or workflow.is_owner(user, release)


def is_scheduled(release: Release, now: datetime.datetime | None = None) -> bool:
    return (
        release.status == Status.PUBLISHED
        and release.published_at is not None
        and release.published_at > (now or timezone.now())
    )


def newsroom_queue(request) -> dict | None:
    """The counts on the admin index: releases awaiting review, the user's drafts, scheduled
    releases (among the releases this user may see), in one query."""
    user = request.user
    if not user.has_perm("news.view_release"):
        return None
    counts = visible_releases(user).aggregate(
        review=Count("pk", filter=Q(status=Status.REVIEW)),
        my_drafts=Count("pk", filter=Q(status=Status.DRAFT, created_by=user)),
        scheduled=Count("pk", filter=Q(status=Status.PUBLISHED, published_at__gt=timezone.now())),
    )
    changelist = reverse("admin:news_release_changelist")
    return {
        **counts,
        "review_url": f"{changelist}?view=review",
        "my_drafts_url": f"{changelist}?view=my_drafts",
        "scheduled_url": f"{changelist}?view=scheduled",
        "add_url": reverse("admin:news_release_add") if user.has_perm("news.add_release") else None,
        "is_editor": sees_all_releases(user),
    }


def pending_badge(release: Release) -> str:
    """ "With pending changes" and "English out of date" beside a live release's status."""
    badges = []
    if getattr(release, "has_pending", None) or (
        not hasattr(release, "has_pending") and release.pending_edition is not None
    ):
        badges.append(
            format_html(
                '<span class="newsroom-badge newsroom-badge-pending">{}</span>',
                gettext("with pending changes"),
            )
        )
    if release.en_outdated_since:
        badges.append(
            format_html(
                '<span class="newsroom-badge newsroom-badge-outdated">{}</span>',
                gettext("English out of date"),
            )
        )
    return mark_safe(" ".join(badges))


def status_badge(release: Release) -> str:
    if is_scheduled(release):
        return format_html(
            '<span class="newsroom-badge newsroom-badge-scheduled">{}</span>', gettext("Scheduled")
        )
    badge = format_html(
        '<span class="newsroom-badge newsroom-badge-{}">{}</span>',
        release.status,
        release.get_status_display(),
    )
    if release.needs_review:
        badge += format_html(
            ' <span class="newsroom-badge newsroom-badge-needs-review">{}</span>',
            gettext("needs review"),
        )
    return badge


# --- list filters -------------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """The newsroom's working views: my drafts, awaiting review, scheduled, my releases."""

    title = _("view")
    parameter_name = "view"

    def lookups(self, request, model_admin):
        return [
            ("my_drafts", _("My drafts")),
            ("review", _("Awaiting review")),
            ("scheduled", pgettext_lazy("releases", "Scheduled")),
            ("mine", _("All my releases")),
        ]

    def queryset(self, request, queryset):
        user = request.user
        match self.value():
            case "my_drafts":
                return queryset.filter(status=Status.DRAFT, created_by=user)
            case "review":
                return queryset.filter(status=Status.REVIEW)
            case "scheduled":
                return queryset.filter(status=Status.PUBLISHED, published_at__gt=timezone.now())
            case "mine":
                return queryset.filter(created_by=user)
        return queryset


class EditionFilter(admin.SimpleListFilter):
    """Live releases with pending changes, and those whose English version is out of date."""

    title = _("changes")
    parameter_name = "changes"

    def lookups(self, request, model_admin):
        return [
            ("pending", _("Published, with pending changes")),
            ("en_outdated", _("English version out of date")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "pending":
                return queryset.filter(
                    Exists(ReleaseEdition.objects.open().filter(release=OuterRef("pk")))
                )
            case "en_outdated":
                return queryset.filter(en_outdated_since__isnull=False)
        return queryset


class LanguageFilter(admin.SimpleListFilter):
    title = _("languages")
    parameter_name = "languages"

    def lookups(self, request, model_admin):
        return [
            ("both", _("Russian and English")),
            ("ru_only", _("Russian only")),
            ("no_en", _("English missing")),
            ("ru_incomplete", _("Russian incomplete")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "both":
                return queryset.filter(ru_complete=True, en_complete=True)
            case "ru_only":
                return queryset.filter(ru_complete=True, en_complete=False)
            case "no_en":
                return queryset.filter(en_complete=False)
            case "ru_incomplete":
                return queryset.filter(ru_complete=False)
        return queryset


class CreatedByFilter(admin.RelatedOnlyFieldListFilter):
    """Press officer (who created the release), by name; shown to those who see every
    release."""

    def field_choices(self, field, request, model_admin):
        ids = model_admin.get_queryset(request).values_list("created_by", flat=True).distinct()
        users = field.related_model.objects.filter(pk__in=ids).order_by("first_name", "username")
        return [(user.pk, user.get_full_name() or user.get_username()) for user in users]


# --- inlines ------------------------------------------------------------------------------


class ReleaseInlinePermissions:
    """Inline rows follow the release: editable exactly when the release is."""

    def _release_editable(self, request, obj) -> bool:
        return obj is None or workflow.can_edit(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._release_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._release_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._release_editable(request, obj)


def edition_rows(release: Release, model) -> list[dict]:
    """The author or source rows a live release's form shows: those of its pending edition,
    else its live ones."""
    edition = release.pending_edition
    relations = edition.relations if edition else editions.live_relations(release)
    if model is ReleaseAuthor:
        return [{"author": pk, "position": n} for n, pk in enumerate(relations.get("authors", []))]
    return [{**values, "position": n} for n, values in enumerate(relations.get("sources", []))]


class PositionedFormSet(BaseInlineFormSet):
    """Rows keep the order given by their order field, renumbered 0, 1, 2... on save; a new
    row whose order was left untouched goes to the end, in the order shown.

    For a release with a live version the rows are those of its pending edition: new rows
    every time, never saved here (the admin stores them in the edition, `rows()`)."""

    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        self.for_edition = bool(
            instance is not None and instance.pk and instance.status == Status.PUBLISHED
        )
        if self.for_edition:
            kwargs["queryset"] = self.model._default_manager.none()
            if kwargs.get("data") is None and not args:
                kwargs["initial"] = edition_rows(instance, self.model)
        super().__init__(*args, **kwargs)
        if self.for_edition and not self.is_bound:
            self.extra = len(self.initial_extra or [])

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.for_edition:
            # The rows replace the live ones when the edition is published: checking them
            # against the live rows of the same release would refuse every unchanged row.
            form.validate_unique = form.validate_constraints = lambda: None
        return form

    def rows(self) -> list[dict]:
        """The rows as entered, in their order, without the deleted ones."""
        kept = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            kept.append((data.get("position") or 0, index, data))
        kept.sort(key=lambda row: (row[0], row[1]))
        return [data for _position, _index, data in kept]

    def save(self, commit=True):
        saved = super().save(commit)
        if commit:
            self.renumber()
        return saved

    def renumber(self) -> None:
        rows = []
        for index, form in enumerate(self.forms):
            obj = form.instance
            if obj.pk is None or (self.can_delete and self._should_delete_form(form)):
                continue
            appended = form in self.extra_forms and "position" not in form.changed_data
            rows.append((math.inf if appended else obj.position, index, obj))
        rows.sort(key=lambda row: (row[0], row[1]))
        for number, (_position, _index, obj) in enumerate(rows):
            if obj.position != number:
                obj.position = number
                obj.save(update_fields=["position"])


class SourceFormSet(PositionedFormSet):
    def clean(self):
        super().clean()
        originals = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("kind") == SourceKind.ORIGINAL
        ]
        if len(originals) > 1:
            raise ValidationError(
                _("A release has at most one original page: mark the others as related links."),
                code="two_originals",
            )


class ReleaseAuthorInline(ReleaseInlinePermissions, admin.TabularInline):
    model = ReleaseAuthor
    formset = PositionedFormSet
    fields = ["author", "position"]
    autocomplete_fields = ["author"]
    extra = 0
    verbose_name = _("author")
    verbose_name_plural = _("authors (in the order they sign)")
    add_text = _("Add an author")


class ReleaseSourceInline(ReleaseInlinePermissions, admin.StackedInline):
    model = ReleaseSource
    form = ReleaseSourceForm
    formset = SourceFormSet
    fields = [("url", "kind"), ("label_ru", "label_en"), "position"]
    add_text = _("Add a source")
    formfield_overrides = {
        models.URLField: {"widget": forms.URLInput(attrs={"class": "vURLField", "size": 60})}
    }
    extra = 0


class InlineWithAddText(helpers.InlineAdminFormSet):
    """An inline whose "add" link says what it adds ("Add an author"), in the words of its
    `add_text`, instead of the stock "Add another %(verbose_name)s", which Russian cannot
    inflect ("Добавить еще один Автор")."""

    def inline_formset_data(self):
        data = json.loads(super().inline_formset_data())
        data["options"]["addText"] = str(self.opts.add_text)
        return json.dumps(data)


# --- the release admin --------------------------------------------------------------------


class ReleaseChangeList(BoundedDatesChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The list never shows the bodies (search still looks in them).
        return super().get_queryset(request, exclude_parameters).defer("body_ru", "body_en")


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    form = ReleaseAdminForm
    inlines = [ReleaseAuthorInline, ReleaseSourceInline]
    list_display = [
        "title_column",
        "status_column",
        "published_column",
        "languages_column",
        "authors_column",
        "created_by_column",
    ]
    list_display_links = ["title_column"]
    search_fields = ["title_ru", "title_en", "lead_ru", "lead_en", "body_ru", "body_en"]
    search_help_text = _("Searches titles, leads and texts in both languages (up to 8 words).")
    date_hierarchy = "published_at"
    list_per_page = 50
    list_select_related = ["created_by"]
    actions = ["submit_selected", "publish_selected", "confirm_translation_selected"]
    save_on_top = False
    record_fields = [
        "status_column",
        "slug",
        "version",
        "first_published_at",
        "last_major_change_at",
        "en_outdated_since",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    ]

    class Media:
        css = {"all": ["admin_extra/newsroom.css"]}
        js = ["admin_extra/newsroom.js", "admin_extra/unsaved_changes.js"]

    # --- who sees and edits what ---

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .prefetch_related("release_authors__author")
            .annotate(
                has_pending=Exists(ReleaseEdition.objects.open().filter(release=OuterRef("pk")))
            )
        )
        return visible_releases(request.user, queryset)

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or is_visible(request.user, obj))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.can_edit(request.user, obj))

    def has_submit_permission(self, request):
        return request.user.has_perm("news.submit_release")

    def has_publish_permission(self, request):
        return request.user.has_perm("news.publish_release")

    def get_list_filter(self, request):
        filters = [
            QueueFilter,
            "status",
            EditionFilter,
            LanguageFilter,
            "categories",
            ("authors", admin.RelatedOnlyFieldListFilter),
        ]
        if sees_all_releases(request.user):
            filters.append(("created_by", CreatedByFilter))
        filters.append("needs_review")
        filters.append("published_at")
        return filters

    def get_changelist(self, request, **kwargs):
        return ReleaseChangeList

    # Each search word is a condition over six text fields: a bounded query stays fast and
    # within what the database can parse, whatever is pasted into the box.
    max_search_words = 8
    max_search_length = 200

    def get_search_results(self, request, queryset, search_term):
        words = search_term[: self.max_search_length].split()[: self.max_search_words]
        return super().get_search_results(request, queryset, " ".join(words))

    # --- the form ---

    def get_fieldsets(self, request, obj=None):
        editable = obj is None or self.has_change_permission(request, obj)
        body_ru = "body_ru" if editable else "rendered_body_ru"
        body_en = "body_en" if editable else "rendered_body_en"
        live = obj is not None and obj.status == Status.PUBLISHED
        russian = ["title_ru", "lead_ru", body_ru]
        if editable:
            russian.append("base_version")
            if live:
                russian.append("edition_version")
        fieldsets = []
        if live and editable:
            fieldsets.append(
                (
                    _("This change"),
                    {
                        "fields": [
                            ("minor_change", "correction"),
                            "change_note_ru",
                            "change_note_en",
                        ],
                        "classes": ["newsroom-change"],
                        "description": _(
                            "The release is live: saving stores your changes as its pending "
                            "changes, reviewed and published like a new release. A major "
                            "change needs a change note (in English too when the English "
                            "version is public); it is listed on the page."
                        ),
                    },
                )
            )
        fieldsets += [
            (
                _("Russian version"),
                {
                    "fields": russian,
                    "classes": ["newsroom-language", "newsroom-language-ru"],
                    "description": _(
                        "Russian is the primary language: the title, lead and text are "
                        "required to publish."
                    ),
                },
            ),
            (
                _("English version"),
                {
                    "fields": ["title_en", "lead_en", body_en],
                    "classes": ["newsroom-language", "newsroom-language-en"],
                    "description": _(
                        "Optional. Once you start it, fill in both its title and its text; "
                        "otherwise leave all English fields empty."
                    ),
                },
            ),
            (
                _("Publication"),
                {"fields": ["public_date", "categories"] if obj else ["categories"]},
            ),
            (
                _("Lead image"),
                {
                    "fields": [
                        "image",
                        ("image_alt_ru", "image_alt_en"),
                        ("image_caption_ru", "image_caption_en"),
                    ],
                    "description": _(
                        "JPEG, PNG, WebP or GIF. The alt text describes the picture for "
                        "people who cannot see it."
                    ),
                },
            ),
        ]
        if obj is not None:
            fieldsets.append((_("Record"), {"fields": self.record_fields, "classes": ["collapse"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # The public date is set only by the workflow panel (Publish / Reschedule).
        return ["rendered_body_ru", "rendered_body_en", "public_date", *self.record_fields]

    @admin.display(description=_("publication date"))
    def public_date(self, obj):
        if obj is None or obj.published_at is None:
            return gettext("not set yet: it is set when the release is published")
        when = date_format(timezone.localtime(obj.published_at), "DATETIME_FORMAT")
        if is_scheduled(obj):
            return gettext("scheduled for %(when)s (%(zone)s)") % {
                "when": when,
                "zone": time_zone_name(),
            }
        return f"{when} ({time_zone_name()})"

    @admin.display(description=_("body (Russian)"))
    def rendered_body_ru(self, obj):
        return mark_safe(f'<div class="newsroom-body">{sanitize_html(obj.body_ru)}</div>')

    @admin.display(description=_("body (English)"))
    def rendered_body_en(self, obj):
        return mark_safe(f'<div class="newsroom-body">{sanitize_html(obj.body_en)}</div>')

    def own_author_profile(self, request) -> Author | None:
        """The signing author linked to the signed-in user, if any (looked up once)."""
        if not hasattr(request, "_newsroom_author_profile"):
            request._newsroom_author_profile = Author.objects.filter(user=request.user).first()
        return request._newsroom_author_profile

    def get_inlines(self, request, obj):
        # Documents and photos (news/newsroom/attachments.py, which builds on this module).
        from news.newsroom.attachments import ReleaseDocumentInline, ReleasePhotoInline

        return [*self.inlines, ReleaseDocumentInline, ReleasePhotoInline]

    def get_formsets_with_inlines(self, request, obj=None):
        # A new release starts signed by the writer's own author profile, if they have one.
        profile = self.own_author_profile(request) if obj is None else None
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            if isinstance(inline, ReleaseAuthorInline) and obj is None:
                formset.extra = 1 if profile else 0
            if isinstance(inline, ReleaseSourceInline) and self.first_source(request, obj):
                formset.extra = 1
            yield formset, inline

    def first_source(self, request, obj) -> bool:
        """True when the release has no source yet (and may be edited): its first source is
        offered as the original page, the one a release usually has."""
        return (obj is None or not obj.sources.exists()) and (
            obj is None or self.has_change_permission(request, obj)
        )

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ReleaseAuthorInline) and request.method != "POST" and not obj.pk:
            profile = self.own_author_profile(request)
            if profile is not None:
                kwargs["initial"] = [{"author": profile.pk, "position": 0}]
        if isinstance(inline, ReleaseSourceInline) and self.first_source(
            request, obj if obj.pk else None
        ):
            # On POST too: an untouched first row is then unchanged, and not saved.
            kwargs["initial"] = [{"kind": SourceKind.ORIGINAL}]
        return kwargs

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_formsets = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for inline_formset in inline_formsets:
            if getattr(inline_formset.opts, "add_text", None):
                inline_formset.__class__ = InlineWithAddText
        return inline_formsets

    def save_model(self, request, obj, form, change):
        if change and form.is_live:
            return  # the live release stays as it is; save_related stores the pending edition
        locked = form.locked
        if change and locked is not None:
            # The row is locked since the form's clean(): this save is the next version, and
            # what only the workflow changes is taken from the locked row, not the form's copy.
            obj.version = locked.version + 1
            obj.status = locked.status
            obj.first_published_at = locked.first_published_at
            obj.published_at = locked.published_at
            obj.created_by_id = locked.created_by_id
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        obj._history_user = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not (change and form.is_live):
            return super().save_related(request, form, formsets, change)
        release = form.instance
        relations = {"categories": sorted(c.pk for c in form.cleaned_data.get("categories", []))}
        attachments = [formset for formset in formsets if hasattr(formset, "save_to_edition")]
        for formset in formsets:
            # Nothing of the live rows changes (what the admin's change message reads).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is ReleaseAuthor:
                relations["authors"] = [row["author"].pk for row in formset.rows()]
            elif formset.model is ReleaseSource:
                relations["sources"] = [
                    {f: row.get(f) or "" for f in ("url", "label_ru", "label_en", "kind")}
                    for row in formset.rows()
                ]
        content = {field: getattr(release, field) for field in diff.TEXT_LABELS if field != "image"}
        image = release.image
        content["image"] = image.file if image and not image._committed else image.name
        release._pending_edition = editions.save_pending(
            Release.objects.get(pk=release.pk),
            by=request.user,
            content=content,
            relations=relations,
            notes={field: form.cleaned_data.get(field) for field in editions.NOTE_FIELDS},
            base_version=form.cleaned_data.get("edition_version"),
            attachments_changed=any(formset.has_changed() for formset in attachments),
        )
        for formset in attachments:
            formset.save_to_edition(release._pending_edition)
        self.message_user(request, PENDING_SAVED % {"title": release}, messages.INFO)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The names the files were chosen under (the document field renames an upload after
        # its real format): what a form with errors asks to choose again.
        request._chosen_files = [upload.name for upload in request.FILES.values()]
        if request.method == "POST" and object_id is not None and "title_ru" in request.POST:
            obj = self.get_object(request, unquote(object_id))
            if (
                obj is not None
                and self.has_view_permission(request, obj)
                and not self.has_change_permission(request, obj)
            ):
                return self.edit_refused(request, obj)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def edit_refused(self, request, obj):
        """A save from someone who may no longer edit (the release moved on meanwhile): keep
        what they typed on the page, save nothing."""
        last = obj.events.select_related("actor").first()
        fields = [
            (label, request.POST.get(name, ""))
            for name, label in diff.TEXT_FIELDS
            if name != "image" and request.POST.get(name, "").strip()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Your changes were not saved"),
            "opts": self.opts,
            "original": obj,
            "status": obj.get_status_display(),
            "last_event": last,
            "submitted": fields,
            "change_url": reverse("admin:news_release_change", args=[obj.pk]),
        }
        return TemplateResponse(
            request, "admin/news/release/edit_refused.html", context, status=409
        )

    # "Save and submit" / "Save and publish": the form is saved first, then the transition acts
    # on what was just saved, so an edit followed by an action is never lost.
    SAVE_AND = {"_submit_for_review": "submit", "_save_and_publish": "publish"}

    def response_add(self, request, obj, post_url_continue=None):
        for button, transition in self.SAVE_AND.items():
            if button in request.POST:
                return self._save_and_fire(request, obj, transition)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        for button, transition in self.SAVE_AND.items():
            if button in request.POST:
                return self._save_and_fire(request, obj, transition)
        if getattr(obj, "_pending_edition", None) is not None:
            # Django would add that the release "was changed successfully": the live one was
            # not, and PENDING_SAVED has said what was saved.
            request._quiet_success = True
        return super().response_change(request, obj)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "_quiet_success", False):
            return
        super().message_user(request, message, level, *args, **kwargs)

    def _save_and_fire(self, request, obj, transition):
        self.message_user(request, gettext("Your changes were saved."), messages.SUCCESS)
        self._fire(request, obj, transition)
        return redirect("admin:news_release_change", obj.pk)

    def get_view_on_site_url(self, obj=None):
        if obj is None:
            return None
        for language in LANGUAGES:
            if obj.is_on_record(language):  # public, or withdrawn with its notice
                return obj.get_absolute_url(language)
        return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if request.method == "POST" and request.FILES:
            # The form came back with errors: nothing was saved, and a browser never keeps the
            # files chosen in it, the good ones included. Say which to choose again.
            names = ", ".join(f"“{name}”" for name in request._chosen_files)
            self.message_user(request, FILES_NOT_KEPT % {"names": names}, messages.WARNING)
        context.update(self.workflow_context(request, obj))
        form = context["adminform"].form
        if getattr(form, "conflict", None) and obj is not None:
            conflict = dict(form.conflict)
            started_from = (
                obj.history.filter(version=conflict["base_version"])
                .order_by("-history_date", "-history_id")
                .first()
            )
            if started_from is not None:
                conflict["compare_url"] = "{}?from={}".format(
                    reverse("admin:news_release_compare", args=[obj.pk]), started_from.history_id
                )
            context["conflict"] = conflict
        return super().render_change_form(request, context, add, change, form_url, obj)

    def workflow_context(self, request, release: Release | None) -> dict:
        """The side panel of the change page: status, the buttons this user may press now,
        what publishing still needs, preview links and the event timeline."""
        user = request.user
        if release is None or release.pk is None:
            return {
                "newsroom_can_save_and_submit": user.has_perm("news.submit_release"),
                "newsroom_panel": False,
            }
        transitions = []
        for transition in workflow.allowed_transitions(user, release):
            entry = {
                "name": transition.name,
                "label": transition.label,
                "url": reverse("admin:news_release_transition", args=[release.pk, transition.name]),
            }
            if transition.name in ("publish", "reschedule"):
                initial = {}
                if transition.name == "reschedule" and workflow.acts_on_edition(
                    release, "reschedule"
                ):
                    initial["at"] = timezone.localtime(release.pending_edition.publish_at)
                elif release.published_at and release.published_at > timezone.now():
                    initial["at"] = timezone.localtime(release.published_at)
                form_class = PublishForm if transition.name == "publish" else RescheduleForm
                if transition.name == "publish" and workflow.needs_second_pair(release, user):
                    form_class = ForcePublishForm  # the second pair of eyes: force, with a reason
                entry["form"] = form_class(initial=initial, auto_id=f"id_{transition.name}_%s")
            elif transition.name == "unpublish":
                entry["form"] = UnpublishForm(auto_id="id_unpublish_%s")
            elif transition.comment_required:
                entry["form"] = CommentForm(auto_id=f"id_{transition.name}_%s")
                entry["form"].fields["comment"].label = (
                    _("What should be changed?")
                    if transition.name == "request_changes"
                    else _("Reason for withdrawal")
                )
            transitions.append(entry)
        editable = self.has_change_permission(request, release)
        pending = release.pending_edition
        previews = []
        if may_preview(user, release, editable=editable):
            token = preview.make_token(release)
            for language in LANGUAGES:
                shown = pending or release
                if shown.title(language) or shown.body(language):
                    previews.append(
                        {
                            "language": language,
                            "code": language.upper(),
                            "open_url": reverse(
                                "admin:news_release_preview", args=[release.pk, language]
                            ),
                            "share_url": preview.preview_url(release, language, token),
                            "public": release.is_public(language) and pending is None,
                            "public_url": release.get_absolute_url(language),
                        }
                    )
        return {
            "newsroom_panel": True,
            "newsroom_status": status_badge(release),
            "newsroom_scheduled": is_scheduled(release),
            "newsroom_transitions": transitions,
            "newsroom_completeness": workflow.completeness_errors(release)
            if release.status in (Status.DRAFT, Status.REVIEW)
            else workflow.completeness_errors(pending)
            if pending is not None
            else [],
            "newsroom_pending": pending,
            "newsroom_pending_compare_url": reverse(
                "admin:news_release_pending_compare", args=[release.pk]
            )
            if pending is not None
            else None,
            "newsroom_languages": [
                (
                    LANGUAGE_STATE[language][0 if release.is_complete(language) else 1],
                    release.is_complete(language),
                )
                for language in LANGUAGES
            ],
            "newsroom_events": list(release.events.select_related("actor")[:50]),
            "newsroom_previews": previews,
            "newsroom_preview_expires": preview.expires_at(),
            "newsroom_preview_pending": any(not item["public"] for item in previews),
            "newsroom_history_url": reverse("admin:news_release_history", args=[release.pk]),
            "newsroom_editable": editable,
            "newsroom_can_save_and_submit": editable
            and (
                release.status == Status.DRAFT
                or (release.status == Status.PUBLISHED and (pending is None or pending.is_open))
            )
            and workflow.may_fire(user, release, "submit"),
            # Saving makes the editor the last to change the text: with the second pair of
            # eyes on, publishing their own change is for another editor (or forced, in the
            # panel, with a reason), so the shortcut is offered only when the rule is off.
            "newsroom_can_save_and_publish": editable
            and release.status == Status.REVIEW
            and workflow.may_fire(user, release, "publish")
            and not settings.SECOND_REVIEWER_REQUIRED,
        }

    # --- list columns ---

    @admin.display(description=_("title"), ordering="title_ru")
    def title_column(self, obj):
        if obj.title_en and obj.title_ru:
            return format_html(
                '{}<span class="newsroom-subtitle" lang="en">{}</span>', obj.title_ru, obj.title_en
            )
        return str(obj)

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return format_html("{} {}", status_badge(obj), pending_badge(obj))

    @admin.display(description=_("publication date"), ordering="published_at")
    def published_column(self, obj):
        if obj.published_at is None:
            return "—"
        return date_format(timezone.localtime(obj.published_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("languages"))
    def languages_column(self, obj):
        return format_html_join(
            " ",
            '<span class="newsroom-lang newsroom-lang-{}" title="{}">{}</span>',
            (
                (
                    "complete" if complete else "missing",
                    LANGUAGE_STATE[code][0 if complete else 1],
                    code.upper(),
                )
                for code, complete in (("ru", obj.ru_complete), ("en", obj.en_complete))
            ),
        )

    @admin.display(description=_("authors"))
    def authors_column(self, obj):
        return ", ".join(str(link.author) for link in obj.release_authors.all()) or "—"

    @admin.display(description=_("created by"), ordering="created_by__username")
    def created_by_column(self, obj):
        user = obj.created_by
        return (user.get_full_name() or user.get_username()) if user else "—"

    # --- workflow: buttons and list actions ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/workflow/<str:transition>/",
                view(self.transition_view),
                name="news_release_transition",
            ),
            path(
                "<path:object_id>/pending/compare/",
                view(self.pending_compare_view),
                name="news_release_pending_compare",
            ),
            path(
                "<path:object_id>/history/compare/",
                view(self.compare_view),
                name="news_release_compare",
            ),
            path(
                "<path:object_id>/history/<int:history_id>/restore/",
                view(self.restore_view),
                name="news_release_restore",
            ),
            path(
                "<path:object_id>/preview/<str:language>/",
                view(self.preview_view),
                name="news_release_preview",
            ),
            *super().get_urls(),
        ]

    def _visible_object(self, request, object_id) -> Release:
        release = self.get_object(request, unquote(object_id))
        if release is None or not self.has_view_permission(request, release):
            raise Http404(gettext("No such release."))
        return release

    def _fire(self, request, release: Release, name: str, **kwargs) -> bool:
        """Call the workflow service `name`; report the outcome as a message."""
        title = str(release)
        on_edition = workflow.acts_on_edition(release, name)
        services = {
            "submit": workflow.submit,
            "publish": workflow.publish,
            "request_changes": workflow.request_changes,
            "withdraw": workflow.withdraw,
            "unpublish": workflow.unpublish,
            "reopen": workflow.reopen,
            "recall": workflow.recall,
            "reschedule": workflow.reschedule,
            "cancel_schedule": workflow.cancel_schedule,
            "discard": workflow.discard,
            "confirm": workflow.confirm,
        }
        try:
            services[name](release, by=request.user, **kwargs)
        except PermissionDenied as error:
            message = str(error) or gettext("You are not allowed to do this.")
            self.message_user(
                request, TITLED % {"title": title, "message": message}, messages.ERROR
            )
            return False
        except ValidationError as error:
            message = " ".join(error.messages)
            self.message_user(
                request, TITLED % {"title": title, "message": message}, messages.ERROR
            )
            return False
        scheduled_edition = (
            release.editions.filter(state=EditionState.SCHEDULED).first()
            if name == "publish" or (name == "reschedule" and on_edition)
            else None
        )
        if scheduled_edition is not None:
            when = date_format(timezone.localtime(scheduled_edition.publish_at), "DATETIME_FORMAT")
            message = EDITION_SCHEDULED_MESSAGE % {"title": title, "when": when}
        elif name in ("publish", "reschedule") and is_scheduled(release):
            when = date_format(timezone.localtime(release.published_at), "DATETIME_FORMAT")
            message = SCHEDULED_MESSAGE % {"title": title, "when": when}
        elif on_edition and f"{name}_edition" in SUCCESS_MESSAGES:
            message = SUCCESS_MESSAGES[f"{name}_edition"] % {"title": title}
        else:
            message = SUCCESS_MESSAGES[name] % {"title": title}
        self.message_user(request, message, messages.SUCCESS)
        return True

    def transition_view(self, request, object_id, transition):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if transition not in workflow.TRANSITIONS:
            raise Http404(gettext("No such action."))
        release = self._visible_object(request, object_id)
        kwargs = {}
        form = None
        if transition in ("publish", "reschedule"):
            form = (ForcePublishForm if transition == "publish" else RescheduleForm)(request.POST)
        elif transition == "unpublish":
            form = UnpublishForm(request.POST)
        elif transition in ("request_changes", "withdraw"):
            form = CommentForm(request.POST)
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                message = TITLED % {"title": release, "message": " ".join(errors)}
                self.message_user(request, message, messages.ERROR)
            return redirect("admin:news_release_change", release.pk)
        if transition in ("publish", "reschedule"):
            kwargs["at"] = form.cleaned_data["at"]
        if transition == "publish":
            kwargs["force"] = form.cleaned_data["force"]
            kwargs["reason"] = form.cleaned_data["reason"]
        elif transition == "unpublish":
            kwargs["reason"] = form.cleaned_data["comment"]
            kwargs["replacement"] = form.cleaned_data["replacement"]
        elif transition == "request_changes":
            kwargs["comment"] = form.cleaned_data["comment"]
        elif transition == "withdraw":
            kwargs["reason"] = form.cleaned_data["comment"]
        self._fire(request, release, transition, **kwargs)
        return redirect("admin:news_release_change", release.pk)

    @admin.action(permissions=["submit"], description=_("Submit selected releases for review"))
    def submit_selected(self, request, queryset):
        for release in queryset.order_by("pk"):
            self._fire(request, release, "submit")

    @admin.action(permissions=["publish"], description=_("Publish selected releases"))
    def publish_selected(self, request, queryset):
        for release in queryset.order_by("pk"):
            self._fire(request, release, "publish")

    @admin.action(
        permissions=["publish"],
        description=_("Confirm the English version is up to date"),
    )
    def confirm_translation_selected(self, request, queryset):
        confirmed = sum(
            editions.confirm_translation(release, by=request.user)
            for release in queryset.filter(en_outdated_since__isnull=False).order_by("pk")
        )
        self.message_user(
            request,
            gettext("English versions confirmed as up to date: %(count)s.") % {"count": confirmed},
            messages.SUCCESS,
        )

    def pending_compare_view(self, request, object_id):
        """The pending changes of a live release against its live version (the same diff as
        between revisions), and what they change in its documents and photos."""
        release = self._visible_object(request, object_id)
        edition = release.pending_edition
        if edition is None:
            raise Http404(gettext("This release has no pending changes."))
        changes = diff.compare(diff.live_snapshot(release), diff.edition_snapshot(edition))
        context = {
            "attachment_changes": diff.attachment_changes(release, edition),
            **self.admin_site.each_context(request),
            "title": gettext("Pending changes of “%(title)s”") % {"title": release},
            "opts": self.opts,
            "original": release,
            "edition": edition,
            "changes": changes,
            "change_url": reverse("admin:news_release_change", args=[release.pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/news/release/pending_compare.html", context)

    # --- preview ---

    def preview_view(self, request, object_id, language):
        release = self._visible_object(request, object_id)
        if language not in LANGUAGES:
            raise Http404(gettext("No such language."))
        editable = self.has_change_permission(request, release)
        if not may_preview(request.user, release, editable=editable):
            raise PermissionDenied
        return HttpResponseRedirect(preview.preview_path(release, language))

    # --- revisions ---

    def history_view(self, request, object_id, extra_context=None):
        """The revisions of a release: who saved what when, with a compare form and restore."""
        release = self._visible_object(request, object_id)
        records = release.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )
        paginator = Paginator(records, 50)
        page = paginator.get_page(request.GET.get("p"))
        start = page.start_index() - 1 if paginator.count else 0
        rows = list(records[start : start + len(page.object_list) + 1])
        can_restore = self.has_change_permission(request, release)
        entries = []
        for index, record in enumerate(rows[: len(page.object_list)]):
            older = rows[index + 1] if index + 1 < len(rows) else None
            entries.append(
                {
                    "record": record,
                    "user": record.history_user,
                    "changed": diff.changed_labels(older, record) if older else [],
                    "created": older is None and record.history_type == "+",
                    "first_recorded": older is None and record.history_type != "+",
                    "reason": describe_reason(record.history_change_reason),
                    "is_current": index == 0 and page.number == 1,
                    "restore_url": reverse(
                        "admin:news_release_restore", args=[release.pk, record.history_id]
                    )
                    if can_restore
                    else None,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Revisions of “%(title)s”") % {"title": release},
            "subtitle": None,
            "opts": self.opts,
            "original": release,
            "object": release,
            "entries": entries,
            "page": page,
            "paginator": paginator,
            "compare_url": reverse("admin:news_release_compare", args=[release.pk]),
            "change_url": reverse("admin:news_release_change", args=[release.pk]),
            "can_restore": can_restore,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/news/release/revisions.html", context)

    def _record(self, release: Release, history_id) -> object:
        try:
            return release.history.select_related("history_user").get(history_id=int(history_id))
        except (TypeError, ValueError, Release.history.model.DoesNotExist) as error:
            raise Http404(gettext("No such revision.")) from error

    def compare_view(self, request, object_id):
        """A word-level diff of the text between two revisions (default: the latest two)."""
        release = self._visible_object(request, object_id)
        history = release.history.order_by("-history_date", "-history_id")
        new_id = request.GET.get("to")
        old_id = request.GET.get("from")
        new = self._record(release, new_id) if new_id else history.first()
        if new is None:
            raise Http404(gettext("No such revision."))
        if old_id:
            old = self._record(release, old_id)
        else:
            old = history.filter(history_date__lt=new.history_date).first() or new
        if (old.history_date, old.history_id) > (new.history_date, new.history_id):
            old, new = new, old
        changes = diff.compare(diff.snapshot(old), diff.snapshot(new))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Changes in “%(title)s”") % {"title": release},
            "opts": self.opts,
            "original": release,
            "old": old,
            "new": new,
            "changes": changes,
            "same_revision": old.history_id == new.history_id,
            "history_url": reverse("admin:news_release_history", args=[release.pk]),
            "change_url": reverse("admin:news_release_change", args=[release.pk]),
            "restore_url": reverse("admin:news_release_restore", args=[release.pk, old.history_id])
            if self.has_change_permission(request, release)
            else None,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/news/release/compare.html", context)

    def restore_view(self, request, object_id, history_id):
        """Restore an earlier revision: a confirmation page with the differences from the
        current text, whose POST calls `revisions.restore_revision` (refusals are messages)."""
        release = self._visible_object(request, object_id)
        record = self._record(release, history_id)
        change_url = reverse("admin:news_release_change", args=[release.pk])
        if not self.has_change_permission(request, release):
            self.message_user(
                request,
                gettext("You cannot restore a revision of a release you may not edit."),
                messages.ERROR,
            )
            return redirect(change_url)
        if request.method == "POST":
            try:
                revisions.restore_revision(
                    release,
                    revision=record,
                    by=request.user,
                    base_version=_posted_version(request),
                )
            except PermissionDenied as error:
                message = str(error) or gettext("You are not allowed to do this.")
                self.message_user(request, message, messages.ERROR)
                return redirect(change_url)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return redirect(request.path)
            self.log_change(
                request,
                release,
                gettext("Restored the revision of %(when)s (version %(version)s).")
                % {
                    "when": date_format(timezone.localtime(record.history_date), "DATETIME_FORMAT"),
                    "version": record.version,
                },
            )
            self.message_user(
                request,
                gettext("The revision of %(when)s was restored as a new version (%(version)s).")
                % {
                    "when": date_format(timezone.localtime(record.history_date), "DATETIME_FORMAT"),
                    "version": release.version,
                },
                messages.SUCCESS,
            )
            return redirect(change_url)
        current = release.history.order_by("-history_date", "-history_id").first()
        changes = diff.compare(diff.snapshot(current), diff.snapshot(record))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Restore an earlier revision of “%(title)s”") % {"title": release},
            "opts": self.opts,
            "original": release,
            "record": record,
            "changes": changes,
            "base_version": release.version,
            "history_url": reverse("admin:news_release_history", args=[release.pk]),
            "change_url": change_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/news/release/restore.html", context)


def _posted_version(request) -> int | None:
    try:
        return int(request.POST.get("base_version", ""))
    except ValueError:
        return None


def describe_reason(reason: str | None) -> str:
    """The change reason of a revision in the reader's language (workflow saves store the
    transition name, optionally followed by ': comment')."""
    if not reason:
        return ""
    name, _sep, comment = reason.partition(": ")
    if name == "restore":
        return gettext("Restored version %(version)s") % {"version": comment}
    transition = workflow.TRANSITIONS.get(name)
    if transition is None:
        return reason
    label = str(transition.label)
    return f"{label}: {comment}" if comment else label


# --- the other models ---------------------------------------------------------------------


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "position_ru", "user"]
    search_fields = ["name_ru", "name_en", "position_ru", "position_en"]
    autocomplete_fields = ["user"]
    fieldsets = [
        (_("Russian"), {"fields": ["name_ru", "position_ru"]}),
        (_("English"), {"fields": ["name_en", "position_en"]}),
        (None, {"fields": ["user"]}),
    ]

    def get_autocomplete_fields(self, request):
        # Only those who manage users get the user lookup (it needs view_user).
        return self.autocomplete_fields if request.user.has_perm("auth.view_user") else []

    def get_fieldsets(self, request, obj=None):
        if request.user.has_perm("auth.view_user"):
            return self.fieldsets
        return self.fieldsets[:2]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_en", "slug"]
    search_fields = ["name_ru", "name_en"]


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    """The workflow's audit trail: read-only for everyone, written only by news.workflow."""

    list_display = ["created_at", "release_column", "from_status", "to_status", "actor", "comment"]
    list_filter = ["to_status", "created_at"]
    list_select_related = ["release", "actor"]
    search_fields = ["release__title_ru", "release__title_en", "comment"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_all_releases(request.user):
            return queryset
        return queryset.filter(release__in=visible_releases(request.user))

    @admin.display(description=_("release"), ordering="release__title_ru")
    def release_column(self, obj):
        return str(obj.release)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
