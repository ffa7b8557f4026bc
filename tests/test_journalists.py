"""Journalists: subscriptions (double opt-in, one-click unsubscribe, throttle, once per
edition, scheduled sends re-checking the public rule) and the embargo list, with messages
delivered by the real worker to a real SMTP server on loopback."""

from __future__ import annotations

import datetime
import email
import email.policy
import os
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time

from news import workflow
from news.journalists import Journalist, outbox, send_under_embargo, subscribe, subscriptions
from news.journalists import embargo as embargo_service
from news.journalists.models import Delivery, DeliveryState, EmbargoView, Subscriber
from tests.factories import (
    CategoryFactory,
    PublishedFactory,
    ReviewFactory,
    RussianOnlyDraftFactory,
    ScheduledFactory,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; the site's mailer points at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    with override_settings(MAILERS=mailers):
        inbox.port = port
        yield inbox
    controller.stop()


def texts(message) -> tuple[str, str]:
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def confirmed(address: str, language: str = "ru", **kwargs) -> Subscriber:
    subscriber = subscribe(address, language=language, **kwargs)
    subscriptions.confirm(subscriber)
    return subscriber


def publish_now(release, by, capture):
    with capture(execute=True):
        workflow.publish(release, by=by)


# Subscribing ---------------------------------------------------------------------------------


class TestSubscribe:
    def test_the_form_has_an_email_input_and_lists_the_feeds(self, client):
        CategoryFactory(slug="economy", name_en="Economy")
        response = client.get("/en/news/subscribe/")
        html = response.content.decode()
        assert response.status_code == 200
        assert 'type="email"' in html
        assert "/en/news/rss/" in html and "/en/news/category/economy/rss/" in html
        assert "Economy" in html
        assert "Подписаться" in client.get("/ru/news/subscribe/").content.decode()

    @pytest.mark.parametrize("language", ["ru", "en"])
    def test_double_opt_in_over_smtp(
        self, client, smtp, run_tasks, language, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/{language}/news/subscribe/",
                {"email": "Reporter@Example.org", "frequency": "immediate", "digest_hour": "9"},
            )
        assert response.status_code == 200
        subscriber = Subscriber.objects.get()
        assert not subscriber.is_active
        run_tasks()
        ((rcpt, message),) = smtp.messages
        assert rcpt == ["reporter@example.org"]
        assert message["Message-ID"] and message["Date"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = texts(message)
        confirm_path = f"/{language}/news/subscribe/confirm/"
        assert confirm_path in text and confirm_path in html
        if language == "ru":
            assert "Подтвердите" in message["Subject"]
        else:
            assert "Confirm your subscription" in message["Subject"]
        path = next(w for w in text.split() if confirm_path in w).replace(
            "http://127.0.0.1:8000", ""
        )
        # Following the link (a person, or a mail scanner fetching it) shows a button only.
        page = client.get(path)
        assert page.status_code == 200
        assert 'method="post"' in page.content.decode() and "<button" in page.content.decode()
        assert page["Cache-Control"].startswith("max-age=0")
        subscriber.refresh_from_db()
        assert not subscriber.is_active
        assert client.post(path).status_code == 200  # the button
        subscriber.refresh_from_db()
        assert subscriber.is_active

    def test_bad_input_is_refused_and_nothing_is_written(self, client):
        for data in (
            {"email": "not an address", "frequency": "immediate", "digest_hour": "9"},
            {"email": "a@example.org\r\nBcc: x@evil.example", "frequency": "immediate",
             "digest_hour": "9"},
            {"email": "a@example.org", "frequency": "hourly", "digest_hour": "9"},
            {"email": "a" * 300 + "@example.org", "frequency": "immediate", "digest_hour": "9"},
        ):  # fmt: skip
            assert client.post("/en/news/subscribe/", data).status_code == 400
        assert Subscriber.objects.count() == 0
        assert Delivery.objects.count() == 0
        with pytest.raises(ValidationError):
            subscribe("x@example.org\nBcc: y@example.org", language="ru")
        with pytest.raises(ValidationError):
            subscribe("x@example.org", language="de")

    def test_known_and_unknown_addresses_get_the_same_answer(
        self, client, django_capture_on_commit_callbacks
    ):
        confirmed("known@example.org", "en")
        data = {"frequency": "immediate", "digest_hour": "9"}
        known = client.post("/en/news/subscribe/", {**data, "email": "known@example.org"})
        unknown = client.post("/en/news/subscribe/", {**data, "email": "new@example.org"})
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content
        assert b"known@example.org" not in known.content
        # The confirmed subscription was not changed by a stranger's form.
        assert Subscriber.objects.get(email="known@example.org").is_active

    def test_a_confirmation_at_most_once_an_hour(self):
        subscribe("once@example.org", language="ru")
        subscribe("once@example.org", language="ru")
        assert Delivery.objects.filter(to="once@example.org").count() == 1
        with freeze_time(timezone.now() + datetime.timedelta(minutes=61)):
            subscribe("once@example.org", language="ru")
        assert Delivery.objects.filter(to="once@example.org").count() == 2

    @override_settings(SUBSCRIBE_LIMIT_PER_HOUR=3)
    def test_throttled_per_address_and_per_client(self, client):
        data = {"frequency": "immediate", "digest_hour": "9"}
        for n in range(3):
            ok = client.post("/ru/news/subscribe/", {**data, "email": f"p{n}@example.org"})
            assert ok.status_code == 200
        refused = client.post("/ru/news/subscribe/", {**data, "email": "p9@example.org"})
        assert refused.status_code == 429
        assert not Subscriber.objects.filter(email="p9@example.org").exists()
        # Another client, one address hammered.
        for _n in range(3):
            client.post(
                "/ru/news/subscribe/", {**data, "email": "same@example.org"},
                REMOTE_ADDR="10.0.0.2",
            )  # fmt: skip
        again = client.post(
            "/ru/news/subscribe/", {**data, "email": "same@example.org"}, REMOTE_ADDR="10.0.0.3"
        )
        assert again.status_code == 429


class TestLinks:
    def test_unsubscribe_get_shows_a_button_post_unsubscribes_at_once(self, client):
        subscriber = confirmed("bye@example.org", "en")
        path = f"/en/news/unsubscribe/{subscriptions.manage_token(subscriber)}/"
        page = client.get(path)
        assert page.status_code == 200 and "<button" in page.content.decode()
        subscriber.refresh_from_db()
        assert subscriber.is_active
        # RFC 8058: the mail client's POST carries no CSRF token.
        from django.test import Client

        response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        subscriber.refresh_from_db()
        assert not subscriber.is_active

    def test_a_confirmation_link_confirms_only_by_the_pages_csrf_protected_button(self):
        """Mail scanners (corporate link checkers) GET and HEAD every link of a message, and
        sometimes POST without the page's token: none of that subscribes anyone."""
        from django.test import Client

        subscriber = subscribe("scanned@example.org", language="en")
        path = f"/en/news/subscribe/confirm/{subscriptions.confirm_token(subscriber)}/"
        browser = Client(enforce_csrf_checks=True)
        assert browser.head(path).status_code == 200
        page = browser.get(path)
        html = page.content.decode()
        assert page.status_code == 200
        assert "Confirm your subscription" in html and "scanned@example.org" in html
        assert 'name="csrfmiddlewaretoken"' in html and 'method="post"' in html
        assert "noindex" in html
        russian = browser.get(path.replace("/en/", "/ru/", 1)).content.decode()
        assert "Подтвердите подписку" in russian
        assert Client(enforce_csrf_checks=True).post(path).status_code == 403  # no token
        subscriber.refresh_from_db()
        assert not subscriber.is_active
        token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        done = browser.post(path, {"csrfmiddlewaretoken": token})
        assert done.status_code == 200 and "Subscription confirmed" in done.content.decode()
        subscriber.refresh_from_db()
        assert subscriber.is_active

    def test_tampered_expired_and_foreign_tokens(self, client):
        subscriber = subscribe("t@example.org", language="ru")
        good = subscriptions.confirm_token(subscriber)
        assert client.get(f"/ru/news/subscribe/confirm/{good}x/").status_code == 404
        manage = subscriptions.manage_token(subscriber)
        # A manage token is not a confirmation token, nor an embargo one.
        assert client.get(f"/ru/news/subscribe/confirm/{manage}/").status_code == 404
        assert client.get(f"/ru/news/embargo/{manage}/").status_code == 404
        assert client.post(f"/ru/news/subscribe/confirm/{good}x/").status_code == 404
        assert client.post(f"/ru/news/subscribe/confirm/{manage}/").status_code == 404
        with freeze_time(timezone.now() + datetime.timedelta(days=8)):
            assert client.get(f"/ru/news/subscribe/confirm/{good}/").status_code == 404
            assert client.post(f"/ru/news/subscribe/confirm/{good}/").status_code == 404
        subscriber.refresh_from_db()
        assert not subscriber.is_active
        # A token of an address since deleted.
        subscriber.delete()
        assert client.post(f"/ru/news/unsubscribe/{manage}/").status_code == 404

    def test_preferences_page_changes_categories(self, client):
        subscriber = confirmed("prefs@example.org", "ru")
        category = CategoryFactory()
        path = f"/ru/news/subscribe/preferences/{subscriptions.manage_token(subscriber)}/"
        assert client.get(path).status_code == 200
        response = client.post(
            path, {"categories": [category.pk], "frequency": "daily", "digest_hour": "8"}
        )
        assert response.status_code == 200
        subscriber.refresh_from_db()
        assert not subscriber.all_categories and subscriber.frequency == "daily"
        assert list(subscriber.categories.all()) == [category]
        bad = client.post(path, {"frequency": "daily", "digest_hour": "99"})
        assert bad.status_code == 400


# Announcements -------------------------------------------------------------------------------


class TestAnnouncements:
    def test_published_now_reaches_confirmed_subscribers_of_its_language_once(
        self, smtp, run_tasks, editor_user, django_capture_on_commit_callbacks
    ):
        confirmed("ru@example.org", "ru")
        confirmed("en@example.org", "en")
        subscribe("unconfirmed@example.org", language="ru")
        gone = confirmed("gone@example.org", "ru")
        subscriptions.unsubscribe(gone)
        release = RussianOnlyDraftFactory()
        workflow.submit(release, by=None)
        run_tasks()
        smtp.messages.clear()
        publish_now(release, editor_user, django_capture_on_commit_callbacks)
        run_tasks()
        recipients = sorted(r for rcpt, _m in smtp.messages for r in rcpt)
        assert recipients == ["ru@example.org"]  # no English version: nothing in English
        (_rcpt, message), = smtp.messages  # fmt: skip
        assert message["Subject"] == release.title_ru
        text, html = texts(message)
        assert release.get_absolute_url("ru") in text
        assert "/ru/news/subscribe/preferences/" in text and "/ru/news/unsubscribe/" in html
        assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/ru/news/unsub")
        # The same announcement asked for again sends nothing more.
        subscriptions.release_became_public(release)
        run_tasks()
        assert len(smtp.messages) == 1

    def test_categories_filter_the_news(self, run_tasks, editor_user,
                                        django_capture_on_commit_callbacks):  # fmt: skip
        economy, culture = CategoryFactory(), CategoryFactory()
        confirmed("economy@example.org", "en", categories=[economy])
        confirmed("culture@example.org", "en", categories=[culture])
        confirmed("all@example.org", "en")
        release = ReviewFactory()
        release.categories.add(economy)
        publish_now(release, editor_user, django_capture_on_commit_callbacks)
        run_tasks()
        sent = set(
            Delivery.objects.filter(release=release, key__startswith="release:").values_list(
                "to", flat=True
            )
        )
        assert sent == {"economy@example.org", "all@example.org"}

    def test_scheduled_is_sent_at_its_moment_not_before(
        self, smtp, run_tasks, editor_user, django_capture_on_commit_callbacks
    ):
        confirmed("sched@example.org", "en")
        run_tasks()
        smtp.messages.clear()
        at = timezone.now() + datetime.timedelta(hours=2)
        release = ReviewFactory()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(release, by=editor_user, at=at)
        run_tasks()
        assert smtp.messages == []
        with freeze_time(at + datetime.timedelta(seconds=1)):
            run_tasks()
        assert [rcpt for rcpt, _m in smtp.messages] == [["sched@example.org"]]

    def test_scheduled_then_withdrawn_sends_nothing(
        self, run_tasks, editor_user, django_capture_on_commit_callbacks
    ):
        confirmed("w@example.org", "ru")
        at = timezone.now() + datetime.timedelta(hours=1)
        release = ReviewFactory()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.publish(release, by=editor_user, at=at)
        workflow.withdraw(release, by=editor_user, reason="Ошибка")
        with freeze_time(at + datetime.timedelta(minutes=1)):
            run_tasks()
        assert not Delivery.objects.filter(key__startswith="release:").exists()

    def test_a_rescheduled_moment_is_not_announced_by_the_old_task(self, run_tasks):
        confirmed("r@example.org", "ru")
        release = ScheduledFactory()
        old_moment = release.published_at.isoformat()
        later = release.published_at + datetime.timedelta(days=1)
        type(release).objects.filter(pk=release.pk).update(published_at=later)
        with freeze_time(later + datetime.timedelta(minutes=1)):
            assert subscriptions.announce_release.call(release.pk, moment=old_moment) == 0
            assert subscriptions.announce_release.call(release.pk, moment=later.isoformat()) == 1

    def test_an_announcement_lost_with_a_killed_worker_is_caught_up_once(
        self, smtp, run_tasks, editor_user, django_capture_on_commit_callbacks
    ):
        """The announcement task died with its worker (it never ran): the hourly catch-up
        writes and sends it, once; a subscriber confirmed after the publication is not told."""
        confirmed("early@example.org", "ru")
        release = ReviewFactory()
        workflow.publish(release, by=editor_user)  # no on-commit hooks here: the task is lost
        later = confirmed("late@example.org", "ru")
        Subscriber.objects.filter(pk=later.pk).update(
            confirmed_at=timezone.now() + datetime.timedelta(minutes=1)
        )
        announcements = Delivery.objects.filter(key__startswith="release:")
        assert not announcements.exists()
        for _run in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                subscriptions.announce_missed()
            run_tasks()
        (announcement,) = announcements
        assert announcement.to == "early@example.org"
        assert announcement.state == DeliveryState.SENT
        assert [rcpt for rcpt, _m in smtp.messages].count(["early@example.org"]) == 1
        # Older than the window: left alone.
        announcements.delete()
        assert subscriptions.announce_missed(now=timezone.now() + datetime.timedelta(hours=7)) == 0

    def test_a_major_edition_is_announced_once_with_its_note(self, run_tasks):
        confirmed("ed@example.org", "en")
        release = PublishedFactory()
        edition = mock.Mock(pk=7, change_note_ru="Уточнено", change_note_en="Figures corrected")
        for _n in range(2):
            subscriptions.release_became_public(release, edition=edition)
            run_tasks()
        (delivery,) = Delivery.objects.filter(key__contains="edition-7")
        assert "Figures corrected" in delivery.text


# The outbox: retries and crashes --------------------------------------------------------------


class TestOutbox:
    def test_a_refused_message_is_retried_with_backoff_then_sent_once(self, smtp, run_tasks):
        delivery = outbox.add("test:retry", to="x@example.org", subject="S", text="T")
        with override_settings(
            MAILERS={"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                 "OPTIONS": {"host": "127.0.0.1", "port": free_port()}}}
        ):  # fmt: skip
            assert outbox.send(delivery.pk) == DeliveryState.PENDING
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and delivery.last_error
        assert delivery.next_attempt_at > timezone.now()
        run_tasks()  # the retry is not due yet
        assert smtp.messages == []
        with freeze_time(delivery.next_attempt_at + datetime.timedelta(seconds=1)):
            run_tasks()
        assert len(smtp.messages) == 1
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENT and delivery.attempts == 2
        assert outbox.send(delivery.pk) == "skipped"
        assert len(smtp.messages) == 1

    @override_settings(DELIVERY_MAX_ATTEMPTS=2)
    def test_gives_up_after_the_last_attempt(self):
        delivery = outbox.add("test:fail", to="x@example.org", subject="S", text="T")
        with mock.patch.object(outbox, "email", side_effect=OSError("connection refused")):
            outbox.send(delivery.pk)
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            outbox.send(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.FAILED

    def test_a_crash_between_sending_and_recording_never_sends_twice(self, smtp, run_tasks):
        delivery = outbox.add("test:crash", to="x@example.org", subject="S", text="T")
        outbox.deliver.enqueue(delivery.pk)
        real_filter = Delivery.objects.filter

        def crash_on_record(*args, **kwargs):
            if kwargs.get("pk") == delivery.pk and "state" not in kwargs:
                raise SystemExit("worker killed")
            return real_filter(*args, **kwargs)

        with (
            mock.patch.object(Delivery.objects, "filter", side_effect=crash_on_record),
            pytest.raises(SystemExit),
        ):
            outbox.send(delivery.pk)
        assert len(smtp.messages) == 1
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENDING
        run_tasks()  # the queued task finds it claimed
        from django.core.management import call_command

        call_command("deliver_outbox", verbosity=0)
        assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_the_real_worker_process_delivers_once(smtp, settings, tmp_path):
    """`manage.py db_worker --batch` in its own process, on the test database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    subscriber = subscriptions.subscribe("worker@example.org", language="en")
    assert Delivery.objects.filter(to=subscriber.email).count() == 1
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pressservice.settings_test",
        "DATABASE_URL": database_url,
        "TEST_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
    }
    for _run in range(2):
        subprocess.run(
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay",
             "--no-reload", "--interval", "0", "-v", "0"],
            cwd=ROOT, env=env, check=True, timeout=120,
        )  # fmt: skip
    assert [rcpt for rcpt, _m in smtp.messages] == [["worker@example.org"]]
    assert Delivery.objects.get().state == DeliveryState.SENT


# Embargo -------------------------------------------------------------------------------------


@pytest.fixture
def journalist(db):
    return Journalist.objects.create(
        name="Анна Петрова",
        outlet="ТАСС",
        email="anna@tass.example",
        languages=["ru", "en"],
        accredited_until=timezone.localdate() + datetime.timedelta(days=30),
    )


class TestEmbargo:
    def test_only_a_scheduled_release_by_an_editor(self, journalist, author_user):
        with pytest.raises(ValidationError):
            send_under_embargo(PublishedFactory(), by=None)
        with pytest.raises(PermissionDenied):
            send_under_embargo(ScheduledFactory(), by=author_user)
        assert Delivery.objects.count() == 0

    def test_nobody_accredited_is_an_error(self, journalist):
        journalist.accredited_until = timezone.localdate() - datetime.timedelta(days=1)
        journalist.save()
        with pytest.raises(ValidationError):
            send_under_embargo(ScheduledFactory(), by=None)

    def test_message_and_link_lifecycle(
        self, client, smtp, run_tasks, journalist, editor_user,
        django_capture_on_commit_callbacks,
    ):  # fmt: skip
        release = ScheduledFactory()
        with django_capture_on_commit_callbacks(execute=True):
            send_under_embargo(release, by=editor_user)
            send_under_embargo(release, by=editor_user)  # pressed twice: sent once
        run_tasks()
        ((rcpt, message),) = smtp.messages
        assert rcpt == ["anna@tass.example"]
        assert message["Subject"].startswith("ЭМБАРГО ДО ")
        text, _html = texts(message)
        assert "EMBARGOED UNTIL" in text and "Europe/Minsk" in text
        paths = [w.replace("http://127.0.0.1:8000", "") for w in text.split() if "/embargo/" in w]
        assert [p[:4] for p in paths] == ["/ru/", "/en/"]

        response = client.get(paths[1])
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"
        assert "noindex" in response["X-Robots-Tag"]
        assert "EMBARGOED UNTIL" in response.content.decode()
        assert release.title_en in response.content.decode()
        view = EmbargoView.objects.get()
        assert (view.journalist, view.release, view.language) == (journalist, release, "en")

        assert client.get(paths[0][:-2] + "x/").status_code == 404  # tampered

        with freeze_time(release.published_at + datetime.timedelta(seconds=1)):
            after = client.get(paths[0])
        assert after.status_code == 302
        assert after["Location"] == release.get_absolute_url("ru")

        journalist.active = False
        journalist.save()
        assert client.get(paths[0]).status_code == 404
        assert EmbargoView.objects.count() == 1

    def test_a_withdrawn_release_kills_the_link(self, client, journalist, editor_user):
        release = ScheduledFactory()
        token = embargo_service.make_token(release, journalist)
        assert client.get(f"/ru/news/embargo/{token}/").status_code == 200
        workflow.withdraw(release, by=editor_user, reason="Отменено")
        assert client.get(f"/ru/news/embargo/{token}/").status_code == 404

    def test_a_language_the_journalist_does_not_read(self, client, journalist):
        journalist.languages = ["ru"]
        journalist.save()
        token = embargo_service.make_token(ScheduledFactory(), journalist)
        assert client.get(f"/en/news/embargo/{token}/").status_code == 404
        with pytest.raises(signing.BadSignature):
            embargo_service.read_token(token + "x")

    def test_the_admin_sends_and_shows_who_viewed(
        self, client, journalist, editor_user, django_capture_on_commit_callbacks
    ):
        release = ScheduledFactory()
        client.force_login(editor_user)
        change = client.get(f"/admin/news/release/{release.pk}/change/")
        assert f"/admin/news/journalist/embargo/{release.pk}/" in change.content.decode()
        page = client.get(f"/admin/news/journalist/embargo/{release.pk}/")
        assert page.status_code == 200 and "Анна Петрова" in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/admin/news/journalist/embargo/{release.pk}/", {"journalists": [journalist.pk]}
            )
        assert response.status_code == 302
        assert Delivery.objects.filter(journalist=journalist, release=release).count() == 1


class TestDigest:
    def test_once_a_day_at_the_chosen_hour_with_the_days_releases(self, run_tasks):
        subscriber = confirmed("daily@example.org", "ru", frequency="daily", digest_hour=9)
        old = PublishedFactory(published_at=timezone.now() - datetime.timedelta(days=3))
        hour = timezone.localtime().replace(hour=8, minute=30)
        assert subscriptions.send_digests(now=hour) == 0  # before 9:00 in TIME_ZONE
        at_nine = hour.replace(hour=9)
        with freeze_time(at_nine):
            PublishedFactory(title_ru="Утренняя новость")
            assert subscriptions.send_digests(now=at_nine + datetime.timedelta(minutes=5)) == 1
            assert subscriptions.send_digests(now=at_nine + datetime.timedelta(hours=1)) == 0
        (digest,) = Delivery.objects.filter(key__startswith="digest:")
        assert digest.to == subscriber.email and "Утренняя новость" in digest.text
        assert old.title_ru not in digest.text
        assert "Новости пресс-службы" in digest.subject


def test_journalists_are_told_when_an_embargoed_release_is_withdrawn(
    run_tasks, journalist, editor_user, django_capture_on_commit_callbacks
):
    release = ScheduledFactory()
    moment = release.published_at
    with django_capture_on_commit_callbacks(execute=True):
        send_under_embargo(release, by=editor_user)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(release, by=editor_user, reason="Отменено")
    run_tasks()
    (notice,) = Delivery.objects.filter(key__startswith="embargo-cancelled:")
    assert notice.to == journalist.email and notice.state == DeliveryState.SENT
    assert notice.subject.startswith("Эмбарго отменено")
    assert "will not be published" in notice.text
    assert embargo_service.moment_text(moment) in notice.text
    # A release that was never sent under embargo tells nobody.
    other = ScheduledFactory()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(other, by=editor_user, reason="Отменено")
    assert Delivery.objects.filter(key__startswith="embargo-cancelled:").count() == 1


@pytest.mark.parametrize("change", ["reschedule", "cancel_schedule"])
def test_journalists_are_told_when_an_embargoed_release_is_moved_or_cancelled(
    change, run_tasks, journalist, editor_user, django_capture_on_commit_callbacks
):
    release = ScheduledFactory()
    moment = release.published_at
    with django_capture_on_commit_callbacks(execute=True):
        send_under_embargo(release, by=editor_user)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "reschedule":
            workflow.reschedule(release, by=editor_user, at=moment + datetime.timedelta(days=2))
        else:
            workflow.cancel_schedule(release, by=editor_user)
    run_tasks()
    (notice,) = Delivery.objects.filter(key__startswith="embargo-cancelled:")
    assert notice.to == journalist.email
    assert embargo_service.moment_text(moment) in notice.text


def test_editors_see_the_embargo_list_and_its_log_authors_do_not(
    client, editor_user, author_user, journalist
):
    client.force_login(editor_user)
    for path in ("/admin/news/journalist/", "/admin/news/embargoview/", "/admin/news/delivery/"):
        assert client.get(path).status_code == 200
    client.force_login(author_user)
    assert client.get("/admin/news/journalist/").status_code == 403
    release = ScheduledFactory()
    assert client.get(f"/admin/news/journalist/embargo/{release.pk}/").status_code == 403


def test_an_editor_sends_a_failed_delivery_again(
    client, editor_user, smtp, run_tasks, django_capture_on_commit_callbacks
):
    failed = outbox.add("test:again", to="x@example.org", subject="S", text="T")
    Delivery.objects.filter(pk=failed.pk).update(state=DeliveryState.FAILED, attempts=6)
    sent = outbox.add("test:sent", to="y@example.org", subject="S", text="T")
    Delivery.objects.filter(pk=sent.pk).update(state=DeliveryState.SENT)
    client.force_login(editor_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/news/delivery/",
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        )
    assert response.status_code == 302
    run_tasks()
    assert [rcpt for rcpt, _m in smtp.messages] == [["x@example.org"]]  # the sent one stays


def test_the_next_digest_starts_where_the_last_one_ended():
    confirmed("d2@example.org", "en", frequency="daily", digest_hour=0)
    first_day = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    with freeze_time(first_day):
        PublishedFactory(title_en="Day one")
        assert subscriptions.send_digests() == 1
    with freeze_time(first_day + datetime.timedelta(hours=20)):
        PublishedFactory(title_en="Day two")
    with freeze_time(first_day + datetime.timedelta(hours=23)):
        assert subscriptions.send_digests() == 1
    second = Delivery.objects.filter(key__startswith="digest:").order_by("-created_at").first()
    assert "Day two" in second.text and "Day one" not in second.text


def publish_change(release, *, note_ru, note_en="", minor=False, correction=False, at=None):
    """A change of a live release through its pending edition, published by the system."""
    from news import editions

    editions.save_pending(
        release,
        by=None,
        content={"body_ru": release.body_ru + "<p>Дополнено.</p>"},
        relations={},
        notes={"change_note_ru": note_ru, "change_note_en": note_en, "minor_change": minor,
               "correction": correction},
    )  # fmt: skip
    workflow.submit(release, by=None)
    workflow.publish(release, by=None, at=at)


class TestDigestOfChanges:
    """Daily subscribers hear of the major changes of releases already announced, as immediate
    subscribers do: in their language, their categories, once, and only while still public."""

    def test_the_periods_major_changes_once_and_only_the_public_ones(
        self, smtp, run_tasks, django_capture_on_commit_callbacks
    ):
        def send_digests() -> int:
            with django_capture_on_commit_callbacks(execute=True):
                return subscriptions.send_digests()

        economy, culture = CategoryFactory(), CategoryFactory()
        confirmed("d-ru@example.org", "ru", frequency="daily", digest_hour=0)
        confirmed("d-en@example.org", "en", frequency="daily", digest_hour=0)
        confirmed("d-culture@example.org", "ru", categories=[culture], frequency="daily",
                  digest_hour=0)  # fmt: skip
        base = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
        with freeze_time(base):
            earlier = base - datetime.timedelta(days=3)
            updated, corrected, withdrawn, minor, russian, later = (
                PublishedFactory(published_at=earlier) for _n in range(6)
            )
            for release in (updated, corrected, withdrawn, minor, russian, later):
                release.categories.add(economy)
            publish_change(updated, note_ru="Добавлены цифры.", note_en="Figures added.")
            publish_change(corrected, note_ru="Исправлена дата.", note_en="Date corrected.",
                           correction=True)  # fmt: skip
            publish_change(withdrawn, note_ru="Уточнено.", note_en="Clarified.")
            workflow.withdraw(withdrawn, by=None, reason="Ошибка")
            publish_change(minor, note_ru="", minor=True)
            # Changed while the English version was not public: no English note, no news.
            type(russian).objects.filter(pk=russian.pk).update(title_en="", lead_en="", body_en="")
            russian.refresh_from_db()
            publish_change(russian, note_ru="Только по-русски.")
            publish_change(later, note_ru="Вечернее уточнение.", note_en="Evening update.",
                           at=base + datetime.timedelta(hours=5))  # fmt: skip
        with freeze_time(base + datetime.timedelta(hours=1)):
            assert send_digests() == 2
            assert send_digests() == 0
            run_tasks()
        received = {rcpt[0]: texts(message) for rcpt, message in smtp.messages}
        assert set(received) == {"d-ru@example.org", "d-en@example.org"}  # not culture's
        text, html = received["d-ru@example.org"]
        assert updated.title_ru in text and "Добавлены цифры." in text and "Добавлены" in html
        assert "Исправлено" in text and "Исправлена дата." in text
        assert russian.title_ru in text and "Только по-русски." in text
        assert "Обновлённые пресс-релизы" in text
        assert updated.get_absolute_url("ru") in text
        for absent in (withdrawn, minor, later):
            assert absent.title_ru not in text
        text, html = received["d-en@example.org"]
        assert "Figures added." in text and "Date corrected." in text and "Corrected on" in text
        assert "Updated releases" in html
        assert updated.get_absolute_url("en") in text
        assert russian.title_ru not in text and "Только" not in text
        assert withdrawn.title_en not in text and later.title_en not in text
        # The next day: the scheduled change (its moment passed, no page read since) and
        # nothing that was in yesterday's digest.
        smtp.messages.clear()
        with freeze_time(base + datetime.timedelta(days=1)):
            assert send_digests() == 2
            run_tasks()
        received = {rcpt[0]: texts(message)[0] for rcpt, message in smtp.messages}
        assert "Вечернее уточнение." in received["d-ru@example.org"]
        assert "Evening update." in received["d-en@example.org"]
        for text in received.values():
            assert "Добавлены" not in text and "Figures added." not in text
            assert updated.title_ru not in text
        with freeze_time(base + datetime.timedelta(days=2)):
            assert send_digests() == 0  # nothing new, nothing sent

    def test_a_release_new_in_the_period_is_listed_once_as_new(self):
        confirmed("d1@example.org", "en", frequency="daily", digest_hour=0)
        base = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
        with freeze_time(base):
            release = PublishedFactory(published_at=base - datetime.timedelta(hours=2))
            publish_change(release, note_ru="Уточнено.", note_en="Clarified at once.")
        with freeze_time(base + datetime.timedelta(hours=1)):
            assert subscriptions.send_digests() == 1
        (digest,) = Delivery.objects.filter(key__startswith="digest:")
        assert digest.text.count(release.title_en) == 1
        assert "Clarified at once." not in digest.text and "Updated releases" not in digest.text
