"""Bilingual demo content written for this project: plausible press releases of an
intergovernmental body, generated from phrase tables, fast enough for 10,000+ rows."""

from __future__ import annotations

import datetime
import io
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from news.models import (
    Author,
    Category,
    Release,
    ReleaseAuthor,
    ReleaseSource,
    SourceKind,
    Status,
)
from news.slugs import slug_from_title

CATEGORIES = [
    ("Экономика", "Economy", "economy"),
    ("Безопасность", "Security", "security"),
    ("Миграция", "Migration", "migration"),
    ("Гуманитарное сотрудничество", "Humanitarian cooperation", "humanitarian"),
    ("Наблюдение за выборами", "Election observation", "elections"),
    ("Транспорт и связь", "Transport and communications", "transport"),
]

AUTHORS = [
    ("Пресс-служба Исполнительного комитета", "Press Service of the Executive Committee", "", ""),
    ("Анна Ковалёва", "Anna Kovaleva", "пресс-секретарь", "press secretary"),
    ("Игорь Степанюк", "Igor Stepaniuk",
     "заместитель начальника пресс-службы", "deputy head of the press service"),
]  # fmt: skip

# Each event is followed by "о"/"об" and a topic in the prepositional case.
EVENTS = [
    ("Совет министров иностранных дел договорился", "The Council of Foreign Ministers agreed on"),
    ("Экономический совет принял решение", "The Economic Council took a decision on"),
    ("Эксперты государств — участников провели консультации", "Experts of the states consulted on"),
    ("В Исполнительном комитете прошло совещание", "The Executive Committee held a meeting on"),
    ("Подписан протокол", "A protocol was signed on"),
    ("Стартовала конференция", "A conference opened on"),
]
TOPICS = [
    ("сотрудничестве в области миграции", "cooperation in migration"),
    ("развитии транспортных коридоров", "the development of transport corridors"),
    ("цифровой трансформации экономики", "the digital transformation of the economy"),
    ("противодействии торговле людьми", "countering human trafficking"),
    ("научно-техническом сотрудничестве", "scientific and technical cooperation"),
    ("гармонизации таможенных процедур", "harmonising customs procedures"),
    ("подготовке к наблюдению за выборами", "preparations for election observation"),
    ("сохранении культурного наследия", "preserving the cultural heritage"),
    ("энергетической безопасности", "energy security"),
    ("молодёжных обменах", "youth exchanges"),
]
CITIES = [
    ("Минске", "Minsk"), ("Москве", "Moscow"), ("Астане", "Astana"), ("Бишкеке", "Bishkek"),
    ("Душанбе", "Dushanbe"), ("Баку", "Baku"), ("Ереване", "Yerevan"), ("Ташкенте", "Tashkent"),
]  # fmt: skip
PARAGRAPHS = [
    (
        "Участники встречи отметили, что за последние годы сотрудничество стало более "
        "предметным, а совместные проекты получили практическое наполнение.",
        "The participants noted that in recent years cooperation has become more concrete and "
        "joint projects have been put into practice.",
    ),
    (
        "Стороны договорились подготовить план совместных мероприятий на следующий год и "
        "представить его на рассмотрение профильных органов.",
        "The parties agreed to draft a plan of joint activities for the next year and to submit "
        "it to the relevant bodies.",
    ),
    (
        "«Мы видим в этой работе прямую пользу для граждан наших государств», — подчеркнул "
        "председательствующий.",
        "“We see direct benefit in this work for the citizens of our states,” the chair stressed.",
    ),
    (
        "Особое внимание было уделено обмену опытом и подготовке специалистов на базе "
        "учебных центров Содружества.",
        "Special attention was paid to the exchange of experience and to training specialists "
        "at the Commonwealth's training centres.",
    ),
    (
        "Следующее заседание планируется провести во втором полугодии.",
        "The next meeting is planned for the second half of the year.",
    ),
]

DEMO_PASSWORD = "demo-press-2026"  # noqa: S105 (documented local demo accounts)
DEMO_USERS = [
    ("admin", "Администратор", True, None),
    ("editor", "Редактор", False, "Editors"),
    # A second editor shows the second pair of eyes: one submits, the other publishes.
    ("editor2", "Второй редактор", False, "Editors"),
    ("author", "Пресс-офицер", False, "Authors"),
]


