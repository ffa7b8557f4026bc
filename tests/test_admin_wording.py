"""The newsroom's form details (issue 14): Russian wording, link text, the first source as the
original page, the image thumbnail, spell-checking in the field's language, translated roles."""

import html
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from news.models import ReleaseSource, SourceKind
from news.newsroom.forms import BODY_EDITOR_EXTENSIONS
from tests.factories import DraftFactory, SourceFactory
from tests.test_admin import change_url, jpeg, release_data

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/news/release/add/"


@pytest.fixture
def author_client(client, author_user):
    client.force_login(author_user)
    return client


def russian_page(client, url) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()


def add_texts(page: str) -> dict[str, str]:
    found = re.findall(r'data-inline-formset="([^"]+)"', page)
    data = [json.loads(html.unescape(item)) for item in found]
    return {item["options"]["prefix"]: item["options"]["addText"] for item in data}


def test_russian_admin_reads_naturally(author_client):
    page = russian_page(author_client, ADD_URL)
    assert add_texts(page) == {
        "release_authors": "Добавить автора",
        "sources": "Добавить источник",
        "documents": "Добавить документ",
        "photos": "Добавить фотографию",
    }
    assert "Сохранить и создать ещё один" in page
    assert "Сохранить и добавить другой объект" not in page
    assert "Добавить еще один" not in page
    assert "Текст ссылки (рус.)" in page
    assert "Подпись (рус.)" not in page


def test_english_admin_says_link_text(author_client):
    page = author_client.get(ADD_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Link text (Russian)" in page
    assert add_texts(page)["sources"] == "Add a source"


def test_first_source_is_offered_as_the_original_page(author_client, author_user):
    page = russian_page(author_client, ADD_URL)
    assert re.search(r'<option value="original" selected>', page)
    release = DraftFactory(created_by=author_user)
    SourceFactory(release=release, kind=SourceKind.ORIGINAL)
    page = russian_page(author_client, change_url(release))
    assert 'name="sources-1-kind"' not in page  # one existing row, no extra row
    assert "sources-__prefix__-kind" in page
    # The template for more rows keeps the model's default: related.
    empty = page[page.index('id="sources-empty"') :]
    assert re.search(r'<option value="related" selected>', empty)


def test_first_source_saved_as_original_and_an_untouched_row_is_not_saved(
    author_client, author_user
):
    release = DraftFactory(created_by=author_user)
    data = release_data(release, **{"sources-TOTAL_FORMS": "1"})
    data.update({"sources-0-url": "", "sources-0-kind": "original", "sources-0-position": "0"})
    data.update({"sources-0-label_ru": "", "sources-0-label_en": ""})
    assert author_client.post(change_url(release), data).status_code == 302
    assert not ReleaseSource.objects.exists()
    data = release_data(release, **{"sources-TOTAL_FORMS": "1"})
    release.refresh_from_db()
    data["base_version"] = str(release.version)
    data.update(
        {
            "sources-0-url": "https://cis.minsk.by/news/1",
            "sources-0-kind": "original",
            "sources-0-position": "0",
            "sources-0-label_ru": "Адрес страницы в интернете",
            "sources-0-label_en": "",
        }
    )
    assert author_client.post(change_url(release), data).status_code == 302
    assert ReleaseSource.objects.get().kind == SourceKind.ORIGINAL


def test_lead_image_shown_as_a_thumbnail(author_client, author_user):
    release = DraftFactory(created_by=author_user)
    assert "newsroom-thumbnail" not in russian_page(author_client, change_url(release))
    data = release_data(release, image=SimpleUploadedFile("lead.jpg", jpeg(), "image/jpeg"))
    author_client.post(change_url(release), data)
    release.refresh_from_db()
    page = russian_page(author_client, change_url(release))
    assert f'class="newsroom-thumbnail" src="{release.image.url}"' in page


def test_text_fields_spell_check_in_their_language(author_client):
    page = russian_page(author_client, ADD_URL)
    for name, language in (("body_ru", "ru"), ("body_en", "en"), ("title_ru", "ru")):
        tag = re.search(rf'<(?:textarea|input)[^>]*name="{name}"[^>]*>', page).group(0)
        assert f'lang="{language}"' in tag and 'spellcheck="true"' in tag
    assert BODY_EDITOR_EXTENSIONS["NoSpellCheck"] is False
    assert "NoSpellCheck" not in page


def test_role_groups_are_named_in_russian(client, superuser, author_user):
    client.force_login(superuser)
    page = russian_page(client, f"/admin/auth/user/{author_user.pk}/change/")
    assert re.search(r"<option[^>]*>Авторы</option>", page)
    assert re.search(r"<option[^>]*>Редакторы</option>", page)
    assert ">Authors</option>" not in page
    assert "Авторы" in russian_page(client, "/admin/auth/group/")
