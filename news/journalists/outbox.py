"""The outbox: every message to a subscriber or a journalist is first a `Delivery` row with a
unique key, then a task sends it. The key makes a message exist once however often it is
asked for; the claim (PENDING -> SENDING in one conditional UPDATE) makes it leave once
however many workers or retries race for it.

A refused or failed SMTP conversation puts the row back to PENDING and enqueues the task again
after a doubling delay, DELIVERY_MAX_ATTEMPTS times in all, then FAILED. A worker killed
between the SMTP server's acceptance and the SENT mark leaves the row in SENDING: it is never
sent again by itself (the reader may already have it); `manage.py deliver_outbox` lists such
rows and sends every PENDING one whose task was lost."""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from news.journalists.models import Delivery, DeliveryState

logger = logging.getLogger(__name__)


def message_id() -> str:
    """A Message-ID fixed when the delivery is written, so a resend is recognisably the same
    message."""
    return make_msgid(domain=settings.SITE_URL.split("://", 1)[1].split(":")[0].split("/")[0])


def enqueue(deliveries: Iterable[Delivery]) -> None:
    """Send these deliveries once the current transaction commits."""
    pks = [d.pk for d in deliveries if d.state == DeliveryState.PENDING]
    for pk in pks:
        transaction.on_commit(lambda pk=pk: deliver.enqueue(pk), robust=True)


def add(key: str, *, to: str, subject: str, text: str, html: str = "", headers=None, **links):
    """The delivery with this key, written now with these contents if it did not exist."""
    delivery, _created = Delivery.objects.get_or_create(
        key=key,
        defaults={
            "to": to,
            "subject": " ".join(subject.split()),
            "text": text,
            "html": html,
            "headers": {"Message-ID": message_id(), **(headers or {})},
            **links,
        },
    )
    return delivery


def email(delivery: Delivery) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        delivery.subject,
        delivery.text,
        settings.DEFAULT_FROM_EMAIL,
        [delivery.to],
        headers=delivery.headers,
    )
    if delivery.html:
        message.attach_alternative(delivery.html, "text/html")
    return message


def retry_delay(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.DELIVERY_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def send(delivery_id: int) -> str:
    """Claim the delivery, send it, record the outcome. Returns the state it was left in
    ("skipped" when another worker has it or it is no longer waiting)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, attempts=F("attempts") + 1, next_attempt_at=now
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.get(pk=delivery_id)
    try:
        email(delivery).send()
    except (smtplib.SMTPException, OSError) as error:
        delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
        if delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            logger.error("giving up on delivery %s: %s", delivery.pk, delivery.last_error)
        else:
            delivery.state = DeliveryState.PENDING
            delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
        delivery.save(update_fields=["state", "last_error", "next_attempt_at"])
        if delivery.state == DeliveryState.PENDING:
            deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
        return delivery.state
    Delivery.objects.filter(pk=delivery_id).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
    )
    return DeliveryState.SENT


@task
def deliver(delivery_id: int) -> str:
    """The background task of one delivery."""
    return send(delivery_id)


def due() -> list[int]:
    """Waiting deliveries whose time has come (their task may have been lost)."""
    return list(
        Delivery.objects.filter(
            state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    )
