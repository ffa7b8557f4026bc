"""Two-step sign-in to the newsroom (accounts/): who must have a second factor, enrolment,
the second step (wrong, replayed and recovery codes, throttling, lock-out), and the reset of a
lost device. OTP_REQUIRED is off in the test settings; these tests switch it on."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from accounts.models import AuditEntry
from tests.factories import UserFactory

PASSWORD = "pass-word-123"
ENROL = reverse("second_factor:enrol")
VERIFY = reverse("second_factor:verify")
ADMIN_URLS = [
    reverse("admin:index"),
    reverse("admin:news_release_changelist"),
    reverse("admin:news_release_add"),
    reverse("admin:auth_user_changelist"),
    reverse("admin:auth_group_changelist"),
    reverse("admin:accounts_auditentry_changelist"),
    reverse("admin:password_change"),
    reverse("admin:app_list", args=["news"]),
]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("otp_required")]


@pytest.fixture
def otp_required(settings):
    settings.OTP_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the throttle test switches it back on
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def signed_in(user) -> Client:
    """A client past the password step (the real admin login form), not the second one."""
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    client = signed_in(user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(ENROL, {"code": code_for(device)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    device.refresh_from_db()
    return device, codes


# --- Who must have a second factor ------------------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "editor_user"])
def test_without_a_device_every_admin_page_leads_to_enrolment(request, who):
    user = request.getfixturevalue(who)
    client = signed_in(user)
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(ENROL), url
    # Nor can it write anything: a POST is turned away the same way.
    response = client.post(reverse("admin:news_category_add"), {"name_ru": "x", "slug": "x"})
    assert response.status_code == 302 and response.url.startswith(ENROL)


def test_with_a_device_every_admin_page_asks_for_the_code(editor_user):
    enrolled(editor_user)
    client = signed_in(editor_user)
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(VERIFY), url


def test_an_author_is_not_asked_unless_the_setting_says_so(author_user, settings):
    client = signed_in(author_user)
    assert client.get(reverse("admin:index")).status_code == 200
    settings.OTP_REQUIRED_FOR_AUTHORS = True
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(ENROL)


def test_with_debug_on_it_is_offered_not_required(editor_user, settings):
    settings.OTP_REQUIRED = False
    client = signed_in(editor_user)
    assert client.get(reverse("admin:index")).status_code == 200
    response = client.get(ENROL)
    assert response.status_code == 200
    assert b"<svg" in response.content


def test_the_admin_header_offers_enrolment_until_there_is_a_device(editor_user, settings):
    settings.OTP_REQUIRED = False
    client = signed_in(editor_user)
    assert f'href="{ENROL}"' in client.get(reverse("admin:index")).content.decode()
    enrolled(editor_user)
    client = signed_in(editor_user)
    device = TOTPDevice.objects.get(user=editor_user)
    client.post(VERIFY, {"code": code_for(device, 1)})
    assert f'href="{ENROL}"' not in client.get(reverse("admin:index")).content.decode()


def test_an_anonymous_visitor_of_the_step_pages_is_sent_to_sign_in():
    for url in (ENROL, VERIFY):
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


# --- Enrolment ------------------------------------------------------------------------------


def test_enrolment_shows_an_inline_svg_qr_code_and_the_secret_in_both_languages(editor_user):
    client = signed_in(editor_user)
    response = client.get(ENROL, HTTP_ACCEPT_LANGUAGE="ru")
    page = response.content.decode()
    assert "Отсканируйте этот QR-код" in page
    start = page.index('<svg role="img" class="second-factor-qr"')
    svg = page[start : page.index("</svg>", start)]
    assert "<script" not in svg and "style=" not in svg and "<path" in svg
    device = TOTPDevice.objects.get(user=editor_user, confirmed=False)
    secret = re.search(r'class="second-factor-secret">([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) == 32
    # A reload shows the same pending device, not a new one.
    client.get(ENROL, HTTP_ACCEPT_LANGUAGE="en")
    assert TOTPDevice.objects.filter(user=editor_user).count() == 1
    assert "Scan this QR code" in client.get(ENROL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert device.config_url.startswith("otpauth://totp/")


def test_a_wrong_enrolment_code_confirms_nothing(editor_user):
    client = signed_in(editor_user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=editor_user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    for code in (wrong, "12ab", ""):
        response = client.post(ENROL, {"code": code})
        assert response.status_code == 200
        assert response.context["form"].errors["code"]
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=editor_user).exists()
    assert client.get(reverse("admin:index")).status_code == 302
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.SECOND_FACTOR_ENROLLED).exists()


def test_enrolment_confirms_the_device_shows_ten_recovery_codes_once_and_opens_the_admin(
    editor_user,
):
    client = signed_in(editor_user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=editor_user)
    response = client.post(ENROL, {"code": code_for(device), "next": "/admin/news/"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(set(codes)) == 10
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    device.refresh_from_db()
    assert device.confirmed
    assert TOTPDevice.objects.filter(user=editor_user).count() == 1  # no new pending one
    # This session is verified: the admin opens, and enrolment is not offered again.
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(ENROL).status_code == 302
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.SECOND_FACTOR_ENROLLED, user=editor_user
    ).exists()


# --- The second step ------------------------------------------------------------------------


def test_the_right_code_opens_the_admin_and_goes_back_where_the_user_was_going(editor_user):
    device, _codes = enrolled(editor_user)
    client = signed_in(editor_user)
    target = reverse("admin:news_release_changelist")
    response = client.get(target)
    assert response.url == f"{VERIFY}?next={target.replace('/', '%2F')}"
    response = client.post(VERIFY, {"code": code_for(device, drift=1), "next": target})
    assert response.status_code == 302 and response.url == target
    assert client.get(target).status_code == 200
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.SECOND_FACTOR_VERIFIED, user=editor_user
    ).exists()


def test_an_unsafe_next_address_is_ignored(editor_user):
    device, _codes = enrolled(editor_user)
    client = signed_in(editor_user)
    response = client.post(VERIFY, {"code": code_for(device, 1), "next": "https://evil.example/"})
    assert response.url == reverse("admin:index")


def test_a_wrong_code_is_refused_and_audited(editor_user):
    device, _codes = enrolled(editor_user)
    client = signed_in(editor_user)
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert "Код неверен" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
    assert (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.SECOND_FACTOR_FAILED, user=editor_user
        ).count()
        == 1
    )


def test_a_replayed_code_is_refused(editor_user):
    device, _codes = enrolled(editor_user)
    code = code_for(device, drift=1)
    first = signed_in(editor_user)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = signed_in(editor_user)  # an eavesdropper with the password and the seen code
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert second.get(reverse("admin:index")).status_code == 302


def test_a_recovery_code_works_once(editor_user):
    _device, codes = enrolled(editor_user)
    first = signed_in(editor_user)
    assert first.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert first.get(reverse("admin:index")).status_code == 200
    again = signed_in(editor_user)
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert again.get(reverse("admin:index")).status_code == 302
    assert StaticToken.objects.count() == 9
    assert again.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_wrong_codes_slow_the_device_down(editor_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    with freeze_time("2026-12-01 10:00:00"):
        device, _codes = enrolled(editor_user)
        client = signed_in(editor_user)
        wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"
        client.post(VERIFY, {"code": wrong})
        response = client.post(VERIFY, {"code": code_for(device, 1)})  # right, but too soon
        assert response.status_code == 200
        assert "wait" in response.content.decode()
    with freeze_time("2026-12-01 10:00:05"):
        assert client.post(VERIFY, {"code": code_for(device, 1)}).status_code == 302


def test_axes_locks_out_after_too_many_wrong_codes(editor_user, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    device, _codes = enrolled(editor_user)
    client = signed_in(editor_user)
    wrong = f"{(int(code_for(device, 1)) + 1) % 1_000_000:06d}"
    statuses = [client.post(VERIFY, {"code": wrong}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # Locked: even the right code is refused now, and the password step too.
    assert client.post(VERIFY, {"code": code_for(device, 1)}).status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302
    response = Client().post(
        reverse("admin:login"), {"username": editor_user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.LOCKED_OUT, username=editor_user.username
    ).exists()


# --- A lost device --------------------------------------------------------------------------


def test_a_superuser_resets_a_lost_device_from_the_user_admin(editor_user, superuser):
    enrolled(editor_user)
    editor = signed_in(editor_user)
    assert editor.get(reverse("admin:index")).url.startswith(VERIFY)
    admin_client = Client()
    admin_client.force_login(superuser)
    with override_settings(OTP_REQUIRED=False):
        response = admin_client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "reset_second_factor", "_selected_action": [editor_user.pk]},
        )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=editor_user).exists()
    assert not StaticDevice.objects.filter(user=editor_user).exists()
    # Their session has ended; at the next sign-in they enrol again.
    assert editor.get(reverse("admin:index")).url.startswith(reverse("admin:login"))
    assert signed_in(editor_user).get(reverse("admin:index")).url.startswith(ENROL)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SECOND_FACTOR_RESET)
    assert (entry.user, entry.actor) == (editor_user, superuser)


def test_reset_second_factor_command(editor_user, caplog):
    enrolled(editor_user)
    call_command("reset_second_factor", editor_user.username, stdout=None)
    assert not TOTPDevice.objects.filter(user=editor_user).exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SECOND_FACTOR_RESET).count() == 1
    assert "reset" in caplog.text
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("reset_second_factor", "nobody")


def test_an_editor_cannot_reset_anyones_device(editor_user, superuser):
    enrolled(superuser)
    client = Client()
    client.force_login(editor_user)
    with override_settings(OTP_REQUIRED=False):
        response = client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "reset_second_factor", "_selected_action": [superuser.pk]},
        )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=superuser, confirmed=True).exists()


@pytest.fixture
def editor_user(roles):
    return UserFactory(username="editor", role="Editors", password=PASSWORD)


@pytest.fixture
def author_user(roles):
    return UserFactory(username="officer", role="Authors", password=PASSWORD)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, password=PASSWORD)


def test_device_secrets_are_not_browsable_in_the_admin():
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
