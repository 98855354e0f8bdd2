"""Uploaded files kept in the database, for app servers that share nothing but it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    """One file of `core.storage.DatabaseStorage`, under the name the storage gave it."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    content = models.BinaryField(_("content"))
    size = models.PositiveBigIntegerField(_("size"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self):
        return self.name
