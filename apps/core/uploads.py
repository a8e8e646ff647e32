"""Upload limits enforced while the body streams in, before Django has stored it whole.

Django's own handlers write an upload to memory or a temporary file in full, and only then does a view see
its size. `LimitedUploadHandler`, put in front of them, refuses a multipart body whose Content-Length is over
the limit before a byte of it is read, and stops reading as soon as one file passes its limit: the handlers
after it never hold more than that, and the rest of the body is not read at all (the connection is reset).

`CappedUploadHandler` (first in FILE_UPLOAD_HANDLERS) applies the platform's cap, DATA_UPLOAD_MAX_BYTES, to
every request. A view with a tighter limit (a task's submission size) inserts its own handler before anything
reads the body; see `limit_uploads`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from apps.core.files import human_size

FORM_OVERHEAD_BYTES = 64 * 1024
"""What a form adds to its files: the multipart headers and boundaries, and text fields (a method description
is at most 5,000 characters)."""


class UploadTooLarge(RequestDataTooBig):
    """An upload over its limit. A `RequestDataTooBig` (a `SuspiciousOperation`), so that where no view turns it
    into its own answer Django answers 400 and does not parse the body again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LimitedUploadHandler(FileUploadHandler):
    """Refuses a multipart body over `max_files` files of `max_file_bytes` (plus the form's overhead) by its
    Content-Length, before reading it; stops at the first chunk that takes one file past `max_file_bytes`.
    Either way the parse raises `UploadTooLarge` with a message for the person, once the handlers after this
    one have closed (and so deleted) what they had written. `received` counts the file bytes let through."""

    def __init__(
        self,
        request: HttpRequest | None = None,
        *,
        max_file_bytes: int,
        max_files: int = 1,
        what: str = "file",
        accepted_by: str = "this site",
    ) -> None:
        super().__init__(request)
        self.max_file_bytes = max_file_bytes
        self.max_body_bytes = max_files * max_file_bytes + FORM_OVERHEAD_BYTES
        self.what, self.accepted_by = what, accepted_by
        self.received = 0
        self.refusal = ""
        self._file_bytes = 0

    def _too_large(self) -> str:
        limit = human_size(self.max_file_bytes)
        return f"The {self.what} is larger than the {limit} {self.accepted_by} accepts; nothing was stored."

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's name for the argument
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.max_body_bytes:
            raise UploadTooLarge(
                f"The upload ({human_size(content_length)}) is larger than {self.accepted_by} accepts "
                f"({human_size(self.max_file_bytes)} per {self.what}); nothing was stored."
            )

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self._file_bytes = 0
        if content_length is not None and content_length > self.max_file_bytes:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._file_bytes += len(raw_data)
        if self._file_bytes > self.max_file_bytes:
            self._stop()
        self.received += len(raw_data)
        return raw_data

    def _stop(self) -> None:
        # The parser closes every handler's file, then calls `upload_complete`, which raises.
        self.refusal = self._too_large()
        raise StopUpload(connection_reset=True)

    def file_complete(self, file_size: int) -> None:
        return None  # the handlers after this one make the file

    def upload_complete(self) -> None:
        if self.refusal:
            raise UploadTooLarge(self.refusal)


class CappedUploadHandler(LimitedUploadHandler):
    """The platform's cap on any upload (DATA_UPLOAD_MAX_BYTES), for FILE_UPLOAD_HANDLERS."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        cap = settings.DATA_UPLOAD_MAX_BYTES
        super().__init__(request, max_file_bytes=cap, what="upload", accepted_by="this site")
        self.max_body_bytes = cap


def limit_uploads(
    request: HttpRequest, *, max_file_bytes: int, max_files: int, what: str, accepted_by: str
) -> LimitedUploadHandler:
    """Put a limit in front of the request's upload handlers. Call it before anything reads the body: a view
    that does must be `csrf_exempt` and run the CSRF check itself afterwards (`csrf_protect` on an inner
    function), since the check reads the body. Reading `request.POST` or `request.FILES` then raises
    `UploadTooLarge` when the upload is over the limit."""
    handler = LimitedUploadHandler(
        request, max_file_bytes=max_file_bytes, max_files=max_files, what=what, accepted_by=accepted_by
    )
    request.upload_handlers.insert(0, handler)
    return handler
