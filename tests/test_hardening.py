"""Hardening, round two (issue 15): each finding of the attack session, as the rule it breaks.
Junk input answers 400/404, never 500; dates stay in range; re-imports never silently
overwrite an editor's correction; private releases stay private; uploads lose their metadata."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from news import workflow
from news.models import Release, Status, WorkflowEvent
from news.publication_dates import allowed_years
from tests.factories import PublishedFactory, ReviewFactory, ScheduledFactory

pytestmark = pytest.mark.django_db


# --- publication dates ----------------------------------------------------------------------


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "1989-12-31T23:00", "9999-12-31T00:00"])
def test_the_publish_action_refuses_a_date_out_of_range(client, editor_user, at):
    release = ReviewFactory()
    client.force_login(editor_user)
    url = reverse("admin:news_release_transition", args=[release.pk, "publish"])
    response = client.post(url, {"at": at}, follow=True)
    assert response.status_code == 200
    release.refresh_from_db()
    assert release.status == Status.REVIEW
    assert release.published_at is None
    assert "1990" in response.content.decode()
    assert not WorkflowEvent.objects.filter(to_status=Status.PUBLISHED).exists()


def test_the_publish_service_refuses_year_one():
    release = ReviewFactory()
    with pytest.raises(workflow.ValidationError):
        workflow.publish(release, by=None, at=datetime.datetime(1, 1, 2))
    release.refresh_from_db()
    assert release.status == Status.REVIEW
    # A date inside the range publishes.
    workflow.publish(release, by=None, at=timezone.now() - datetime.timedelta(days=1))
    assert release.status == Status.PUBLISHED


def test_the_range_follows_the_settings(settings):
    settings.PUBLICATION_YEARS_MIN = 2000
    settings.PUBLICATION_YEARS_AHEAD = 1
    years = allowed_years()
    assert years.start == 2000
    assert years.stop - 1 == timezone.now().year + 1


@pytest.mark.parametrize(
    "path",
    [
        "archive/1/",
        "archive/0001/",
        "archive/9999/",
        "archive/2020/13/",
        "archive/2020/0/",
        "archive/99999999999999999999/",
    ],
)
def test_archives_of_impossible_dates_are_404(client, path):
    PublishedFactory()
    assert client.get(f"/ru/news/{path}").status_code == 404


def test_an_archive_of_an_allowed_year_still_answers(client):
    release = PublishedFactory()
    year = timezone.localtime(release.published_at).year
    assert client.get(f"/ru/news/archive/{year}/").status_code == 200


# --- the admin's filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "published_at__year=1",
        "published_at__year=9999&published_at__month=12",
        "published_at__year=9999&published_at__month=12&published_at__day=31",
        "published_at__year=2020&published_at__month=13",
        "published_at__year=%C2%B2",
        "status__exact=%00",
        "status__exact=%01x",
        "q=%00",
        "published_at__gte=0001-01-01",
        "p=%C2%B2",
        "o=%00",
    ],
)
def test_admin_list_filters_never_answer_500(client, superuser, query):
    PublishedFactory()
    client.force_login(superuser)
    response = client.get(reverse("admin:news_release_changelist") + "?" + query)
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("term", ["%00", "x%00y", "%01"])
def test_admin_autocomplete_with_control_characters_never_answers_500(client, superuser, term):
    client.force_login(superuser)
    url = "/admin/autocomplete/?app_label=news&model_name=release&field_name=authors&term=" + term
    assert client.get(url).status_code in (200, 400, 403, 404)


def test_workflow_event_list_date_hierarchy_out_of_range(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:news_workflowevent_changelist")
    response = client.get(url + "?created_at__year=9999&created_at__month=12")
    assert response.status_code == 302 and "e=1" in response["Location"]
    assert client.get(url + f"?created_at__year={timezone.now().year}").status_code == 200


@pytest.mark.parametrize("query", ["status__exact=%00", "q=a%00b", "page=%01", "x%00=1"])
def test_query_strings_with_control_characters_answer_400(client, superuser, query):
    response = client.get("/ru/news/?" + query)
    assert response.status_code == 400
    assert "Некорректный запрос" in response.content.decode()  # the site's error page
    client.force_login(superuser)
    assert client.get(reverse("admin:news_release_changelist") + "?" + query).status_code == 400


def test_tabs_and_cyrillic_in_a_query_string_are_fine(client):
    assert client.get("/ru/news/search/?q=%D0%BF%D1%80%D0%B5%D1%81%D1%81").status_code != 400


# --- workflow comments --------------------------------------------------------------------


def test_a_workflow_comment_goes_through_its_form_and_its_limit(client, editor_user):
    release = PublishedFactory()
    client.force_login(editor_user)
    url = reverse("admin:news_release_transition", args=[release.pk, "withdraw"])
    response = client.post(url, {"comment": "x" * 5_000_000}, follow=True)
    assert response.status_code == 200
    release.refresh_from_db()
    assert release.status == Status.PUBLISHED
    assert not WorkflowEvent.objects.filter(to_status=Status.WITHDRAWN).exists()
    client.post(url, {"comment": "Ошибка\x01 в дате"})
    release.refresh_from_db()
    assert release.status == Status.WITHDRAWN
    assert WorkflowEvent.objects.get(to_status=Status.WITHDRAWN).comment == "Ошибка в дате"


def test_a_comment_with_nul_is_refused_cleanly(client, editor_user):
    release = ReviewFactory()
    client.force_login(editor_user)
    url = reverse("admin:news_release_transition", args=[release.pk, "request_changes"])
    response = client.post(url, {"comment": "a\x00b"}, follow=True)
    assert response.status_code == 200
    release.refresh_from_db()
    assert release.status == Status.REVIEW
    assert WorkflowEvent.objects.filter(to_status=Status.DRAFT).count() == 0


# --- who sees what in the newsroom --------------------------------------------------------


def test_an_author_cannot_open_or_list_another_authors_scheduled_release(
    client, author_user, other_author_user
):
    scheduled = ScheduledFactory(created_by=other_author_user, title_ru="Под эмбарго")
    public = PublishedFactory(created_by=other_author_user, title_ru="Уже опубликован")
    own = ScheduledFactory(created_by=author_user, title_ru="Мой запланированный")
    client.force_login(author_user)
    changelist = client.get(reverse("admin:news_release_changelist") + "?view=scheduled")
    text = changelist.content.decode()
    assert "Под эмбарго" not in text
    assert "Мой запланированный" in text
    assert client.get(reverse("admin:news_release_change", args=[scheduled.pk])).status_code in (
        302,
        403,
        404,
    )
    assert client.get(reverse("admin:news_release_history", args=[scheduled.pk])).status_code in (
        302,
        403,
        404,
    )
    assert client.get(reverse("admin:news_release_change", args=[public.pk])).status_code == 200
    assert client.get(reverse("admin:news_release_change", args=[own.pk])).status_code == 200


# --- uploads --------------------------------------------------------------------------------


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)}  # GPS
    exif[0x010F] = "Camera maker"
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif, comment=b"secret comment")
    return output.getvalue()


def upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_a_stored_jpeg_loses_its_gps_and_keeps_its_way_up():
    from news.images import LeadImageField

    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    stored = LeadImageField().clean(upload(original, "photo.jpg")).read()
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif()
    assert b"secret comment" not in stored and b"Camera maker" not in stored
    assert image.size == (20, 40)  # the orientation applied to the pixels


def test_a_stored_png_loses_what_follows_its_end():
    from news.images import LeadImageField

    output = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(output, format="PNG")
    original = output.getvalue() + b"<script>alert(1)</script>"
    stored = LeadImageField().clean(upload(original, "picture.png")).read()
    assert stored.endswith(b"IEND\xaeB`\x82")
    assert b"<script>" not in stored
    assert Image.open(io.BytesIO(stored)).size == (8, 8)


def animated_gif(frames: int) -> bytes:
    images = [Image.new("L", (1, 1), n % 256) for n in range(frames)]
    output = io.BytesIO()
    images[0].save(output, format="GIF", save_all=True, append_images=images[1:], duration=10)
    return output.getvalue()


def test_an_animation_over_the_frame_limit_is_refused(settings):
    from django.core.exceptions import ValidationError

    from news.images import LeadImageField

    settings.IMAGE_MAX_FRAMES = 20
    with pytest.raises(ValidationError) as error:
        LeadImageField().clean(upload(animated_gif(21), "many.gif"))
    assert error.value.code == "too_many_frames"
    stored = LeadImageField().clean(upload(animated_gif(20), "few.gif")).read()
    assert Image.open(io.BytesIO(stored)).n_frames == 20


# --- e-mail ---------------------------------------------------------------------------------


def test_notification_subjects_are_plain_text(
    author_user, editor_user, django_capture_on_commit_callbacks, run_tasks
):
    from tests.factories import DraftFactory

    release = DraftFactory(created_by=author_user, title_ru='Итоги "саммита" <СНГ> & O\'Neil')
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(release, by=author_user)
    run_tasks()
    subject = mail.outbox[0].subject
    assert 'Итоги "саммита" <СНГ> & O\'Neil' in subject
    assert "&quot;" not in subject and "&lt;" not in subject and "&#x27;" not in subject


# --- re-import ------------------------------------------------------------------------------

RELEASE_TEXT = """Пресс-служба Исполнительного комитета СНГ
Заседание Совета министров

