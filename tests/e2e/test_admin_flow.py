"""In a real browser: an author writes a Russian and English release with the rich-text editor,
saves and submits it; an editor publishes it; the public pages show it. No console errors and
no Content-Security-Policy violations anywhere on the way."""

import re

import pytest
from django.core.management import call_command

from news.models import Release, Status
from tests.e2e.chromium import chromium_browser
from tests.factories import AuthorFactory, CategoryFactory, UserFactory

PASSWORD = "pass-word-123"

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(monkeypatch):
    with chromium_browser(monkeypatch) as browser:
        yield browser


class Watcher:
    """Console errors, page errors and CSP violations seen by a page."""

    def __init__(self, page):
        self.problems = []
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile))"
        )
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def console(self, message):
        if message.type in ("error", "warning") and "favicon" not in message.text:
            self.problems.append(f"console {message.type}: {message.text}")


def open_page(browser, live_server, username, language):
    context = browser.new_context(
        locale=language,
        extra_http_headers={"Accept-Language": language},
        viewport={"width": 1400, "height": 1000},
    )
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page, watcher


def type_into_editor(page, field, paragraphs):
    editor = page.locator(f".field-{field} .tiptap.ProseMirror")
    editor.click()
    for n, (text, bold) in enumerate(paragraphs):
        if n:
            page.keyboard.press("Enter")
        page.keyboard.type(text)
        if bold:
            page.keyboard.press("Control+b")
            page.keyboard.type(bold)
            page.keyboard.press("Control+b")


@pytest.mark.django_db(transaction=True)
def test_author_writes_editor_publishes_public_reads(browser, live_server, output_dir):
    call_command("setup_roles", verbosity=0)
    UserFactory(username="officer", role="Authors", first_name="Ольга", password=PASSWORD)
    UserFactory(username="editor", role="Editors", first_name="Пётр", password=PASSWORD)
    AuthorFactory(name_ru="Пресс-служба Исполнительного комитета СНГ")
    category = CategoryFactory(name_ru="Миграция", name_en="Migration")

    # The author, in Russian.
    page, author_watch = open_page(browser, live_server, "officer", "ru-RU")
    assert "Редакция" in page.content()
    page.goto(f"{live_server.url}/admin/news/release/add/")
    page.fill("#id_title_ru", "Эксперты обсудили миграционную политику")
    page.fill("#id_lead_ru", "В Минске прошло совещание экспертов.")
    type_into_editor(
        page,
        "body_ru",
        [("В Минске прошло ", "совещание экспертов"), ("Стороны согласовали план.", "")],
    )
    page.keyboard.press("Enter")
    page.locator(".field-body_ru .prose-menubar button[data-name=bulletList]").click()
    page.keyboard.type("первый пункт")
    page.fill("#id_title_en", "Experts discussed migration policy")
    page.fill("#id_lead_en", "An expert meeting was held in Minsk.")
    type_into_editor(page, "body_en", [("An expert meeting was ", "held in Minsk")])
    page.get_by_label("Миграция").check()

    # The signature: an inline row with the author autocomplete.
    page.locator("#release_authors-group .add-row a").click()
    page.locator("#release_authors-group .select2-selection").first.click()
    page.locator(".select2-search__field").fill("Пресс")
    page.locator(".select2-results__option", has_text="Пресс-служба").click()

    # The menubar speaks Russian too.
    assert (
        page.locator(".field-body_ru button[data-name=bold]").get_attribute("title") == "полужирный"
    )
    page.screenshot(path=str(output_dir / "release-form.png"), full_page=True)

    page.get_by_role("button", name="Сохранить и отправить на проверку").click()
    page.wait_for_url(re.compile(r"/admin/news/release/\d+/change/$"))
    assert "отправлен на проверку" in page.locator(".messagelist").inner_text()
    release = Release.objects.get()
    assert release.status == Status.REVIEW
    assert "<strong>совещание экспертов</strong>" in release.body_ru
    assert (
        "<p>Стороны согласовали план.</p><ul><li><p>первый пункт</p></li></ul>" in release.body_ru
    )
    assert release.body_en == "<p>An expert meeting was <strong>held in Minsk</strong></p>"
    assert list(release.categories.all()) == [category]
    assert [str(link.author) for link in release.release_authors.all()] == [
        "Пресс-служба Исполнительного комитета СНГ"
    ]
    # Now read-only for the author: no editor, no save button.
    assert page.locator(".tiptap.ProseMirror").count() == 0
    assert page.locator("input[name=_save]").count() == 0
    page.screenshot(path=str(output_dir / "submitted.png"), full_page=True)
    assert author_watch.problems == []

    # The editor, in English.
    page, editor_watch = open_page(browser, live_server, "editor", "en-GB")
    queue = page.locator('[data-queue="review"]').inner_text()
    assert queue == "1"
    page.goto(f"{live_server.url}/admin/news/release/?view=review")
    page.get_by_role("link", name="Эксперты обсудили миграционную политику").click()
    page.locator("button[data-transition=publish]").click()
    assert "is published" in page.locator(".messagelist").inner_text()
    page.screenshot(path=str(output_dir / "published.png"), full_page=True)
    release.refresh_from_db()
    assert release.status == Status.PUBLISHED
    assert editor_watch.problems == []

    # The public reads both language versions.
    for language, title, text in (
        ("ru", "Эксперты обсудили миграционную политику", "совещание экспертов"),
        ("en", "Experts discussed migration policy", "held in Minsk"),
    ):
        page.goto(f"{live_server.url}{release.get_absolute_url(language)}")
        assert page.locator("h1").inner_text() == title
        assert page.locator(".release-body strong").inner_text() == text
    assert editor_watch.problems == []
