"""What a browser would execute in a page: the check behind "nothing executable is rendered".

`executable_parts(html, nonce)` lists every element or attribute that could run code or pull
in active content: a <script> or <style> that is neither same-origin nor carrying the
response's CSP nonce, an event-handler attribute, a javascript:/vbscript:/data: URL, an
iframe/object/embed/base, a meta refresh. An XSS payload that was escaped is text and not
listed; one that got through as markup is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
DANGEROUS_TAGS = {"iframe", "frame", "object", "embed", "base", "applet"}
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.\-]*)\s*:", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\u200b-\u200d\ufeff]+")


def _scheme(url: str) -> str:
    match = _SCHEME.match(_INVISIBLE.sub("", url))
    return match[1].lower() if match else ""


class _Finder(HTMLParser):
    def __init__(self, nonce: str | None):
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []
        self.inline_styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and _scheme(value) in {"javascript", "vbscript", "data"}:
                self.found.append(f"<{tag} {name}={value[:40]!r}>")
            if name == "style":
                self.inline_styles.append(f"<{tag} style={value[:40]!r}>")
        if tag in DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.found.append("<meta http-equiv=refresh>")
        if tag == "script":
            if (attributes.get("type") or "").lower() in DATA_SCRIPT_TYPES:
                return
            src = attributes.get("src")
            same_origin = src is not None and src.startswith("/") and not src.startswith("//")
            if not same_origin and not (self.nonce and attributes.get("nonce") == self.nonce):
                self.found.append(f"<script src={src!r} nonce={attributes.get('nonce')!r}>")
        if tag == "style" and not (self.nonce and attributes.get("nonce") == self.nonce):
            self.found.append(f"<style nonce={attributes.get('nonce')!r}>")

    handle_startendtag = handle_starttag


def executable_parts(html: str, nonce: str | None = None) -> list[str]:
    finder = _Finder(nonce)
    finder.feed(html)
    finder.close()
    return finder.found


def inline_style_attributes(html: str) -> list[str]:
    """style="..." attributes: a strict CSP (no 'unsafe-inline') silently drops them."""
    finder = _Finder(None)
    finder.feed(html)
    finder.close()
    return finder.inline_styles


def csp_nonce(response) -> str | None:
    """The nonce the response's Content-Security-Policy allows, if any."""
    match = re.search(r"'nonce-([^']+)'", response.headers.get("Content-Security-Policy", ""))
    return match[1] if match else None
