"""Second-factor sign-in: who must have one, enrolment, verification, and the reset of a lost
device. Devices are django-otp's (a TOTP app, static recovery codes); this module only states
the newsroom's rules around them and writes the audit entries."""

from __future__ import annotations

import logging
from base64 import b32encode

import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import record
from accounts.models import AuditEntry

logger = logging.getLogger(__name__)

RECOVERY_CODES = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def is_required_for(user) -> bool:
    """Editors and superusers must sign in with a second factor when OTP_REQUIRED is on;
    OTP_REQUIRED_FOR_AUTHORS extends the rule to Authors."""
    if not settings.OTP_REQUIRED or not user.is_authenticated or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    roles = {"Editors", "Authors"} if settings.OTP_REQUIRED_FOR_AUTHORS else {"Editors"}
    return user.groups.filter(name__in=roles).exists()


def has_device(user) -> bool:
    """Has the user a confirmed authenticator (recovery codes come with it)? One query."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def request_has_device(request) -> bool:
    """`has_device` for the request's user, asked once per request."""
    if not hasattr(request, "_has_second_factor"):
        request._has_second_factor = has_device(request.user)
    return request._has_second_factor


def pending_totp_device(user) -> TOTPDevice:
    """The authenticator being enrolled: one unconfirmed TOTP device per user, kept until it
    is confirmed with a first code, so a reload shows the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an SVG QR code, to be placed inline in the page (an
    element, no script, no style attribute, so the strict CSP lets it through)."""
    import qrcode  # only enrolment needs it, not every worker at start-up
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(device.config_url, image_factory=SvgPathImage)
    return image.to_string(encoding="unicode").replace(
        "<svg ", '<svg role="img" class="second-factor-qr" ', 1
    )


def secret_for_typing(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for authenticator apps without a camera."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def confirm_enrolment(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending authenticator with its first code: the device becomes the user's,
    recovery codes are (re)made, and this session counts as verified. Returns the recovery
    codes (shown once) or None when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(code):
        return None
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    StaticDevice.objects.filter(user=device.user).delete()
    recovery = StaticDevice.objects.create(user=device.user, name=RECOVERY_NAME)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    django_otp.login(request, device)
    record(AuditEntry.Action.SECOND_FACTOR_ENROLLED, user=device.user, request=request)
    return codes


def second_step_passed(request, device) -> None:
    """Mark this session as verified by `device` (django-otp) and audit it."""
    django_otp.login(request, device)
    record(
        AuditEntry.Action.SECOND_FACTOR_VERIFIED, user=request.user, request=request,
        detail=device.name,
    )  # fmt: skip


def second_step_failed(request) -> None:
    """A wrong second-step code counts as a failed sign-in for django-axes (which locks the
    account and address out as for wrong passwords) and is audited."""
    user = request.user
    record(AuditEntry.Action.SECOND_FACTOR_FAILED, user=user, request=request)
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username(), "second_factor": True},
        request=request,
    )


def end_sessions(user, *, keep: str | None = None) -> int:
    """End the user's sessions (all but the session key `keep`). Sessions are database
    sessions: each live one is read to see whose it is."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep:
            continue
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def reset_second_factor(user, *, by=None, request=None) -> int:
    """Forget a user's second factor (a lost phone): every device and recovery code goes, every
    session of theirs ends, and at their next sign-in they enrol again. Logged and audited.
    Returns the number of devices removed."""
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    ended = end_sessions(user)
    record(
        AuditEntry.Action.SECOND_FACTOR_RESET,
        user=user,
        request=request,
        actor=by,
        detail=f"devices: {removed}, sessions ended: {ended}",
    )
    logger.warning(
        "Second factor of %s reset by %s (%d devices, %d sessions ended)",
        user.get_username(),
        by.get_username() if by is not None else "a management command",
        removed,
        ended,
    )
    return removed
