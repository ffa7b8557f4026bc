"""In a real browser, under the strict CSP: an editor signs in, is led to enrol, scans (reads)
the QR code's secret, confirms with a code computed from it, keeps the recovery codes, and on
the next sign-in passes the second step with a fresh code."""

import base64
import re

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.e2e.chromium import chromium_browser
from tests.e2e.test_admin_flow import Watcher
from tests.factories import UserFactory

PASSWORD = "pass-word-123"

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(monkeypatch):
    with chromium_browser(monkeypatch) as browser:
        yield browser


def code(secret: str, drift: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, drift=drift):06d}"


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_enrolment_and_sign_in_with_a_code(browser, live_server, settings):
    settings.OTP_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # throttling has its own test (test_second_factor)
    call_command("setup_roles", verbosity=0)
    UserFactory(username="editor", role="Editors", password=PASSWORD)
    context = browser.new_context(locale="ru-RU", extra_http_headers={"Accept-Language": "ru"})
    page = context.new_page()
    watcher = Watcher(page)

    sign_in(page, live_server)
    expect(page).to_have_url(re.compile(r"/admin/second-factor/enrol/"))
    assert page.locator("svg.second-factor-qr").is_visible()
    secret = page.locator(".second-factor-secret").inner_text()
    enrolment_code = code(secret)
    page.fill("input[name=code]", enrolment_code)
    page.click("input[type=submit]")
    codes = page.locator(".second-factor-recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click(".second-factor a.button")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()

    # Next time: password, then a fresh code (the one used to enrol cannot be replayed).
    context.clear_cookies()
    sign_in(page, live_server)
    expect(page).to_have_url(re.compile(r"/admin/second-factor/verify/"))
    page.fill("input[name=code]", enrolment_code)
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_be_visible()
    page.fill("input[name=code]", code(secret, drift=1))
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    assert watcher.problems == []
    context.close()
