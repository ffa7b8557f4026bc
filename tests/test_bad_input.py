"""Bad input, with corpora: XSS payloads through the importer, the admin form and workflow
comments never come out executable, on any public page, feed, preview or admin page;
malformed uploads are refused cleanly through the admin; path-like and oversized values in
every URL parameter answer 400/404 (or a redirect), never 500."""

from __future__ import annotations

import datetime
import html
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from news import importers, workflow
from news.models import Release, Status, WorkflowEvent
from news.public import preview
from tests.factories import (
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    png_claiming,
)
from tests.html_safety import csp_nonce, executable_parts

pytestmark = pytest.mark.django_db

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)" x="',
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<embed src="javascript:alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<div onmouseover="alert(1)">hover</div>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "\u202e<script>alert(1)</script>",
    "{{ request.META }}{% debug %}",
]


def corpus_chunks(size: int = 7, separator: str = " ") -> list[str]:
    """The corpus in a few strings (several payloads each), to keep the number of releases
    and pages small."""
    return [separator.join(XSS_CORPUS[i : i + size]) for i in range(0, len(XSS_CORPUS), size)]


def assert_nothing_executable(client, url: str, **extra):
    response = client.get(url, **extra)
    assert response.status_code in (200, 410), (url, response.status_code)
    content_type = response.headers.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode()
    if "html" in content_type:
        found = executable_parts(text, csp_nonce(response))
        assert found == [], (url, found)
    elif "json" in content_type:
        for item in json.loads(text).get("items", []):
            assert executable_parts(item.get("content_html", "")) == [], (url, item["id"])
    elif "xml" in content_type:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own feed; well-formed whatever the titles hold
        for element in root.iter():
            name = element.tag.split("}")[-1]
            # RSS description and content:encoded are HTML; Atom text is HTML only when typed so.
            is_html = name in ("description", "encoded") or (
                name in ("content", "summary", "title") and element.get("type") == "html"
            )
            if is_html:
                assert executable_parts(element.text or "") == [], (url, element.text[:200])
    # "{{ request.META }}{% debug %}" is shown, never evaluated as a template.
    assert "SERVER_PORT" not in text and settings.SECRET_KEY not in text
    return text


def public_surfaces(release: Release, language: str = "ru") -> list[str]:
    with_lang = f"/{language}/news/"
    return [
        release.get_absolute_url(language),
        with_lang,
        with_lang + "rss/",
        with_lang + "atom/",
        with_lang + "feed.json",
        with_lang + "search/?q=" + "заседание",
        "/sitemap.xml",
    ]


# --- XSS through the importer ----------------------------------------------------------------


def write_payload_release(folder: Path, n: int, payload: str) -> Path:
    path = folder / f"{n}.txt"
    signature = f"Пресс-служба {payload}"[:280]  # an Author name holds 300 characters
    path.write_text(
        "Исполнительный комитет СНГ\n\n"
        f"Заседание {payload} номер {n}\n\n"
        f"Первый абзац: {payload} обсуждены вопросы.\n\n"
        f"Второй абзац {payload}.\n\n"
        f"{signature}\n",
        encoding="utf-8",
    )
    return path


