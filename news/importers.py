"""The plain-text archive importer.

The format (see README, "Import format"): the publishing body's name on the first line (not part
of the release), then the title, then paragraphs separated by blank lines (the first is the lead;
all of them form the body), then an optional signature line ("Пресс-служба ..." / "Press Service
...") and an optional page address line ("Адрес страницы в интернете: URL" / "Web page address:
URL"). Files may be UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1251, with any line
ends and no-break spaces.
"""

from __future__ import annotations

import datetime
import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, OperationalError, transaction

from news import workflow
from news.models import Author, Release, ReleaseAuthor, ReleaseSource, SourceKind, Status
from news.publication_dates import check_publication_date
from news.sanitize import strip_control_characters

MAX_FILE_BYTES = 5 * 1024 * 1024
ATTEMPTS = 3

SOURCE_LINE = re.compile(
    r"^(?P<label>адрес страницы в интернете|адрес страницы|источник|web page address|"
    r"page address|source|original)\s*:\s*(?P<url>\S+)\s*$",
    re.IGNORECASE,
)
SIGNATURE_START = re.compile(
    r"^(пресс-служба|пресс-центр|пресс-секретариат|управление информации|"
    r"департамент информации|информационн\w+ (отдел|служба|управление)|"
    r"press[- ]service|press office|press centre|press center|press secretariat|"
    r"information (department|office|service))\b",
    re.IGNORECASE,
)
SENTENCE_END = tuple('.!?…:;»"”)')
SIGNATURE_MAX_LENGTH = 200
SOURCE_LABELS = {"ru": "Адрес страницы в интернете", "en": "Web page address"}
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_HORIZONTAL_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


class ImportFileError(Exception):
    """A file that cannot become a release; the message names what is wrong."""


class ReimportRefused(ImportFileError):
    """The file would overwrite a release that moved on since it was imported."""


@dataclass
class ParsedRelease:
    title: str
    paragraphs: list[str]
    language: str
    publisher: str = ""
    signature: str = ""
    source_url: str = ""

    @property
    def lead(self) -> str:
        return self.paragraphs[0] if self.paragraphs else ""

    @property
    def body_html(self) -> str:
        """The paragraphs after the lead (the page shows the lead itself, once); a release of
        one paragraph keeps it as its text too."""
        text = self.paragraphs[1:] or self.paragraphs
        return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in text)