Сегодня в Минске прошло заседание Совета министров иностранных дел.

Участники обсудили вопросы сотрудничества.

Адрес страницы в интернете: https://old.example.org/news/57
"""


def write_release(tmp_path, text=RELEASE_TEXT, name="57.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(*args) -> str:
    out = io.StringIO()
    call_command("import_releases", *map(str, args), stdout=out, stderr=out)
    return out.getvalue()


def corrected_by_an_editor(path, editor_user) -> Release:
    run_import(path, "--published-at", "2011-12-14T12:00:00+03:00")
    release = Release.objects.get()
    assert release.status == Status.PUBLISHED
    release.lead_ru = "Исправленный редактором лид."
    release._history_user = editor_user
    release.save()
    return release


def test_reimport_does_not_overwrite_a_published_release_corrected_by_an_editor(
    tmp_path, editor_user
):
    path = write_release(tmp_path)
    release = corrected_by_an_editor(path, editor_user)
    version = release.version
    with pytest.raises(CommandError):
        out = run_import(path, "--published-at", "2011-12-14T12:00:00+03:00")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_releases", str(path), stdout=out, stderr=out)
    assert f"release #{release.pk}" in out.getvalue()
    assert "--force" in out.getvalue()
    release.refresh_from_db()
    assert release.lead_ru == "Исправленный редактором лид."
    assert release.version == version


def test_reimport_with_force_overwrites(tmp_path, editor_user):
    path = write_release(tmp_path)
    release = corrected_by_an_editor(path, editor_user)
    out = run_import(path, "--force")
    assert "lead_ru" in out
    release.refresh_from_db()
    assert release.lead_ru.startswith("Сегодня в Минске")


def test_reimport_of_an_untouched_draft_and_of_the_same_text_still_works(tmp_path):
    path = write_release(tmp_path)
    run_import(path)
    path.write_text(RELEASE_TEXT.replace("сотрудничества", "партнёрства"), encoding="utf-8")
    run_import(path)  # a draft nobody touched: updated
    assert "партнёрства" in Release.objects.get().body_ru
    workflow.submit(Release.objects.get(), by=None)
    assert "text unchanged" in run_import(path)  # same text again: nothing to overwrite


def test_dry_run_reports_and_writes_nothing(tmp_path, editor_user):
    path = write_release(tmp_path)
    out = run_import(path, "--dry-run")
    assert "would create" in out and "nothing written" in out
    assert Release.objects.count() == 0
    release = corrected_by_an_editor(path, editor_user)
    out = run_import(path, "--dry-run", "--force")
    assert "would update" in out and "lead_ru" in out
    release.refresh_from_db()
    assert release.lead_ru == "Исправленный редактором лид."


def test_the_importer_refuses_a_date_out_of_range_and_strips_control_characters(tmp_path):
    path = write_release(tmp_path, RELEASE_TEXT.replace("Заседание", "Засе\x01дание"))
    with pytest.raises(CommandError):
        run_import(path, "--published-at", "0001-01-02")
    assert Release.objects.count() == 0
    run_import(path)
    assert Release.objects.get().title_ru == "Заседание Совета министров"


# --- the public page cache ------------------------------------------------------------------


def cache_keys() -> set:
    from django.core.cache import cache

    return set(cache._cache)  # the test settings' local-memory cache


def test_unknown_parameters_add_no_cache_entries(client):
    import secrets

    PublishedFactory()
    client.get("/ru/news/")
    client.get("/ru/news/")
    before = cache_keys()
    for _ in range(20):
        assert client.get(f"/ru/news/?utm={secrets.token_hex(200)}").status_code == 200
    assert cache_keys() == before
    client.get("/ru/news/?page=1")  # a parameter the page reads is a page of its own
    assert len(cache_keys()) > len(before)


def test_repeated_page_parameters_never_share_an_entry(client):
    for n in range(25):
        PublishedFactory(title_ru=f"Релиз номер {n:02d}")
    first = client.get("/ru/news/?page=1&page=2&z=X").content.decode()
    second = client.get("/ru/news/?page=2&z=X&page=1").content.decode()
    assert "Релиз номер 00" in first and "Релиз номер 00" not in second
    assert "Релиз номер 24" in second and "Релиз номер 24" not in first


@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A3", "%EF%BC%91", "last", "-1", "0", "99999"])
def test_page_numbers_are_ascii_digits_within_range(client, page):
    PublishedFactory()
    assert client.get(f"/ru/news/?page={page}").status_code == 404
    assert client.get("/ru/news/?page=1").status_code == 200


@pytest.mark.postgresql
def test_a_stored_bc_timestamp_takes_no_page_down(client, superuser):
    from django.db import connection

    release = PublishedFactory(title_ru="Повреждённая дата")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE news_release SET published_at = '0001-12-31 22:10:00+00 BC' WHERE id = %s",
            [release.pk],
        )
    release.refresh_from_db()
    assert release.published_at.year == 1
    assert client.get("/ru/news/").status_code == 200
    client.force_login(superuser)
    assert client.get(reverse("admin:news_release_changelist")).status_code == 200
    assert client.get(reverse("admin:news_release_change", args=[release.pk])).status_code == 200


# --- settings -------------------------------------------------------------------------------


def test_a_filemail_path_is_absolute(tmp_path):
    from tests.test_deploy import manage, production_env

    folder = tmp_path / "mail"
    env = production_env(tmp_path, EMAIL_URL=f"filemail://{folder}")
    result = manage(env, "shell", "-c", "from django.conf import settings; print(settings.MAILERS)")
    assert result.returncode == 0, result.stderr
    assert f"'file_path': '{folder}'" in result.stdout


def test_refusals_read_as_sentences(author_user):
    from django.core.exceptions import PermissionDenied
    from django.utils import translation

    release = ReviewFactory()
    with (
        translation.override("en"),
        pytest.raises(PermissionDenied, match="request changes to this release"),
    ):
        workflow.request_changes(release, by=author_user, comment="Нет")


def test_the_new_messages_are_in_russian():
    from django.utils import translation

    with translation.override("ru"):
        release = ReviewFactory()
        with pytest.raises(workflow.ValidationError) as error:
            workflow.publish(release, by=None, at=datetime.datetime(1, 1, 2))
        assert "Дата публикации должна приходиться на годы с 1990" in " ".join(error.value.messages)
        assert str(workflow.REFUSALS["request_changes"]).startswith("Вам нельзя")
        assert translation.gettext(
            "The animation has too many frames; the limit is %(limit)s."
        ).startswith("В анимации")


# --- preview links ------------------------------------------------------------------------


def test_a_preview_link_dies_when_its_release_moves_on(client):
    from news.public import preview

    release = PublishedFactory()
    workflow.withdraw(release, by=None, reason="Ошибка")
    token = preview.make_token(release)  # issued while withdrawn
    workflow.reopen(release, by=None)
    stale = preview.preview_path(release, "ru", token)
    assert client.get(stale).status_code == 404
    fresh = preview.preview_path(release, "ru")
    assert client.get(fresh).status_code == 200
    workflow.submit(release, by=None)
    assert client.get(fresh).status_code == 404


# --- password change ----------------------------------------------------------------------


def test_wrong_old_passwords_are_throttled_like_sign_ins(client, superuser, settings):
    settings.AXES_ENABLED = True
    client.force_login(superuser)
    url = reverse("admin:password_change")
    new = {"new_password1": "Nov-parol-2026!", "new_password2": "Nov-parol-2026!"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"old_password": "wrong", **new})
        assert response.status_code == 200  # the form again, with its error
    assert client.post(url, {"old_password": "wrong", **new}).status_code == 429
    # Locked: even the right old password is refused now.
    assert client.post(url, {"old_password": "pass-word-123", **new}).status_code == 429
    superuser.refresh_from_db()
    assert superuser.check_password("pass-word-123")


def test_the_right_old_password_still_changes_it(client, superuser, settings):
    settings.AXES_ENABLED = True
    client.force_login(superuser)
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "pass-word-123",
            "new_password1": "Nov-parol-2026!",
            "new_password2": "Nov-parol-2026!",
        },
    )
    assert response.status_code == 302
    superuser.refresh_from_db()
    assert superuser.check_password("Nov-parol-2026!")


def test_a_stored_year_one_release_takes_no_page_down(client, superuser):
    release = PublishedFactory(title_ru="Год первый")
    Release.objects.filter(pk=release.pk).update(
        published_at=datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)
    )
    for url in ["/ru/news/", "/ru/news/archive/", release.get_absolute_url("ru")]:
        assert client.get(url).status_code in (200, 301), url
    assert client.get("/ru/news/archive/1/").status_code == 404
    client.force_login(superuser)
    assert client.get(reverse("admin:news_release_changelist")).status_code == 200
    assert client.get(reverse("admin:news_release_change", args=[release.pk])).status_code == 200
