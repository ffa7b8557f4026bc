from django.core.management.base import BaseCommand

from news.journalists.subscriptions import send_digests


class Command(BaseCommand):
    help = (
        "Queue the daily digests that are due (run it hourly: deploy/pressservice-digest.timer); "
        "each subscriber gets at most one a day."
    )

    def handle(self, *args, verbosity: int, **options):
        count = send_digests()
        if verbosity:
            self.stdout.write(f"digests queued: {count}")
