"""Attachments on S3-compatible storage (`MEDIA_STORAGE=s3`): a module of its own, so that
boto3 is imported only where it is configured."""

from __future__ import annotations

from django.utils.deconstruct import deconstructible
from storages.backends.s3 import S3Storage

from news.attachments.storage import attachment_url


@deconstructible
class S3AttachmentStorage(S3Storage):
    """A private S3 prefix: the public address is the view; `signed_url` is a short-lived
    signed URL the view redirects the newsroom and preview links to."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        return attachment_url(name)

    def signed_url(self, name) -> str:
        return super().url(name)
