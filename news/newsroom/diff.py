"""Revisions of a release as a press officer reads them: what the text said at each saved
version (with its authors and sources) and a word-level diff between two versions.

Snapshots come from django-simple-history. The authors and sources of a revision are those that
existed just before the next revision of the release was saved (`news.revisions.related_until`)."""

from __future__ import annotations

import datetime
import difflib
import html
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from news.models import Author, ReleaseAuthor, ReleaseSource
from news.revisions import RESTORED_FIELDS, related_until

TEXT_LABELS = {
    "title_ru": _("Title (Russian)"),
    "lead_ru": _("Lead (Russian)"),
    "body_ru": _("Text (Russian)"),
    "title_en": _("Title (English)"),
    "lead_en": _("Lead (English)"),
    "body_en": _("Text (English)"),
    "image": _("Lead image"),
    "image_alt_ru": _("Image alt text (Russian)"),
    "image_alt_en": _("Image alt text (English)"),
    "image_caption_ru": _("Image caption (Russian)"),
    "image_caption_en": _("Image caption (English)"),
}
# Content fields shown in a diff: those a restore copies back, in reading order.
TEXT_FIELDS: list[tuple[str, str]] = [(name, TEXT_LABELS[name]) for name in RESTORED_FIELDS]
LIST_FIELDS: list[tuple[str, str]] = [
    ("authors", _("Authors")),
    ("sources", _("Sources")),
]
HTML_FIELDS = {"body_ru", "body_en"}

_BLOCK_END = re.compile(
    r"</(p|h[1-6]|li|blockquote|tr|table|figcaption|pre)>|<br\s*/?>|<hr\s*/?>", re.I
)
_LIST_ITEM = re.compile(r"<li[^>]*>", re.I)
_CELL = re.compile(r"</t[dh]>", re.I)
_TAG = re.compile(r"<[^>]+>")
_TOKEN = re.compile(r"\s+|[^\s]+")


def body_text(body: str) -> str:
    """The readable text of a sanitized body: one line per paragraph, heading or list item."""
    text = _LIST_ITEM.sub("• ", body or "")
    text = _CELL.sub(" | ", text)
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


@dataclass
class Snapshot:
    """The content of one revision, as plain text per field."""

    record: object  # a HistoricalRelease row
    fields: dict[str, str]

    @property
    def version(self) -> int:
        return self.record.version


def _authors_as_of(release_id: int, moment: datetime.datetime | None) -> list[str]:
    if moment is None:
        links = ReleaseAuthor.objects.filter(release_id=release_id).select_related("author")
        return [str(link.author) for link in links]
    rows = ReleaseAuthor.history.as_of(moment).filter(release_id=release_id)
    rows = sorted(rows, key=lambda link: (link.position, link.pk))
    authors = Author.objects.in_bulk([r.author_id for r in rows])
    return [str(authors.get(r.author_id, f"#{r.author_id}")) for r in rows]


def _sources_as_of(release_id: int, moment: datetime.datetime | None) -> list[ReleaseSource]:
    if moment is None:
        return list(ReleaseSource.objects.filter(release_id=release_id))
    rows = ReleaseSource.history.as_of(moment).filter(release_id=release_id)
    return sorted(rows, key=lambda source: (source.position, source.pk))


def _source_line(source: ReleaseSource) -> str:
    labels = " / ".join(label for label in (source.label_ru, source.label_en) if label)
    return f"{source.get_kind_display()}: {source.url}" + (f" ({labels})" if labels else "")


def snapshot(record) -> Snapshot:
    fields = {}
    for name, _label in TEXT_FIELDS:
        value = getattr(record, name) or ""
        value = str(value)
        fields[name] = body_text(value) if name in HTML_FIELDS else value
    until = related_until(record)
    fields["authors"] = "\n".join(_authors_as_of(record.id, until))
    fields["sources"] = "\n".join(_source_line(s) for s in _sources_as_of(record.id, until))
    return Snapshot(record=record, fields=fields)


def inline_diff(old: str, new: str) -> SafeString:
    """Word-level diff of two texts as HTML: removed words in <del>, added ones in <ins>,
    everything escaped; line breaks kept."""
    old_tokens = _TOKEN.findall(old or "")
    new_tokens = _TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    parts: list[str] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        removed = escape("".join(old_tokens[a1:a2]))
        added = escape("".join(new_tokens[b1:b2]))
        if op == "equal":
            parts.append(removed)
            continue
        if removed:
            parts.append(f"<del>{removed}</del>")
        if added:
            parts.append(f"<ins>{added}</ins>")
    return mark_safe("".join(parts).replace("\n", "<br>\n"))


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str

    @property
    def html(self) -> SafeString:
        return inline_diff(self.old, self.new)


