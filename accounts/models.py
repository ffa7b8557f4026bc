from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One security-relevant event: who, what, when, from where. Written by accounts.audit,
    never edited; older than AUDIT_RETENTION_DAYS it goes (`manage.py purge_audit_log`)."""

    class Action(models.TextChoices):
        SIGNED_IN = "signed_in", _("signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("sign-in failed")
        LOCKED_OUT = "locked_out", _("locked out")
        SECOND_FACTOR_VERIFIED = "second_factor_verified", _("second factor verified")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("wrong second-factor code")
        SECOND_FACTOR_ENROLLED = "second_factor_enrolled", _("second factor enrolled")
        SECOND_FACTOR_RESET = "second_factor_reset", _("second factor reset")
        GROUPS_CHANGED = "groups_changed", _("roles changed")
        PERMISSIONS_CHANGED = "permissions_changed", _("permissions changed")
        STATUS_CHANGED = "status_changed", _("staff or superuser status changed")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("what"), max_length=32, choices=Action.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The name as typed, kept when the account is unknown or deleted.
    username = models.CharField(_("user name"), max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    detail = models.TextField(_("detail"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"
