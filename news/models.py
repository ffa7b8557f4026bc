"""The press service's content: releases, their authors, sources and categories."""

from __future__ import annotations

import datetime
from html import unescape

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override, pgettext_lazy
from imagekit.models import ImageSpecField
from imagekit.processors import ResizeToFill, ResizeToFit, Transpose
from simple_history.models import HistoricalRecords

from news.sanitize import sanitize_html
from news.slugs import unique_slug

LANGUAGES = ("ru", "en")


def translated(russian: str, english: str, language: str) -> str:
    """A bilingual text in `language`: the English one on English pages when there is one,
    else the Russian one (the primary language), else whatever exists."""
    return (english if language == "en" else russian) or russian or english


def opening_paragraph(html: str) -> str:
    """The plain text of the first paragraph of a release's HTML text, spaces collapsed."""
    first = html.split("</p>", 1)[0] if "</p>" in html else html
    return " ".join(unescape(strip_tags(first)).split())


def is_fallback(english: str, language: str) -> bool:
    """True when an English page shows the Russian text for want of an English one."""
    return language == "en" and not english


def normalize_content(content) -> None:
    """What every save of a release's text (or of its pending edition) derives: sanitized
    bodies (a text of empty paragraphs is no text) and titles and leads on one line."""
    for field in ("body_ru", "body_en"):
        body = sanitize_html(getattr(content, field)).strip()
        setattr(content, field, body if strip_tags(body).strip() else "")
    for field in ("title_ru", "title_en", "lead_ru", "lead_en"):
        setattr(content, field, " ".join(getattr(content, field).split()))


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    UNPUBLISHED = "unpublished", _("Unpublished")


class Category(models.Model):
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name_ru"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name_ru

    def name(self, language: str) -> str:
        return translated(self.name_ru, self.name_en, language)

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.name_en or self.name_ru, Category, instance=self)
        super().save(*args, **kwargs)

    def get_absolute_url(self, language: str = "ru") -> str:
        with override(language):
            return reverse("news:category", kwargs={"slug": self.slug})