def test_xss_through_the_importer_is_never_executable(client, tmp_path):
    past = timezone.now() - datetime.timedelta(days=1)
    releases = []
    for n, payload in enumerate(corpus_chunks()):
        result = importers.import_file(
            write_payload_release(tmp_path, n, payload),
            language="ru",
            status=Status.PUBLISHED,
            published_at=past,
        )
        releases.append(result.release)
    for release in releases:
        release.refresh_from_db()
        # Paragraphs are text: the stored body has no markup but <p>.
        assert executable_parts(release.body_ru) == []
        assert_nothing_executable(client, release.get_absolute_url("ru"))
    for url in public_surfaces(releases[0])[1:]:
        assert_nothing_executable(client, url)
    # The payloads were shown, escaped, not dropped: the titles are what the files said.
    page = client.get(releases[0].get_absolute_url("ru")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert releases[0].title_ru.startswith("Заседание <script>alert(1)</script>")


# --- XSS through the admin form --------------------------------------------------------------


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def form_data(payload: str, n: int) -> dict:
    return {
        "title_ru": f"Заседание {payload} {n}",
        "lead_ru": f"Лид {payload}",
        "body_ru": f"<p>Текст {payload}</p>{payload}",
        "title_en": f"Meeting {payload} {n}",
        "lead_en": f"Lead {payload}",
        "body_en": f"<p>Text {payload}</p>{payload}",
        "image": SimpleUploadedFile(f"{n}.jpg", jpeg(), content_type="image/jpeg"),
        "image_alt_ru": f"Фото {payload}"[:300],
        "image_alt_en": f"Photo {payload}"[:300],
        "image_caption_ru": f"Подпись {payload}"[:500],
        "image_caption_en": f"Caption {payload}"[:500],
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "release_authors-TOTAL_FORMS": "0",
        "release_authors-INITIAL_FORMS": "0",
        "sources-TOTAL_FORMS": "1",
        "sources-INITIAL_FORMS": "0",
        "sources-0-url": f"https://example.org/{n}?q=%22%3E%3Cscript%3E",
        "sources-0-label_ru": f"Источник {payload}"[:300],
        "sources-0-label_en": f"Source {payload}"[:300],
        "sources-0-kind": "related",
        "sources-0-position": "0",
        "_save": "Save",
    }


def test_xss_through_the_admin_form_is_never_executable(
    client, author_user, editor_user, django_capture_on_commit_callbacks, run_tasks
):
    client.force_login(author_user)
    chunks = corpus_chunks()
    for n, payload in enumerate(chunks):
        response = client.post("/admin/news/release/add/", form_data(payload, n))
        assert response.status_code == 302, (payload, response.content[:3000])
    releases = list(Release.objects.order_by("pk"))
    assert len(releases) == len(chunks)
    for release in releases:
        assert executable_parts(release.body_ru) == [] and executable_parts(release.body_en) == []
        # The author's own admin pages and the preview links are safe to open.
        assert_nothing_executable(client, reverse("admin:news_release_change", args=[release.pk]))
        for language in ("ru", "en"):
            assert_nothing_executable(client, preview.preview_path(release, language))
        with django_capture_on_commit_callbacks(execute=True):
            workflow.submit(release, by=author_user)
            workflow.publish(release, by=editor_user)
    assert_nothing_executable(client, "/admin/news/release/")
    assert_nothing_executable(client, "/admin/")
    client.logout()
    for release in releases:
        for language in ("ru", "en"):
            assert_nothing_executable(client, release.get_absolute_url(language))
    for language in ("ru", "en"):
        for url in public_surfaces(releases[0], language)[1:]:
            assert_nothing_executable(client, url)
    # The notification mails are plain text only.
    run_tasks()
    assert mail.outbox
    for message in mail.outbox:
        assert message.content_subtype == "plain"
        assert getattr(message, "alternatives", []) == []


# --- XSS through workflow comments -----------------------------------------------------------


def test_xss_in_workflow_comments_is_never_executable(client, editor_user):
    """Every payload as a "request changes" comment on one release, and as a withdrawal
    reason on another (the timeline lists them all), entered through the admin."""
    client.force_login(editor_user)
    review, published = ReviewFactory(), PublishedFactory()
    for payload in XSS_CORPUS:
        url = reverse("admin:news_release_transition", args=[review.pk, "request_changes"])
        assert client.post(url, {"comment": payload}).status_code == 302
        workflow.submit(Release.objects.get(pk=review.pk), by=None)
        url = reverse("admin:news_release_transition", args=[published.pk, "withdraw"])
        assert client.post(url, {"comment": payload}).status_code == 302
        release = Release.objects.get(pk=published.pk)
        workflow.reopen(release, by=None)
        workflow.submit(release, by=None)
        workflow.publish(release, by=None)
    # The withdrawn page shows its reason to the public: every payload at once, as text.
    every_payload = "\n".join(XSS_CORPUS)
    workflow.withdraw(Release.objects.get(pk=published.pk), by=None, reason=every_payload)
    for to_status in (Status.DRAFT, Status.WITHDRAWN):
        comments = WorkflowEvent.objects.filter(to_status=to_status).values_list(
            "comment", flat=True
        )
        assert {payload.strip() for payload in XSS_CORPUS} <= set(comments)  # kept as text
    for release in (review, published):
        assert_nothing_executable(client, reverse("admin:news_release_change", args=[release.pk]))
        assert_nothing_executable(client, reverse("admin:news_release_history", args=[release.pk]))
    assert_nothing_executable(client, "/admin/news/workflowevent/")
    assert_nothing_executable(client, "/admin/news/release/")
    client.logout()
    response = client.get(published.get_absolute_url("ru"))
    assert response.status_code == 200
    assert executable_parts(response.content.decode(), csp_nonce(response)) == []


ON_POSTGRESQL = connection.vendor == "postgresql"


def test_a_long_comment_is_accepted_whole(client, editor_user):
    client.force_login(editor_user)
    release = ReviewFactory()
    comment = "Уточните, пожалуйста, даты и состав участников заседания. " * 10
    url = reverse("admin:news_release_transition", args=[release.pk, "request_changes"])
    client.raise_request_exception = False
    assert client.post(url, {"comment": comment}).status_code == 302
    assert release.events.first().comment == comment.strip()


def test_a_long_signature_like_last_paragraph_imports(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(
        "Исполнительный комитет СНГ\n\nЗаголовок\n\nПервый абзац.\n\n"
        + "Пресс-служба Исполнительного комитета сообщает, что "
        + "материалы заседания будут опубликованы позднее. " * 8
        + "\n",
        encoding="utf-8",
    )
    release = importers.import_file(path).release
    assert release.pk and Release.objects.filter(pk=release.pk).exists()


# --- malformed uploads through the admin -----------------------------------------------------


MALFORMED_UPLOADS = {
    "truncated.jpg": jpeg()[:300],
    "shell.jpg": b"<?php system($_GET['c']); ?>",
    "bomb.png": png_claiming(60_000, 60_000),
    "empty.jpg": b"",
    "script.png": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    "polyglot.gif": b"GIF89a<script>alert(1)</script>",
    "page.jpg": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "noise.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(range(256)) * 4,
}


def stored_media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.mark.parametrize("name", sorted(MALFORMED_UPLOADS))
def test_malformed_uploads_are_refused_cleanly(client, author_user, name, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    release = DraftFactory(created_by=author_user)
    client.force_login(author_user)
    before_files = stored_media_files()
    before = (release.version, release.image.name, release.title_ru)
    data = {
        **form_data("", 0),
        "title_ru": "Новый заголовок",
        "base_version": str(release.version),
        "sources-TOTAL_FORMS": "0",
        "image": SimpleUploadedFile(name, MALFORMED_UPLOADS[name], content_type="image/jpeg"),
    }
    response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 200  # the form again, with the reason
    errors = response.context["adminform"].form.errors
    assert "image" in errors
    release.refresh_from_db()
    assert (release.version, release.image.name, release.title_ru) == before
    assert stored_media_files() == before_files


def test_an_upload_over_the_byte_limit_is_refused(client, author_user):
    client.force_login(author_user)
    huge = SimpleUploadedFile("huge.jpg", b"\xff" * (settings.IMAGE_MAX_BYTES + 1))
    release = DraftFactory(created_by=author_user)
    response = client.post(
        reverse("admin:news_release_change", args=[release.pk]),
        {**form_data("", 0), "image": huge, "sources-TOTAL_FORMS": "0"},
    )
    assert response.status_code == 200
    assert "image" in response.context["adminform"].form.errors
    assert not Release.objects.get(pk=release.pk).image


# --- URL parameters --------------------------------------------------------------------------

HOSTILE_SEGMENTS = [
    "..",
    "../../../../etc/passwd",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "a%00b",
    "%ff%fe",
    "99999999999999999999999999",
    "-1",
    "<script>alert(1)<",
    "пресс-релиз",
    "x" * 5000,
]
HOSTILE_QUERY_VALUES = [
    "",
    "-1",
    "abc",
    "9" * 40,
    "a%00b",
    "%ff",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 20000,
    "слово " * 1000,
]
# Every URL with a parameter: {} is where a hostile path segment goes.
PATH_TEMPLATES = [
    "/ru/news/{}/",
    "/en/news/{}/",
    "/ru/news/1/{}/",
    "/ru/news/{}/slug/",
    "/ru/news/archive/{}/",
    "/ru/news/archive/2026/{}/",
    "/ru/news/archive/{}/01/",
    "/ru/news/category/{}/",
    "/ru/news/category/{}/rss/",
    "/en/news/category/{}/atom/",
    "/ru/news/preview/{}/",
    "/news/{}",
    "/{}/news/",
    "/static/{}",
    "/media/{}",
    "/admin/news/release/{}/change/",
    "/admin/news/release/{}/history/",
    "/admin/news/release/{}/compare/",
    "/admin/news/category/{}/change/",
    "/admin/auth/user/{}/change/",
]
PUBLIC_QUERY_TEMPLATES = [
    "/ru/news/?page={}",
    "/ru/news/search/?q={}",
    "/en/news/search/?q={}&page={}",
    "/ru/news/archive/2026/?page={}",
    "/ru/news/category/c/?page={}",
    "/sitemap-releases.xml?p={}",
    "/ru/news/rss/?page={}",
]
ADMIN_QUERY_TEMPLATES = [
    "/admin/news/release/?q={}",
    "/admin/news/release/?o={}&p={}",
    "/admin/news/release/?status__exact={}&published_at__gte={}",
    "/admin/news/release/?_changelist_filters={}",
    "/admin/news/workflowevent/?release__id__exact={}",
]
ACCEPTABLE = {200, 301, 302, 400, 404, 410}


def test_no_url_parameter_value_causes_a_server_error(client, superuser):
    category = CategoryFactory(slug="c")
    release = PublishedFactory()
    release.categories.add(category)
    client.raise_request_exception = False
    failures = []

    def check(url):
        response = client.get(url)
        body = response.content if not response.streaming else b""
        if response.status_code not in ACCEPTABLE or b"Traceback" in body:
            failures.append((url[:120], response.status_code))

    for template in PATH_TEMPLATES:
        for segment in HOSTILE_SEGMENTS:
            check(template.format(segment))
    for template in PUBLIC_QUERY_TEMPLATES:
        for value in HOSTILE_QUERY_VALUES:
            check(template.format(value, value))
    client.force_login(superuser)  # the admin's own parameters, signed in
    for template in [t for t in PATH_TEMPLATES if t.startswith("/admin/")]:
        for segment in HOSTILE_SEGMENTS:
            check(template.format(segment))
    for template in ADMIN_QUERY_TEMPLATES:
        for value in HOSTILE_QUERY_VALUES:
            check(template.format(value, value))
    assert failures == []


def test_search_and_feeds_are_bounded(client):
    from news.public import search

    PublishedFactory.create_batch(3)
    raw = " ".join(f"заседание{n}" for n in range(5000))
    response = client.get("/ru/news/search/", {"q": raw})
    assert response.status_code == 200
    # The query shown back (the search field) is the query searched for: cut to the limits.
    shown = html.unescape(
        re.search(r'<input id="search-q"[^>]* value="([^"]*)"', response.content.decode())[1]
    )
    assert 0 < len(shown) <= search.MAX_QUERY_LENGTH
    assert raw.startswith(shown)
    assert search.parse(raw).terms == tuple(shown.split()[: search.MAX_TERMS])
    for page in ("0", "-1", "abc", "100000", "9" * 30):
        assert client.get("/ru/news/", {"page": page}).status_code == 404, page


@pytest.mark.parametrize("url", ["/ru/news/rss/", "/ru/news/atom/", "/ru/news/feed.json"])
def test_feeds_hold_at_most_feed_items(client, settings, url):
    settings.FEED_ITEMS = 3
    PublishedFactory.create_batch(5)
    body = client.get(url).content
    if url.endswith("json"):
        count = len(json.loads(body)["items"])
    else:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own feed
        count = sum(1 for e in root.iter() if e.tag.split("}")[-1] in ("item", "entry"))
    assert count == 3


def test_oversized_slug_and_token_values_do_not_reach_the_database(
    client, django_assert_max_num_queries
):
    release = PublishedFactory()
    # A forged preview token is refused by its signature, before any query.
    with django_assert_max_num_queries(0):
        assert client.get(f"/ru/news/preview/{'x' * 5000}/").status_code == 404
    long_slug = release.get_absolute_url("ru").rstrip("/") + "x" * 3000 + "/"
    assert client.get(long_slug).status_code in (301, 404)
