from django.core.management.base import BaseCommand

from news.journalists.subscriptions import announce_missed, send_digests


class Command(BaseCommand):
    help = (
        "Queue the daily digests that are due (run it hourly: deploy/pressservice-digest.timer); "
        "each subscriber gets at most one a day. Also catches up the announcements of the last "
        "hours that a killed worker left unsent (nobody is told twice)."
    )

    def handle(self, *args, verbosity: int, **options):
        count = send_digests()
        caught_up = announce_missed()
        if verbosity:
            self.stdout.write(f"digests queued: {count}; announcements checked: {caught_up}")
