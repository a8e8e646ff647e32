"""A renderer for the download endpoint, so that a client may ask for `application/octet-stream`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer


class OctetStreamRenderer(BaseRenderer):
    """The file itself is streamed around the renderers; only an error body (JSON) ever reaches this."""

    media_type = "application/octet-stream"
    format = "bin"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        return json.dumps(data).encode()