def demo_image(n: int) -> str:
    """A generated 1600x900 JPEG (sober gradient with a band), stored once in media storage."""
    from PIL import Image, ImageDraw

    name = f"demo/lead-{n}.jpg"
    if default_storage.exists(name):
        return name
    hues = [(21, 54, 97), (38, 83, 70), (92, 44, 44), (58, 58, 92), (30, 70, 100), (80, 60, 30)]
    base = hues[n % len(hues)]
    image = Image.new("RGB", (1600, 900), base)
    draw = ImageDraw.Draw(image)
    for y in range(0, 900, 6):
        shade = tuple(min(255, c + y // 12) for c in base)
        draw.rectangle([0, y, 1600, y + 6], fill=shade)
    draw.rectangle([0, 700, 1600, 760], fill=(240, 236, 226))
    draw.ellipse([700, 250, 900, 450], outline=(240, 236, 226), width=12)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def ensure_demo_users() -> list[tuple[str, str]]:
    """Demo accounts (admin, two editors, author) with the demo password; existing ones are
    kept."""
    User = get_user_model()
    created = []
    for username, first_name, is_superuser, group in DEMO_USERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "email": f"{username}@example.org",
                "is_staff": True,
                "is_superuser": is_superuser,
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created.append((username, DEMO_PASSWORD))
        if group:
            user.groups.add(Group.objects.get(name=group))
    return created


@transaction.atomic
def seed(count: int, *, seed: int = 2026, with_images: bool = True, batch: int = 2000) -> int:
    """Create `count` releases (about 85% published, a share with English, some drafts,
    reviews and scheduled ones) with authors, categories and original sources."""
    rng = random.Random(seed + Release.objects.count())
    categories = [
        Category.objects.get_or_create(slug=slug, defaults={"name_ru": ru, "name_en": en})[0]
        for ru, en, slug in CATEGORIES
    ]
    authors = [
        Author.objects.get_or_create(
            name_ru=ru, defaults={"name_en": en, "position_ru": pru, "position_en": pen}
        )[0]
        for ru, en, pru, pen in AUTHORS
    ]
    images = [demo_image(n) for n in range(6)] if with_images else []
    taken = set(Release.objects.values_list("slug", flat=True))
    now = timezone.now()
    start_id = (Release.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    made = 0
    while made < count:
        size = min(batch, count - made)
        releases = []
        for i in range(size):
            number = start_id + made + i
            event_ru, event_en = rng.choice(EVENTS)
            topic_ru, topic_en = rng.choice(TOPICS)
            city_ru, city_en = rng.choice(CITIES)
            about = "об" if topic_ru[0] in "аэиоуы" else "о"
            title_ru = f"{event_ru} {about} {topic_ru} в {city_ru}"
            title_en = f"{event_en} {topic_en} in {city_en}"
            lead_ru = f"{event_ru} {about} {topic_ru}. Встреча прошла в {city_ru}."
            lead_en = f"{event_en} {topic_en}. The meeting took place in {city_en}."
            paragraphs = rng.sample(PARAGRAPHS, 3)
            body_ru = "".join(f"<p>{ru}</p>" for ru, _ in paragraphs)
            body_en = "".join(f"<p>{en}</p>" for _, en in paragraphs)
            has_en = rng.random() < 0.7
            roll = rng.random()
            published_at = now - datetime.timedelta(minutes=rng.randint(60, 60 * 24 * 365 * 12))
            if roll < 0.85:
                status, first = Status.PUBLISHED, published_at
            elif roll < 0.88:
                status = Status.PUBLISHED
                published_at = now + datetime.timedelta(hours=rng.randint(2, 96))
                first = published_at
            elif roll < 0.94:
                status, published_at, first = Status.DRAFT, None, None
            else:
                status, published_at, first = Status.REVIEW, None, None
            slug = base = slug_from_title(title_ru)
            n = 2
            while slug in taken:
                slug = f"{base}-{n}"
                n += 1
            taken.add(slug)
            image = images[number % len(images)] if images else ""
            releases.append(
                Release(
                    title_ru=title_ru,
                    lead_ru=lead_ru,
                    body_ru=body_ru,
                    title_en=title_en if has_en else "",
                    lead_en=lead_en if has_en else "",
                    body_en=body_en if has_en else "",
                    slug=slug,
                    status=status,
                    published_at=published_at,
                    first_published_at=first,
                    image=image,
                    image_alt_ru="Заставка пресс-релиза" if image else "",
                    image_alt_en="Press release banner" if image and has_en else "",
                )
            )
        Release.objects.bulk_create(releases)
        if releases[0].pk is None:  # backends that do not return ids
            releases = list(Release.objects.order_by("-id")[:size])[::-1]
        ReleaseAuthor.objects.bulk_create(
            ReleaseAuthor(
                release=r, author=authors[0] if k % 4 else rng.choice(authors), position=0
            )
            for k, r in enumerate(releases)
        )
        Through = Release.categories.through
        Through.objects.bulk_create(
            Through(release_id=r.pk, category_id=rng.choice(categories).pk) for r in releases
        )
        ReleaseSource.objects.bulk_create(
            ReleaseSource(
                release=r,
                url=f"https://press.example.org/news/{r.pk}",
                kind=SourceKind.ORIGINAL,
                label_ru="Адрес страницы в интернете",
                label_en="Web page address",
            )
            for r in releases
        )
        made += size
    return made
