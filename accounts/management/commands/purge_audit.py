"""Delete the security record's rows that are past retention — and nothing younger, unless
an operator overrides it, with a reason, which is itself recorded (and kept)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import record
from accounts.models import SecurityEvent, retention_cutoff, retention_days


class Command(BaseCommand):
    help = (
        "Delete rows of the security record older than AUDIT_RETENTION_DAYS. "
        "With --override --reason TEXT --before YYYY-MM-DD, also younger ones (recorded)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")
        parser.add_argument(
            "--override",
            action="store_true",
            help="Delete rows younger than the retention period too (needs --reason, --before).",
        )
        parser.add_argument("--reason", default="", help="Why the retention is overridden.")
        parser.add_argument(
            "--before",
            type=datetime.date.fromisoformat,
            help="With --override: delete rows created before this date (YYYY-MM-DD).",
        )
        parser.add_argument("--operator", default="", help="Who runs the override (a name).")

    def handle(self, *args, dry_run=False, override=False, reason="", before=None, **options):
        reason = reason.strip()
        if override and (not reason or before is None):
            raise CommandError("--override needs --reason TEXT and --before YYYY-MM-DD.")
        if not override and (reason or before):
            raise CommandError("--reason and --before go with --override only.")
        if override and before > timezone.localdate():
            raise CommandError("--before cannot be later than today.")
        if override:
            cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
        else:
            cutoff = retention_cutoff()
        rows = SecurityEvent.objects.filter(created_at__lt=cutoff)
        count = rows.count()
        if dry_run:
            self.stdout.write(f"{count} rows would be deleted (created before {cutoff:%Y-%m-%d}).")
            return
        with transaction.atomic():
            if override:
                # The override is recorded first, in the same transaction: no deletion
                # without its row, which is younger than the cutoff and so is kept.
                record(
                    SecurityEvent.Kind.RECORD_PURGED,
                    actor_name=options["operator"] or "manage.py purge_audit",
                    obj="security record",
                    override=True,
                    reason=reason,
                    before=before.isoformat(),
                    rows=count,
                    retention_days=retention_days(),
                )
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL tian.audit_override = 'on'")
                deleted, _detail = rows.purge()
            else:
                deleted, _detail = rows.delete()
                if deleted:
                    record(
                        SecurityEvent.Kind.RECORD_PURGED,
                        actor_name="manage.py purge_audit",
                        obj="security record",
                        override=False,
                        rows=deleted,
                        before=cutoff.isoformat(),
                        retention_days=retention_days(),
                    )
        self.stdout.write(f"{deleted} rows deleted (created before {cutoff:%Y-%m-%d}).")
