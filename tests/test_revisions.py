"""Revisions: every save is kept with who and when; the admin shows a readable diff between two
revisions and restores one as a new revision, only where the user may edit."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from news import editions, revisions, workflow
from news.models import Release, ReleaseAuthor, ReleaseSource, Status
from news.newsroom import diff
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    DraftFactory,
    PublishedFactory,
    UserFactory,
)
from tests.test_admin import change_url, message_texts, release_data

pytestmark = pytest.mark.django_db


def history_url(release):
    return reverse("admin:news_release_history", args=[release.pk])


def restore_url(release, record):
    return reverse("admin:news_release_restore", args=[release.pk, record.history_id])


@pytest.fixture
def edited(client, author_user):
    """A draft written and then edited twice through the admin by its author."""
    signature = AuthorFactory(name_ru="Пресс-служба")
    client.force_login(author_user)
    data = release_data(
        title_ru="Первый заголовок",
        lead_ru="Лид.",
        body_ru="<p>Старый абзац о <b>сотрудничестве</b>.</p>",
        **{
            "release_authors-TOTAL_FORMS": "1",
            "release_authors-0-author": str(signature.pk),
            "release_authors-0-position": "0",
            "sources-TOTAL_FORMS": "1",
            "sources-0-url": "https://cis.minsk.by/news/1",
            "sources-0-kind": "original",
            "sources-0-position": "0",
        },
    )
    assert client.post("/admin/news/release/add/", data).status_code == 302
    release = Release.objects.get()
    data = release_data(
        release,
        title_ru="Второй заголовок",
        body_ru="<p>Новый абзац о <b>сотрудничестве</b>.</p><p>Ещё один.</p>",
        **{"release_authors-0-DELETE": "on"},
    )
    assert client.post(change_url(release), data).status_code == 302
    release.refresh_from_db()
    assert (
        client.post(change_url(release), release_data(release, lead_ru="Новый лид.")).status_code
        == 302
    )
    release.refresh_from_db()
    client.get("/admin/")  # the "saved" messages are shown (and consumed) here
    return release


class TestHistory:
    def test_every_save_is_listed_with_who_and_when(self, client, edited, author_user):
        records = list(edited.history.all())
        assert [r.version for r in records] == [3, 2, 1]
        assert {r.history_user for r in records} == {author_user}
        page = client.get(history_url(edited)).content.decode()
        assert page.count('name="from"') == 3
        assert "Ольга" in page  # the author's name, not only the account
        assert "Title (Russian), Text (Russian)" in page  # what changed in version 2

    def test_workflow_steps_appear_with_their_reason(self, client, edited, author_user):
        workflow.submit(edited, by=author_user)
        page = client.get(history_url(edited)).content.decode()
        assert "Submit for review" in page

    def test_an_author_cannot_see_the_history_of_a_release_they_cannot_see(
        self, client, other_author_user
    ):
        release = DraftFactory(created_by=other_author_user)
        client.force_login(other_author_user)
        assert client.get(history_url(release)).status_code == 200
        client.force_login(UserFactory(username="officer3", role="Authors"))
        assert client.get(history_url(release)).status_code == 404


class TestDiff:
    def test_the_diff_shows_words_removed_and_added(self, client, edited):
        first, second = edited.history.order_by("history_date")[:2]
        url = reverse("admin:news_release_compare", args=[edited.pk])
        response = client.get(url, {"from": first.history_id, "to": second.history_id})
        assert response.status_code == 200
        changes = {c.name: c for c in response.context["changes"]}
        assert set(changes) == {"title_ru", "body_ru", "authors"}
        html = str(changes["body_ru"].html)
        assert "<del>Старый</del><ins>Новый</ins>" in html
        assert "Ещё один.</ins>" in html
        assert "<b>" not in html  # bodies are compared as text
        assert "<del>Пресс-служба</del>" in str(changes["authors"].html)
        page = response.content.decode()
        breadcrumbs = page[page.index('<ol class="breadcrumbs">') : page.index("</ol>")]
        assert 'aria-current="page">Changes</li>' in breadcrumbs
        assert reverse("admin:news_release_history", args=[edited.pk]) in breadcrumbs

    def test_the_default_compares_the_latest_two(self, client, edited):
        url = reverse("admin:news_release_compare", args=[edited.pk])
        changes = client.get(url).context["changes"]
        assert [c.name for c in changes] == ["lead_ru"]

    def test_markup_in_text_is_escaped_in_the_diff(self):
        html = str(diff.inline_diff("Заголовок", "Заголовок <script>alert(1)</script>"))
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in html

    def test_body_text_reads_like_the_page(self):
        body = "<h2>Итоги</h2><p>Первый&nbsp;абзац.</p><ul><li>один</li><li>два</li></ul>"
        assert diff.body_text(body) == "Итоги\nПервый абзац.\n• один\n• два"

    def test_a_revision_of_another_release_is_not_found(self, client, edited, author_user):
        other = DraftFactory(created_by=author_user)
        record = other.history.first()
        url = reverse("admin:news_release_compare", args=[edited.pk])
        assert client.get(url, {"from": record.history_id}).status_code == 404


class TestRestore:
    def test_restore_saves_a_new_revision(self, client, edited, author_user):
        first = edited.history.order_by("history_date").first()
        page = client.get(restore_url(edited, first))
        assert page.status_code == 200
        assert [c.name for c in page.context["changes"]] == [
            "title_ru",
            "lead_ru",
            "body_ru",
            "authors",
        ]
        response = client.post(restore_url(edited, first), {"base_version": "3"})
        assert response.status_code == 302
        assert "restored as a new version (4)" in message_texts(response)[0]
        edited.refresh_from_db()
        assert edited.title_ru == "Первый заголовок"
        assert edited.lead_ru == "Лид."
        assert edited.body_ru == "<p>Старый абзац о <b>сотрудничестве</b>.</p>"
        assert edited.version == 4
        assert [str(link.author) for link in edited.release_authors.all()] == ["Пресс-служба"]
        assert ReleaseSource.objects.get(release=edited).url == "https://cis.minsk.by/news/1"
        latest = edited.history.first()
        assert (latest.version, latest.history_user) == (4, author_user)
        assert latest.history_change_reason == "restore: 1"
        # Nothing was overwritten: the edited text is still a revision.
        assert edited.history.filter(title_ru="Второй заголовок").count() == 2
        assert "Restored version 1" in client.get(history_url(edited)).content.decode()

    def test_restore_refuses_a_stale_confirmation(self, client, edited):
        first = edited.history.order_by("history_date").first()
        response = client.post(restore_url(edited, first), {"base_version": "2"})
        assert response.status_code == 302
        assert "changed while you were looking" in message_texts(response)[0]
        edited.refresh_from_db()
        assert (edited.title_ru, edited.version) == ("Второй заголовок", 3)

    def test_an_author_cannot_restore_where_they_may_not_edit(self, client, edited, author_user):
        workflow.submit(edited, by=author_user)
        first = edited.history.order_by("history_date").first()
        response = client.post(restore_url(edited, first), {"base_version": str(edited.version)})
        assert response.status_code == 302
        assert "may not edit" in message_texts(response)[0]
        edited.refresh_from_db()
        assert (edited.title_ru, edited.status) == ("Второй заголовок", Status.REVIEW)
        assert "Restore…" not in client.get(history_url(edited)).content.decode()

    def test_an_editor_restores_a_published_release_as_its_pending_changes(
        self, client, editor_user, second_editor_user
    ):
        release = PublishedFactory(title_ru="Опубликованный")
        client.force_login(editor_user)
        editions.save_pending(
            release,
            by=editor_user,
            content={"title_ru": "Испорченный"},
            relations={},
            notes={"minor_change": True},
        )
        workflow.submit(release, by=editor_user)
        workflow.publish(release, by=second_editor_user)
        release.refresh_from_db()
        assert release.title_ru == "Испорченный"
        record = release.history.filter(title_ru="Опубликованный").first()
        client.post(restore_url(release, record), {"base_version": str(release.version)})
        release.refresh_from_db()
        # A live release is not changed in place: the restored text is its pending edition.
        assert release.title_ru == "Испорченный"
        assert release.pending_edition.title_ru == "Опубликованный"
        assert release.status == Status.PUBLISHED  # the workflow state is not rolled back

    def test_restore_only_answers_a_user_who_sees_the_release(self, client, edited):
        client.force_login(UserFactory(username="officer3", role="Authors"))
        first = edited.history.order_by("history_date").first()
        assert client.post(restore_url(edited, first), {"base_version": "3"}).status_code == 404
        assert ReleaseAuthor.objects.filter(release=edited).count() == 0

    def test_restore_edit_restore_keeps_authors_sources_and_categories(
        self, client, edited, author_user
    ):
        """A restore records its author and source links in their history, so a revision made
        by a restore can itself be restored (and compared) after later edits."""
        category = CategoryFactory()
        edited.categories.set([category])
        first = edited.history.order_by("history_date").first()
        assert client.post(restore_url(edited, first), {"base_version": "3"}).status_code == 302
        edited.refresh_from_db()
        restored = edited.history.first()
        assert restored.version == 4
        data = release_data(edited, title_ru="После восстановления", categories=[category.pk])
        assert client.post(change_url(edited), data).status_code == 302
        edited.refresh_from_db()
        assert edited.version == 5

        page = client.get(restore_url(edited, restored))
        assert [c.name for c in page.context["changes"]] == ["title_ru"]
        response = client.post(restore_url(edited, restored), {"base_version": "5"})
        assert response.status_code == 302
        edited.refresh_from_db()
        assert (edited.title_ru, edited.version) == ("Первый заголовок", 6)
        assert [str(link.author) for link in edited.release_authors.all()] == ["Пресс-служба"]
        assert [s.url for s in edited.sources.all()] == ["https://cis.minsk.by/news/1"]
        assert list(edited.categories.all()) == [category]  # not part of a revision: untouched
        # Every link a restore wrote is in the links' history, with who wrote it.
        for model in (ReleaseAuthor, ReleaseSource):
            live = set(model.objects.filter(release=edited).values_list("pk", flat=True))
            added = model.history.filter(release_id=edited.pk, history_type="+")
            assert live <= set(added.values_list("id", flat=True))
        assert set(
            ReleaseAuthor.history.filter(
                release_id=edited.pk, history_date__gt=restored.history_date
            ).values_list("history_user", flat=True)
        ) == {author_user.pk}


def counts(release) -> dict:
    """What a refused restore must leave alone: the release's revisions and its link rows and
    their histories."""
    return {
        "revisions": release.history.count(),
        "authors": ReleaseAuthor.objects.filter(release=release).count(),
        "author_history": ReleaseAuthor.history.filter(release_id=release.pk).count(),
        "sources": ReleaseSource.objects.filter(release=release).count(),
        "source_history": ReleaseSource.history.filter(release_id=release.pk).count(),
    }


class TestRestoreService:
    """news.revisions.restore_revision, as any caller (not only the admin) meets it."""

    def first(self, release):
        return release.history.order_by("history_date", "history_id").first()

    def test_restore_copies_the_revision_as_a_new_version(self, edited, author_user):
        restored = revisions.restore_revision(
            edited, revision=self.first(edited), by=author_user, base_version=3
        )
        assert restored.version == edited.version == 4  # the caller's instance follows
        edited.refresh_from_db()
        assert (edited.title_ru, edited.lead_ru) == ("Первый заголовок", "Лид.")
        assert edited.updated_by == author_user
        assert [str(link.author) for link in edited.release_authors.all()] == ["Пресс-служба"]
        latest = edited.history.first()
        assert (latest.version, latest.history_user) == (4, author_user)
        assert latest.history_change_reason == "restore: 1"
        assert diff.snapshot(latest).fields["authors"] == "Пресс-служба"

    def test_a_stale_restore_is_refused_and_changes_nothing(self, edited, author_user):
        before = counts(edited)
        with pytest.raises(ValidationError) as refused:
            revisions.restore_revision(
                edited, revision=self.first(edited), by=author_user, base_version=2
            )
        assert refused.value.code == "stale_version"
        edited.refresh_from_db()
        assert (edited.title_ru, edited.lead_ru, edited.version) == (
            "Второй заголовок",
            "Новый лид.",
            3,
        )
        assert counts(edited) == before

    def test_a_user_who_may_not_edit_cannot_restore(self, edited, author_user, other_author_user):
        before = counts(edited)
        with pytest.raises(PermissionDenied):  # someone else's draft
            revisions.restore_revision(
                edited, revision=self.first(edited), by=other_author_user, base_version=3
            )
        workflow.submit(edited, by=author_user)
        before = counts(edited)
        with pytest.raises(PermissionDenied):  # their own release, once in review
            revisions.restore_revision(
                edited,
                revision=self.first(edited),
                by=author_user,
                base_version=edited.version,
            )
        edited.refresh_from_db()
        assert (edited.title_ru, edited.status, edited.version) == (
            "Второй заголовок",
            Status.REVIEW,
            4,
        )
        assert counts(edited) == before

    def test_an_editor_may_restore_another_authors_release(self, edited, editor_user):
        revisions.restore_revision(
            edited, revision=self.first(edited), by=editor_user, base_version=3
        )
        edited.refresh_from_db()
        assert (edited.title_ru, edited.version) == ("Первый заголовок", 4)

    def test_an_original_page_taken_since_refuses_the_whole_restore(self, edited, author_user):
        ReleaseSource.objects.filter(release=edited).delete()
        taken = DraftFactory()
        ReleaseSource.objects.create(
            release=taken, url="https://cis.minsk.by/news/1", kind="original"
        )
        edited.refresh_from_db()
        before = counts(edited)
        with pytest.raises(ValidationError) as refused:
            revisions.restore_revision(
                edited, revision=self.first(edited), by=author_user, base_version=edited.version
            )
        assert refused.value.code == "source_clash"
        edited.refresh_from_db()
        assert (edited.title_ru, edited.version) == ("Второй заголовок", 3)
        assert counts(edited) == before  # the authors it had re-linked are rolled back too

    def test_a_revision_of_another_release_is_refused(self, edited, author_user):
        other = DraftFactory(created_by=author_user)
        with pytest.raises(ValueError):
            revisions.restore_revision(
                edited, revision=other.history.first(), by=author_user, base_version=3
            )
        edited.refresh_from_db()
        assert edited.version == 3
