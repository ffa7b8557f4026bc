"""The public site in headless Chromium: axe-core finds no accessibility violations on the list,
a release and search, in both languages, at 360 px and 1280 px (screenshots in the test output
folder); keyboard use, reading without JavaScript, printing. The Nu Html Checker (vnu-jar)
finds no errors in any public page.

Needs Chromium at /usr/bin/chromium, Java, and `npm ci` (axe-core, vnu-jar in node_modules);
each test says which one is missing when it has to skip."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from news import workflow
from news.models import ReleaseAuthor
from news.public import views
from tests.e2e.chromium import chromium_browser
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    RussianOnlyPublishedFactory,
    SourceFactory,
)
from tests.test_attachments import attach_document, attach_photo, docx

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WIDTHS = (360, 1280)

pytestmark = pytest.mark.e2e


def require(path: Path | str, what: str) -> None:
    if not Path(path).exists():
        pytest.skip(f"{what} is missing ({path}); install it to run this check")


@pytest.fixture
def site(transactional_db):
    """A small bilingual archive: a full release, a Russian-only one, a category, ten more."""
    category = CategoryFactory(name_ru="Миграция", name_en="Migration", slug="migration")
    author = AuthorFactory()
    now = timezone.now()
    for n in range(10):
        PublishedFactory(published_at=now - datetime.timedelta(days=30 + n)).categories.add(
            category
        )
    RussianOnlyPublishedFactory(
        title_ru="Совещание по вопросам транспорта прошло в Бишкеке",
        published_at=now - datetime.timedelta(days=2),
    )
    release = PublishedFactory(
        title_ru="Исполнительный комитет СНГ и Администрация МОМ договорились о сотрудничестве",
        lead_ru="Подписание плана состоялось 14 декабря в Минске.",
        body_ru=(
            "<p>Подписание плана состоялось 14 декабря в Минске.</p>"
            "<p>Стороны обсудили вопросы миграционной политики и противодействия торговле "
            "людьми.</p><blockquote><p>«Сотрудничество стало более конкретным», — отметил "
            "он.</p></blockquote>"
        ),
        title_en="CIS Executive Committee and IOM agreed to cooperate",
        lead_en="The plan was signed on 14 December in Minsk.",
        body_en=(
            "<p>The plan was signed on 14 December in Minsk.</p>"
            "<p>The parties discussed migration policy and countering human trafficking.</p>"
        ),
        published_at=now - datetime.timedelta(days=1),
    )
    release.categories.add(category)
    ReleaseAuthor.objects.create(release=release, author=author)
    SourceFactory(release=release, url="https://cis.minsk.by/news/437")
    with_attachments(release)
    return {"release": release, "category": category}


def with_attachments(release) -> None:
    """Two documents (one marked not accessible) and two photos of the gallery."""
    attach_document(release)
    attach_document(release, docx(), title_ru="Заявление", title_en="Statement", accessible=False)
    attach_photo(release, position=0)
    attach_photo(release, position=1, caption_en="", credit_ru="", credit_en="")


def pages(site, language: str) -> dict[str, str]:
    query = "миграционной" if language == "ru" else "migration"
    return {
        "list": f"/{language}/news/",
        "detail": site["release"].get_absolute_url(language),
        "search": f"/{language}/news/search/?q={query}",
    }


@pytest.fixture
def browser(monkeypatch):
    require(AXE, "axe-core (run `npm ci`)")
    with chromium_browser(monkeypatch) as browser:
        yield browser


def new_page(browser, width: int, **options):
    # CSP is bypassed only so that axe-core can be injected; the site's own pages need none.
    context = browser.new_context(
        viewport={"width": width, "height": 900}, bypass_csp=True, **options
    )
    page = context.new_page()
    problems = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "favicon" not in m.text else 0,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page, problems


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_axe_finds_no_violations_at_phone_and_desktop_widths(
    browser, live_server, site, language, output_dir
):
    for width in WIDTHS:
        page, problems = new_page(browser, width)
        for name, path in pages(site, language).items():
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            assert page.evaluate("document.documentElement.lang") == language
            # Responsive: nothing wider than the screen.
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, (path, width, overflow)
            page.screenshot(path=str(output_dir / f"{language}-{name}-{width}.png"), full_page=True)
            assert axe_violations(page) == [], (path, width)
        assert problems == [], problems
        page.context.close()


def test_search_highlights_word_forms_in_the_browser(browser, live_server, site, output_dir):
    page, _ = new_page(browser, 1280)
    page.goto(live_server.url + "/ru/news/search/?q=" + "МИГРАЦИОННОЙ")
    # The release that has the word itself comes first; on PostgreSQL releases that only say
    # "миграции" follow (same root).
    first = page.locator("main article").first
    assert first.locator("h2").inner_text() == site["release"].title_ru
    assert "миграционной" in first.locator("mark").all_inner_texts()
    marks = page.locator("main mark").all_inner_texts()
    assert all(mark.lower().startswith("миграц") for mark in marks)
    page.screenshot(path=str(output_dir / "ru-search-marks.png"))
    page.context.close()


def test_keyboard_skip_link_and_visible_focus(browser, live_server, site):
    page, _ = new_page(browser, 1280)
    page.goto(live_server.url + site["release"].get_absolute_url("ru"))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#content"
    box = page.locator(".skip-link").bounding_box()
    assert box["y"] >= 0, "the skip link becomes visible when focused"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    inside_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert inside_main
    page.context.close()


def test_everything_reads_without_javascript(browser, live_server, site):
    page, _ = new_page(browser, 360, java_script_enabled=False)
    page.goto(live_server.url + site["release"].get_absolute_url("en"))
    assert page.locator("h1").inner_text() == site["release"].title_en
    assert page.locator(".release-body").is_visible()
    page.goto(live_server.url + "/en/news/search/?q=cooperate")
    assert page.locator("main article h2").all_inner_texts() == [site["release"].title_en]
    page.context.close()


def test_print_shows_the_release_without_navigation(browser, live_server, site, output_dir):
    page, _ = new_page(browser, 1280)
    page.goto(live_server.url + site["release"].get_absolute_url("ru"))
    page.emulate_media(media="print")
    assert not page.locator(".navbar").is_visible()
    assert not page.locator(".sidebar").is_visible()
    assert page.locator(".release-body").is_visible()
    page.screenshot(path=str(output_dir / "ru-detail-print.png"), full_page=True)
    page.context.close()


def test_nu_html_checker_finds_no_errors(client, db, output_dir):
    java = shutil.which("java")
    if not java:
        pytest.skip("Java is not installed (apt-get install default-jre-headless)")
    require(VNU, "vnu-jar (run `npm ci`)")
    category = CategoryFactory(name_ru="Миграция", name_en="Migration", slug="migration")
    release = PublishedFactory(
        published_at=timezone.make_aware(datetime.datetime(2011, 12, 14, 15)),
        body_ru="<p>Текст <strong>с разметкой</strong>, <a href='https://example.org'>ссылкой</a>"
        "</p><ul><li>пункт</li></ul><h2>Подзаголовок</h2><p>Конец.</p>",
    )
    release.categories.add(category)
    ReleaseAuthor.objects.create(release=release, author=AuthorFactory())
    SourceFactory(release=release, url="https://cis.minsk.by/news/437")
    with_attachments(release)
    PublishedFactory.create_batch(20)
    gone = PublishedFactory()
    workflow.withdraw(gone, by=None, reason="Ошибка")
    urls = {}
    for language in ("ru", "en"):
        urls.update(
            {
                f"{language}-list": f"/{language}/news/",
                f"{language}-page2": f"/{language}/news/?page=2",
                f"{language}-detail": release.get_absolute_url(language),
                f"{language}-year": f"/{language}/news/archive/2011/",
                f"{language}-month": f"/{language}/news/archive/2011/12/",
                f"{language}-category": f"/{language}/news/category/migration/",
                f"{language}-search": f"/{language}/news/search/?q=заседание",
                f"{language}-search-empty": f"/{language}/news/search/?q=%21%21",
                f"{language}-search-nothing": f"/{language}/news/search/?q=qwertyuiop",
                f"{language}-gone": gone.get_absolute_url(language),
            }
        )
    files = []
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code in (200, 410), url
        path = output_dir / f"{name}.html"
        path.write_bytes(response.content)
        files.append(str(path))
    draft = DraftFactory()
    with_attachments(draft)
    preview = render_to_string(
        "news/release_detail.html",
        views.detail_context(draft, "ru", preview=True),
        request=RequestFactory().get("/ru/news/preview/x/"),
    )
    (output_dir / "ru-preview.html").write_text(preview)
    files.append(str(output_dir / "ru-preview.html"))
    result = subprocess.run(
        [java, "-jar", str(VNU), "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stderr)  # vnu writes its JSON report to stderr
    assert "version" in report, result.stderr[:500]
    problems = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m.get("type") == "error" or m.get("subType") in ("fatal", "warning")
    ]
    assert problems == []
    assert result.returncode == 0
