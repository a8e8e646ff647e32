"""What can go wrong, and the exit code each failure gives (documented in `dataperf --help`)."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1  # the server failed (5xx), the network, or anything unexpected
EXIT_INVALID = 2  # bad usage or input: a 400, or a submission rejected by validation (as `python -m evaluators`)
EXIT_AUTH = 3  # not logged in, a bad or revoked token (401), or not allowed (403)
EXIT_NOT_FOUND = 4  # no such challenge, task, file or submission (404)
EXIT_QUOTA = 5  # a quota is used up, or too many requests (429)
EXIT_CHECKSUM = 6  # a downloaded file does not match its SHA-256
EXIT_FAILED = 7  # the evaluation failed or was cancelled (`--wait`)

EXIT_CODES_HELP = """exit codes:
  0  success
  1  server or network error
  2  invalid input (usage, a 400, a submission rejected by validation)
  3  authentication or permission (not logged in, bad or revoked token, not registered)
  4  not found
  5  quota used up or throttled (the message says when it resets)
  6  checksum mismatch in a download
  7  the evaluation failed or was cancelled (submit/status --wait)
  score: the exit codes of `python -m evaluators score` (0, 2 invalid submission, 3 task, 4 evaluator)"""

_BY_STATUS = {400: EXIT_INVALID, 401: EXIT_AUTH, 403: EXIT_AUTH, 404: EXIT_NOT_FOUND, 422: EXIT_INVALID}


class CliError(Exception):
    """A failure with a message for the person and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiError(CliError):
    """The API answered with an error status; `body` is its JSON error (`detail`, `code`, ...)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        self.code = str(body.get("code", ""))
        detail = str(body.get("detail") or f"the server answered HTTP {status}")
        super().__init__(_describe(status, self.code, detail, body), _exit_code(status))


def _exit_code(status: int) -> int:
    if status == 429:
        return EXIT_QUOTA
    return _BY_STATUS.get(status, EXIT_ERROR)


def _describe(status: int, code: str, detail: str, body: dict[str, Any]) -> str:
    if code == "quota_exceeded":
        resets = body.get("resets_at")
        return f"quota exceeded: {detail}" + (f" (resets at {resets})" if resets else "")
    if status == 429:
        return f"too many requests: {detail}"
    if status == 401:
        return f"authentication failed: {detail} Run `dataperf login` with a valid token."
    if status == 403:
        return f"not allowed: {detail}"
    if status == 404:
        return f"not found: {detail}"
    if status >= 500:
        return f"server error (HTTP {status}): {detail}"
    return detail
