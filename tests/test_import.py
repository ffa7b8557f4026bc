"""The plain-text archive importer: the real sample exactly, encodings, re-import, bad files."""

import datetime
import html
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from news.importers import ImportFileError, decode, detect_language, parse
from news.models import (
    Author,
    Release,
    ReleaseAuthor,
    ReleaseSource,
    SourceKind,
    Status,
    WorkflowEvent,
)

SAMPLE_TITLE = (
    "Исполнительный комитет СНГ и Администрация МОМ договорились о сотрудничестве на "
    "2012 – 2013 годы"
)
SAMPLE_LEAD = (
    "Исполнительный комитет СНГ и Администрация Международной организации по миграции "
    "договорились о сотрудничестве на предстоящие два года. Подписание очередного Плана по "
    "реализации Меморандума о взаимопонимании и сотрудничестве между этими двумя "
    "организациями, рассчитанного на 2012 – 2013 годы, состоялось 14 декабря в Минске."
)

RUSSIAN = """Исполнительный комитет Содружества Независимых Государств

Совет министров обсудил вопросы транспорта

Совет министров обсудил развитие транспортных коридоров.

Участники отметили рост грузоперевозок.

Пресс-служба Исполнительного комитета СНГ

Адрес страницы в интернете: https://cis.minsk.by/news/9001
"""

ENGLISH = """Commonwealth of Independent States Executive Committee

Council of Ministers discusses transport

The Council of Ministers discussed the development of transport corridors.

The participants noted growth in freight traffic.

Press Service of the CIS Executive Committee

Web page address: https://cis.minsk.by/news/9001
"""


