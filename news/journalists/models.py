"""Who hears from the press service by e-mail: subscribers (public, double opt-in), accredited
journalists (the embargo list), the outbox of every message (`Delivery`, one row per message
and recipient, so nothing is sent twice) and the log of embargoed copies opened."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from news.models import Category, Release

LANGUAGE_CHOICES = [("ru", _("Russian")), ("en", _("English"))]


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    DAILY = "daily", _("Daily digest")


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self) -> SubscriberQuerySet:
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)

    def following(self, release: Release, language: str) -> SubscriberQuerySet:
        """Confirmed subscribers of `language` who want everything or one of the release's
        categories."""
        categories = list(release.categories.values_list("pk", flat=True))
        return (
            self.confirmed()
            .filter(language=language)
            .filter(Q(all_categories=True) | Q(categories__in=categories))
            .distinct()
        )


class Subscriber(models.Model):
    email = models.EmailField(_("e-mail"), max_length=254)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES)
    all_categories = models.BooleanField(_("all news"), default=True)
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="subscribers"
    )
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    digest_hour = models.PositiveSmallIntegerField(_("digest hour"), default=9)
    created_at = models.DateTimeField(_("subscribed at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        constraints = [
            models.UniqueConstraint(fields=["email", "language"], name="subscriber_unique_email")
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.language})"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class JournalistQuerySet(models.QuerySet):
    def accredited(self, *, on: datetime.date | None = None) -> JournalistQuerySet:
        """Active journalists whose accreditation has not run out."""
        return self.filter(active=True, accredited_until__gte=on or timezone.localdate())


class Journalist(models.Model):
    name = models.CharField(_("name"), max_length=200)
    outlet = models.CharField(_("outlet"), max_length=200)
    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    languages = models.JSONField(
        _("languages"), default=list, help_text=_("A list of language codes: ru, en.")
    )
    accredited_until = models.DateField(_("accredited until"))
    active = models.BooleanField(_("active"), default=True)

    objects = JournalistQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("journalist")
        verbose_name_plural = _("journalists")

    def __str__(self) -> str:
        return f"{self.name} ({self.outlet})"

    def is_accredited(self, *, on: datetime.date | None = None) -> bool:
        return self.active and self.accredited_until >= (on or timezone.localdate())


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent (outcome unknown if it stays so)")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.Model):
    """One message to one address. `key` makes it happen once: whoever creates a second
    delivery with the same key gets the first."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=500)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    release = models.ForeignKey(
        Release, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    journalist = models.ForeignKey(
        Journalist, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class EmbargoView(models.Model):
    """A journalist opened their embargoed copy."""

    journalist = models.ForeignKey(
        Journalist, on_delete=models.CASCADE, related_name="embargo_views"
    )
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="embargo_views")
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES)
    viewed_at = models.DateTimeField(_("viewed at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        ordering = ["-viewed_at"]
        verbose_name = _("embargoed copy viewed")
        verbose_name_plural = _("embargoed copies viewed")

    def __str__(self) -> str:
        return f"{self.journalist} — {self.release_id} — {self.viewed_at:%Y-%m-%d %H:%M}"
