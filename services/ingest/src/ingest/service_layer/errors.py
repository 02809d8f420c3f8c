"""Failures the entrypoints translate into HTTP answers (status + stable code)."""

from __future__ import annotations


class IngestError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class IdempotencyKeyReusedError(IngestError):
    status, code = 422, "idempotency_key_reused"


class ContractNotFoundError(IngestError):
    status, code = 404, "contract_not_found"


class UnknownProcessError(IngestError):
    status, code = 422, "unknown_process"


class ProgressConflictError(IngestError):
    status, code = 409, "version_conflict"


class BusyError(IngestError):
    status, code = 503, "busy"


class DeadlockError(Exception):
    """The database aborted the unit of work to break a lock cycle; nothing of it was written."""


class DailyRowLimitError(IngestError):
    """The client's rows for today (China day) would pass its `rows_per_day`; nothing was written."""

    status, code = 429, "daily_row_limit"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
