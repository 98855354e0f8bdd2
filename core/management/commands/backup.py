"""`manage.py backup [--output DIR] [--archive] [--keep N]`: the database and the private
media, checksummed (core/backup.py; README, "Backup and restore").

Nightly from cron or deploy/systemd/tian-backup.timer, e.g. keeping 30:
    manage.py backup --output /var/backups/tian --keep 30
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the private media, with SHA-256 checksums."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=str(settings.BACKUP_ROOT),
            help="Directory the backup is written into (DJANGO_BACKUP_ROOT; default %(default)s).",
        )
        parser.add_argument(
            "--archive", action="store_true", help="Write one .tar instead of a directory."
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="Afterwards delete all but the newest KEEP backups in the directory.",
        )

    def handle(self, *args, **options):
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError("--keep must be at least 1.")
        try:
            path = create_backup(options["output"], options["archive"], options["keep"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup written to {path}")