@dataclass
class ImportResult:
    path: str
    release: Release | None = None
    created: bool = False
    messages: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1251. Refuses binary."""
    if not data.strip():
        raise ImportFileError("the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"not valid UTF-16 text ({exc.reason})") from None
    if b"\x00" in data:
        raise ImportFileError("not a text file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            raise ImportFileError("not a text file in UTF-8 or Windows-1251") from None
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > max(2, len(text) // 200):
        raise ImportFileError("not a text file (it contains control characters)")
    # A form feed ends a line as before; other stray controls (\x01...) are dropped.
    return strip_control_characters(text.replace("\f", "\n"))


def detect_language(text: str) -> str:
    """ "ru" when Cyrillic letters outnumber Latin ones, else "en"."""
    cyrillic = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "ru" if cyrillic >= latin else "en"


def _blocks(text: str) -> list[list[str]]:
    """Lines grouped into blocks separated by blank lines, spaces normalised."""
    text = unicodedata.normalize("NFC", text.translate(_INVISIBLE))
    lines = [
        _HORIZONTAL_SPACE.sub(" ", line).strip()
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _is_signature(line: str) -> bool:
    """A signature is one short line: a press-service name, or any short capitalised line
    without final punctuation. A long paragraph is text, whatever it starts with."""
    words = line.split()
    if len(line) > SIGNATURE_MAX_LENGTH or len(words) > 20:
        return False
    if SIGNATURE_START.match(line):
        return True
    return 2 <= len(words) <= 15 and line[0].isupper() and not line.endswith(SENTENCE_END)


def parse(text: str, language: str | None = None) -> ParsedRelease:
    blocks = _blocks(text)
    if not blocks:
        raise ImportFileError("the file is empty")
    publisher = blocks[0][0]
    if len(blocks[0]) > 1:
        title_lines, rest = blocks[0][1:], blocks[1:]
    elif len(blocks) > 1:
        title_lines, rest = blocks[1], blocks[2:]
    else:
        raise ImportFileError("no title: the file holds only the publishing body's line")

    # Paragraphs: blank-line separated blocks; a file with no blank lines at all has one
    # paragraph per line.
    if len(rest) == 1 and len(rest[0]) > 1:
        lines = rest[0]
    else:
        lines = [" ".join(block) for block in rest]

    source_url = ""
    if lines and (match := SOURCE_LINE.match(lines[-1])):
        source_url = match["url"]
        try:
            URLValidator(schemes=["http", "https"])(source_url)
        except ValidationError:
            raise ImportFileError(
                f"the page address {source_url!r} is not an http(s) URL"
            ) from None
        lines = lines[:-1]
    signature = ""
    if len(lines) > 1 and _is_signature(lines[-1]):
        signature, lines = lines[-1], lines[:-1]
    if not lines:
        raise ImportFileError("no text: the release has a title but no paragraphs")

    title = " ".join(title_lines)
    if len(title) > Release._meta.get_field("title_ru").max_length:
        raise ImportFileError(f"the title is longer than 500 characters ({title[:60]}...)")
    return ParsedRelease(
        title=title,
        paragraphs=lines,
        language=language or detect_language(title + " " + " ".join(lines)),
        publisher=publisher,
        signature=signature,
        source_url=source_url,
    )


def read_release(path: Path, language: str | None = None) -> ParsedRelease:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError(f"the file is too large ({size} bytes, at most {MAX_FILE_BYTES})")
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read the file ({exc.strerror})") from None
    return parse(decode(data), language)


def find_author(name: str) -> Author | None:
    """An author whose Russian or English name is `name`, ignoring case (Cyrillic too)."""
    key = name.casefold()
    for author in Author.objects.only("id", "name_ru", "name_en"):
        if key in (author.name_ru.casefold(), author.name_en.casefold()):
            return author
    return None


def _translated_author(release: Release, language: str) -> Author | None:
    """The release's only author still without a name in `language`, if there is one."""
    if release.pk is None:
        return None
    untranslated = [
        link.author
        for link in release.release_authors.select_related("author")
        if not getattr(link.author, f"name_{language}")
    ]
    return untranslated[0] if len(untranslated) == 1 else None


def edited_since_import(release: Release, by: AbstractBaseUser | None) -> bool:
    """Whether someone other than the importer (`by`) saved `release` after its last import."""
    for record in release.history.order_by("-history_id").only(
        "history_user", "history_change_reason"
    )[:500]:
        if record.history_change_reason == "import":
            return False
        if record.history_user_id is not None and record.history_user_id != getattr(by, "pk", None):
            return True
    return False


def text_changes(release: Release, parsed: ParsedRelease) -> list[str]:
    """The fields of `release` the file would change."""
    lang = parsed.language
    wanted = {
        f"title_{lang}": parsed.title,
        f"lead_{lang}": parsed.lead,
        f"body_{lang}": parsed.body_html,
    }
    return [name for name, value in wanted.items() if getattr(release, name) != value]


def check_reimport(release: Release, parsed: ParsedRelease, by: AbstractBaseUser | None) -> None:
    """Re-importing a file never silently overwrites a release that moved past draft or that a
    person changed since its import: the import of that file is refused, naming the release.
    Adding a language the release does not have yet, or a file with the same text, is fine."""
    lang = parsed.language
    overwritten = [name for name in text_changes(release, parsed) if getattr(release, name).strip()]
    if not overwritten:
        return
    if release.status != Status.DRAFT:
        why = f"it is {release.status}"
    elif edited_since_import(release, by):
        why = "it was changed in the newsroom since it was imported"
    else:
        return
    title = getattr(release, f"title_{lang}") or release.title_ru or release.title_en
    raise ReimportRefused(
        f"not imported: it would overwrite {', '.join(overwritten)} of release #{release.pk} "
        f"«{title}», and {why}; check the release in the newsroom, or give --force to "
        "overwrite it"
    )