def run_import(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_releases", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def paragraphs(body: str) -> list[str]:
    assert body.startswith("<p>") and body.endswith("</p>")
    return [html.unescape(p) for p in body[3:-4].split("</p><p>")]


def sample_paragraphs(path) -> list[str]:
    """The sample's paragraphs read independently of the importer: non-blank lines between the
    title and the signature, no-break spaces removed."""
    lines = [line.replace("\xa0", " ").strip() for line in path.read_text("utf-8").splitlines()]
    lines = [line for line in lines if line]
    return lines[2:-2]


@pytest.mark.django_db
class TestSample:
    def test_reproduces_the_real_release_exactly(self, sample_path):
        out, _ = run_import(sample_path)
        release = Release.objects.get()
        assert release.title_ru == SAMPLE_TITLE
        assert release.lead_ru == SAMPLE_LEAD
        body = paragraphs(release.body_ru)
        assert len(body) == 6  # the lead is the release's lead, not repeated in its text
        assert [SAMPLE_LEAD, *body] == sample_paragraphs(sample_path)
        assert body[-1].startswith("Ежегодно на базе Международного учебного центра")
        assert "Исполнительный комитет Содружества Независимых Государств" not in release.body_ru
        assert "Пресс-служба" not in release.body_ru
        assert "Адрес страницы" not in release.body_ru
        assert [a.name_ru for a in release.authors.all()] == [
            "Пресс-служба Исполнительного комитета СНГ"
        ]
        source = release.sources.get()
        assert (source.url, source.kind) == ("https://cis.minsk.by/news/437", SourceKind.ORIGINAL)
        assert source.label_ru == "Адрес страницы в интернете"
        assert release.title_en == release.body_en == ""
        assert release.slug == (
            "ispolnitelnyi-komitet-sng-i-administratsiia-mom-dogovorilis-o-sotrudnichestve-na-2012-2013-gody"
        )
        # Never invents a publication date: not published, and says so.
        assert release.status == Status.DRAFT
        assert release.published_at is None
        assert "not published" in out
        assert not Release.objects.published("ru").exists()

    def test_reimport_updates_instead_of_duplicating(self, sample_path):
        run_import(sample_path)
        release = Release.objects.get()
        release.title_ru = "Изменённый заголовок"
        release.save()
        out, _ = run_import(sample_path)
        assert "updated" in out
        assert Release.objects.count() == 1
        assert ReleaseSource.objects.count() == 1
        assert ReleaseAuthor.objects.count() == 1
        assert Author.objects.count() == 1
        release.refresh_from_db()
        assert release.title_ru == SAMPLE_TITLE
        assert release.version == 2

    def test_published_at_publishes_through_the_workflow(self, sample_path):
        run_import(sample_path, "--published-at", "2011-12-14T12:00:00+03:00")
        release = Release.objects.get()
        assert release.status == Status.PUBLISHED
        assert release.published_at == datetime.datetime(2011, 12, 14, 9, 0, tzinfo=datetime.UTC)
        assert release.first_published_at == release.published_at
        assert list(release.events.order_by("id").values_list("from_status", "to_status")) == [
            ("draft", "review"),
            ("review", "published"),
        ]
        assert list(Release.objects.published("ru")) == [release]
        assert not Release.objects.published("en").exists()


@pytest.mark.django_db
class TestEncodings:
    @pytest.mark.parametrize(
        "encoding", ["utf-8", "utf-8-sig", "cp1251", "utf-16"], ids=lambda e: e
    )
    @pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
    def test_any_supported_encoding_and_line_end(self, tmp_path, encoding, newline):
        path = tmp_path / "release.txt"
        path.write_bytes(RUSSIAN.replace("\n", newline).encode(encoding))
        run_import(path)
        release = Release.objects.get()
        assert release.title_ru == "Совет министров обсудил вопросы транспорта"
        assert release.lead_ru == "Совет министров обсудил развитие транспортных коридоров."
        assert paragraphs(release.body_ru) == ["Участники отметили рост грузоперевозок."]
        assert release.authors.get().name_ru == "Пресс-служба Исполнительного комитета СНГ"
        assert release.sources.get().url == "https://cis.minsk.by/news/9001"

    def test_no_break_spaces_and_zero_width_characters_are_normalised(self, tmp_path):
        text = RUSSIAN.replace(
            "Совет министров обсудил развитие", "Совет\xa0министров\u200b обсудил развитие"
        )
        text = text.replace("\n\nУчастники", "\n\xa0\n\nУчастники")
        path = tmp_path / "nbsp.txt"
        path.write_text(text, "utf-8")
        run_import(path)
        release = Release.objects.get()
        assert release.lead_ru == "Совет министров обсудил развитие транспортных коридоров."
        assert paragraphs(release.body_ru) == ["Участники отметили рост грузоперевозок."]

    def test_decode_prefers_utf8_and_falls_back_to_windows_1251(self):
        assert decode("Пресс-служба".encode()) == "Пресс-служба"
        assert decode("Пресс-служба".encode("cp1251")) == "Пресс-служба"
        assert decode("\ufeffПресс".encode()) == "Пресс"


@pytest.mark.django_db
class TestLanguages:
    def test_english_is_detected_and_fills_the_english_fields(self, tmp_path):
        path = tmp_path / "en.txt"
        path.write_text(ENGLISH, "utf-8")
        run_import(path)
        release = Release.objects.get()
        assert release.title_en == "Council of Ministers discusses transport"
        assert release.lead_en.startswith("The Council of Ministers discussed")
        assert release.title_ru == ""
        assert release.authors.get().name_en == "Press Service of the CIS Executive Committee"

    def test_english_file_with_the_same_address_adds_the_english_version(self, tmp_path):
        (tmp_path / "ru.txt").write_text(RUSSIAN, "utf-8")
        (tmp_path / "en.txt").write_text(ENGLISH, "utf-8")
        run_import(tmp_path / "ru.txt", "--published-at", "2020-05-01")
        run_import(tmp_path / "en.txt")
        release = Release.objects.get()
        assert release.title_ru == "Совет министров обсудил вопросы транспорта"
        assert release.title_en == "Council of Ministers discusses transport"
        assert release.status == Status.PUBLISHED
        assert list(Release.objects.published("en")) == [release]

    def test_language_option_overrides_detection(self, tmp_path):
        path = tmp_path / "ru.txt"
        path.write_text(RUSSIAN, "utf-8")
        run_import(path, "--language", "en")
        assert Release.objects.get().title_en == "Совет министров обсудил вопросы транспорта"

    def test_detect_language(self):
        assert detect_language("Пресс-служба сообщает") == "ru"
        assert detect_language("The press service reports") == "en"


@pytest.mark.django_db
class TestAuthors:
    def test_an_existing_author_is_reused_whatever_the_letter_case(self, tmp_path):
        existing = Author.objects.create(name_ru="ПРЕСС-СЛУЖБА ИСПОЛНИТЕЛЬНОГО КОМИТЕТА СНГ")
        path = tmp_path / "ru.txt"
        path.write_text(RUSSIAN, "utf-8")
        run_import(path)
        assert Author.objects.count() == 1
        assert Release.objects.get().authors.get() == existing

    def test_without_signature_and_address(self, tmp_path):
        path = tmp_path / "plain.txt"
        path.write_text(
            "Исполком СНГ\n\nЗаголовок без подписи\n\nПервый абзац.\n\nВторой абзац.\n", "utf-8"
        )
        run_import(path)
        release = Release.objects.get()
        assert release.lead_ru == "Первый абзац."
        assert paragraphs(release.body_ru) == ["Второй абзац."]
        assert not release.authors.exists()
        assert not release.sources.exists()

    def test_last_paragraph_ending_a_sentence_is_not_a_signature(self):
        parsed = parse("Орган\n\nЗаголовок\n\nПервый абзац.\n\nПоследний абзац текста.\n")
        assert parsed.signature == ""
        assert parsed.paragraphs == ["Первый абзац.", "Последний абзац текста."]


def test_hard_wrapped_paragraphs_are_joined_and_one_paragraph_per_line_files_work():
    wrapped = parse("Орган\n\nЗаголовок\n\nПервая строка\nабзаца.\n\nВторой.\n")
    assert wrapped.paragraphs == ["Первая строка абзаца.", "Второй."]
    dense = parse("Орган\n\nЗаголовок\n\nПервый.\nВторой.\nТретий.\n")
    assert dense.paragraphs == ["Первый.", "Второй.", "Третий."]


def test_body_html_escapes_markup_from_the_text():
    parsed = parse("Орган\n\nЗаголовок\n\nТекст <script>alert(1)</script> & «кавычки».\n")
    assert parsed.body_html == (
        "<p>Текст &lt;script&gt;alert(1)&lt;/script&gt; &amp; «кавычки».</p>"
    )


@pytest.mark.django_db
class TestBadFiles:
    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            (b"", "empty"),
            (b"   \n\r\n  ", "empty"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
            ("Только орган\n".encode(), "no title"),
            ("Орган\n\nЗаголовок\n".encode(), "no text"),
            (
                "Орган\n\nЗаголовок\n\nТекст.\n\nАдрес страницы в интернете: ftp://x.org/1\n".encode(),
                "not an http(s) URL",
            ),
        ],
        ids=["empty", "blank", "binary", "no-title", "no-text", "bad-url"],
    )
    def test_a_bad_file_is_reported_by_name_and_writes_nothing(self, tmp_path, content, reason):
        bad = tmp_path / "bad.txt"
        bad.write_bytes(content)
        good = tmp_path / "good.txt"
        good.write_text(RUSSIAN, "utf-8")
        err = StringIO()
        with pytest.raises(CommandError, match="1 of 2 files"):
            call_command("import_releases", str(bad), str(good), stdout=StringIO(), stderr=err)
        assert f"{bad}: " in err.getvalue()
        assert reason in err.getvalue()
        # The good file still imported, the bad one left nothing behind.
        assert Release.objects.count() == 1
        assert Release.objects.get().title_ru == "Совет министров обсудил вопросы транспорта"
        assert Author.objects.count() == 1

    def test_missing_file(self, tmp_path):
        err = StringIO()
        with pytest.raises(CommandError):
            call_command(
                "import_releases", str(tmp_path / "nope.txt"), stdout=StringIO(), stderr=err
            )
        assert "nope.txt: cannot read the file" in err.getvalue()

    def test_a_failure_inside_the_transaction_leaves_nothing(self, tmp_path, monkeypatch):
        path = tmp_path / "ru.txt"
        path.write_text(RUSSIAN, "utf-8")

        def explode(*args, **kwargs):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr("news.importers.ReleaseSource.objects.create", explode)
        with pytest.raises(RuntimeError):
            run_import(path)
        assert Release.objects.count() == 0
        assert Author.objects.count() == 0
        assert WorkflowEvent.objects.count() == 0

    def test_published_status_without_a_date_is_refused(self, tmp_path):
        path = tmp_path / "ru.txt"
        path.write_text(RUSSIAN, "utf-8")
        with pytest.raises(CommandError, match="never invents a publication date"):
            run_import(path, "--status", "published")
        assert Release.objects.count() == 0

    def test_bad_date_is_refused(self, tmp_path):
        with pytest.raises(CommandError, match="not an ISO date"):
            run_import(tmp_path, "--published-at", "14.12.2011")

    def test_parse_errors_name_the_problem(self):
        with pytest.raises(ImportFileError, match="no title"):
            parse("Орган\n")


