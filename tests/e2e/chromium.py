"""Headless Chromium for the browser tests: Debian's build (Playwright cannot download its
own here), started without the background services this closed network refuses."""

import contextlib
import shutil

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def chromium_browser(monkeypatch):
    """Headless Chromium under Playwright's sync API, for a test that also uses the ORM.

    While the sync API is open it keeps an asyncio loop marked as running in this thread, so
    the test's ORM calls are allowed (DJANGO_ALLOW_ASYNC_UNSAFE: they are ordinary synchronous
    ones) and Django keeps their database connections in context-local storage. They are
    closed here, before the loop stops: afterwards they are out of reach and would outlive the
    test session (and keep PostgreSQL from dropping the test database)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()
