"""A Django storage that keeps uploaded files in the database (DJANGO_ATTACHMENT_STORAGE).

Every app server reads the same files without a shared disk or an object store, an upload
commits or rolls back with the workflow step that made it, and the database backup holds
it. Attachments are at most 10 MB and read rarely, which a bytea column carries well.
"""

import contextlib
import errno
import os

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible

from .models import StoredFile


@deconstructible(path="core.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    def _open(self, name, mode="rb"):
        if set(mode) - {"r", "b"}:
            raise ValueError("Files in the database are written only through save().")
        try:
            content = StoredFile.objects.values_list("content", flat=True).get(name=name)
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None
        return ContentFile(bytes(content), name=name)

    def _save(self, name, content):
        content.seek(0)
        data = b"".join(content.chunks())
        StoredFile.objects.create(name=name, content=data, size=len(data))
        return name

    def exists(self, name):
        return StoredFile.objects.filter(name=name).exists()

    def delete(self, name):
        StoredFile.objects.filter(name=name).delete()

    def size(self, name):
        try:
            return StoredFile.objects.values_list("size", flat=True).get(name=name)
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None

    def get_created_time(self, name):
        try:
            return StoredFile.objects.values_list("created_at", flat=True).get(name=name)
        except StoredFile.DoesNotExist:
            raise FileNotFoundError(name) from None

    get_modified_time = get_created_time

    def url(self, name):
        # Attachments are private: only views that check access serve them.
        raise NotImplementedError("Files in the database have no public URL.")


@deconstructible(path="core.storage.PrivateFileSystemStorage")
class PrivateFileSystemStorage(FileSystemStorage):
    """Django's FileSystemStorage that leaves no partial file behind when a write fails.

    Django's own keeps the bytes it managed to write when the disk fills up (ENOSPC) or the
    directory cannot be written: a file that no row points to. Here the half-written file
    is removed and the OSError raised again, for the service to refuse the step and roll
    back its rows (Load and fault tests).
    """

    def _save(self, name, content):
        path = self.path(name)
        existed = os.path.lexists(path)
        try:
            return super()._save(name, content)
        except FileExistsError:
            raise
        except OSError:
            if not existed:
                with contextlib.suppress(OSError):
                    os.remove(path)
            raise


def storage_failure_reason(exc):
    """A short reason, in the user's language, for an OSError while storing an upload."""
    from django.utils.translation import gettext as _

    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return _("the server's disk is full")
    return _("the server could not write the file")
