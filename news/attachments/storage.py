"""Where attachments live: a private storage (never under MEDIA_ROOT), whose `.url` is the
address of the view that applies the public rule (`news.attachments.views.serve`)."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty


def attachment_url(name: str) -> str:
    return reverse("attachment", kwargs={"name": name.replace("\\", "/")})


@deconstructible
class LocalAttachmentStorage(FileSystemStorage):
    """Files on the local disk at ATTACHMENTS_ROOT, which no web server serves directly."""

    def url(self, name):
        return attachment_url(name)

    def signed_url(self, name) -> str | None:
        return None  # the view streams the file itself


class AttachmentStorage(LazyObject):
    """STORAGES["attachments"], looked up when first used (as `default_storage` is)."""

    def _setup(self):
        self._wrapped = storages["attachments"]


attachments_storage = AttachmentStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    # As Django does for default_storage: a changed STORAGES (tests) is looked up afresh.
    if setting == "STORAGES":
        attachments_storage._wrapped = empty


def attachment_storage():
    """The storage of every attachment file (the fields' `storage` callable)."""
    return attachments_storage
