"""Signed preview links: a not-yet-public release as its page will look, for a limited time,
never indexed or cached; expired links answer 410, tampered ones 404."""

import datetime

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from news.public import preview
from tests.factories import (
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyDraftFactory,
    ScheduledFactory,
    UnpublishedFactory,
    WithdrawnFactory,
)

pytestmark = pytest.mark.django_db


def assert_private(response):
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_valid_link_shows_the_release_marked_as_a_preview(client, language):
    release = ReviewFactory(body_en="<p>The <strong>English</strong> text.</p>")
    response = client.get(preview.preview_path(release, language))
    assert response.status_code == 200
    assert_private(response)
    page = response.content.decode()
    assert release.title(language) in page
    assert 'class="preview-banner"' in page
    assert '<meta name="robots" content="noindex' in page
    if language == "en":
        assert "The <strong>English</strong> text." in page


def test_a_scheduled_release_can_be_previewed_before_its_time(client):
    release = ScheduledFactory()
    response = client.get(preview.preview_path(release, "ru"))
    assert response.status_code == 200
    assert release.title_ru in response.content.decode()


def test_the_link_expires_after_the_configured_hours(client, settings):
    settings.PREVIEW_LINK_HOURS = 48
    release = DraftFactory()
    start = timezone.now()
    with freeze_time(start):
        path = preview.preview_path(release, "ru")
    with freeze_time(start + datetime.timedelta(hours=47, minutes=59)):
        assert client.get(path).status_code == 200
    with freeze_time(start + datetime.timedelta(hours=48, minutes=1)):
        response = client.get(path)
    assert response.status_code == 410
    assert_private(response)
    page = response.content.decode()
    assert "Срок действия ссылки для предпросмотра истёк" in page
    assert "This preview link has expired" in page


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: "9999" + token[token.index(":") :],  # another release id
        lambda token: token.split(":")[0],  # no signature at all
        lambda token: "not-a-token",
    ],
)
def test_a_tampered_link_is_not_found(client, mangle):
    release = DraftFactory()
    token = preview.make_token(release)
    with pytest.raises(signing.BadSignature):
        preview.read_token(mangle(token))
    assert client.get(preview.preview_path(release, "ru", mangle(token))).status_code == 404


def test_a_token_signed_with_another_salt_is_refused(client):
    release = DraftFactory()
    foreign = signing.TimestampSigner(salt="something.else").sign(str(release.pk))
    assert client.get(preview.preview_path(release, "ru", foreign)).status_code == 404


@pytest.mark.parametrize("factory", [WithdrawnFactory, UnpublishedFactory])
def test_a_withdrawn_or_unpublished_release_is_not_previewed(client, factory):
    release = factory()
    assert client.get(preview.preview_path(release, "ru")).status_code == 404


def test_a_language_without_content_is_not_found(client):
    release = RussianOnlyDraftFactory()
    assert client.get(preview.preview_path(release, "ru")).status_code == 200
    assert client.get(preview.preview_path(release, "en")).status_code == 404


def test_a_release_already_public_redirects_to_its_page(client):
    release = PublishedFactory()
    response = client.get(preview.preview_path(release, "ru"))
    assert response.status_code == 302
    assert response["Location"] == release.get_absolute_url("ru")
    assert_private(response)


def test_preview_answers_only_reads(client):
    release = DraftFactory()
    assert client.post(preview.preview_path(release, "ru")).status_code == 405


class TestFromTheAdmin:
    def test_editor_opens_the_preview_in_either_language(self, client, editor_user):
        release = ReviewFactory()
        client.force_login(editor_user)
        for language in ("ru", "en"):
            url = reverse("admin:news_release_preview", args=[release.pk, language])
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(f"/{language}/news/preview/")
            client.logout()
            assert client.get(response["Location"]).status_code == 200  # works without login
            client.force_login(editor_user)

    def test_the_change_page_offers_links_to_send(self, client, editor_user, settings):
        settings.SITE_URL = "https://press.example.org"
        release = ReviewFactory()
        client.force_login(editor_user)
        page = client.get(reverse("admin:news_release_change", args=[release.pk])).content
        assert b'value="https://press.example.org/ru/news/preview/' in page
        assert b'value="https://press.example.org/en/news/preview/' in page

    def test_author_previews_own_draft(self, client, author_user):
        release = DraftFactory(created_by=author_user)
        client.force_login(author_user)
        url = reverse("admin:news_release_preview", args=[release.pk, "ru"])
        assert client.get(url).status_code == 302

    def test_author_gets_no_link_for_a_release_they_may_not_edit(
        self, client, author_user, other_author_user
    ):
        release = ScheduledFactory(created_by=other_author_user)
        client.force_login(author_user)
        url = reverse("admin:news_release_preview", args=[release.pk, "ru"])
        # Another author's scheduled release is not public yet: not even visible to them.
        assert client.get(url).status_code == 404
        page = client.get(reverse("admin:news_release_change", args=[release.pk])).content
        assert b"/news/preview/" not in page

    def test_an_unknown_language_is_not_found(self, client, editor_user):
        release = DraftFactory()
        client.force_login(editor_user)
        url = reverse("admin:news_release_preview", args=[release.pk, "de"])
        assert client.get(url).status_code == 404
