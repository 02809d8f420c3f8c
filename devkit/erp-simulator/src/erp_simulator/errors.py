"""Exceptions that routes raise and that exception handlers or the fault middleware translate."""

from enum import IntEnum


class AspStatus(IntEnum):
    """Non-zero ``header.status`` values. The real codes are unpublished; these are ours."""

    OK = 0
    BAD_CREDENTIALS = 1
    CAPTCHA_REQUIRED = 2
    UNDECRYPTABLE = 3
    BAD_SERIALNUM = 4
    SESSION_INVALID = 5
    BUSINESS = 6
    RATE_LIMITED = 7
    BAD_REQUEST = 8


class SimulatorError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BusinessError(SimulatorError):
    """A rule rejected the request: ASP status BUSINESS, V3 Code 300."""


class BadRequestError(SimulatorError):
    """The body could not be read: ASP status BAD_REQUEST, V3 Code 300."""


class SessionInvalidError(SimulatorError):
    """Unknown or expired token: ASP status SESSION_INVALID, V3 Code 400."""


class LoginError(SimulatorError):
    def __init__(self, status: AspStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class LostReplyError(Exception):
    """Raised after a save was applied, so the fault middleware can lose the reply."""


class SimulatedConnectionResetError(ConnectionResetError):
    """Raised after the response has started, which makes uvicorn close the socket."""
