"""The permission matrix: for anonymous visitors, Authors, Editors and a superuser, every admin
URL and workflow action, and every public URL (preview links included), answers what the role
allows and nothing more; and no release that is not public (draft, in review, scheduled,
withdrawn) shows any of its content in any public response, feed or sitemap, whoever asks."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from news.models import Category, Release, Status
from news.public import preview
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    ReviewFactory,
    ScheduledFactory,
    UnpublishedFactory,
    UserFactory,
    WithdrawnFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "author", "editor", "superuser")
PUBLIC_KEY = "published"
HIDDEN_KEYS = (
    "own_draft", "other_draft", "own_review", "other_review", "scheduled", "withdrawn",
    "unpublished",
)  # fmt: skip


def marker(key: str) -> str:
    """A word unique to one release, in its titles, leads and bodies (and so in its slug)."""
    return "zqx" + key.replace("_", "")


def content(key: str) -> dict:
    word = marker(key)
    return {
        "title_ru": f"Заседание {word} совета",
        "title_en": f"Meeting {word} of the council",
        "lead_ru": f"Лид {word}.",
        "lead_en": f"Lead {word}.",
        "body_ru": f"<p>Текст {word} кворум.</p>",
        "body_en": f"<p>Text {word} quorum.</p>",
    }


@pytest.fixture
def world(roles):
    author = UserFactory(username="officer", role="Authors")
    other_author = UserFactory(username="officer2", role="Authors")
    editor = UserFactory(username="editor", role="Editors")
    superuser = UserFactory(username="root", is_superuser=True)
    category = CategoryFactory(slug="economy")
    releases = {
        "own_draft": DraftFactory(created_by=author, **content("own_draft")),
        "other_draft": DraftFactory(created_by=other_author, **content("other_draft")),
        "own_review": ReviewFactory(created_by=author, **content("own_review")),
        "other_review": ReviewFactory(created_by=other_author, **content("other_review")),
        "published": PublishedFactory(created_by=other_author, **content("published")),
        "scheduled": ScheduledFactory(created_by=author, **content("scheduled")),
        "withdrawn": WithdrawnFactory(created_by=author, **content("withdrawn")),
        "unpublished": UnpublishedFactory(created_by=author, **content("unpublished")),
    }
    for release in releases.values():
        release.categories.add(category)
    users = {"author": author, "editor": editor, "superuser": superuser}
    signature = AuthorFactory()
    return {"users": users, "releases": releases, "category": category, "signature": signature}


def client_for(world, role: str) -> Client:
    client = Client()
    client.raise_request_exception = False
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def outcome(response) -> str:
    """What a response amounts to: login (to the sign-in page), add (an add form), edit or
    view (a change form, editable or read-only), redirect, or the status code."""
    if response.status_code == 302:
        return "login" if response["Location"].startswith("/admin/login/") else "redirect"
    if response.status_code == 200 and response.context is not None:
        context = response.context
        if "adminform" in context and context.get("add"):
            return "add"
        if "adminform" in context and "has_change_permission" in context:
            return "edit" if context["has_change_permission"] else "view"
    return str(response.status_code)


# --- the admin, read ---------------------------------------------------------------------------


def change(key):
    return lambda w: reverse("admin:news_release_change", args=[w["releases"][key].pk])


def release_url(name, key, *extra):
    return lambda w: reverse(f"admin:news_release_{name}", args=[w["releases"][key].pk, *extra])


def fixed(url):
    return lambda w: url


def category_url(name):
    return lambda w: reverse(f"admin:news_category_{name}", args=[w["category"].pk])


def signature_url(name):
    return lambda w: reverse(f"admin:news_author_{name}", args=[w["signature"].pk])


def restore(key):
    def url(w):
        release = w["releases"][key]
        oldest = release.history.order_by("history_date", "history_id").first()
        return reverse("admin:news_release_restore", args=[release.pk, oldest.history_id])

    return url


#                      URL                                          anon     author     editor    superuser
ADMIN_READ_MATRIX = [
    (fixed("/admin/"),                                             "login", "200",      "200",    "200"),
    (fixed("/admin/news/release/"),                                "login", "200",      "200",    "200"),
    (fixed("/admin/news/release/add/"),                            "login", "add",      "add",    "add"),
    (change("own_draft"),                                          "login", "edit",     "edit",   "edit"),
    (change("other_draft"),                                        "login", "redirect", "edit",   "edit"),
    (change("own_review"),                                         "login", "view",     "edit",   "edit"),
    (change("other_review"),                                       "login", "redirect", "edit",   "edit"),
    (change("published"),                                          "login", "view",     "edit",   "edit"),
    # The author's own scheduled release: its form edits the release's pending changes.
    (change("scheduled"),                                          "login", "edit",     "edit",   "edit"),
    (change("withdrawn"),                                          "login", "view",     "edit",   "edit"),
    (release_url("delete", "own_draft"),                           "login", "403",      "403",    "200"),
    (release_url("history", "own_draft"),                          "login", "200",      "200",    "200"),
    (release_url("history", "other_draft"),                        "login", "404",      "200",    "200"),
    (release_url("compare", "published"),                          "login", "200",      "200",    "200"),
    (release_url("compare", "other_review"),                       "login", "404",      "200",    "200"),
    (restore("published"),                                         "login", "redirect", "200",    "200"),
    (restore("own_draft"),                                         "login", "200",      "200",    "200"),
    (restore("other_draft"),                                       "login", "404",      "200",    "200"),
    (release_url("preview", "own_draft", "ru"),                    "login", "redirect", "redirect", "redirect"),
    (release_url("preview", "other_draft", "ru"),                  "login", "404",      "redirect", "redirect"),
    (release_url("preview", "published", "ru"),                    "login", "403",      "redirect", "redirect"),
    (release_url("transition", "own_draft", "submit"),             "login", "405",      "405",    "405"),
    (fixed("/admin/news/author/"),                                 "login", "200",      "200",    "200"),
    (fixed("/admin/news/author/add/"),                             "login", "add",      "add",    "add"),
    (signature_url("change"),                                      "login", "view",     "edit",   "edit"),
    (signature_url("delete"),                                      "login", "403",      "403",    "200"),
    (fixed("/admin/news/category/"),                               "login", "200",      "200",    "200"),
    (fixed("/admin/news/category/add/"),                           "login", "403",      "add",    "add"),
    (category_url("change"),                                       "login", "view",     "edit",   "edit"),
    (category_url("delete"),                                       "login", "403",      "403",    "200"),
    (fixed("/admin/news/workflowevent/"),                          "login", "200",      "200",    "200"),
    (fixed("/admin/news/workflowevent/add/"),                      "login", "403",      "403",    "403"),
    (fixed("/admin/auth/user/"),                                   "login", "403",      "403",    "200"),
    (fixed("/admin/auth/group/"),                                  "login", "403",      "403",    "200"),
    (fixed("/admin/axes/accessattempt/"),                          "login", "403",      "403",    "200"),
]  # fmt: skip


def test_admin_pages_answer_each_role_what_it_may_see(world):
    clients = {role: client_for(world, role) for role in ROLES}
    wrong = []
    for url_of, *expected in ADMIN_READ_MATRIX:
        url = url_of(world)
        for role, want in zip(ROLES, expected, strict=True):
            got = outcome(clients[role].get(url))
            if got != want:
                wrong.append(f"{role:9} GET {url}: {got}, expected {want}")
    assert wrong == [], "\n".join(wrong)


def test_the_author_list_shows_only_what_the_author_may_see(world):
    listed = {}
    for role in ("author", "editor"):
        response = client_for(world, role).get("/admin/news/release/")
        listed[role] = {r.pk for r in response.context["cl"].result_list}
    releases = world["releases"]
    mine = {"own_draft", "own_review", "scheduled", "withdrawn", "unpublished"}
    assert listed["author"] == {releases[k].pk for k in (*mine, "published")}
    assert listed["editor"] == {r.pk for r in releases.values()}
    events = client_for(world, "author").get("/admin/news/workflowevent/")
    seen = {event.release_id for event in events.context["cl"].result_list}
    assert seen <= {releases[k].pk for k in (*mine, "published")}
    assert releases["other_review"].pk not in seen


# --- the admin, actions ------------------------------------------------------------------------

#         action             release          role         allowed (the status changes)
ACTION_MATRIX = [
    ("submit",          "own_draft",     "anonymous", False),
    ("submit",          "own_draft",     "author",    True),
    ("submit",          "other_draft",   "author",    False),
    ("submit",          "other_draft",   "editor",    True),
    ("publish",         "own_review",    "author",    False),
    ("publish",         "own_review",    "editor",    True),
    ("publish",         "other_review",  "superuser", True),
    ("request_changes", "own_review",    "author",    False),
    ("request_changes", "other_review",  "editor",    True),
    ("withdraw",        "published",     "author",    False),
    ("withdraw",        "published",     "editor",    True),
    ("reopen",          "withdrawn",     "author",    False),
    ("reopen",          "withdrawn",     "editor",    True),
]  # fmt: skip


@pytest.mark.parametrize(("action", "key", "role", "allowed"), ACTION_MATRIX)
def test_workflow_buttons_do_only_what_the_role_may(world, action, key, role, allowed):
    release = world["releases"][key]
    before = (release.status, release.version, release.events.count())
    url = reverse("admin:news_release_transition", args=[release.pk, action])
    response = client_for(world, role).post(url, {"comment": "Причина"})
    release.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert release.status != before[0]
        assert release.events.count() == before[2] + 1
    else:
        assert response.status_code in (302, 403, 404)
        assert (release.status, release.version, release.events.count()) == before


@pytest.mark.parametrize(
    ("action", "key", "role", "allowed"),
    [
        ("publish_selected", "own_review", "author", False),
        ("publish_selected", "own_review", "editor", True),
        ("submit_selected", "own_draft", "author", True),
        ("submit_selected", "other_draft", "author", False),
        ("delete_selected", "own_draft", "author", False),
        ("delete_selected", "own_draft", "editor", False),
    ],
)
def test_list_actions_do_only_what_the_role_may(world, action, key, role, allowed):
    release = world["releases"][key]
    before = (release.status, release.version)
    response = client_for(world, role).post(
        "/admin/news/release/", {"action": action, "_selected_action": [release.pk]}
    )
    assert response.status_code in (200, 302)
    assert Release.objects.filter(pk=release.pk).exists()  # nobody but a superuser deletes
    release.refresh_from_db()
    assert ((release.status, release.version) != before) is allowed


@pytest.mark.parametrize(
    ("key", "role", "allowed"),
    [
        ("own_draft", "author", True),
        ("own_review", "author", False),
        ("published", "author", False),
        ("other_draft", "author", False),
        ("published", "editor", True),
        ("other_review", "editor", True),
        ("own_draft", "anonymous", False),
    ],
)
def test_saving_the_form_changes_only_what_the_role_may_edit(world, key, role, allowed):
    release = world["releases"][key]
    data = {
        "title_ru": "Новый заголовок",
        "lead_ru": release.lead_ru,
        "body_ru": release.body_ru,
        "title_en": release.title_en,
        "lead_en": release.lead_en,
        "body_en": release.body_en,
        "base_version": str(release.version),
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
    if release.published_at:
        # A live release: the change becomes its pending edition (a minor one needs no note).
        data |= {"edition_version": "0", "minor_change": "on"}
    response = client_for(world, role).post(
        reverse("admin:news_release_change", args=[release.pk]), data
    )
    release.refresh_from_db()
    pending = release.editions.open().first()
    changed = release.title_ru == "Новый заголовок" or (
        pending is not None and pending.title_ru == "Новый заголовок"
    )
    assert changed is allowed, response.status_code
    assert response.status_code in ((302,) if allowed else (302, 403, 404, 409))


def test_only_a_superuser_deletes(world):
    release = world["releases"]["own_draft"]
    url = reverse("admin:news_release_delete", args=[release.pk])
    for role in ("anonymous", "author", "editor"):
        client_for(world, role).post(url, {"post": "yes"})
        assert Release.objects.filter(pk=release.pk).exists(), role
    client_for(world, "superuser").post(url, {"post": "yes"})
    assert not Release.objects.filter(pk=release.pk).exists()


# --- the public site ---------------------------------------------------------------------------


def public_urls(world) -> list[str]:
    year = timezone.localtime(world["releases"]["published"].published_at).year
    urls = ["/robots.txt", "/sitemap.xml", "/sitemap-releases.xml", "/sitemap-categories.xml"]
    for language in ("ru", "en"):
        urls += [
            f"/{language}/news/",
            f"/{language}/news/archive/{year}/",
            f"/{language}/news/category/economy/",
            f"/{language}/news/search/?q=кворум",
            f"/{language}/news/search/?q=quorum",
            f"/{language}/news/search/?q=zqx",
            f"/{language}/news/rss/",
            f"/{language}/news/atom/",
            f"/{language}/news/feed.json",
            f"/{language}/news/category/economy/rss/",
            f"/{language}/news/category/economy/atom/",
            world["releases"]["published"].get_absolute_url(language),
        ]
    return urls


def body_of(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode()


@pytest.mark.parametrize("role", ROLES)
def test_no_hidden_release_appears_on_any_public_page_feed_or_sitemap(world, role):
    client = client_for(world, role)
    seen_public = False
    for url in public_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        text = body_of(response).lower()
        for key in HIDDEN_KEYS:
            assert marker(key) not in text, (role, url, key)
        seen_public = seen_public or marker(PUBLIC_KEY) in text
    assert seen_public  # the control: the published release is there


@pytest.mark.parametrize("role", ROLES)
def test_hidden_releases_have_no_public_page_for_anyone(world, role):
    client = client_for(world, role)
    for language in ("ru", "en"):
        public = world["releases"][PUBLIC_KEY]
        assert client.get(public.get_absolute_url(language)).status_code == 200
        assert client.get(f"/{language}/news/{public.pk}/").status_code == 301
        for key in HIDDEN_KEYS:
            release = world["releases"][key]
            if key == "withdrawn":
                # On the record: its page stays with a withdrawal notice (tests/test_lifecycle.py)
                # but tells search engines not to index it.
                page = body_of(client.get(release.get_absolute_url(language)))
                assert '<meta name="robots" content="noindex">' in page
                continue
            want = 410 if key == "unpublished" else 404
            for url in (release.get_absolute_url(language), f"/{language}/news/{release.pk}/"):
                response = client.get(url)
                assert response.status_code == want, (role, key, url)
                # Nothing of it, beyond the address the visitor asked for (its slug).
                text = body_of(response).lower().replace(url.lower(), "")
                assert marker(key) not in text, (role, key, url)


def test_preview_links_show_a_hidden_release_to_whoever_holds_them_and_nothing_more(world):
    draft = world["releases"]["own_draft"]
    link = preview.preview_path(draft, "ru")
    for role in ROLES:
        response = client_for(world, role).get(link)
        assert response.status_code == 200, role
        assert marker("own_draft") in body_of(response).lower()
        assert response["X-Robots-Tag"].startswith("noindex")
        assert "no-store" in response["Cache-Control"]
    # A link is for one release: changing the id breaks the signature.
    token = link.rstrip("/").rsplit("/", 1)[1]
    other = world["releases"]["other_draft"]
    forged = token.replace(str(draft.pk), str(other.pk), 1)
    assert client_for(world, "anonymous").get(f"/ru/news/preview/{forged}/").status_code == 404
    # It expires.
    with freeze_time(timezone.now() - datetime.timedelta(hours=49)):
        old_link = preview.preview_path(draft, "ru")
    assert client_for(world, "anonymous").get(old_link).status_code == 410
    # A withdrawn release has no preview.
    withdrawn = preview.preview_path(world["releases"]["withdrawn"], "ru")
    assert client_for(world, "editor").get(withdrawn).status_code == 404


def test_the_category_and_sitemap_list_only_public_releases(world):
    category = Category.objects.get(slug="economy")
    assert category.releases.count() == 8
    sitemap = body_of(Client().get("/sitemap-releases.xml"))
    public = world["releases"][PUBLIC_KEY]
    assert public.get_absolute_url("ru") in sitemap
    for key in HIDDEN_KEYS:
        assert world["releases"][key].get_absolute_url("ru") not in sitemap
    assert Release.objects.filter(status=Status.PUBLISHED).count() == 2  # published + scheduled
