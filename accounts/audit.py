"""The audit log's writers: every security-relevant event becomes one `AuditEntry`.

Sign-ins, failed sign-ins (a wrong password or a wrong second-factor code), lock-outs (axes),
and changes to who may do what (groups, permissions, staff and superuser flags) are recorded by
the receivers below; enrolments and resets by `accounts.second_factor`. The person who made a
change in the admin is read from django-simple-history's request context
(`HistoryRequestMiddleware`), so the receivers need no request of their own."""

from __future__ import annotations

import ipaddress

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from accounts.models import AuditEntry
from pressservice.proxy import client_ip

User = get_user_model()
Action = AuditEntry.Action


def _ip(request) -> str | None:
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def _current_request():
    return getattr(HistoricalRecords.context, "request", None)


def _actor(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def record(action: str, *, user=None, username: str = "", request=None, actor=None, detail=""):
    """Write one audit entry (the request, when there is one, gives the address and actor)."""
    request = request if request is not None else _current_request()
    return AuditEntry.objects.create(
        action=action,
        user=user if user is not None and user.pk else None,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        actor=actor if actor is not None else _actor(request),
        detail=detail,
        ip=_ip(request),
    )


@receiver(user_logged_in, dispatch_uid="audit_signed_in")
def _signed_in(sender, request, user, **kwargs):
    record(Action.SIGNED_IN, user=user, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    if credentials.get("second_factor"):
        return  # recorded by accounts.second_factor with the account it concerns
    username = str(credentials.get("username", ""))
    record(
        Action.SIGN_IN_FAILED,
        user=User.objects.filter(**{User.USERNAME_FIELD: username}).first(),
        username=username,
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    record(
        Action.LOCKED_OUT,
        user=User.objects.filter(**{User.USERNAME_FIELD: username or ""}).first(),
        username=username or "",
        request=request,
    )


def _names(model, pk_set) -> str:
    return ", ".join(sorted(str(obj) for obj in model.objects.filter(pk__in=pk_set or ())))


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="audit_permissions")
def _roles_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    what = Action.GROUPS_CHANGED if sender is User.groups.through else Action.PERMISSIONS_CHANGED
    if reverse:  # group.user_set.add(...): instance is the group, pk_set the users
        for user in User.objects.filter(pk__in=pk_set or ()):
            record(what, user=user, detail=f"{action.removeprefix('post_')}: {instance}")
        return
    names = _names(model, pk_set) if action != "post_clear" else ""
    record(what, user=instance, detail=f"{action.removeprefix('post_')}: {names}".rstrip(": "))


_FLAGS = ("is_superuser", "is_staff", "is_active")


@receiver(pre_save, sender=User, dispatch_uid="audit_status_before")
def _remember_flags(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not instance.pk or (update_fields and not set(update_fields) & set(_FLAGS)):
        instance._audit_flags = None
        return
    instance._audit_flags = User.objects.filter(pk=instance.pk).values(*_FLAGS).first()


@receiver(post_save, sender=User, dispatch_uid="audit_status_after")
def _flags_changed(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_audit_flags", None)
    if created:
        before = {flag: False for flag in _FLAGS}
    if before is None:
        return
    changes = [
        f"{flag}: {before[flag]} → {getattr(instance, flag)}"
        for flag in _FLAGS
        if before[flag] != getattr(instance, flag)
    ]
    if changes:
        record(Action.STATUS_CHANGED, user=instance, detail="; ".join(changes))
