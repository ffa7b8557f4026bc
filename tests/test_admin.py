"""The newsroom admin as authors and editors use it: the bilingual form, sanitizing, uploads,
who sees and edits what, workflow buttons and list actions, optimistic locking, the list and
the index, the interface language."""

import datetime
import io
import re
import threading

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_prose_editor.config import allowlist_from_extensions, expand_extensions
from PIL import Image

from news import sanitize, workflow
from news.admin import ReleaseAdmin
from news.models import Release, ReleaseAuthor, Status, WorkflowEvent
from news.newsroom.forms import BODY_EDITOR_EXTENSIONS
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyDraftFactory,
    ScheduledFactory,
    WithdrawnFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/news/release/add/"
LIST_URL = "/admin/news/release/"


def change_url(release) -> str:
    return reverse("admin:news_release_change", args=[release.pk])


def release_data(release=None, **fields) -> dict:
    """POST data of the release form (with empty inline management forms), from `release`'s
    current values when given."""
    data = {
        "title_ru": "",
        "lead_ru": "",
        "body_ru": "",
        "title_en": "",
        "lead_en": "",
        "body_en": "",
        "image_alt_ru": "",
        "image_alt_en": "",
        "image_caption_ru": "",
        "image_caption_en": "",
        "release_authors-TOTAL_FORMS": "0",
        "release_authors-INITIAL_FORMS": "0",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    if release is not None:
        for name in list(data):
            if hasattr(release, name):
                data[name] = getattr(release, name)
        data["base_version"] = str(release.version)
        authors = list(release.release_authors.all())
        data["release_authors-TOTAL_FORMS"] = data["release_authors-INITIAL_FORMS"] = str(
            len(authors)
        )
        for n, link in enumerate(authors):
            data.update(
                {
                    f"release_authors-{n}-id": str(link.pk),
                    f"release_authors-{n}-release": str(release.pk),
                    f"release_authors-{n}-author": str(link.author_id),
                    f"release_authors-{n}-position": str(link.position),
                }
            )
        sources = list(release.sources.all())
        data["sources-TOTAL_FORMS"] = data["sources-INITIAL_FORMS"] = str(len(sources))
        for n, source in enumerate(sources):
            data.update(
                {
                    f"sources-{n}-id": str(source.pk),
                    f"sources-{n}-release": str(release.pk),
                    f"sources-{n}-url": source.url,
                    f"sources-{n}-label_ru": source.label_ru,
                    f"sources-{n}-label_en": source.label_en,
                    f"sources-{n}-kind": source.kind,
                    f"sources-{n}-position": str(source.position),
                }
            )
    data.update(fields)
    return data


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def transitions_shown(response) -> set[str]:
    return set(re.findall(r'data-transition="([a-z_]+)"', response.content.decode()))


def jpeg(size=(120, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def author_client(client, author_user):
    client.force_login(author_user)
    return client


@pytest.fixture
def editor_client(client, editor_user):
    client.force_login(editor_user)
    return client


class TestReleaseForm:
    def test_author_writes_a_bilingual_release(self, author_client, author_user):
        signature = AuthorFactory()
        category = CategoryFactory()
        data = release_data(
            title_ru="Совещание по миграции",
            lead_ru="Эксперты обсудили миграцию.",
            body_ru="<h2>Итоги</h2><p>Эксперты <strong>обсудили</strong> миграцию.</p>"
            "<ul><li>первое</li></ul><blockquote><p>Цитата</p></blockquote>",
            title_en="Meeting on migration",
            lead_en="Experts discussed migration.",
            body_en='<p>Experts discussed <a href="https://cis.int/">migration</a>.</p>'
            "<table><tbody><tr><th>A</th><td>1</td></tr></tbody></table>",
            categories=[str(category.pk)],
            **{
                "release_authors-TOTAL_FORMS": "1",
                "release_authors-0-author": str(signature.pk),
                "release_authors-0-position": "0",
                "sources-TOTAL_FORMS": "1",
                "sources-0-url": "https://cis.minsk.by/news/437",
                "sources-0-label_ru": "Адрес страницы в интернете",
                "sources-0-label_en": "Web page address",
                "sources-0-kind": "original",
                "sources-0-position": "0",
            },
        )
        response = author_client.post(ADD_URL, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        release = Release.objects.get()
        assert (release.title_ru, release.title_en) == (
            "Совещание по миграции",
            "Meeting on migration",
        )
        assert "<h2>Итоги</h2>" in release.body_ru and "<blockquote>" in release.body_ru
        assert '<a href="https://cis.int/" rel="noopener noreferrer">' in release.body_en
        assert "<table>" in release.body_en
        assert release.ru_complete and release.en_complete
        assert (release.status, release.version) == (Status.DRAFT, 1)
        assert release.created_by == author_user == release.updated_by
        assert list(release.categories.all()) == [category]
        assert [link.author for link in release.release_authors.all()] == [signature]
        source = release.sources.get()
        assert (source.kind, source.label_en) == ("original", "Web page address")
        assert release.history.get().history_user == author_user

    def test_the_form_marks_what_publishing_requires_and_offers_the_rich_text_editor(
        self, author_client
    ):
        page = author_client.get(ADD_URL).content.decode()
        for name in ("title_ru", "lead_ru", "body_ru"):
            assert f'aria-describedby="id_{name}_helptext"' in page
        assert page.count('class="newsroom-required"') == 3
        assert page.count("data-django-prose-editor-configurable") == 2
        assert "newsroom-language-ru" in page and "newsroom-language-en" in page

    def test_a_new_release_starts_signed_by_the_writers_profile(self, author_client, author_user):
        profile = AuthorFactory(name_ru="Ольга Петрова", user=author_user)
        page = author_client.get(ADD_URL).content.decode()
        assert re.search(rf'<option value="{profile.pk}" selected>Ольга Петрова</option>', page)

    def test_a_writer_without_a_profile_starts_with_no_signature(self, author_client):
        AuthorFactory(name_ru="Ольга Петрова")
        page = author_client.get(ADD_URL).content.decode()
        assert "Ольга Петрова" not in page
        assert 'name="release_authors-TOTAL_FORMS" value="0"' in page

    @pytest.mark.parametrize(
        "payload",
        [
            '<p>Текст<script>alert("x")</script></p>',
            '<p onclick="alert(1)">Текст</p><img src=x onerror=alert(1)>',
            '<p><a href="javascript:alert(1)">Текст</a></p>',
            '<p>Текст</p><iframe src="https://evil.example/"></iframe>',
            '<p style="background:url(javascript:alert(1))">Текст</p>',
            "<p>Текст</p><svg><script>alert(1)</script></svg><style>p{}</style>",
        ],
    )
    def test_xss_payloads_in_the_body_are_stripped(self, author_client, payload):
        data = release_data(title_ru="Проверка", body_ru=payload, body_en=payload, title_en="T")
        assert author_client.post(ADD_URL, data).status_code == 302
        release = Release.objects.get()
        for body in (release.body_ru, release.body_en):
            lowered = body.lower()
            for forbidden in (
                "<script",
                "onclick",
                "onerror",
                "javascript:",
                "<iframe",
                "style=",
                "<svg",
            ):
                assert forbidden not in lowered, body
            assert "Текст" in body

    def test_word_html_pasted_into_the_body_is_cleaned(self, author_client):
        word = (
            '<p class="MsoNormal" style="margin:0cm;mso-line-height-rule:exactly">'
            '<span lang="RU" style="font-family:Calibri">Заседание<o:p></o:p></span></p>'
            "<!--[if gte mso 9]><xml><w:WordDocument></w:WordDocument></xml><![endif]-->"
        )
        author_client.post(ADD_URL, release_data(title_ru="Word", body_ru=word))
        assert Release.objects.get().body_ru == "<p>Заседание</p>"

    def test_the_editor_offers_only_what_the_sanitizer_keeps(self):
        editor = allowlist_from_extensions(expand_extensions(BODY_EDITOR_EXTENSIONS))
        assert editor["tags"] <= sanitize.ALLOWED_TAGS
        assert {"h2", "h3", "strong", "em", "ul", "ol", "li", "a", "blockquote", "table"} <= editor[
            "tags"
        ]
        # Attributes the editor may write that the model's policy drops on purpose: link rel
        # (nh3 sets its own) and target (no new windows).
        for tag, attributes in editor["attributes"].items():
            dropped = attributes - sanitize.ALLOWED_ATTRIBUTES.get(tag, set())
            assert dropped <= {"rel", "target", "type", "data-type"}, (tag, dropped)

    def test_a_successful_save_increments_the_version(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, title_ru="Новый заголовок")
        assert author_client.post(change_url(release), data).status_code == 302
        release.refresh_from_db()
        assert (release.title_ru, release.version) == ("Новый заголовок", 2)
        assert release.history.first().history_user == author_user

    def test_author_cannot_set_the_public_date(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, published_at_0="2020-01-01", published_at_1="10:00")
        author_client.post(change_url(release), data)
        release.refresh_from_db()
        assert release.published_at is None

    def test_two_original_pages_are_refused(self, author_client):
        data = release_data(title_ru="Два источника", **{"sources-TOTAL_FORMS": "2"})
        for n in range(2):
            data.update(
                {
                    f"sources-{n}-url": f"https://cis.minsk.by/news/{n}",
                    f"sources-{n}-kind": "original",
                    f"sources-{n}-position": "0",
                }
            )
        response = author_client.post(ADD_URL, data)
        assert response.status_code == 200
        assert "at most one original page" in response.content.decode()
        assert not Release.objects.exists()

    def test_authors_are_renumbered_in_the_order_given(self, author_client, author_user):
        first, second, third = (
            AuthorFactory(),
            AuthorFactory(name_ru="Б"),
            AuthorFactory(name_ru="В"),
        )
        data = release_data(title_ru="Подписи", **{"release_authors-TOTAL_FORMS": "3"})
        for n, (author, position) in enumerate([(first, "7"), (second, "1"), (third, "4")]):
            data[f"release_authors-{n}-author"] = str(author.pk)
            data[f"release_authors-{n}-position"] = position
        author_client.post(ADD_URL, data)
        release = Release.objects.get()
        links = ReleaseAuthor.objects.filter(release=release)
        assert [(link.author, link.position) for link in links] == [
            (second, 0),
            (third, 1),
            (first, 2),
        ]
        # A row added later without touching its order signs last.
        fourth = AuthorFactory(name_ru="Г")
        data = release_data(release, **{"release_authors-TOTAL_FORMS": "4"})
        data.update({"release_authors-3-author": str(fourth.pk), "release_authors-3-position": "0"})
        author_client.post(change_url(release), data)
        assert [link.author for link in ReleaseAuthor.objects.filter(release=release)] == [
            second,
            third,
            first,
            fourth,
        ]


class TestImageUpload:
    def test_a_valid_image_is_stored(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, image=SimpleUploadedFile("lead.jpg", jpeg(), "image/jpeg"))
        assert author_client.post(change_url(release), data).status_code == 302
        release.refresh_from_db()
        assert release.image.name.endswith(".jpg")
        assert release.image.width == 120

    def test_a_non_image_is_refused_and_the_release_is_untouched(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        before = (release.title_ru, release.version, release.image.name, release.history.count())
        fake = SimpleUploadedFile(
            "photo.jpg", b"<?php echo shell_exec($_GET['c']); ?>", "image/jpeg"
        )
        data = release_data(release, title_ru="Изменённый", image=fake)
        response = author_client.post(change_url(release), data)
        assert response.status_code == 200
        assert "not an image in an allowed format" in response.content.decode()
        release.refresh_from_db()
        assert (
            release.title_ru,
            release.version,
            release.image.name,
            release.history.count(),
        ) == before

    def test_an_oversized_image_is_refused(self, author_client, author_user, settings):
        settings.IMAGE_MAX_BYTES = 500
        release = DraftFactory(created_by=author_user)
        data = release_data(
            release, image=SimpleUploadedFile("big.jpg", jpeg((400, 400)), "image/jpeg")
        )
        response = author_client.post(change_url(release), data)
        assert response.status_code == 200
        assert "too large" in response.content.decode()
        release.refresh_from_db()
        assert not release.image

    def test_the_error_speaks_russian_to_a_russian_user(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, image=SimpleUploadedFile("x.jpg", b"", "image/jpeg"))
        data["image"] = SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")
        response = author_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="ru")
        assert "Этот файл не является изображением" in response.content.decode()


class TestWhoSeesWhat:
    def test_author_sees_own_releases_and_published_ones_only(
        self, author_client, author_user, other_author_user
    ):
        mine = DraftFactory(created_by=author_user, title_ru="Мой черновик")
        mine_in_review = ReviewFactory(created_by=author_user, title_ru="Мой на проверке")
        theirs = DraftFactory(created_by=other_author_user, title_ru="Чужой черновик")
        theirs_in_review = ReviewFactory(created_by=other_author_user, title_ru="Чужой на проверке")
        published = PublishedFactory(created_by=other_author_user, title_ru="Опубликованный")
        page = author_client.get(LIST_URL).content.decode()
        for release in (mine, mine_in_review, published):
            assert release.title_ru in page
        for release in (theirs, theirs_in_review):
            assert release.title_ru not in page
        response = author_client.get(change_url(theirs))
        assert response.status_code == 302  # the admin's "does not exist" redirect
        assert Release.objects.get(pk=theirs.pk).title_ru == "Чужой черновик"

    def test_editor_sees_everything(self, editor_client, author_user, other_author_user):
        releases = [
            DraftFactory(created_by=author_user),
            ReviewFactory(created_by=other_author_user),
            WithdrawnFactory(),
        ]
        page = editor_client.get(LIST_URL).content.decode()
        for release in releases:
            assert release.title_ru in page

    @pytest.mark.parametrize("mine", [True, False])
    def test_author_gets_a_read_only_page_where_they_may_not_edit(
        self, author_client, author_user, other_author_user, mine
    ):
        # Their own release in review, or someone else's published one.
        factory = ReviewFactory if mine else PublishedFactory
        writer = author_user if mine else other_author_user
        release = factory(created_by=writer, body_ru="<p>Текст <em>релиза</em></p>")
        response = author_client.get(change_url(release))
        page = response.content.decode()
        assert response.status_code == 200
        assert 'name="title_ru"' not in page and 'name="_save"' not in page
        assert "data-django-prose-editor" not in page
        assert '<div class="newsroom-body"><p>Текст <em>релиза</em></p></div>' in page

    def test_a_save_by_someone_who_may_no_longer_edit_keeps_their_text(
        self, author_client, author_user, editor_user
    ):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, body_ru="<p>Мой новый абзац, который нельзя потерять.</p>")
        workflow.submit(release, by=editor_user)  # meanwhile it went to review
        response = author_client.post(change_url(release), data)
        assert response.status_code == 409
        page = response.content.decode()
        assert "You can no longer edit this release" in page
        assert "Мой новый абзац, который нельзя потерять." in page
        release.refresh_from_db()
        assert "Мой новый абзац" not in release.body_ru

    def test_editor_edits_a_published_release_as_its_pending_changes(self, editor_client):
        release = PublishedFactory()
        published_at = release.published_at
        data = release_data(
            release,
            title_ru="Исправленный заголовок",
            edition_version="0",
            change_note_ru="Исправлен заголовок.",
            change_note_en="The title was corrected.",
            published_at_0="",  # a live release's form has no publication date
            published_at_1="",
        )
        response = editor_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="ru")
        assert response.status_code == 302, response.context["adminform"].form.errors
        release.refresh_from_db()
        assert release.title_ru != "Исправленный заголовок"  # the live version stays
        assert release.pending_edition.title_ru == "Исправленный заголовок"
        assert release.status == Status.PUBLISHED and release.published_at == published_at

    def test_the_form_never_sets_the_publication_date(self, editor_client):
        release = PublishedFactory()
        before = release.published_at
        data = release_data(
            release,
            published_at_0="01.01.2030",
            published_at_1="10:00",
            edition_version="0",
            minor_change="on",
        )
        response = editor_client.post(change_url(release), data)
        assert response.status_code == 302
        release.refresh_from_db()
        assert release.published_at == before
        page = editor_client.get(change_url(release)).content.decode()
        assert 'name="published_at' not in page
        assert "Europe/Minsk (UTC+3)" in page  # shown read-only, with the time zone

    def test_author_sees_only_events_of_releases_they_may_see(
        self, author_client, author_user, other_author_user
    ):
        ReviewFactory(created_by=other_author_user, title_ru="Чужой на проверке")
        ReviewFactory(created_by=author_user, title_ru="Мой на проверке")
        page = author_client.get("/admin/news/workflowevent/").content.decode()
        assert "Мой на проверке" in page and "Чужой на проверке" not in page


class TestWorkflowButtons:
    @pytest.mark.parametrize(
        ("who", "factory", "expected"),
        [
            ("author", DraftFactory, {"submit"}),
            ("author", ReviewFactory, set()),
            ("author", PublishedFactory, set()),
            ("editor", DraftFactory, {"submit"}),
            ("editor", ReviewFactory, {"publish", "request_changes"}),
            ("editor", PublishedFactory, {"withdraw", "unpublish"}),
            (
                "editor",
                ScheduledFactory,
                {"withdraw", "unpublish", "reschedule", "cancel_schedule"},
            ),
            ("editor", WithdrawnFactory, {"reopen"}),
        ],
    )
    def test_buttons_match_role_and_state(
        self, client, author_user, editor_user, who, factory, expected
    ):
        release = factory(created_by=author_user)
        client.force_login(author_user if who == "author" else editor_user)
        response = client.get(change_url(release))
        assert response.status_code == 200
        assert transitions_shown(response) == expected

    def test_author_submits_from_the_change_page(self, author_client, author_user, mailoutbox):
        release = DraftFactory(created_by=author_user)
        url = reverse("admin:news_release_transition", args=[release.pk, "submit"])
        response = author_client.post(url)
        assert response.status_code == 302
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert message_texts(response) == [f"“{release}” was submitted for review."]

    def test_save_and_submit_in_one_step(self, author_client, author_user):
        release = DraftFactory(created_by=author_user)
        data = release_data(release, title_ru="Готово к проверке", _submit_for_review="1")
        data.pop("_save")
        response = author_client.post(change_url(release), data)
        assert response.status_code == 302
        release.refresh_from_db()
        assert (release.title_ru, release.status, release.version) == (
            "Готово к проверке",
            Status.REVIEW,
            3,
        )

    def test_author_cannot_publish_even_by_posting(self, author_client, author_user):
        release = ReviewFactory(created_by=author_user)
        url = reverse("admin:news_release_transition", args=[release.pk, "publish"])
        response = author_client.post(url)
        assert response.status_code == 302
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert "not allowed to publish" in message_texts(response)[0]
        assert not WorkflowEvent.objects.filter(to_status=Status.PUBLISHED).exists()

    def test_editor_schedules_a_release(self, editor_client):
        release = ReviewFactory()
        at = timezone.localtime(timezone.now() + datetime.timedelta(days=2)).replace(
            second=0, microsecond=0
        )
        url = reverse("admin:news_release_transition", args=[release.pk, "publish"])
        response = editor_client.post(url, {"at": at.strftime("%Y-%m-%dT%H:%M")})
        release.refresh_from_db()
        assert release.status == Status.PUBLISHED
        assert release.published_at == at
        assert "is scheduled" in message_texts(response)[0]
        assert not release.is_public("ru")

    def test_editor_publishes_now(self, editor_client):
        release = ReviewFactory()
        url = reverse("admin:news_release_transition", args=[release.pk, "publish"])
        response = editor_client.post(url, {"at": ""})
        release.refresh_from_db()
        assert release.is_public("ru")
        assert message_texts(response) == [f"“{release}” is published."]

    def test_publishing_an_incomplete_release_explains_what_is_missing(self, editor_client):
        release = ReviewFactory()
        release.lead_ru = ""  # edited in review
        release.save()
        url = reverse("admin:news_release_transition", args=[release.pk, "publish"])
        response = editor_client.post(url)
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert "The Russian lead is required." in message_texts(response)[0]

    def test_request_changes_needs_a_comment(self, editor_client):
        release = ReviewFactory()
        url = reverse("admin:news_release_transition", args=[release.pk, "request_changes"])
        response = editor_client.post(url, {"comment": "  "})
        release.refresh_from_db()
        assert release.status == Status.REVIEW
        assert "A comment is required" in message_texts(response)[0]
        editor_client.post(url, {"comment": "Уточните даты."})
        release.refresh_from_db()
        assert release.status == Status.DRAFT
        assert release.events.first().comment == "Уточните даты."

    def test_a_long_comment_is_kept_whole(self, editor_client):
        # A real review comment is often a paragraph; the revision's change reason (100
        # characters) must not make the transition fail (on PostgreSQL it is enforced).
        release = ReviewFactory()
        comment = "Уточните, пожалуйста, даты и названия органов в третьем абзаце. " * 5
        url = reverse("admin:news_release_transition", args=[release.pk, "request_changes"])
        response = editor_client.post(url, {"comment": comment})
        assert response.status_code == 302
        release.refresh_from_db()
        assert release.status == Status.DRAFT
        assert release.events.first().comment == comment.strip()

    def test_withdraw_with_a_reason_then_reopen(self, editor_client):
        release = PublishedFactory()
        withdraw = reverse("admin:news_release_transition", args=[release.pk, "withdraw"])
        editor_client.post(withdraw, {"comment": "Ошибка в цифрах"})
        release.refresh_from_db()
        assert release.status == Status.WITHDRAWN
        page = editor_client.get(change_url(release)).content.decode()
        assert "Ошибка в цифрах" in page  # in the timeline
        editor_client.post(reverse("admin:news_release_transition", args=[release.pk, "reopen"]))
        release.refresh_from_db()
        assert release.status == Status.DRAFT

    def test_actions_answer_only_post_and_known_names(self, editor_client):
        release = ReviewFactory()
        url = reverse("admin:news_release_transition", args=[release.pk, "publish"])
        assert editor_client.get(url).status_code == 405
        bogus = reverse("admin:news_release_transition", args=[release.pk, "delete"])
        assert editor_client.post(bogus).status_code == 404

    def test_an_author_cannot_act_on_a_release_they_cannot_see(
        self, author_client, other_author_user
    ):
        release = DraftFactory(created_by=other_author_user)
        url = reverse("admin:news_release_transition", args=[release.pk, "submit"])
        assert author_client.post(url).status_code == 404
        release.refresh_from_db()
        assert release.status == Status.DRAFT


class TestBulkActions:
    def test_publish_selected_reports_per_release(self, editor_client):
        ready = ReviewFactory(title_ru="Готовый")
        incomplete = ReviewFactory(title_ru="Без лида")
        incomplete.lead_ru = ""  # edited in review
        incomplete.save()
        draft = DraftFactory(title_ru="Черновик")
        response = editor_client.post(
            LIST_URL,
            {
                "action": "publish_selected",
                "_selected_action": [str(r.pk) for r in (ready, incomplete, draft)],
            },
        )
        assert response.status_code == 302
        messages = message_texts(response)
        assert messages == [
            "“Готовый” is published.",
            "“Без лида”: The Russian lead is required.",
            "“Черновик”: Cannot publish a release that is draft.",
        ]
        statuses = dict(Release.objects.values_list("title_ru", "status"))
        assert statuses == {
            "Готовый": Status.PUBLISHED,
            "Без лида": Status.REVIEW,
            "Черновик": Status.DRAFT,
        }

    def test_submit_selected_reports_per_release(self, author_client, author_user):
        draft = DraftFactory(created_by=author_user, title_ru="Первый")
        in_review = ReviewFactory(created_by=author_user, title_ru="Второй")
        response = author_client.post(
            LIST_URL,
            {"action": "submit_selected", "_selected_action": [str(draft.pk), str(in_review.pk)]},
        )
        assert message_texts(response) == [
            "“Первый” was submitted for review.",
            "“Второй”: Cannot submit for review a release that is in review.",
        ]

    def test_authors_are_not_offered_publishing(self, author_client, author_user):
        DraftFactory(created_by=author_user)
        author_page = author_client.get(LIST_URL).content.decode()
        assert 'value="submit_selected"' in author_page
        assert 'value="publish_selected"' not in author_page
        response = author_client.post(
            LIST_URL, {"action": "publish_selected", "_selected_action": ["1"]}
        )
        assert Release.objects.get().status == Status.DRAFT
        assert response.status_code in (200, 302)


class TestOptimisticLocking:
    def test_a_stale_save_is_refused_and_the_text_is_kept(self, client, author_user, editor_user):
        release = DraftFactory(created_by=author_user, body_ru="<p>Исходный текст.</p>")
        stale = release_data(
            release,
            title_ru="Заголовок автора",
            body_ru="<p>Абзац, который автор писал полчаса.</p>",
        )
        # Meanwhile an editor saves the same release.
        client.force_login(editor_user)
        client.post(change_url(release), release_data(release, title_ru="Заголовок редактора"))
        release.refresh_from_db()
        assert release.version == 2

        client.force_login(author_user)
        response = client.post(change_url(release), stale, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Someone else saved this release while you were editing it" in page
        assert "Your changes have NOT been saved" in page
        assert "Заголовок автора" in page
        assert "Абзац, который автор писал полчаса." in page  # in the editor's textarea
        started_from = release.history.get(version=1)
        compare = reverse("admin:news_release_compare", args=[release.pk])
        assert f'href="{compare}?from={started_from.history_id}"' in page
        release.refresh_from_db()
        assert (release.title_ru, release.version) == ("Заголовок редактора", 2)
        # The form now carries the current version: saving again is a deliberate overwrite.
        assert re.search(r'name="base_version" value="2"', page)
        again = {**stale, "base_version": "2"}
        assert client.post(change_url(release), again).status_code == 302
        release.refresh_from_db()
        assert (release.title_ru, release.version) == ("Заголовок автора", 3)

    def test_a_workflow_change_makes_an_open_form_stale(self, editor_client):
        release = ReviewFactory()
        data = release_data(release, title_ru="Правка")
        workflow.request_changes(release, by=None, comment="Нужны правки")
        response = editor_client.post(change_url(release), data)
        assert response.status_code == 200
        release.refresh_from_db()
        assert release.title_ru != "Правка"

    def test_a_save_without_a_version_is_refused(self, editor_client):
        release = DraftFactory()
        data = release_data(release, title_ru="Без версии")
        del data["base_version"]
        assert editor_client.post(change_url(release), data).status_code == 200
        release.refresh_from_db()
        assert release.title_ru != "Без версии"

    def test_the_save_locks_the_row_it_checks(self, editor_client):
        release = DraftFactory()
        with CaptureQueriesContext(connection) as queries:
            editor_client.post(change_url(release), release_data(release, title_ru="Новый"))
        if connection.features.has_select_for_update:
            locked = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
            assert any('"news_release"' in sql for sql in locked)
        else:
            # SQLite: the admin's transaction starts as a write transaction (BEGIN IMMEDIATE).
            assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"

    def test_the_refusal_is_in_russian_for_a_russian_user(self, editor_client):
        release = DraftFactory()
        data = release_data(release, base_version="99")
        page = editor_client.post(change_url(release), data, HTTP_ACCEPT_LANGUAGE="ru")
        assert "Ваши изменения НЕ сохранены" in page.content.decode()


class TestChangelist:
    def test_columns_show_status_date_languages_and_authors(self, editor_client, author_user):
        signature = AuthorFactory(name_ru="Пресс-служба")
        PublishedFactory(with_author=signature)
        ScheduledFactory(title_ru="Запланированный")
        RussianOnlyDraftFactory(created_by=author_user)
        page = editor_client.get(LIST_URL).content.decode()
        assert 'newsroom-badge-published">Published' in page
        assert 'newsroom-badge-scheduled">Scheduled' in page
        assert 'newsroom-badge-draft">Draft' in page
        assert 'newsroom-lang newsroom-lang-missing" title="English version missing' in page
        assert "Пресс-служба" in page

    def test_views_and_filters(self, author_client, author_user, other_author_user):
        mine = DraftFactory(created_by=author_user, title_ru="Мой черновик")
        RussianOnlyDraftFactory(created_by=author_user, title_ru="Только по-русски")
        ReviewFactory(created_by=author_user, title_ru="Мой на проверке")
        PublishedFactory(created_by=other_author_user, title_ru="Чужой опубликованный")
        my_drafts = author_client.get(LIST_URL, {"view": "my_drafts"}).content.decode()
        assert "Мой черновик" in my_drafts and "Только по-русски" in my_drafts
        assert "Мой на проверке" not in my_drafts
        review = author_client.get(LIST_URL, {"view": "review"}).content.decode()
        assert "Мой на проверке" in review and mine.title_ru not in review
        ru_only = author_client.get(LIST_URL, {"languages": "ru_only"}).content.decode()
        assert "Только по-русски" in ru_only and "Мой черновик" not in ru_only

    def test_search_looks_in_the_text(self, editor_client):
        DraftFactory(title_ru="Первый", body_ru="<p>Обсудили таможенные процедуры.</p>")
        DraftFactory(title_ru="Второй")
        page = editor_client.get(LIST_URL, {"q": "таможенные"}).content.decode()
        assert "Первый" in page and "Второй" not in page

    def test_a_huge_search_is_bounded(self, editor_client):
        DraftFactory(title_ru="Первый", body_ru="<p>Обсудили таможенные процедуры.</p>")
        response = editor_client.get(LIST_URL, {"q": "таможенные процедуры " * 1000})
        assert response.status_code == 200
        assert "Первый" in response.content.decode()  # the first words still count
        response = editor_client.get(LIST_URL, {"q": "слово " * 2000 + "таможенные"})
        assert response.status_code == 200
        assert "Первый" not in response.content.decode()

    def test_the_list_runs_a_fixed_number_of_queries(
        self, editor_client, django_assert_max_num_queries
    ):
        signature = AuthorFactory()
        for _ in range(3):
            PublishedFactory(with_author=signature)
        editor_client.get(LIST_URL)
        with django_assert_max_num_queries(16) as small:
            editor_client.get(LIST_URL)
        for _ in range(12):
            PublishedFactory(with_author=signature)
        with django_assert_max_num_queries(len(small.captured_queries)):
            editor_client.get(LIST_URL)


class TestIndexAndLanguage:
    def test_the_index_shows_the_review_queue(self, editor_client, author_user):
        ReviewFactory()
        ReviewFactory()
        DraftFactory(created_by=author_user)
        page = editor_client.get("/admin/").content.decode()
        assert '<span class="newsroom-queue-count" data-queue="review">2</span>' in page
        assert "?view=review" in page

    def test_an_authors_queue_counts_their_own_work(self, author_client, author_user):
        ReviewFactory()
        ReviewFactory(created_by=author_user)
        DraftFactory(created_by=author_user)
        page = author_client.get("/admin/").content.decode()
        assert '<span class="newsroom-queue-count" data-queue="review">1</span>' in page
        assert '<span class="newsroom-queue-count" data-queue="my_drafts">1</span>' in page

    @pytest.mark.parametrize(
        ("accept", "expected", "absent"),
        [
            ("ru-RU,ru;q=0.9", "Русская версия", "Russian version"),
            ("be-BY,be;q=0.9,ru;q=0.8", "Русская версия", "Russian version"),
            ("en-GB,en;q=0.9", "Russian version", "Русская версия"),
            ("de-DE,de;q=0.9", "Russian version", "Русская версия"),
            ("", "Russian version", "Русская версия"),
        ],
    )
    def test_the_admin_speaks_the_browsers_language(self, author_client, accept, expected, absent):
        page = author_client.get(ADD_URL, HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        assert expected in page and absent not in page

    def test_the_language_switch_in_the_header(self, author_client):
        page = author_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'action="/i18n/setlang/"' in page
        response = author_client.post(
            "/i18n/setlang/", {"language": "ru", "next": "/admin/news/release/"}
        )
        assert response.status_code == 302 and response["Location"] == "/admin/news/release/"
        page = author_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Мои черновики" in page

    def test_the_admin_pages_have_no_inline_script_or_style_without_a_nonce(self, editor_client):
        release = ReviewFactory()
        for url in (LIST_URL, change_url(release), ADD_URL, "/admin/"):
            response = editor_client.get(url)
            nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
            page = response.content.decode()
            for tag in re.findall(r"<(?:script|style)\b[^>]*>", page):
                if "src=" in tag or 'type="application/json"' in tag:
                    continue
                assert f'nonce="{nonce}"' in tag, (url, tag)
            assert " style=" not in page.replace("data-tiptap-style", ""), url


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_cannot_both_pass(author_user, editor_user, monkeypatch):
    """Two people save the same version at the same moment (PostgreSQL, real row locks): the
    first holds the lock until it commits, the second waits, then sees the new version and is
    refused. Without the lock both would read version 1 and both saves would pass."""
    release = DraftFactory(created_by=author_user)
    first_holds_lock, let_first_commit = threading.Event(), threading.Event()
    save_model = ReleaseAdmin.save_model

    def held_save_model(self, request, obj, form, change):
        if request.user.pk == editor_user.pk:
            first_holds_lock.set()
            let_first_commit.wait(timeout=60)
        return save_model(self, request, obj, form, change)

    monkeypatch.setattr(ReleaseAdmin, "save_model", held_save_model)
    responses = {}

    def save(user, title):
        client = Client()
        client.force_login(user)
        data = release_data(release, title_ru=title)
        responses[user.username] = client.post(change_url(release), data)
        connection.close()

    first = threading.Thread(target=save, args=(editor_user, "Версия редактора"))
    first.start()
    assert first_holds_lock.wait(timeout=60)
    second = threading.Thread(target=save, args=(author_user, "Версия автора"))
    second.start()
    # Wait until the second save is really blocked on the row lock, then let the first commit.
    with connection.cursor() as cursor:
        for _ in range(600):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the second save never waited for the row lock")
    let_first_commit.set()
    first.join()
    second.join()
    assert responses["editor"].status_code == 302
    assert responses["officer"].status_code == 200
    assert "Someone else saved this release" in responses["officer"].content.decode()
    release.refresh_from_db()
    assert (release.title_ru, release.version) == ("Версия редактора", 2)
