"""Inviting a colleague: user + group + author, an e-mail in their language with a link that
sets a password once."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from news.models import Author
from tests.factories import AuthorFactory

pytestmark = pytest.mark.django_db

INVITE_URL = "/admin/invite/"
FORM = {
    "email": "Olga.Petrova@Example.org",
    "name_ru": "Ольга Петрова",
    "name_en": "Olga Petrova",
    "role": "Authors",
    "language": "ru",
}


@pytest.fixture
def admin_client(client, superuser, roles):
    client.force_login(superuser)
    return client


def invite(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(INVITE_URL, {**FORM, **changes}, HTTP_ACCEPT_LANGUAGE="ru")


def link_in(message) -> str:
    return re.search(r"https?://\S+/admin/welcome/\S+/", message.body).group(0)


def test_invite_creates_user_group_author_and_sends_a_working_link(
    admin_client, client, django_capture_on_commit_callbacks, settings
):
    response = invite(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="olga.petrova@example.org")
    assert user.is_staff and not user.is_superuser and not user.has_usable_password()
    assert [g.name for g in user.groups.all()] == ["Authors"]
    assert user.has_perm("news.submit_release") and not user.has_perm("news.publish_release")
    author = Author.objects.get(user=user)
    assert (author.name_ru, author.name_en) == ("Ольга Петрова", "Olga Petrova")
    assert user.get_full_name() == "Ольга Петрова"

    [message] = mail.outbox
    assert message.to == ["olga.petrova@example.org"]
    assert "Здравствуйте, Ольга Петрова" in message.body
    assert "редакци" in message.subject
    # Bilingual, the chosen language first; the second sign-in step is announced.
    assert message.body.index("Здравствуйте") < message.body.index("Hello, Ольга Петрова")
    assert "newsroom" in message.subject.split(" / ")[1]
    assert "приложением-аутентификатором" in message.body and "authenticator app" in message.body
    url = link_in(message)
    assert url.startswith(settings.SITE_URL)

    client.logout()
    path = url.removeprefix(settings.SITE_URL)
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    password = "Пресс-служба-2026!"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )
    assert done.request["PATH_INFO"] == reverse("admin:invitation_done")
    user.refresh_from_db()
    assert user.check_password(password)
    # The link works once.
    again = client.get(path, follow=True)
    assert not again.context["validlink"]


def test_the_link_expires(admin_client, client, django_capture_on_commit_callbacks, settings):
    invite(admin_client, django_capture_on_commit_callbacks, language="en")
    [message] = mail.outbox
    assert message.body.index("Hello, Ольга Петрова") < message.body.index("Здравствуйте")
    settings.PASSWORD_RESET_TIMEOUT = -1
    client.logout()
    page = client.get(link_in(message).removeprefix(settings.SITE_URL), follow=True)
    assert not page.context["validlink"]


def test_taken_address_is_refused_and_nothing_is_written(
    admin_client, author_user, django_capture_on_commit_callbacks
):
    users = get_user_model().objects.count()
    response = invite(admin_client, django_capture_on_commit_callbacks, email=author_user.email)
    assert response.status_code == 200
    assert "уже есть учётная запись" in response.content.decode()
    assert get_user_model().objects.count() == users
    assert not Author.objects.filter(name_ru="Ольга Петрова").exists()
    assert mail.outbox == []


def test_a_signature_of_another_account_is_refused(
    admin_client, editor_user, django_capture_on_commit_callbacks
):
    AuthorFactory(name_ru="Ольга Петрова", user=editor_user)
    users = get_user_model().objects.count()
    response = invite(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert get_user_model().objects.count() == users
    assert mail.outbox == []


def test_an_unlinked_signature_is_reused(admin_client, django_capture_on_commit_callbacks):
    existing = AuthorFactory(name_ru="Ольга Петрова", user=None)
    invite(admin_client, django_capture_on_commit_callbacks, role="Editors")
    existing.refresh_from_db()
    assert existing.user.username == "olga.petrova@example.org"
    assert existing.user.has_perm("news.publish_release")


def test_only_those_who_may_add_users(client, editor_user, django_capture_on_commit_callbacks):
    client.force_login(editor_user)
    assert client.get(INVITE_URL).status_code == 403
    assert invite(client, django_capture_on_commit_callbacks).status_code == 403
    assert not get_user_model().objects.filter(username="olga.petrova@example.org").exists()
    assert "/admin/invite/" not in client.get("/admin/").content.decode()


def test_the_form_speaks_russian_with_translated_roles(admin_client):
    page = admin_client.get(INVITE_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Пригласить коллегу" in page
    assert "Пресс-секретарь" in page and "Редактор" in page
    assert "/admin/invite/" in admin_client.get("/admin/").content.decode()
