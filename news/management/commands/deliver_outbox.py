from django.core.management.base import BaseCommand

from news.journalists import outbox
from news.journalists.models import Delivery, DeliveryState


class Command(BaseCommand):
    help = (
        "Send every e-mail delivery that is waiting and due (e.g. after its task was lost), "
        "and list those left 'being sent' by a worker that died: they are never resent by "
        "themselves, since the reader may already have them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue a task per delivery for the worker instead of sending here.",
        )

    def handle(self, *, queue: bool, verbosity: int, **options):
        sent = 0
        for pk in outbox.due():
            if queue:
                outbox.deliver.enqueue(pk)
            elif outbox.send(pk) == DeliveryState.SENT:
                sent += 1
        stuck = Delivery.objects.filter(state=DeliveryState.SENDING)
        if verbosity:
            self.stdout.write(f"sent: {sent}; left being sent (check by hand): {stuck.count()}")
            for delivery in stuck:
                self.stdout.write(f"  {delivery.pk} {delivery.to} {delivery.subject}")