def save_release(
    parsed: ParsedRelease,
    *,
    status: str = Status.DRAFT,
    published_at: datetime.datetime | None = None,
    by: AbstractBaseUser | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> tuple[Release, bool, list[str]]:
    """Create the release, or update the one whose original page is the same URL, in one
    transaction. A draft moves forward to `status` through the workflow; a release already
    further along (in review, published, withdrawn) keeps its status, and its text is not
    overwritten unless `force` (`check_reimport`). A `dry_run` does everything, reports what
    changed, and rolls it all back."""
    lang = parsed.language
    messages: list[str] = []
    try:
        check_publication_date(published_at)
    except ValidationError as exc:
        raise ImportFileError("; ".join(exc.messages)) from None
    with transaction.atomic():
        release = None
        if parsed.source_url:
            source = (
                ReleaseSource.objects.select_for_update()
                .select_related("release")
                .filter(kind=SourceKind.ORIGINAL, url=parsed.source_url)
                .first()
            )
            release = source.release if source else None
        created = release is None
        if created:
            release = Release(created_by=by)
        else:
            if not force:
                check_reimport(release, parsed, by)
            changes = text_changes(release, parsed)
            messages.append(f"changed {', '.join(changes)}" if changes else "text unchanged")
        setattr(release, f"title_{lang}", parsed.title)
        setattr(release, f"lead_{lang}", parsed.lead)
        setattr(release, f"body_{lang}", parsed.body_html)
        if published_at is not None and (created or release.status != Status.PUBLISHED):
            release.published_at = published_at
        release.updated_by = by
        if not created:
            release.version += 1
        release._change_reason = "import"
        release.save()

        if parsed.signature:
            author = find_author(parsed.signature) or _translated_author(release, lang)
            if author is None:
                author = Author.objects.create(**{f"name_{lang}": parsed.signature})
            elif not getattr(author, f"name_{lang}"):
                # The other language's file of the same release: its signature is the
                # translation of the one already there.
                setattr(author, f"name_{lang}", parsed.signature)
                author.save(update_fields=[f"name_{lang}"])
            if not release.release_authors.filter(author=author).exists():
                position = release.release_authors.count()
                ReleaseAuthor.objects.create(release=release, author=author, position=position)
        if parsed.source_url and created:
            ReleaseSource.objects.create(
                release=release,
                url=parsed.source_url,
                kind=SourceKind.ORIGINAL,
                label_ru=SOURCE_LABELS["ru"],
                label_en=SOURCE_LABELS["en"],
            )

        # Forward through the workflow only: draft -> review -> published.
        if status in (Status.REVIEW, Status.PUBLISHED) and release.status == Status.DRAFT:
            workflow.submit(release, by=by)
        if status == Status.PUBLISHED and release.status == Status.REVIEW:
            workflow.publish(release, by=by, at=published_at)
        if release.status != status:
            messages.append(f"kept its status {release.status}")
        if dry_run:
            transaction.set_rollback(True)
    return release, created, messages


def import_file(
    path: Path,
    *,
    language: str | None = None,
    status: str = Status.DRAFT,
    published_at: datetime.datetime | None = None,
    by: AbstractBaseUser | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import one file; raises ImportFileError (nothing written) when it cannot."""
    parsed = read_release(path, language)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            release, created, messages = save_release(
                parsed,
                status=status,
                published_at=published_at,
                by=by,
                force=force,
                dry_run=dry_run,
            )
            break
        except (IntegrityError, OperationalError):
            # Another import created the same original URL, slug or author at the same moment,
            # or the database chose this transaction as a deadlock victim: everything was
            # rolled back, and the next attempt finds the other's rows and updates them.
            if attempt == ATTEMPTS:
                raise
        except ValidationError as exc:
            raise ImportFileError("; ".join(exc.messages)) from None
    return ImportResult(str(path), release, created, messages)
