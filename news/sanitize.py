"""The one HTML policy for release bodies: what press officers may format, nothing executable."""

import re

import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "ul", "ol", "li", "a", "blockquote", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "caption", "figure", "figcaption", "code", "pre",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "lang"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "p": {"lang"},
    "blockquote": {"lang"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_TAGS = re.compile(r"<[^>]*>")


def sanitize_html(html: str) -> str:
    """Return the body with only the allowed formatting kept: no script, style, event handler,
    iframe, inline style or non-http(s)/mailto/tel URL survives. An empty body becomes ""."""
    if not html:
        return ""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
    text = _TAGS.sub("", cleaned).replace("&nbsp;", " ").replace("\xa0", " ")
    return cleaned if text.strip() else ""


# C0 and C1 control characters except tab, line feed and carriage return (and DEL).
_CONTROL_CHARACTERS = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)], None
)


def strip_control_characters(text: str) -> str:
    """The text without control characters (NUL, \\x01, ESC...): tabs and line ends stay.
    Every plain-text input (forms, importer, workflow comments) passes through it."""
    return text.translate(_CONTROL_CHARACTERS) if text else text
