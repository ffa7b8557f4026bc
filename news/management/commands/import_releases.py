import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from news.importers import ImportFileError, import_file
from news.models import Status


def parse_published_at(value: str) -> datetime.datetime:
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)) is not None:
        moment = datetime.datetime.combine(day, datetime.time())
    if moment is None:
        raise CommandError(
            f"--published-at {value!r} is not an ISO date or date-time (e.g. 2011-12-14 or "
            "2011-12-14T10:30+03:00)"
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Import plain-text press releases (publishing body, title, paragraphs, optional "
        "signature and page address). Each file is imported in its own transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="text files or folders")
        parser.add_argument("--language", choices=["ru", "en"], help="default: detected")
        parser.add_argument(
            "--status",
            choices=[Status.DRAFT, Status.REVIEW, Status.PUBLISHED],
            help="status of new releases (default: published with --published-at, else draft)",
        )
        parser.add_argument("--published-at", help="ISO date or date-time of publication")
        parser.add_argument(
            "--force",
            action="store_true",
            help="overwrite releases that were published or changed in the newsroom since "
            "their import (refused otherwise)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what each file would create or change, and write nothing",
        )

    def handle(
        self,
        *args,
        paths,
        language=None,
        status=None,
        published_at=None,
        force=False,
        dry_run=False,
        **options,
    ):
        moment = parse_published_at(published_at) if published_at else None
        status = status or (Status.PUBLISHED if moment else Status.DRAFT)
        if status == Status.PUBLISHED and moment is None:
            raise CommandError(
                "--status published needs --published-at: the importer never invents a "
                "publication date."
            )
        files = self.collect(paths)
        failures = 0
        verbosity = options["verbosity"]
        for n, path in enumerate(files, 1):
            try:
                result = import_file(
                    path,
                    language=language,
                    status=status,
                    published_at=moment,
                    force=force,
                    dry_run=dry_run,
                )
            except ImportFileError as exc:
                failures += 1
                self.stderr.write(f"{path}: {exc}")
                continue
            release = result.release
            action = "created" if result.created else "updated"
            if dry_run:
                action = "would create" if result.created else "would update"
            number = "" if dry_run and result.created else f" #{release.pk}"
            title = release.title_ru or release.title_en
            line = f"{path}: {action} release{number} ({release.status}) {title}"
            for message in result.messages:
                line += f"; {message}"
            if verbosity > 1 or (verbosity == 1 and len(files) <= 20):
                self.stdout.write(line)
            elif verbosity and (n % 100 == 0 or n == len(files)):
                self.stdout.write(f"[{n}/{len(files)}] imported, {failures} failed")
        imported = len(files) - failures
        if dry_run:
            self.stdout.write(
                f"Dry run: nothing written ({imported} would import, {failures} fail)."
            )
            if failures:
                raise CommandError(f"{failures} of {len(files)} files could not be imported.")
            return
        if status != Status.PUBLISHED and imported:
            self.stdout.write(
                f"Imported releases are not published (status {status}): give --published-at "
                "to publish them, or publish them in the admin."
            )
        self.stdout.write(f"{imported} imported, {failures} failed.")
        if failures:
            raise CommandError(f"{failures} of {len(files)} files could not be imported.")

    def collect(self, paths: list[str]) -> list[Path]:
        files = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
            else:
                files.append(path)  # a missing file is reported by the import itself
        if not files:
            raise CommandError("No files to import.")
        return files
