"""Copy the uploaded files of this server's disk (MEDIA_ROOT) into the database storage.

Run once before switching to DJANGO_ATTACHMENT_STORAGE=database: the files keep their
names, so the models that point at them need no change. Files already copied are skipped,
so it can run again.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from core.models import StoredFile


class Command(BaseCommand):
    help = "Copy the files under MEDIA_ROOT into the database (DJANGO_ATTACHMENT_STORAGE)."

    def handle(self, *args, **options):
        root = Path(settings.MEDIA_ROOT)
        copied = skipped = 0
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if StoredFile.objects.filter(name=name).exists():
                skipped += 1
                continue
            data = path.read_bytes()
            StoredFile.objects.create(name=name, content=data, size=len(data))
            copied += 1
        self.stdout.write(f"{copied} files copied, {skipped} already in the database.")
