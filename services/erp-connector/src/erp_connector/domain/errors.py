"""What can go wrong talking to the ERP, classified by what the caller must do about it."""

from __future__ import annotations


class ErpError(Exception):
    """Base class. `message` is the ERP's own text where it gave one (never a secret)."""

    def __init__(
        self, message: str, *, http_status: int | None = None, erp_status: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.erp_status = erp_status


class AuthError(ErpError):
    """The ERP rejected the credentials. Never retried: a retry walks into the captcha lockout."""


class CaptchaRequiredError(AuthError):
    """The ERP demands a captcha (too many failed logins). Stop and alert; a person must act."""


class SessionExpiredError(ErpError):
    """The session token is unknown or expired: log in again and retry once."""


class BusinessError(ErpError):
    """A business rule refused the request (required field, duplicate, no such record): no retry."""


class TransientError(ErpError):
    """Server fault, throttling, timeout, HTML or unreadable body: back off and retry.

    `maybe_applied` is False only when the request certainly did not take effect (throttled,
    never connected); a write that failed with maybe_applied=True must be read back before redoing it.
    `throttled` means the ERP asked us to slow down (HTTP 429/503, or "too frequent" in the envelope).
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        maybe_applied: bool = True,
        throttled: bool = False,
        http_status: int | None = None,
        erp_status: str | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status, erp_status=erp_status)
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied and not throttled
        self.throttled = throttled


class WriteNotPersistedError(ErpError):
    """A save answered success but reading the record back shows it was not (fully) stored."""

    def __init__(self, erp_id: int, fields: list[str]) -> None:
        what = ", ".join(fields) if fields else "the record"
        super().__init__(f"save of ord {erp_id} not persisted: {what}")
        self.erp_id = erp_id
        self.fields = fields


class CircuitOpenError(ErpError):
    """The circuit breaker refuses calls for now; nothing was sent and no attempt is spent."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"ERP circuit open; next probe in {retry_in:.1f}s")
        self.retry_in = retry_in
