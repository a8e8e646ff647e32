"""Domain errors raised by services and selectors; interfaces translate them (404, 403, form errors)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken. The message is written for the person who acted."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class NotFound(DomainError):
    """The object does not exist or is not visible to this user (the two are indistinguishable on purpose)."""


class Forbidden(DomainError):
    """The object is visible but this action is not allowed for this user."""


class InvalidInput(DomainError):
    """The input breaks a rule; the message says which."""
