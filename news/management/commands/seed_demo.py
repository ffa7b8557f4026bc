import time

from django.core.management.base import BaseCommand

from news.demo import ensure_demo_users, seed
from news.models import Release


class Command(BaseCommand):
    help = (
        "Create bilingual demo releases. Without --count it seeds 40 only into an empty "
        "database, so running it again loses and duplicates nothing; --count N always adds N."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, help="number of releases to add")
        parser.add_argument("--users", action="store_true", help="also create demo accounts")
        parser.add_argument("--no-images", action="store_true", help="no generated lead images")

    def handle(self, *args, count=None, users=False, no_images=False, **options):
        if users:
            for username, password in ensure_demo_users():
                self.stdout.write(f"Demo account created: {username} / {password}")
        if count is None:
            if Release.objects.exists():
                self.stdout.write("Releases exist already: no demo content added.")
                return
            count = 40
        if count < 1:
            self.stdout.write("Nothing to do (--count < 1).")
            return
        started = time.perf_counter()
        made = seed(count, with_images=not no_images)
        self.stdout.write(f"{made} demo releases created in {time.perf_counter() - started:.1f} s.")
