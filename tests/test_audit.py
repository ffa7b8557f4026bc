"""Sessions and the audit log (accounts/): idle expiry, other sessions ended on a password
change, and the entries for sign-ins, failures, role and permission changes."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import AuditEntry
from tests.factories import UserFactory

PASSWORD = "pass-word-123"
Action = AuditEntry.Action
pytestmark = pytest.mark.django_db


def signed_in(user, **extra) -> Client:
    client = Client(**extra)
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def editor(roles):
    return UserFactory(username="editor", role="Editors", password=PASSWORD)


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True, password=PASSWORD)


# --- Sessions -------------------------------------------------------------------------------


def test_the_admin_session_ends_after_the_idle_hours_and_each_request_moves_it_on(editor, settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_HOURS * 3600 == 8 * 3600
    page = reverse("admin:password_change")
    start = timezone.now()
    with freeze_time(start):
        client = signed_in(editor)
    with freeze_time(start + datetime.timedelta(hours=7)):
        assert client.get(page).status_code == 200  # still working
    with freeze_time(start + datetime.timedelta(hours=14)):
        assert client.get(page).status_code == 200  # 7 hours idle: kept
    with freeze_time(start + datetime.timedelta(hours=22, minutes=1)):
        response = client.get(page)  # 8 hours and a minute idle: gone
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def test_the_session_is_written_at_most_once_a_minute(editor):
    page = reverse("admin:password_change")
    start = timezone.now()
    with freeze_time(start):
        client = signed_in(editor)
    for seconds, written in ((30, False), (61, True), (90, False)):
        with (
            freeze_time(start + datetime.timedelta(seconds=seconds)),
            CaptureQueriesContext(connection) as queries,
        ):
            assert client.get(page).status_code == 200
        updates = [q for q in queries.captured_queries if 'UPDATE "django_session"' in q["sql"]]
        assert bool(updates) is written, seconds


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(editor):
    here, elsewhere = signed_in(editor), signed_in(editor)
    response = here.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Another-pass-2026!",
            "new_password2": "Another-pass-2026!",
        },
    )
    assert response.status_code == 302
    assert here.get(reverse("admin:index")).status_code == 200
    response = elsewhere.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


# --- The audit log --------------------------------------------------------------------------


def test_a_sign_in_is_recorded_with_the_address(editor):
    signed_in(editor, REMOTE_ADDR="203.0.113.7")
    entry = AuditEntry.objects.get(action=Action.SIGNED_IN)
    assert (entry.user, entry.username, entry.ip) == (editor, "editor", "203.0.113.7")


def test_failed_sign_ins_are_recorded_for_known_and_unknown_names(editor):
    client = Client()
    for username in ("editor", "nobody"):
        client.post(reverse("admin:login"), {"username": username, "password": "wrong"})
    entries = AuditEntry.objects.filter(action=Action.SIGN_IN_FAILED).order_by("pk")
    assert [(e.username, e.user) for e in entries] == [("editor", editor), ("nobody", None)]
    assert not AuditEntry.objects.filter(action=Action.SIGNED_IN).exists()


def test_role_permission_and_status_changes_are_recorded(editor, root):
    authors = Group.objects.get(name="Authors")
    editor.groups.add(authors)
    editor.groups.remove(authors)
    publish = Permission.objects.get(codename="publish_release")
    editor.user_permissions.add(publish)
    editor.is_superuser = True
    editor.save()
    editor.first_name = "Пётр"
    editor.save()  # not a change of rights: no entry
    authors.user_set.add(root)
    rows = list(
        AuditEntry.objects.filter(user__in=[editor, root])
        .exclude(action=Action.SIGNED_IN)
        .order_by("pk")
        .values_list("user__username", "action", "detail")
    )
    assert rows[-5:] == [
        ("editor", Action.GROUPS_CHANGED, "add: Authors"),
        ("editor", Action.GROUPS_CHANGED, "remove: Authors"),
        ("editor", Action.PERMISSIONS_CHANGED, f"add: {publish}"),
        ("editor", Action.STATUS_CHANGED, "is_superuser: False → True"),
        ("root", Action.GROUPS_CHANGED, "add: Authors"),
    ]


def test_a_change_in_the_admin_names_who_made_it(editor, root):
    client = Client()
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_change", args=[editor.pk]),
        {
            "username": "editor",
            "is_active": "on",
            "is_staff": "on",
            "groups": [],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.filter(action=Action.GROUPS_CHANGED, user=editor).first()
    assert (entry.detail, entry.actor) == ("remove: Editors", root)


def test_only_superusers_see_the_audit_log_and_nobody_edits_it(editor, root):
    url = reverse("admin:accounts_auditentry_changelist")
    admin_client, editor_client = Client(), Client()
    admin_client.force_login(root)
    editor_client.force_login(editor)
    response = admin_client.get(url, {"action__exact": Action.SIGNED_IN, "q": "editor"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert editor_client.get(url).status_code == 403
    entry = AuditEntry.objects.first()
    assert (
        admin_client.post(
            reverse("admin:accounts_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_purge_audit_log_deletes_only_entries_older_than_the_retention(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    with freeze_time(timezone.now() - datetime.timedelta(days=31)):
        old = AuditEntry.objects.create(action=Action.SIGNED_IN, username="old")
    with freeze_time(timezone.now() - datetime.timedelta(days=29)):
        recent = AuditEntry.objects.create(action=Action.SIGNED_IN, username="recent")
    call_command("purge_audit_log", stdout=None)
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=recent.pk).exists()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_audit_log", days=0)
