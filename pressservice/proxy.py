"""What the reverse proxy tells the app about the client."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: with `TRUSTED_PROXY_COUNT` proxies in front (each appending the
    address it saw to X-Forwarded-For), the entry the outermost trusted proxy added; entries
    before it were written by the client and are ignored. Without proxies, REMOTE_ADDR.

    Login throttling counts failures per address, so behind nginx this must not be nginx's
    own address (that would lock everybody out at once) nor anything a client can forge."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
