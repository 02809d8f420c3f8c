"""A status page under test control: the snapshot it shows and the sync requests it received."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from rollsync_agent.status_model import ErrorEntry, RejectedRow, StatusSnapshot

AT = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)

# Rejection reasons come from the cloud and contract numbers from the factory DB: the page must show them
# as text. Each would create an element or run script if it reached the page unescaped.
HOSTILE_CONTRACT = "</td><script>window.pwned = 'contract'</script>"
HOSTILE_REASON = "<img src=x onerror=\"window.pwned = 'reason'\">"
HOSTILE_MESSAGE = '"><b id="injected">bold</b> & <!--'


def busy_snapshot(state: str = "ok", **changes: object) -> StatusSnapshot:
    """A snapshot with every section filled, two rejected rows (one hostile) and one error."""
    snap = StatusSnapshot(
        state="ok",
        message="上次同步 OK",
        last_upload_at=AT,
        last_upload_count=120,
        last_download_at=AT + timedelta(minutes=1),
        last_download_count=7,
        pending_local_changes=3,
        rejected=[
            RejectedRow(
                contract_no=HOSTILE_CONTRACT,
                product_id="P-1",
                reason=HOSTILE_REASON,
                message=HOSTILE_MESSAGE,
                at=AT,
            ),
            RejectedRow(
                contract_no="HT-2026-002",
                product_id="P-2",
                reason="invalid_date",
                message="交货日期 2026-13-01 不是日期",
                at=AT,
            ),
        ],
        recent_errors=[ErrorEntry(at=AT, message="连接云端超时 <timeout>")],
    )
    return snap.model_copy(update={"state": state, **changes})


class Controlled:
    """`snapshot` and `request_sync` for `serve`, changed and counted by the test."""

    def __init__(self, snap: StatusSnapshot) -> None:
        self.snap = snap
        self.sync_requests = 0
        self._lock = threading.Lock()

    def snapshot(self) -> StatusSnapshot:
        return self.snap

    def request_sync(self) -> None:
        with self._lock:
            self.sync_requests += 1