class Author(models.Model):
    """A person or a body that signs releases ("Пресс-служба Исполнительного комитета СНГ")."""

    name_ru = models.CharField(_("name (Russian)"), max_length=300)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)
    position_ru = models.CharField(_("position (Russian)"), max_length=300, blank=True)
    position_en = models.CharField(_("position (English)"), max_length=300, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profiles",
    )

    class Meta:
        ordering = ["name_ru"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            # One row per signature: the importer reuses it, and two imports meeting a new
            # signature at the same moment cannot create it twice.
            models.UniqueConstraint(
                fields=["name_ru"],
                condition=~Q(name_ru=""),
                name="author_name_ru_unique",
                violation_error_message=_("An author with this Russian name already exists."),
            ),
            models.UniqueConstraint(
                fields=["name_en"],
                condition=~Q(name_en=""),
                name="author_name_en_unique",
                violation_error_message=_("An author with this English name already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.name_ru or self.name_en

    def name(self, language: str) -> str:
        return translated(self.name_ru, self.name_en, language)

    def position(self, language: str) -> str:
        return self.position_en if language == "en" else self.position_ru

    @property
    def is_person(self) -> bool:
        """A person signs with a position or an account; otherwise the signature is a body."""
        return bool(self.user_id or self.position_ru)


class ReleaseQuerySet(models.QuerySet):
    def drafts(self) -> ReleaseQuerySet:
        return self.filter(status=Status.DRAFT)

    def in_review(self) -> ReleaseQuerySet:
        return self.filter(status=Status.REVIEW)

    def withdrawn(self) -> ReleaseQuerySet:
        return self.filter(status=Status.WITHDRAWN)

    def unpublished(self) -> ReleaseQuerySet:
        return self.filter(status=Status.UNPUBLISHED)

    def needing_review(self) -> ReleaseQuerySet:
        """Releases published by force by their own author or last editor, not yet confirmed
        by another editor."""
        return self.filter(needs_review=True)

    def on_record(
        self, language: str = "ru", *, now: datetime.datetime | None = None
    ) -> ReleaseQuerySet:
        """What keeps its public page: the public releases of `language` and the withdrawn
        ones whose `language` version was public when they were withdrawn (a withdrawn page
        shows a notice; lists, feeds, sitemap and search read `published()` only). A release
        withdrawn before its scheduled moment was never public and never is."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        return self.filter(
            Q(status=Status.PUBLISHED, published_at__lte=now or timezone.now())
            | Q(status=Status.WITHDRAWN, published_at__lte=F("withdrawn_at")),
            **{f"{language}_complete": True},
        )

    def scheduled(self, *, now: datetime.datetime | None = None) -> ReleaseQuerySet:
        """Published releases whose public moment is still ahead, the soonest first."""
        return self.filter(
            status=Status.PUBLISHED, published_at__gt=now or timezone.now()
        ).order_by("published_at")

    def published(
        self, language: str = "ru", *, now: datetime.datetime | None = None
    ) -> ReleaseQuerySet:
        """The one public rule: published, public date reached, and that language complete."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        return self.filter(
            status=Status.PUBLISHED,
            published_at__lte=now or timezone.now(),
            **{f"{language}_complete": True},
        )


class Release(models.Model):
    title_ru = models.CharField(_("title (Russian)"), max_length=500)
    title_en = models.CharField(_("title (English)"), max_length=500, blank=True)
    lead_ru = models.TextField(_("lead (Russian)"), blank=True)
    lead_en = models.TextField(_("lead (English)"), blank=True)
    body_ru = models.TextField(_("body (Russian)"), blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    ru_complete = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(title_ru__gt="") & Q(body_ru__gt=""), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("Russian version complete"),
    )
    en_complete = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(title_en__gt="") & Q(body_en__gt=""), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("English version complete"),
    )
    slug = models.SlugField(_("slug"), max_length=120, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    published_at = models.DateTimeField(
        _("publication date"),
        null=True,
        blank=True,
        help_text=_("The public date. A future date schedules the release (embargo)."),
    )
    first_published_at = models.DateTimeField(
        _("first published"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="releases_created",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="releases_updated",
    )
    image = models.ImageField(_("lead image"), upload_to="releases/%Y/%m/", blank=True)
    image_alt_ru = models.CharField(_("image alt text (Russian)"), max_length=300, blank=True)
    image_alt_en = models.CharField(_("image alt text (English)"), max_length=300, blank=True)
    image_caption_ru = models.CharField(_("image caption (Russian)"), max_length=500, blank=True)
    image_caption_en = models.CharField(_("image caption (English)"), max_length=500, blank=True)
    image_list = ImageSpecField(
        source="image",
        processors=[Transpose(), ResizeToFill(320, 200)],
        format="WEBP",
        options={"quality": 80},
    )
    image_detail = ImageSpecField(
        source="image",
        processors=[Transpose(), ResizeToFit(1024, 768, upscale=False)],
        format="WEBP",
        options={"quality": 82},
    )
    image_social = ImageSpecField(
        source="image",
        processors=[Transpose(), ResizeToFill(1200, 630)],
        format="WEBP",
        options={"quality": 85},
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="releases"
    )
    authors = models.ManyToManyField(
        Author,
        verbose_name=_("authors"),
        through="ReleaseAuthor",
        blank=True,
        related_name="releases",
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    last_major_change_at = models.DateTimeField(
        _("last major change"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the last major change (with a public change note) was published."),
    )
    en_outdated_since = models.DateTimeField(
        _("English version out of date since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when a major change edited the Russian text and left the public English "
            "text as it was."
        ),
    )
    # Withdrawal and unpublishing (news.workflow.withdraw / unpublish): what the public page
    # or the 410 answer says, kept on the row so the page reads no event.
    withdrawn_at = models.DateTimeField(
        _("withdrawn or unpublished on"), null=True, blank=True, editable=False
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True, editable=False)
    replacement = models.ForeignKey(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    # Second pair of eyes: a publication forced by its own submitter or last editor.
    needs_review = models.BooleanField(_("needs review"), default=False, editable=False)

    history = HistoricalRecords(
        excluded_fields=["ru_complete", "en_complete", "updated_at"],
        verbose_name=_("revision"),
        verbose_name_plural=_("revisions"),
    )

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        permissions = [
            ("submit_release", _("Can submit releases for review")),
            ("publish_release", _("Can publish, schedule and send back releases")),
            ("withdraw_release", _("Can withdraw, unpublish and reopen releases")),
            (
                "force_publish_release",
                _("Can publish one's own submission or change, with a reason"),
            ),
            ("edit_any_release", _("Can edit any release in any state")),
        ]
        indexes = [
            models.Index(
                fields=["-published_at", "-id"],
                name="release_public_ru_idx",
                condition=Q(status="published", ru_complete=True),
                # A list page reads what its fragments' keys need from the index alone.
                include=["version", "updated_at"],
            ),
            models.Index(
                fields=["-published_at", "-id"],
                name="release_public_en_idx",
                condition=Q(status="published", en_complete=True),
                # A list page reads what its fragments' keys need from the index alone.
                include=["version", "updated_at"],
            ),
            models.Index(fields=["status", "-updated_at"], name="release_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="release_published_has_date",
                violation_error_message=_("A published release must have a publication date."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="release_status_valid"
            ),
            models.CheckConstraint(condition=Q(slug__gt=""), name="release_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title_ru or self.title_en or f"#{self.pk}"

    def save(self, *args, **kwargs):
        normalize_content(self)
        # The slug follows the Russian title until the release is first published, then stays.
        if not self.first_published_at or not self.slug:
            self.slug = unique_slug(self.title_ru or self.title_en, Release, instance=self)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "slug"}
        super().save(*args, **kwargs)

    # Language helpers used by templates, feeds and the admin.
    def title(self, language: str) -> str:
        return getattr(self, f"title_{language}")

    def lead(self, language: str) -> str:
        return getattr(self, f"lead_{language}")

    def body(self, language: str) -> str:
        return getattr(self, f"body_{language}")

    def image_alt(self, language: str) -> str:
        return getattr(self, f"image_alt_{language}") or self.title(language)

    def image_caption(self, language: str) -> str:
        return getattr(self, f"image_caption_{language}")

    def repeats_lead(self, language: str) -> bool:
        """Whether the text opens with the lead itself (then the page shows the lead once)."""
        return bool(self.lead(language)) and opening_paragraph(self.body(language)) == " ".join(
            self.lead(language).split()
        )

    def is_complete(self, language: str) -> bool:
        """The rule of the stored `<language>_complete` columns: title and text filled (save()
        has stripped both, so this is exactly what the database computes)."""
        return bool(self.title(language) and self.body(language))

    def languages(self) -> list[str]:
        """The language versions that exist (title and body filled)."""
        return [lang for lang in LANGUAGES if self.is_complete(lang)]

    def is_public(self, language: str, *, now: datetime.datetime | None = None) -> bool:
        return (
            self.status == Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= (now or timezone.now())
            and self.is_complete(language)
        )

    def is_on_record(self, language: str, *, now: datetime.datetime | None = None) -> bool:
        """Whether `language` has a page: public, or withdrawn after it was public (the rule
        of `ReleaseQuerySet.on_record`)."""
        if self.status == Status.WITHDRAWN:
            return (
                self.published_at is not None
                and self.withdrawn_at is not None
                and self.published_at <= self.withdrawn_at
                and self.is_complete(language)
            )
        return self.is_public(language, now=now)

    def get_absolute_url(self, language: str = "ru") -> str:
        with override(language):
            return reverse("news:detail", kwargs={"pk": self.pk, "slug": self.slug})

    @property
    def public_modified_at(self) -> datetime.datetime | None:
        """The public "last modified" date (JSON-LD, feeds, sitemap): the last published major
        change, else the publication date. Minor changes leave no public trace."""
        return self.last_major_change_at or self.published_at

    @property
    def pending_edition(self) -> ReleaseEdition | None:
        """The open (draft, review or scheduled) edition of this release, read once."""
        if "_pending_edition" not in self.__dict__:
            live = self.pk and self.status == Status.PUBLISHED
            self._pending_edition = self.editions.open().first() if live else None
        return self._pending_edition

    def original_source(self) -> ReleaseSource | None:
        return next((s for s in self.sources.all() if s.kind == SourceKind.ORIGINAL), None)


class ReleaseAuthor(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="release_authors")
    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.PROTECT, related_name="release_links"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("release author")
        verbose_name_plural = _("release authors")
        constraints = [
            models.UniqueConstraint(fields=["release", "author"], name="release_author_once")
        ]

    def __str__(self) -> str:
        return str(self.author)


class SourceKind(models.TextChoices):
    ORIGINAL = "original", _("Original page")
    RELATED = "related", _("Related link")


class ReleaseSource(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField(_("URL"), max_length=1000)
    label_ru = models.CharField(_("label (Russian)"), max_length=300, blank=True)
    label_en = models.CharField(_("label (English)"), max_length=300, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=SourceKind.choices, default=SourceKind.RELATED
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="source_url_http_https",
                violation_error_message=_("A source URL must start with http:// or https://."),
            ),
            models.UniqueConstraint(
                fields=["url"],
                condition=Q(kind="original"),
                name="source_original_url_unique",
                violation_error_message=_(
                    "Another release already has this URL as its original page."
                ),
            ),
            models.UniqueConstraint(
                fields=["release"],
                condition=Q(kind="original"),
                name="source_one_original_per_release",
                violation_error_message=_("A release has at most one original page."),
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def label(self, language: str) -> str:
        return getattr(self, f"label_{language}") or self.get_kind_display()


def event_states() -> list[tuple[str, str]]:
    """The states a workflow event moves between: a release's, then an edition's own."""
    return [
        *Status.choices,
        *((value, label) for value, label in EditionState.choices if value not in Status.values),
    ]


class WorkflowEvent(models.Model):
    """One status change of a release: who, from, to, why, when. Written only by workflow.py."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workflow_events",
    )
    # A release's statuses, and for an event of a pending edition the edition's states.
    from_status = models.CharField(_("from"), max_length=16, choices=event_states)
    to_status = models.CharField(_("to"), max_length=16, choices=event_states)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    edition = models.ForeignKey(
        "ReleaseEdition",
        verbose_name=_("edition"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        help_text=_("The pending edition this event moved, when it moved one."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("workflow event")
        verbose_name_plural = _("workflow events")

    def __str__(self) -> str:
        return f"{self.release_id}: {self.from_status} → {self.to_status}"


class EditionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    SCHEDULED = "scheduled", pgettext_lazy("edition", "Scheduled")
    PUBLISHED = "published", _("Published")
    DISCARDED = "discarded", _("Discarded")


OPEN_EDITION_STATES = (EditionState.DRAFT, EditionState.REVIEW, EditionState.SCHEDULED)

# The content an edition carries and publishing copies into its release.
EDITION_TEXT_FIELDS: tuple[str, ...] = (
    "title_ru",
    "lead_ru",
    "body_ru",
    "title_en",
    "lead_en",
    "body_en",
    "image",
    "image_alt_ru",
    "image_alt_en",
    "image_caption_ru",
    "image_caption_en",
)


class ReleaseEditionQuerySet(models.QuerySet):
    def open(self) -> ReleaseEditionQuerySet:
        return self.filter(state__in=OPEN_EDITION_STATES)

    def due(self, now: datetime.datetime) -> ReleaseEditionQuerySet:
        """Scheduled editions whose moment has come, the earliest first."""
        return self.filter(state=EditionState.SCHEDULED, publish_at__lte=now).order_by(
            "publish_at", "pk"
        )

    def public_updates(self) -> ReleaseEditionQuerySet:
        """Published major changes (the page's "Updates to this release"), oldest first."""
        return self.filter(state=EditionState.PUBLISHED, minor_change=False).order_by(
            "published_at", "pk"
        )


def _person(verbose_name, related_name: str) -> models.ForeignKey:
    """Who did something to an edition (kept as None when the account is deleted)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
    )


class ReleaseEdition(models.Model):
    """A new edition of a release that has a live version: the changed content, reviewed and
    published while the release row keeps serving the live content. Published editions stay
    as the public record of changes (their notes)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="editions")
    state = models.CharField(
        _("state"), max_length=16, choices=EditionState.choices, default=EditionState.DRAFT
    )
    title_ru = models.CharField(_("title (Russian)"), max_length=500)
    title_en = models.CharField(_("title (English)"), max_length=500, blank=True)
    lead_ru = models.TextField(_("lead (Russian)"), blank=True)
    lead_en = models.TextField(_("lead (English)"), blank=True)
    body_ru = models.TextField(_("body (Russian)"), blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    image = models.ImageField(_("lead image"), upload_to="releases/%Y/%m/", blank=True)
    image_alt_ru = models.CharField(_("image alt text (Russian)"), max_length=300, blank=True)
    image_alt_en = models.CharField(_("image alt text (English)"), max_length=300, blank=True)
    image_caption_ru = models.CharField(_("image caption (Russian)"), max_length=500, blank=True)
    image_caption_en = models.CharField(_("image caption (English)"), max_length=500, blank=True)
    # {"categories": [id, ...], "authors": [id, ...] (signing order),
    #  "sources": [{"url", "label_ru", "label_en", "kind"}, ...] (in order)}
    relations = models.JSONField(_("categories, authors and sources"), default=dict, blank=True)
    change_note_ru = models.TextField(_("change note (Russian)"), blank=True)
    change_note_en = models.TextField(_("change note (English)"), blank=True)
    minor_change = models.BooleanField(_("minor change"), default=False)
    correction = models.BooleanField(_("correction"), default=False)
    publish_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = _person(_("created by"), "editions_created")
    submitted_by = _person(_("submitted by"), "editions_submitted")
    text_changed_by = _person(_("text last changed by"), "editions_changed")

    history = HistoricalRecords(
        verbose_name=_("edition revision"), verbose_name_plural=_("edition revisions")
    )

    objects = ReleaseEditionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("edition")
        verbose_name_plural = _("editions")
        constraints = [
            models.UniqueConstraint(
                fields=["release"],
                condition=Q(state__in=["draft", "review", "scheduled"]),
                name="edition_one_open_per_release",
                violation_error_message=_("This release already has pending changes."),
            ),
            models.CheckConstraint(
                condition=~Q(state="scheduled") | Q(publish_at__isnull=False),
                name="edition_scheduled_has_moment",
            ),
            models.CheckConstraint(
                condition=Q(minor_change=False) | Q(correction=False),
                name="edition_correction_is_major",
            ),
        ]
        indexes = [
            models.Index(
                fields=["publish_at"],
                name="edition_scheduled_idx",
                condition=Q(state="scheduled"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release_id}: {self.get_state_display()}"

    def save(self, *args, **kwargs):
        normalize_content(self)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_EDITION_STATES

    def title(self, language: str) -> str:
        return getattr(self, f"title_{language}")

    def body(self, language: str) -> str:
        return getattr(self, f"body_{language}")

    def is_complete(self, language: str) -> bool:
        return bool(self.title(language) and self.body(language))

    def note(self, language: str) -> str:
        return translated(self.change_note_ru, self.change_note_en, language)


# Models in their own packages that belong to this app: documents and photos of releases
# (news/attachments/) and the journalists' (news/journalists/).
from news.attachments.models import ReleaseDocument, ReleasePhoto  # noqa: E402, F401
from news.journalists.models import (  # noqa: E402, F401
    Delivery,
    EmbargoView,
    Journalist,
    Subscriber,
)
