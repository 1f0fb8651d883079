"""What a service refuses, as values a handler can put into words in the member's language."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every refusal; `code` picks the localized message, `params` fill it."""

    code = "error"

    def __init__(self, code: str | None = None, **params: object) -> None:
        self.code = code or self.code
        self.params = params
        super().__init__(f"{self.code} {params}" if params else self.code)


class PermissionDenied(ServiceError):
    code = "denied"


class NotFound(ServiceError):
    code = "not_found"


class InvalidInput(ServiceError):
    code = "invalid"


class InvalidState(ServiceError):
    code = "invalid_state"
