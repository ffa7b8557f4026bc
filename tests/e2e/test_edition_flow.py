"""In a real browser: an author proposes the English version of a published Russian release
(its pending edition, with change notes); an editor compares it with the live version and
publishes it; a visitor reads both languages and the update note."""

import re

import pytest
from django.core.management import call_command

from news.models import EditionState, Release
from tests.e2e.test_admin_flow import PASSWORD, browser, open_page, type_into_editor  # noqa: F401
from tests.factories import RussianOnlyPublishedFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_author_adds_the_english_version_editor_publishes_visitor_reads(
    browser,  # noqa: F811
    live_server,
    output_dir,
):
    call_command("setup_roles", verbosity=0)
    officer = UserFactory(username="officer", role="Authors", password=PASSWORD)
    UserFactory(username="editor", role="Editors", password=PASSWORD)
    release = RussianOnlyPublishedFactory(created_by=officer, title_ru="Совет утвердил план")

    # The author proposes the English version.
    page, author_watch = open_page(browser, live_server, "officer", "en-GB")
    page.goto(f"{live_server.url}/admin/news/release/{release.pk}/change/")
    page.fill("#id_title_en", "The Council approved the plan")
    page.fill("#id_lead_en", "The plan was approved.")
    type_into_editor(page, "body_en", [("The Council ", "approved the plan")])
    page.fill("#id_change_note_ru", "Добавлена английская версия.")
    page.fill("#id_change_note_en", "English version added.")
    page.get_by_role("button", name="Save and submit for review").click()
    page.wait_for_url(re.compile(r"/admin/news/release/\d+/change/$"))
    assert "pending changes" in page.locator(".messagelist").inner_text()
    release.refresh_from_db()
    assert release.title_en == ""  # the live version is as it was
    assert release.editions.get().state == EditionState.REVIEW
    assert author_watch.problems == []

    # The editor compares it with the live version and publishes it.
    page, editor_watch = open_page(browser, live_server, "editor", "en-GB")
    page.goto(f"{live_server.url}/admin/news/release/?changes=pending")
    page.get_by_role("link", name="Совет утвердил план").click()
    page.get_by_role("link", name="Compare with the live version").click()
    assert (
        "The Council approved the plan"
        in page.locator("table.newsroom-diff ins").first.inner_text()
    )
    page.screenshot(path=str(output_dir / "pending-diff.png"), full_page=True)
    page.get_by_role("link", name="Back to the release").click()
    page.locator("button[data-transition=publish]").click()
    assert "is published" in page.locator(".messagelist").inner_text()
    assert editor_watch.problems == []

    # A visitor reads both languages and the update.
    release = Release.objects.get(pk=release.pk)
    for language, title, note in (
        ("en", "The Council approved the plan", "English version added."),
        ("ru", "Совет утвердил план", "Добавлена английская версия."),
    ):
        page.goto(f"{live_server.url}{release.get_absolute_url(language)}")
        assert page.locator("h1").inner_text() == title
        assert note in page.locator(".release-updates").inner_text()
    page.screenshot(path=str(output_dir / "updated-release.png"), full_page=True)
    assert editor_watch.problems == []
