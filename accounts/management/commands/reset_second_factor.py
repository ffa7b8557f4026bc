from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.second_factor import reset_second_factor


class Command(BaseCommand):
    help = (
        "Forget a user's second factor (lost phone): their devices and recovery codes are "
        "deleted, their sessions end, and they enrol again at their next sign-in. Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        removed = reset_second_factor(user)
        self.stdout.write(
            f"Second factor of {username} reset ({removed} device(s) removed, sessions ended)."
        )
