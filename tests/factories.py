"""One factory per state. Published ones go through the workflow, as in real life."""

import datetime
import struct
import zlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from news import workflow
from news.models import Author, Category, Release, ReleaseAuthor, ReleaseSource, SourceKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.django.Password("pass-word-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name_ru = factory.Sequence(lambda n: f"Рубрика {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name_ru = "Пресс-служба Исполнительного комитета СНГ"
    # Names are unique per language: only the press service's own row has this English name.
    name_en = factory.LazyAttribute(
        lambda author: (
            "Press Service of the CIS Executive Committee"
            if author.name_ru == "Пресс-служба Исполнительного комитета СНГ"
            else ""
        )
    )


class DraftFactory(factory.django.DjangoModelFactory):
    """A draft with a complete Russian and English version."""

    class Meta:
        model = Release
        skip_postgeneration_save = True

    title_ru = factory.Sequence(lambda n: f"Заседание Совета министров номер {n}")
    lead_ru = "Состоялось очередное заседание."
    body_ru = "<p>Состоялось очередное заседание.</p><p>Обсуждены вопросы миграции.</p>"
    title_en = factory.Sequence(lambda n: f"Meeting of the Council of Ministers number {n}")
    lead_en = "A regular meeting was held."
    body_en = "<p>A regular meeting was held.</p><p>Migration was discussed.</p>"

    @factory.post_generation
    def with_author(self, create, extracted, **kwargs):
        if create and extracted:
            ReleaseAuthor.objects.create(release=self, author=extracted, position=0)


class RussianOnlyDraftFactory(DraftFactory):
    title_en = ""
    lead_en = ""
    body_en = ""


class ReviewFactory(DraftFactory):
    @factory.post_generation
    def submitted(self, create, extracted, **kwargs):
        if create:
            workflow.submit(self, by=None)


def _published(release, at):
    workflow.submit(release, by=None)
    workflow.publish(release, by=None, at=at)


class PublishedFactory(DraftFactory):
    """Published an hour ago unless `published_at` says otherwise."""

    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))

    @factory.post_generation
    def publish(self, create, extracted, **kwargs):
        if create:
            _published(self, self.published_at)


class RussianOnlyPublishedFactory(PublishedFactory):
    title_en = ""
    lead_en = ""
    body_en = ""


class ScheduledFactory(PublishedFactory):
    published_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))


class WithdrawnFactory(PublishedFactory):
    @factory.post_generation
    def withdrawn(self, create, extracted, **kwargs):
        if create:
            workflow.withdraw(self, by=None, reason="Ошибка в тексте")


class UnpublishedFactory(PublishedFactory):
    @factory.post_generation
    def unpublished(self, create, extracted, **kwargs):
        if create:
            workflow.unpublish(self, by=None, reason="Опубликовано по ошибке")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReleaseSource

    release = factory.SubFactory(DraftFactory)
    url = factory.Sequence(lambda n: f"https://cis.minsk.by/news/{1000 + n}")
    kind = SourceKind.ORIGINAL
    label_ru = "Адрес страницы в интернете"
    label_en = "Web page address"


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * 4))
        + chunk(b"IEND", b"")
    )
