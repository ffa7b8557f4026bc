from django.core.management.base import BaseCommand, CommandError

from news.roles import setup_roles


class Command(BaseCommand):
    help = "Create or update the Authors and Editors groups (idempotent; run after each deploy)."

    def handle(self, *args, **options):
        try:
            result = setup_roles()
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        for name, count in result.items():
            self.stdout.write(f"{name}: {count} permissions")
