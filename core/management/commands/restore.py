"""`manage.py restore PATH [--yes]`: put a backup of `manage.py backup` back.

Every checksum is checked first; a database (or MEDIA_ROOT) that is not empty is replaced
only with --yes; afterwards every table is compared with the backup (core/backup.py).
Stop the application and the workers first (systemctl stop tian tian-outbox …).
"""

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup (directory or .tar) of the database and the private media."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A backup directory or .tar written by `backup`.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Replace a database and media that are not empty.",
        )

    def handle(self, *args, **options):
        try:
            manifest = restore_backup(options["path"], yes=options["yes"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        tables = manifest["database"]["tables"]
        files = sum(1 for name in manifest["files"] if name.startswith("media/"))
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']}: {len(tables)} tables, "
            f"{sum(t['rows'] for t in tables.values())} rows and {files} files, "
            "each identical to the backup."
        )
