"""Documents and photo galleries of releases: what the upload accepts and refuses (nothing
stored when refused), who may fetch a file before its release is public, how a public file is
cached, and what the public page, its JSON-LD and the feed helper show, in both languages."""

import datetime
import io
import json
import re
import socket
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from freezegun import freeze_time
from PIL import Image
from pypdf import PdfWriter

from news import workflow
from news.attachments.public import enclosures
from news.attachments.validation import inspect_document
from news.cache import fragments
from news.models import ReleaseDocument, ReleasePhoto
from news.public import preview
from tests.factories import (
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    ScheduledFactory,
    UnpublishedFactory,
)
from tests.test_admin import message_texts, release_data
from tests.test_public import parse

pytestmark = pytest.mark.django_db

# --- real files, made here ----------------------------------------------------------------


def pdf(pages: int = 3, *, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def office(members: dict[str, bytes], *, mimetype: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        if mimetype:  # ODF: the first member, stored uncompressed
            package.writestr(zipfile.ZipInfo("mimetype"), mimetype, zipfile.ZIP_STORED)
        for name, data in members.items():
            package.writestr(name, data)
    return out.getvalue()


def odt() -> bytes:
    return office(
        {"content.xml": b"<office:document-content/>", "META-INF/manifest.xml": b"<m/>"},
        mimetype="application/vnd.oasis.opendocument.text",
    )


def docx() -> bytes:
    return office({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def xlsx() -> bytes:
    return office({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


def password_protected(package: bytes) -> bytes:
    """`package` with every member flagged as encrypted, in its local and central headers,
    as a ZIP saved with a password has them."""
    data = bytearray(package)
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flags] |= 0x1
            at = data.find(signature, at + 4)
    return bytes(data)


def zip_bomb(megabytes: int = 20) -> bytes:
    return office({"[Content_Types].xml": b"<Types/>", "word/document.xml": bytes(megabytes << 20)})


def jpeg(size=(800, 600)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (30, 90, 160))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make: metadata the download must not carry
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def stored_files() -> set[Path]:
    roots = (Path(settings.ATTACHMENTS_ROOT), Path(settings.MEDIA_ROOT))
    return {path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()}


def attach_document(release, content: bytes = b"", **fields) -> ReleaseDocument:
    content = content or pdf(3)
    info = inspect_document(ContentFile(content))
    return ReleaseDocument.objects.create(
        release=release,
        file=ContentFile(content, name=f"agreement.{info.format}"),
        title_ru=fields.pop("title_ru", "Соглашение о сотрудничестве"),
        title_en=fields.pop("title_en", "Cooperation agreement"),
        format=info.format,
        size=info.size,
        pages=info.pages,
        **fields,
    )


def attach_photo(release, **fields) -> ReleasePhoto:
    return ReleasePhoto.objects.create(
        release=release,
        image=ContentFile(jpeg(), name="ceremony.jpg"),
        alt_ru=fields.pop("alt_ru", "Министры подписывают соглашение"),
        alt_en=fields.pop("alt_en", "Ministers sign the agreement"),
        caption_ru=fields.pop("caption_ru", "Церемония подписания"),
        caption_en=fields.pop("caption_en", "The signing ceremony"),
        credit_ru=fields.pop("credit_ru", "Пресс-служба"),
        credit_en=fields.pop("credit_en", "Press service"),
        **fields,
    )


# --- what an upload accepts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected", "pages"),
    [(lambda: pdf(3), "pdf", 3), (odt, "odt", None), (docx, "docx", None), (xlsx, "xlsx", None)],
)
def test_real_documents_are_recognised_from_their_content(make, expected, pages):
    content = make()
    info = inspect_document(ContentFile(content))
    assert (info.format, info.size, info.pages) == (expected, len(content), pages)


BAD_FILES = {
    "empty": ("agreement.pdf", lambda: b"", "The file is empty."),
    "renamed program": (
        "agreement.pdf",
        lambda: b"MZ\x90\x00\x03" + bytes(200),
        "This file is a program, not a document",
    ),
    "encrypted PDF": (
        "agreement.pdf",
        lambda: pdf(2, password="secret"),
        "The PDF file is encrypted or password-protected",
    ),
    "truncated PDF": (
        "agreement.pdf",
        lambda: pdf(3)[:300],
        "The PDF file is damaged or incomplete",
    ),
    "zip bomb": ("statement.docx", zip_bomb, "(a ZIP bomb?)"),
    "password-protected DOCX": (
        "statement.docx",
        lambda: password_protected(docx()),
        "The office file is encrypted or password-protected",
    ),
    "ODT encrypted by the office suite": (
        "statement.odt",
        lambda: office(
            {
                "content.xml": b"\x8f\x02binary",
                "META-INF/manifest.xml": b"<manifest:encryption-data manifest:checksum='x'/>",
            },
            mimetype="application/vnd.oasis.opendocument.text",
        ),
        "The office file is encrypted or password-protected",
    ),
    "Word's password-protected DOCX (an OLE container)": (
        "statement.docx",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
        "an office file in an old format (DOC, XLS) or protected with a password",
    ),
    "ODT with Basic macros": (
        "statement.odt",
        lambda: office(
            {
                "content.xml": b"<office:document-content/>",
                "META-INF/manifest.xml": b"<m/>",
                "Basic/Standard/Module1.xml": b"<script:module/>",
            },
            mimetype="application/vnd.oasis.opendocument.text",
        ),
        "The office file contains macros",
    ),
    "macro-enabled DOCM renamed .docx": (
        "statement.docx",
        lambda: office(
            {
                "[Content_Types].xml": b"<Types/>",
                "word/document.xml": b"<w:document/>",
                "word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro",
            }
        ),
        "The office file contains macros",
    ),
    "zip that is no office file": (
        "statement.docx",
        lambda: office({"readme.txt": b"hello"}),
        "This file is not a document in an allowed format",
    ),
    "text renamed .docx": (
        "statement.docx",
        lambda: "Просто текст".encode(),
        "This file is not a document in an allowed format",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_each_bad_file_is_refused_with_its_message(case):
    name, make, message = BAD_FILES[case]
    with override("en"), pytest.raises(ValidationError) as refused:
        inspect_document(upload(name, make()))
    with override("en"):
        assert message in " ".join(refused.value.messages)


@override("en")
def test_the_byte_limits_are_settings(settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="too large"):
        inspect_document(upload("a.pdf", pdf(3) + bytes(1000)))
    settings.DOCUMENT_MAX_BYTES = 10 << 20
    settings.DOCUMENT_MAX_UNPACKED_BYTES = 10
    with pytest.raises(ValidationError, match="ZIP bomb"):
        inspect_document(upload("a.docx", docx()))
    settings.DOCUMENT_MAX_UNPACKED_BYTES = 10 << 20
    assert inspect_document(upload("a.docx", docx())).format == "docx"


# --- the admin: per-file errors, nothing stored -------------------------------------------


def document_rows(release, *files) -> dict:
    data = {"documents-TOTAL_FORMS": str(len(files))}
    for n, (name, content) in enumerate(files):
        data.update(
            {
                f"documents-{n}-file": upload(name, content),
                f"documents-{n}-title_ru": f"Документ {n}",
                f"documents-{n}-title_en": f"Document {n}",
                f"documents-{n}-languages": "ru+en",
                f"documents-{n}-accessible": "on",
                f"documents-{n}-position": str(n),
            }
        )
    return data


def test_the_admin_stores_a_good_document_privately_with_its_facts(client, editor_user):
    release = DraftFactory(created_by=editor_user)
    client.force_login(editor_user)
    before = stored_files()
    response = client.post(
        reverse("admin:news_release_change", args=[release.pk]),
        release_data(release, **document_rows(release, ("Соглашение.pdf", pdf(4)))),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document = release.documents.get()
    assert (document.format, document.pages, document.title_ru) == ("pdf", 4, "Документ 0")
    new = stored_files() - before
    assert len(new) == 1
    (path,) = new
    assert Path(settings.ATTACHMENTS_ROOT) in path.parents
    assert Path(settings.MEDIA_ROOT) not in path.parents
    assert path.suffix == ".pdf" and re.fullmatch(r"[0-9a-f]{32}", path.parent.name)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_admin_refuses_a_bad_file_under_its_row_and_stores_nothing(
    client, editor_user, language
):
    release = DraftFactory(created_by=editor_user)
    client.force_login(editor_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    before, version = stored_files(), release.version
    data = release_data(
        release,
        title_ru="Новый заголовок",
        **document_rows(
            release,
            ("Соглашение.PDF", pdf(2)),
            ("setup.pdf", b"MZ\x90\x00" + bytes(100)),
            ("locked.pdf", pdf(1, password="x")),
            ("locked.docx", password_protected(docx())),
        ),
    )
    response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    expected = {
        "ru": [
            "Этот файл — программа, а не документ",
            "Файл PDF зашифрован",
            "Офисный файл зашифрован",
        ],
        "en": [
            "This file is a program, not a document",
            "The PDF file is encrypted",
            "The office file is encrypted",
        ],
    }[language]
    for message in expected:
        assert message in page
    # The good file is not kept either (no browser keeps a chosen file): the page says to
    # choose each again, by name.
    again = {
        "ru": "Ничего не сохранено, и выбранные файлы не сохранились",
        "en": "Nothing was saved, and the files you chose were not kept",
    }[language]
    warning = next(m for m in message_texts(response) if again in m)
    chosen = ("Соглашение.PDF", "setup.pdf", "locked.docx")  # as chosen, not as renamed
    assert all(f"“{name}”" in warning for name in chosen)
    assert ReleaseDocument.objects.count() == 0
    assert stored_files() == before
    release.refresh_from_db()
    assert (release.title_ru, release.version) != ("Новый заголовок", version + 1)


def test_the_admin_refuses_a_disguised_photo_and_stores_nothing(client, editor_user):
    release = DraftFactory(created_by=editor_user)
    client.force_login(editor_user)
    before = stored_files()
    data = release_data(
        release,
        **{
            "photos-TOTAL_FORMS": "1",
            "photos-0-image": upload("photo.jpg", b"<?php system($_GET['c']); ?>"),
            "photos-0-alt_ru": "Фото",
            "photos-0-position": "0",
        },
    )
    response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 200
    assert "This file is not an image in an allowed format" in response.content.decode()
    assert ReleasePhoto.objects.count() == 0 and stored_files() == before


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Фото: Пресс-служба", "Пресс-служба"),
        ("фото — Иван Петров", "Иван Петров"),
        ("Photo by Ivan Petrov", "Ivan Petrov"),
        ("PHOTO: TASS", "TASS"),
        ("Фотохроника ТАСС", "Фотохроника ТАСС"),
        ("Пресс-служба", "Пресс-служба"),
    ],
)
def test_a_credit_typed_with_its_own_photo_prefix_is_not_doubled(typed, kept):
    from news.newsroom.attachments import ReleasePhotoForm

    form = ReleasePhotoForm(
        data={"alt_ru": "Министры", "credit_ru": typed, "credit_en": typed, "position": 0},
        files={"image": upload("ceremony.jpg", jpeg())},
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["credit_ru"] == kept == form.cleaned_data["credit_en"]


def test_the_document_row_names_its_facts_apart_from_its_file(client, editor_user):
    release = DraftFactory(created_by=editor_user)
    attach_document(release)
    client.force_login(editor_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = client.get(reverse("admin:news_release_change", args=[release.pk])).content.decode()
    labels = re.findall(
        r'<div class="form-row field-file_facts">\s*<div[^>]*>\s*<label>([^<]+)<', page
    )
    assert labels and set(labels) == {"Формат и размер:"}  # the row and the empty form
    credit_help = re.search(r'id="id_photos-__prefix__-credit_ru_helptext">\s*<div>([^<]+)<', page)
    assert credit_help[1] == "Только имя: «Фото:» страница добавит сама."


def test_a_form_error_without_files_says_nothing_of_files(client, editor_user):
    release = DraftFactory(created_by=editor_user)
    client.force_login(editor_user)
    data = release_data(release, title_ru="")
    response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    messages = message_texts(response)
    assert not any("files you chose" in m or "выбранные файлы" in m for m in messages)


def test_positions_order_the_documents(client, editor_user):
    release = DraftFactory(created_by=editor_user)
    first = attach_document(release, title_ru="Первый", position=0)
    second = attach_document(release, pdf(1), title_ru="Второй", position=1)
    client.force_login(editor_user)
    data = release_data(release)
    data.update({"documents-TOTAL_FORMS": "2", "documents-INITIAL_FORMS": "2"})
    for n, (document, position) in enumerate(((first, 5), (second, 1))):
        data.update(
            {
                f"documents-{n}-id": str(document.pk),
                f"documents-{n}-release": str(release.pk),
                f"documents-{n}-title_ru": document.title_ru,
                f"documents-{n}-title_en": document.title_en,
                f"documents-{n}-languages": document.languages,
                f"documents-{n}-accessible": "on",
                f"documents-{n}-position": str(position),
            }
        )
    response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 302
    assert [d.title_ru for d in release.documents.all()] == ["Второй", "Первый"]


# --- who may fetch a file -----------------------------------------------------------------

HIDDEN = {
    "draft": DraftFactory,
    "review": ReviewFactory,
    "scheduled": ScheduledFactory,
    "unpublished": UnpublishedFactory,  # (a withdrawn release keeps its page and its files)
}


@pytest.mark.parametrize("state", list(HIDDEN))
def test_a_file_of_a_release_not_public_answers_404_to_the_public(
    client, state, editor_user, other_author_user, author_user
):
    release = HIDDEN[state](created_by=author_user)
    document = attach_document(release)
    photo = attach_photo(release)
    urls = [document.file.url, photo.image.url, photo.thumbnail.url, photo.large.url]
    assert all(url.startswith("/attachments/") for url in urls)
    for url in urls:
        assert client.get(url).status_code == 404, url
    if state != "scheduled":  # (authors see scheduled releases in the newsroom: all do)
        client.force_login(other_author_user)  # another press officer: not theirs to see
        for url in urls:
            assert client.get(url).status_code == 404, url
    client.force_login(editor_user)
    response = client.get(document.file.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["Cache-Control"] == "no-store, private"


def test_the_writer_of_a_draft_and_a_preview_link_see_its_files(client, author_user):
    release = DraftFactory(created_by=author_user)
    document = attach_document(release)
    client.force_login(author_user)
    assert client.get(document.file.url).status_code == 200
    client.logout()
    token = preview.make_token(release)
    assert client.get(document.file.url, {"preview": token}).status_code == 200
    other = DraftFactory()
    assert client.get(document.file.url, {"preview": preview.make_token(other)}).status_code == 404
    assert client.get(document.file.url, {"preview": token + "x"}).status_code == 404


def test_a_scheduled_release_s_files_appear_at_its_moment(client):
    moment = timezone.now() + datetime.timedelta(hours=2)
    release = ScheduledFactory(published_at=moment)
    document = attach_document(release)
    with freeze_time(moment - datetime.timedelta(seconds=1)):
        assert client.get(document.file.url).status_code == 404
    with freeze_time(moment + datetime.timedelta(seconds=1)):
        assert client.get(document.file.url).status_code == 200


def test_a_public_file_is_served_with_long_caching(client):
    release = PublishedFactory()
    content = pdf(2)
    document = attach_document(release, content)
    photo = attach_photo(release)
    response = client.get(document.file.url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == content
    for url in (photo.image.url, photo.thumbnail.url, photo.large.url):
        assert client.get(url).status_code == 200, url
    # The same content always has the same address: a CDN may keep it for a year.
    again = attach_document(PublishedFactory(), content)
    assert again.file.name.split("/")[1] == document.file.name.split("/")[1]


def test_a_withdrawn_release_keeps_its_files_an_unpublished_one_does_not(client):
    """A withdrawn release stays on the record, its page and its documents; a release
    unpublished (published in error) takes its files with it."""
    kept, gone = PublishedFactory(), PublishedFactory()
    kept_file, gone_file = attach_document(kept), attach_document(gone)
    workflow.withdraw(kept, by=None, reason="Утратило силу")
    workflow.unpublish(gone, by=None, reason="Опубликовано по ошибке")
    assert client.get(kept_file.file.url).status_code == 200
    assert client.get(gone_file.file.url).status_code == 404


def test_guessed_names_answer_404(client):
    release = PublishedFactory()
    document = attach_document(release)
    folder = document.file.name.rsplit("/", 1)[0]
    for name in (f"{folder}/other.pdf", f"documents/../{document.file.name}", "../settings.py"):
        assert client.get(f"/attachments/{name}").status_code == 404, name
    assert client.post(document.file.url).status_code == 405


def test_a_file_replaced_on_a_draft_leaves_nothing_behind(
    client, editor_user, django_capture_on_commit_callbacks
):
    """A new upload on a draft's document row replaces the stored file: the superseded
    version (perhaps a confidential draft of the agreement) is removed from storage."""
    release = DraftFactory(created_by=editor_user)
    old = attach_document(release, pdf(2))
    old_path = Path(settings.ATTACHMENTS_ROOT) / old.file.name
    client.force_login(editor_user)
    data = release_data(release)
    data.update(
        {
            "documents-TOTAL_FORMS": "1",
            "documents-INITIAL_FORMS": "1",
            "documents-0-id": str(old.pk),
            "documents-0-release": str(release.pk),
            "documents-0-file": upload("v2.pdf", pdf(5)),
            "documents-0-title_ru": old.title_ru,
            "documents-0-title_en": old.title_en,
            "documents-0-languages": old.languages,
            "documents-0-accessible": "on",
            "documents-0-position": "0",
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 302
    (document,) = release.documents.all()
    assert document.pages == 5 and document.file.name != old.file.name
    assert (Path(settings.ATTACHMENTS_ROOT) / document.file.name).exists()
    assert not old_path.exists()
    # Saving the row again without a new file keeps its file.
    with django_capture_on_commit_callbacks(execute=True):
        document.title_ru = "Соглашение (подписано)"
        document.save()
    assert (Path(settings.ATTACHMENTS_ROOT) / document.file.name).exists()


def test_the_download_of_a_photo_is_its_upload_without_metadata(client, editor_user):
    """What journalists download is the photo as uploaded, at full size, re-encoded once
    by the form to drop its metadata (the camera, a GPS position), not once more."""
    release = DraftFactory(created_by=editor_user)
    client.force_login(editor_user)
    data = release_data(
        release,
        **{
            "photos-TOTAL_FORMS": "1",
            "photos-0-image": upload("ceremony.jpg", jpeg((1024, 768))),
            "photos-0-alt_ru": "Церемония подписания",
            "photos-0-position": "0",
        },
    )
    response = client.post(reverse("admin:news_release_change", args=[release.pk]), data)
    assert response.status_code == 302
    (photo,) = release.photos.all()
    workflow.submit(release, by=editor_user)
    client.logout()
    workflow.publish(release, by=None)
    page = client.get(release.get_absolute_url("ru")).content.decode()
    download = re.search(r'class="photo-download" href="([^"]+)"', page)[1]
    assert download == photo.image.url
    response = client.get(download)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    with photo.image.open("rb") as stored:
        assert body == stored.read()  # the stored copy itself
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (1024, 768) and image.format == "JPEG"
        assert not dict(image.getexif())


# --- the public page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "facts", "photo_words"),
    [
        ("ru", "3 страницы; язык: русский", ("Церемония подписания", "Фото: Пресс-служба")),
        ("en", "3 pages; language: Russian", ("The signing ceremony", "Photo: Press service")),
    ],
)
def test_the_release_page_lists_documents_and_gallery(client, language, facts, photo_words):
    release = PublishedFactory()
    document = attach_document(release)
    attach_document(release, docx(), title_ru="Заявление", title_en="Statement", accessible=False)
    photo = attach_photo(release)
    page = client.get(release.get_absolute_url(language)).content.decode()
    assert document.file.url in page and facts in page
    assert document.title(language) in page
    with override(language):  # the format and the size of this very file
        assert f"(PDF, {filesizeformat(document.size)}, " in page
    assert settings.ATTACHMENTS_ACCESSIBILITY_CONTACT in page  # the statement is not accessible
    assert f'alt="{photo.alt(language)}"' in page and "<figcaption>" in page
    for words in photo_words:
        assert words in page
    data = json.loads(re.search(r'application/ld\+json"[^>]*>(.*?)</script>', page, re.S)[1])
    media = data["associatedMedia"]
    assert [m["@type"] for m in media] == ["MediaObject", "MediaObject", "ImageObject"]
    assert media[0]["contentUrl"].endswith(document.file.url)


def test_russian_texts_on_the_english_page_are_marked_russian(client):
    """A screen reader reads each title, alt text and credit in its own language: an
    English page showing the Russian ones for want of English marks them `lang="ru"`."""
    release = PublishedFactory()
    attach_document(release, title_ru="Соглашение", title_en="", languages="ru")
    attach_document(release, docx(), title_ru="Заявление", title_en="Statement", languages="en")
    attach_photo(release, alt_en="", credit_en="", alt_ru="Министры", credit_ru="Пресс-служба")

    def sections(language: str):
        page = parse(client.get(release.get_absolute_url(language)).content)
        return (
            page.find("section", class_="release-documents").find_all("a"),
            page.find("section", class_="release-gallery"),
        )

    links, gallery = sections("en")
    assert [(a.text, a.find("span").attrs.get("lang")) for a in links] == [
        ("Соглашение", "ru"),
        ("Statement", None),
    ]
    assert links[0].attrs.get("hreflang") == "ru" and "hreflang" not in links[1].attrs
    image = gallery.find("img")
    assert (image.attrs["alt"], image.attrs.get("lang")) == ("Министры", "ru")
    credit = gallery.find("span", class_="photo-credit")
    assert credit.text == "Photo: Пресс-служба" and credit.find("span").attrs["lang"] == "ru"
    links, gallery = sections("ru")
    assert [a.find("span").attrs.get("lang") for a in links] == [None, None]
    # The English document's title here is its Russian one: only the link says English.
    assert links[1].attrs.get("hreflang") == "en"
    assert "lang" not in gallery.find("img").attrs
    assert gallery.find("span", class_="photo-credit").find("span") is None


def test_a_page_without_attachments_shows_no_empty_sections(client):
    release = PublishedFactory()
    page = client.get(release.get_absolute_url("ru")).content.decode()
    assert "release-documents" not in page and "release-gallery" not in page


def test_a_photo_the_storage_did_not_give_is_tried_again(client, settings):
    """A photo whose renditions fail is left out of the gallery for a few minutes, not for
    the week that the article's fragment is kept, and imagekit makes them on the next try."""
    settings.PAGE_CACHE_SECONDS = 0
    release = PublishedFactory()
    photo = attach_photo(release)
    source = Path(photo.image.path)
    away = source.rename(source.with_name("away.jpg"))  # the storage does not answer
    with freeze_time() as frozen:
        assert "release-gallery" not in client.get(release.get_absolute_url("ru")).content.decode()
        away.rename(source)
        frozen.tick(fragments.PROVISIONAL_SECONDS + 1)
        page = client.get(release.get_absolute_url("ru")).content.decode()
    assert "release-gallery" in page and f'alt="{photo.alt("ru")}"' in page


def test_the_preview_shows_attachments_that_open_with_its_token(client):
    release = DraftFactory()
    document = attach_document(release)
    page = client.get(preview.preview_path(release, "ru")).content.decode()
    link = re.search(r'href="(/attachments/documents/[^"]+)"', page)[1].replace("&amp;", "&")
    assert "?preview=" in link
    assert client.get(link).status_code == 200
    assert client.get(document.file.url).status_code == 404


def test_the_release_page_reads_attachments_in_a_fixed_number_of_queries(client):
    def cold_queries(documents: int, photos: int) -> int:
        release = PublishedFactory()
        for n in range(documents):
            attach_document(release, pdf(n + 1))
        for _ in range(photos):
            attach_photo(release)
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(release.get_absolute_url("ru")).status_code == 200
        return len(queries)

    assert cold_queries(1, 1) == cold_queries(5, 4)


def test_feeds_get_the_documents_as_enclosures():
    release = PublishedFactory()
    content = pdf(2)
    attach_document(release, content)
    attach_photo(release)
    (enclosure,) = enclosures(release, "en")
    assert enclosure["url"].startswith(settings.SITE_URL + "/attachments/documents/")
    assert (enclosure["length"], enclosure["mime_type"]) == (str(len(content)), "application/pdf")
    assert enclosure["title"] == "Cooperation agreement"


# --- S3-compatible storage, against a real S3 server on loopback (moto's server mode) -------


@pytest.fixture
def s3(settings, monkeypatch):
    """A private bucket on a moto S3 server started here on a free port, and the attachments
    storage pointed at it as `MEDIA_STORAGE=s3` does (pressservice/settings.py)."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "press-test",
        "AWS_SECRET_ACCESS_KEY": "press-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="press-media")
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "news.attachments.s3.S3AttachmentStorage",
            "OPTIONS": {
                "bucket_name": "press-media",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "custom_domain": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "default_acl": "private",
                "file_overwrite": False,
                "location": "attachments",
            },
        },
    }
    yield SimpleNamespace(client=client, endpoint=endpoint, bucket="press-media")
    server.stop()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_s3_keeps_files_private_until_the_release_is_public(s3, client, editor_user):
    release = ScheduledFactory()
    content = pdf(2)
    document = attach_document(release, content)
    key = f"attachments/{document.file.name}"
    stored = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert stored == content
    acl = s3.client.get_object_acl(Bucket=s3.bucket, Key=key)
    assert not any("AllUsers" in str(grant["Grantee"]) for grant in acl["Grants"])
    # The field's address is still the view's: before publication, 404 to the public.
    assert document.file.url.startswith("/attachments/documents/")
    assert client.get(document.file.url).status_code == 404
    # The newsroom is sent to a short-lived signed URL of the private object.
    client.force_login(editor_user)
    response = client.get(document.file.url)
    assert response.status_code == 302
    signed = response["Location"]
    assert signed.startswith(s3.endpoint) and "Signature=" in signed
    assert response["Cache-Control"] == "no-store, private"
    assert fetch(signed) == (200, content)
    # Once public: the stable address, streamed with long caching.
    client.logout()
    with freeze_time(release.published_at + datetime.timedelta(seconds=1)):
        response = client.get(document.file.url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content) == content
    # Deleting the attachment deletes the object.
    with TestCase.captureOnCommitCallbacks(execute=True):
        document.delete()
    assert s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=key).get("KeyCount") == 0


def test_s3_photo_renditions_are_private_objects_too(s3, client):
    release = DraftFactory()
    photo = attach_photo(release)
    thumbnail = photo.thumbnail.url
    assert client.get(thumbnail).status_code == 404
    keys = [item["Key"] for item in s3.client.list_objects_v2(Bucket=s3.bucket).get("Contents", [])]
    assert any(key.startswith("attachments/CACHE/images/photos/") for key in keys)
    assert all(key.startswith("attachments/") for key in keys)


def test_check_refuses_attachments_inside_the_served_media_folder(settings):
    from news.attachments.checks import attachments_are_private

    assert attachments_are_private() == []
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "news.attachments.storage.LocalAttachmentStorage",
            "OPTIONS": {"location": Path(settings.MEDIA_ROOT) / "attachments"},
        },
    }
    (error,) = attachments_are_private()
    assert error.id == "news.E101" and "MEDIA_ROOT" in error.msg


def test_the_change_form_shows_each_document_s_facts(client, editor_user):
    release = DraftFactory(created_by=editor_user)
    document = attach_document(release, pdf(4))
    attach_photo(release)
    client.force_login(editor_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = client.get(reverse("admin:news_release_change", args=[release.pk])).content.decode()
    with override("ru"):
        assert f"PDF, {filesizeformat(document.size)}, 4 с." in page
    assert 'name="photos-0-alt_ru"' in page and 'name="documents-TOTAL_FORMS"' in page


def test_an_embargoed_copy_shows_attachments_that_open_for_the_journalist(client):
    from news.journalists import Journalist
    from news.journalists.embargo import embargo_url

    release = ScheduledFactory()
    document = attach_document(release)
    journalist = Journalist.objects.create(
        name="Анна Петрова",
        outlet="ТАСС",
        email="anna@tass.example",
        languages=["ru", "en"],
        accredited_until=timezone.localdate() + datetime.timedelta(days=30),
    )
    url = embargo_url(release, journalist, "en").removeprefix(settings.SITE_URL)
    page = client.get(url).content.decode()
    link = re.search(r'href="(/attachments/documents/[^"]+)"', page)[1].replace("&amp;", "&")
    assert "?embargo=" in link and client.get(link).status_code == 200
    assert client.get(document.file.url).status_code == 404
    # The page hands out no preview link of the newsroom's (it would open the text unlogged).
    assert "preview=" not in page and "/preview/" not in page
    # Revoking the journalist closes the files at once, like the page.
    journalist.active = False
    journalist.save()
    assert client.get(url).status_code == 404
    assert client.get(link).status_code == 404
    # Another release's embargo link opens nothing of this one.
    other = ScheduledFactory()
    journalist.active = True
    journalist.save()
    foreign = embargo_url(other, journalist, "en").rsplit("/", 2)[-2]
    assert client.get(document.file.url, {"embargo": foreign}).status_code == 404
    assert client.get(document.file.url, {"embargo": "not-a-token"}).status_code == 404


@pytest.mark.parametrize("step", ["submit", "unpublish"])
def test_a_preview_link_stops_opening_files_when_the_release_moves_on(client, author_user, step):
    """A preview link dies with the next workflow step (`news.public.preview`): so do the
    release's files for its holder."""
    if step == "submit":
        release = DraftFactory(created_by=author_user)
    else:
        release = PublishedFactory(published_at=timezone.now() + datetime.timedelta(days=1))
    document = attach_document(release)
    token = preview.make_token(release)
    assert client.get(document.file.url, {"preview": token}).status_code == 200
    if step == "submit":
        workflow.submit(release, by=author_user)
    else:
        workflow.unpublish(release, by=None, reason="Опубликовано по ошибке")
    assert client.get(preview.preview_path(release, "ru", token)).status_code == 404
    assert client.get(document.file.url, {"preview": token}).status_code == 404
    fresh = preview.make_token(release)
    expected = 404 if step == "unpublish" else 200  # an unpublished release has no preview
    assert client.get(document.file.url, {"preview": fresh}).status_code == expected