def compare(old: Snapshot, new: Snapshot) -> list[FieldChange]:
    """The fields that differ between two snapshots, in reading order."""
    changes = []
    for name, label in [*TEXT_FIELDS, *LIST_FIELDS]:
        if old.fields.get(name, "") != new.fields.get(name, ""):
            changes.append(FieldChange(name, str(label), old.fields[name], new.fields[name]))
    return changes


def changed_labels(old_record, new_record) -> list[str]:
    """Which text fields changed from one revision row to the next (cheap: no related rows)."""
    return [
        str(label)
        for name, label in TEXT_FIELDS
        if str(getattr(old_record, name) or "") != str(getattr(new_record, name) or "")
    ]


def _content_fields(content) -> dict[str, str]:
    fields = {}
    for name, _label in TEXT_FIELDS:
        value = str(getattr(content, name) or "")
        fields[name] = body_text(value) if name in HTML_FIELDS else value
    return fields


def live_snapshot(release) -> Snapshot:
    """The live content of a release, to compare with its pending edition."""
    fields = _content_fields(release)
    fields["authors"] = "\n".join(_authors_as_of(release.pk, None))
    fields["sources"] = "\n".join(_source_line(s) for s in _sources_as_of(release.pk, None))
    return Snapshot(record=release, fields=fields)


def edition_snapshot(edition) -> Snapshot:
    """The content of a pending edition (its authors and sources from its own list)."""
    relations = edition.relations or {}
    fields = _content_fields(edition)
    authors = Author.objects.in_bulk(relations.get("authors", []))
    fields["authors"] = "\n".join(
        str(authors[pk]) for pk in relations.get("authors", []) if pk in authors
    )
    fields["sources"] = "\n".join(
        _source_line(ReleaseSource(**values)) for values in relations.get("sources", [])
    )
    return Snapshot(record=edition, fields=fields)


# --- the documents and photos of a pending edition against the live ones ------------------

ATTACHMENT_FIELDS = {
    "document": ("title_ru", "title_en", "languages", "accessible"),
    "photo": (
        "alt_ru",
        "alt_en",
        "caption_ru",
        "caption_en",
        "credit_ru",
        "credit_en",
        "licence_ru",
        "licence_en",
    ),
}
ATTACHMENT_CHANGES = {
    ("document", "added"): _("Document added"),
    ("document", "removed"): _("Document removed"),
    ("document", "changed"): _("Document changed"),
    ("document", "reordered"): _("Documents reordered"),
    ("photo", "added"): _("Photo added"),
    ("photo", "removed"): _("Photo removed"),
    ("photo", "changed"): _("Photo changed"),
    ("photo", "reordered"): _("Photos reordered"),
}


@dataclass
class AttachmentChange:
    kind: str  # document, photo
    action: str  # added, removed, changed, reordered
    name: str = ""
    fields: tuple[str, ...] = ()  # what changed, as labels

    @property
    def label(self) -> str:
        return str(ATTACHMENT_CHANGES[(self.kind, self.action)])


def _attachment_name(row) -> str:
    stored = (row.file if hasattr(row, "file") else row.image).name
    title = row.title_ru if hasattr(row, "title_ru") else (row.caption_ru or row.alt_ru)
    filename = stored.rsplit("/", 1)[-1]
    return f"{title} ({filename})" if title else filename


def _changes_of(kind: str, live: list, proposed: list) -> list[AttachmentChange]:
    stored = (lambda row: row.file.name) if kind == "document" else (lambda row: row.image.name)
    by_file: dict[str, list] = {}
    for row in live:
        by_file.setdefault(stored(row), []).append(row)
    changes, kept = [], []  # kept: the live rows the edition keeps, in the edition's order
    for row in proposed:
        same_file = by_file.get(stored(row))
        if not same_file:
            changes.append(AttachmentChange(kind, "added", _attachment_name(row)))
            continue
        before = same_file.pop(0)
        kept.append(before.pk)
        fields = tuple(
            str(row._meta.get_field(name).verbose_name)
            for name in ATTACHMENT_FIELDS[kind]
            if getattr(row, name) != getattr(before, name)
        )
        if fields:
            changes.append(AttachmentChange(kind, "changed", _attachment_name(row), fields))
    changes += [
        AttachmentChange(kind, "removed", _attachment_name(row))
        for row in live
        if row.pk not in kept
    ]
    if [row.pk for row in live if row.pk in kept] != kept:
        changes.append(AttachmentChange(kind, "reordered"))
    return changes


def attachment_changes(release, edition) -> list[AttachmentChange]:
    """What a pending edition changes in the release's documents and photos: each document
    or photo added, removed (a replaced file is the old one removed and the new one added)
    or changed (which fields), and whether their order changed. Rows are matched by their
    stored file (the edition's rows start as copies sharing the live rows' files)."""
    return [
        *_changes_of("document", list(release.documents.all()), list(edition.documents.all())),
        *_changes_of("photo", list(release.photos.all()), list(edition.photos.all())),
    ]