@pytest.mark.django_db
def test_folder_import_with_progress(tmp_path):
    for n in range(120):
        (tmp_path / f"{n:03}.txt").write_text(
            RUSSIAN.replace("9001", str(20000 + n)).replace("транспорта", f"транспорта {n}"),
            "utf-8",
        )
    out, _ = run_import(tmp_path, "--status", "review")
    assert "[100/120]" in out and "[120/120]" in out
    assert Release.objects.in_review().count() == 120
    assert Author.objects.count() == 1


@pytest.mark.django_db
def test_the_english_file_translates_the_signature_of_the_russian_one(tmp_path):
    (tmp_path / "ru.txt").write_text(RUSSIAN, "utf-8")
    (tmp_path / "en.txt").write_text(ENGLISH, "utf-8")
    run_import(tmp_path / "ru.txt")
    run_import(tmp_path / "en.txt")
    author = Release.objects.get().authors.get()
    assert (author.name_ru, author.name_en) == (
        "Пресс-служба Исполнительного комитета СНГ",
        "Press Service of the CIS Executive Committee",
    )
    assert Author.objects.count() == 1


def test_a_long_paragraph_starting_like_a_signature_stays_text():
    long_last = "Пресс-служба сообщает, что материалы будут опубликованы позднее " * 5
    parsed = parse(f"Орган\n\nЗаголовок\n\nПервый абзац.\n\n{long_last.strip()}\n")
    assert parsed.signature == ""
    assert parsed.paragraphs[-1] == long_last.strip()
