"""The data model's rules: the one public rule, constraints, slugs, sanitized bodies."""

import datetime
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from news.models import Release, ReleaseSource, SourceKind, Status
from news.sanitize import sanitize_html
from news.slugs import slug_from_title, transliterate
from tests.factories import (
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyPublishedFactory,
    ScheduledFactory,
    SourceFactory,
    WithdrawnFactory,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
class TestPublicRule:
    def test_only_published_past_and_complete_language_versions(self):
        public = PublishedFactory()
        russian_only = RussianOnlyPublishedFactory()
        DraftFactory()
        ReviewFactory()
        ScheduledFactory()
        WithdrawnFactory()
        assert set(Release.objects.published("ru")) == {public, russian_only}
        assert set(Release.objects.published("en")) == {public}

    def test_half_an_english_version_is_not_public_in_english(self):
        release = PublishedFactory()
        Release.objects.filter(pk=release.pk).update(body_en="")
        assert not Release.objects.published("en").exists()
        assert Release.objects.published("ru").exists()

    def test_completeness_flags_follow_the_fields_in_the_database(self):
        release = DraftFactory(title_en="", body_en="")
        release.refresh_from_db()
        assert (release.ru_complete, release.en_complete) == (True, False)
        Release.objects.filter(pk=release.pk).update(title_en="T", body_en="<p>B</p>")
        release.refresh_from_db()
        assert release.en_complete is True

    def test_unknown_language_is_an_error(self):
        with pytest.raises(ValueError, match="unknown language"):
            Release.objects.published("de")

    def test_is_public_agrees_with_the_query(self):
        release = ScheduledFactory()
        assert not release.is_public("ru")
        later = release.published_at + datetime.timedelta(seconds=1)
        assert release.is_public("ru", now=later)
        assert release in Release.objects.published("ru", now=later)


@pytest.mark.django_db(transaction=True)
class TestConstraints:
    def test_published_needs_a_date(self):
        release = DraftFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Release.objects.filter(pk=release.pk).update(status=Status.PUBLISHED)

    def test_unknown_status_is_refused(self):
        release = DraftFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Release.objects.filter(pk=release.pk).update(status="deleted")

    @pytest.mark.parametrize("url", ["ftp://x.org/a", "javascript:alert(1)", "//x.org"])
    def test_source_urls_are_http_or_https(self, url):
        release = DraftFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            ReleaseSource.objects.create(release=release, url=url, kind=SourceKind.RELATED)

    def test_an_original_url_belongs_to_one_release(self):
        SourceFactory(url="https://cis.minsk.by/news/1")
        with pytest.raises(IntegrityError), transaction.atomic():
            SourceFactory(url="https://cis.minsk.by/news/1")
        # The same address as a related link elsewhere is fine.
        SourceFactory(url="https://cis.minsk.by/news/1", kind=SourceKind.RELATED)

    def test_slugs_are_unique(self):
        first = DraftFactory(title_ru="Одинаковый заголовок")
        second = DraftFactory(title_ru="Одинаковый заголовок")
        assert (first.slug, second.slug) == ("odinakovyi-zagolovok", "odinakovyi-zagolovok-2")
        with pytest.raises(IntegrityError), transaction.atomic():
            Release.objects.filter(pk=second.pk).update(slug=first.slug)


class TestSlugs:
    @pytest.mark.parametrize(
        ("title", "slug"),
        [
            ("Исполнительный комитет СНГ", "ispolnitelnyi-komitet-sng"),
            ("Щёлково, Жуковский и Хабаровск", "shchelkovo-zhukovskii-i-khabarovsk"),
            ("Объявление: съезд «Юность»", "obieiavlenie-sieezd-iunost"),
            ("Беларусь і Україна: ўзровень", "belarus-i-ukraina-uzroven"),
            ("Summit in Minsk 2026", "summit-in-minsk-2026"),
            ("«»—!?", "release"),
        ],
    )
    def test_transliterated_latin_slugs(self, title, slug):
        assert slug_from_title(title) == slug

    def test_long_titles_are_cut_at_a_word(self):
        slug = slug_from_title("Заседание " * 40)
        assert len(slug) <= 100
        assert not slug.endswith("-")
        assert slug.endswith("zasedanie")

    def test_transliterate_keeps_case(self):
        assert transliterate("Минск") == "Minsk"


class TestSanitizer:
    @pytest.mark.parametrize(
        "payload",
        [
            "<script>alert(1)</script><p>ok</p>",
            '<p onclick="alert(1)">ok</p>',
            '<a href="javascript:alert(1)">ok</a>',
            '<a href="data:text/html;base64,PHNjcmlwdD4=">ok</a>',
            '<iframe src="https://evil.example"></iframe><p>ok</p>',
            '<p style="color:red">ok</p>',
            '<svg onload="alert(1)"><p>ok</p></svg>',
            "<img src=x onerror=alert(1)><p>ok</p>",
            "<p>ok<scr<script>ipt>alert(1)</script></p>",
            "<style>p{}</style><p>ok</p>",
        ],
    )
    def test_nothing_executable_survives(self, payload):
        clean = sanitize_html(payload).lower()
        for bad in ("<script", "onclick", "onload", "onerror", "javascript:", "data:",
                    "<iframe", "style", "<svg", "<img"):  # fmt: skip
            assert bad not in clean
        assert "ok" in clean

    def test_formatting_is_kept(self):
        html = (
            "<h2>Итоги</h2><p><strong>Жирный</strong> и <em>курсив</em></p>"
            "<ul><li>один</li></ul><blockquote>цитата</blockquote>"
            '<a href="https://cis.minsk.by/">ссылка</a>'
            '<table><tbody><tr><td colspan="2">ячейка</td></tr></tbody></table>'
        )
        clean = sanitize_html(html)
        for kept in ("<h2>", "<strong>", "<em>", "<li>", "<blockquote>", 'colspan="2"',
                     'href="https://cis.minsk.by/"', "<table>"):  # fmt: skip
            assert kept in clean

    @pytest.mark.parametrize("empty", ["", "<p></p>", "<p> </p>", "<p>&nbsp;</p>", "<br>"])
    def test_an_empty_body_is_stored_as_empty(self, empty):
        assert sanitize_html(empty) == ""

    @pytest.mark.django_db
    def test_save_sanitizes_both_bodies(self):
        release = DraftFactory(
            body_ru='<p onclick="x()">Текст</p><script>x()</script>',
            body_en='<p><a href="javascript:x()">Text</a></p>',
        )
        release.refresh_from_db()
        assert release.body_ru == "<p>Текст</p>"
        assert "javascript" not in release.body_en


@pytest.mark.django_db
def test_seed_demo_is_bilingual_and_idempotent():
    out = StringIO()
    call_command("seed_demo", "--no-images", stdout=out)
    assert Release.objects.count() == 40
    call_command("seed_demo", stdout=out)  # again: nothing added
    assert Release.objects.count() == 40
    assert "no demo content added" in out.getvalue()
    assert Release.objects.published("ru").count() > 20
    assert 0 < Release.objects.published("en").count() < Release.objects.published("ru").count()
    assert Release.objects.drafts().exists() or Release.objects.in_review().exists()
    assert not Release.objects.filter(slug="").exists()
    public = Release.objects.published("ru").first()
    assert public.authors.exists() and public.categories.exists() and public.original_source()
    call_command("seed_demo", "--count", "300", "--no-images", stdout=out)
    assert Release.objects.count() == 340
    assert Release.objects.values("slug").distinct().count() == 340


@pytest.mark.django_db
def test_demo_users_get_their_roles(roles):
    call_command("seed_demo", "--users", "--count", "0", stdout=StringIO())
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["admin"].is_superuser
    assert users["editor"].groups.filter(name="Editors").exists()
    assert users["editor2"].groups.filter(name="Editors").exists()  # the second pair of eyes
    assert users["author"].groups.filter(name="Authors").exists()
    assert users["author"].check_password("demo-press-2026")


def run_settings(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "pressservice.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", [None, "", "change-me", "django-insecure-abc", "short"])
def test_production_start_refuses_a_missing_or_placeholder_secret_key(key):
    env = {"DJANGO_DEBUG": "0"} | ({"DJANGO_SECRET_KEY": key} if key is not None else {})
    result = run_settings(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is missing or is a placeholder" in result.stderr


def test_production_start_with_a_real_key_and_development_without_one():
    assert run_settings({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 50}).returncode == 0
    assert run_settings({"DJANGO_DEBUG": "1"}).returncode == 0


def test_code_style_is_clean():
    """ruff lint and format, as `make lint` runs them, are part of the suite."""
    ruff = Path(sys.executable).parent / "ruff"
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
