"""A day in the newsroom, in Russian, in Chromium: the author writes and submits, the editor
edits and publishes in one go (a panel button with unsaved edits asks first), a scheduled
release can be moved or cancelled, the administrator invites a colleague. The screenshots are
the ones docs/newsroom-guide.md shows (docs/img/), so the guide stays current with the UI."""

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from news.models import Release, Status
from tests.e2e.chromium import chromium_browser
from tests.e2e.test_admin_flow import PASSWORD, Watcher
from tests.factories import AuthorFactory, CategoryFactory, ScheduledFactory, UserFactory

pytestmark = pytest.mark.e2e

# The guide's pictures are rewritten only when asked (`GUIDE_SCREENSHOTS=1 make test`), so a
# test run leaves the checkout as it was; otherwise they go to test-results/.
IMAGES = Path(__file__).resolve().parents[2] / (
    "docs/img" if os.environ.get("GUIDE_SCREENSHOTS") else "test-results/guide"
)
WIDTH = 1280


@pytest.fixture
def browser(monkeypatch):
    with chromium_browser(monkeypatch) as browser:
        yield browser


def sign_in(browser, live_server, username):
    context = browser.new_context(
        locale="ru-RU",
        extra_http_headers={"Accept-Language": "ru"},
        viewport={"width": WIDTH, "height": 900},
        timezone_id="Europe/Minsk",
    )
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page, watcher


def shot(page, name, *, full_page=False):
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"{name}.png"), full_page=full_page)


@pytest.mark.django_db(transaction=True)
def test_a_day_in_the_newsroom(browser, live_server, tmp_path):
    call_command("setup_roles", verbosity=0)
    officer = UserFactory(username="officer", role="Authors", first_name="Ольга", password=PASSWORD)
    UserFactory(username="editor", role="Editors", first_name="Пётр", password=PASSWORD)
    UserFactory(username="root", is_superuser=True, password=PASSWORD)
    AuthorFactory(name_ru="Ольга Петрова", user=officer)
    CategoryFactory(name_ru="Миграция", name_en="Migration")
    photo = tmp_path / "lead.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (40, 90, 150)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    # --- the author writes, with the first source offered as the original page ----------
    page, author_watch = sign_in(browser, live_server, "officer")
    shot(page, "01-index")
    page.goto(f"{live_server.url}/admin/news/release/add/")
    page.fill("#id_title_ru", "Эксперты обсудили миграционную политику")
    page.fill("#id_lead_ru", "В Минске прошло совещание экспертов по миграции.")
    editor = page.locator(".field-body_ru .tiptap.ProseMirror")
    editor.click()
    page.keyboard.type("Стороны согласовали план совместных действий.")
    assert editor.get_attribute("lang") == "ru"
    assert editor.get_attribute("spellcheck") == "true"
    page.get_by_label("Миграция").check()
    page.set_input_files("#id_image", str(photo))
    page.fill("#id_image_alt_ru", "Участники совещания за столом")
    assert page.locator("#id_sources-0-kind").input_value() == "original"
    page.fill("#id_sources-0-url", "https://cis.minsk.by/news/1")
    page.fill("#id_sources-0-label_ru", "Адрес страницы в интернете")
    shot(page, "02-release-form", full_page=True)
    page.get_by_role("button", name="Сохранить и отправить на проверку").click()
    page.wait_for_url(re.compile(r"/admin/news/release/\d+/change/$"))
    release = Release.objects.get()
    assert release.status == Status.REVIEW
    assert release.sources.get().kind == "original"
    assert page.locator("button[data-transition=recall]").is_visible()
    shot(page, "03-submitted")
    assert author_watch.problems == []

    # --- the editor: a panel button with unsaved edits asks; publishing what was submitted -
    page, editor_watch = sign_in(browser, live_server, "editor")
    page.goto(f"{live_server.url}/admin/news/release/?view=review")
    shot(page, "04-review-queue")
    page.get_by_role("link", name="Эксперты обсудили миграционную политику").click()
    assert "Europe/Minsk (UTC+3)" in page.locator(".newsroom-action-publish").inner_text()
    # The thumbnail is lazy: wait for it to load and take its size.
    expect(page.locator("img.newsroom-thumbnail")).to_be_visible()
    shot(page, "05-review")
    page.fill("#id_title_ru", "Эксперты обсудили миграционную политику СНГ")
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("button[data-transition=publish]").click()
    assert questions and "несохранённые изменения" in questions[0]
    release.refresh_from_db()
    assert release.status == Status.REVIEW
    # The editor who changes the text would be its last author (the second pair of eyes): he
    # leaves the wording to the author and publishes what the author submitted.
    assert page.get_by_role("button", name="Сохранить и опубликовать").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.reload()
    page.locator("button[data-transition=publish]").click()
    page.wait_for_url(re.compile(r"/admin/news/release/\d+/change/$"))
    release.refresh_from_db()
    assert (release.status, release.title_ru) == (
        Status.PUBLISHED,
        "Эксперты обсудили миграционную политику",
    )
    assert "опубликован" in page.locator(".messagelist").inner_text()

    # --- a scheduled release: reschedule or cancel, the time zone named -----------------
    scheduled = ScheduledFactory(title_ru="Заседание Совета министров иностранных дел")
    page.goto(f"{live_server.url}/admin/news/release/{scheduled.pk}/change/")
    assert page.locator("button[data-transition=reschedule]").is_visible()
    assert page.locator("button[data-transition=cancel_schedule]").is_visible()
    shot(page, "06-scheduled")

    # --- the list is readable at 1280 px ------------------------------------------------
    page.goto(f"{live_server.url}/admin/news/release/")
    title = page.locator("#result_list .field-title_column").first.bounding_box(timeout=5000)
    assert title["width"] >= 300
    shot(page, "07-release-list")
    assert editor_watch.problems == []

    # --- the administrator invites a colleague ------------------------------------------
    page, admin_watch = sign_in(browser, live_server, "root")
    page.goto(f"{live_server.url}/admin/invite/")
    page.fill("#id_email", "ivan.sidorov@example.org")
    page.fill("#id_name_ru", "Иван Сидоров")
    page.fill("#id_name_en", "Ivan Sidorov")
    page.get_by_label(re.compile("Пресс-секретарь")).check()
    shot(page, "08-invite")
    page.get_by_role("button", name="Отправить приглашение").click()
    assert "приглашён" in page.locator(".messagelist").inner_text()
    assert admin_watch.problems == []
