"""HTML helpers the templates' filters do not cover."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# What Django's `json_script` escapes, for the same reason: the text must not end the <script> element.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def embedded_json(element_id: str, document: bytes) -> SafeString:
    """An already encoded JSON document in a `<script type="application/json">` element, escaped exactly as the
    `json_script` filter escapes (which would decode and encode it again). `document` is UTF-8 JSON."""
    text = document.decode().translate(_SCRIPT_ESCAPES)
    return format_html('<script id="{}" type="application/json">{}</script>', element_id, mark_safe(text))  # noqa: S308 - escaped above, as json_script does
