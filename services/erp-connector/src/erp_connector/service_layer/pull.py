"""The pull: a full paged scan (智邦 has no modified-since filter), a content hash per customer,
and an `erp.customer-pulled.v1` event only for new or changed ones, in the hash update's transaction."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from common import topics
from common.backoff import retry_delay
from common.events.customers import ErpCustomerPulled
from common.events.envelope import Envelope
from erp_connector.domain.errors import (
    AuthError,
    CircuitOpenError,
    ErpError,
    SessionExpiredError,
    TransientError,
)
from erp_connector.domain.hashes import HashWrite, next_version

if TYPE_CHECKING:
    from erp_connector.domain.customer import ErpCustomer
    from erp_connector.domain.pages import CustomerPage
    from erp_connector.service_layer.control import ConnectorControl
    from erp_connector.service_layer.ports import (
        AbstractConnectorMetrics,
        AbstractErpClient,
        PullLock,
        UnitOfWorkFactory,
    )

SOURCE = "erp-connector"
EVENT_NAMESPACE = uuid.UUID("6f1c54a2-6f0e-4f57-9a53-2d7f0b6c0e41")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PullPolicy:
    page_size: int
    page_pause_s: float
    max_page_attempts: int
    max_outage_s: float
    not_visible_after_scans: int
    retry_base_s: float = 1.0
    retry_cap_s: float = 30.0


@dataclass(slots=True)
class PullReport:
    scan: int = 0
    pages: int = 0
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    not_visible: int = 0
    page_retries: int = 0
    complete: bool = False
    error: str | None = None
    skipped: bool = False

    @property
    def result(self) -> str:
        if self.skipped:
            return "skipped"
        if self.complete:
            return "success"
        return "partial" if self.seen else "failed"


class PullAbortedError(Exception):
    """The run stopped early (paused, or the ERP could not be read); what was applied stays."""


class PullService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        lock: PullLock,
        client: AbstractErpClient,
        control: ConnectorControl,
        metrics: AbstractConnectorMetrics,
        policy: PullPolicy,
    ) -> None:
        self._uow, self._lock, self._client = uow, lock, client
        self._control, self._metrics, self._policy = control, metrics, policy

    async def run(self) -> PullReport:
        """One full scan; skipped (and not logged) while another replica holds the pull lock."""
        async with self._lock() as held:
            if not held:
                log.info("pull skipped: another connector replica is pulling", extra={"job": "pull"})
                return PullReport(error="another pull is running", skipped=True)
            return await self._run()

    async def _run(self) -> PullReport:
        async with self._uow() as uow:
            scan = await uow.hashes.next_scan_id()
        started, report = time.monotonic(), PullReport(scan=scan)
        try:
            await self._scan(report)
            report.not_visible = await self._mark_unseen(report.scan)
        except AuthError as exc:
            report.error = f"{type(exc).__name__}: {exc.message}"
            await self._control.stop_auth(exc.message)
        except (PullAbortedError, ErpError) as exc:
            report.error = f"{type(exc).__name__}: {exc}"
        if report.result != "success":
            self._metrics.pull_failed()
            extra = {"job": "pull", "scan": report.scan, "result": report.result, "error": report.error}
            log.warning("pull ended early", extra=extra)
        detail = {**asdict(report), "duration_s": round(time.monotonic() - started, 3)}
        async with self._uow() as uow:
            await uow.sync_logs.add("pull", report.result, detail)
            await uow.commit()
        return report

    async def _mark_unseen(self, scan: int) -> int:
        async with self._uow() as uow:
            flagged = await uow.hashes.mark_unseen(scan, self._policy.not_visible_after_scans)
            await uow.commit()
        return flagged

    async def _scan(self, report: PullReport) -> None:
        index = 1
        while True:
            page = await self._page(index, report)
            report.pages += 1
            if page.customers:
                await self._apply(page.customers, report)
            if page.is_last:
                report.complete = True
                return
            index += 1
            if self._policy.page_pause_s:
                await asyncio.sleep(self._policy.page_pause_s)

    async def _page(self, index: int, report: PullReport) -> CustomerPage:
        """One page, retried in place: the scan continues from the same page after any failure
        (an expired session is renewed by the client first)."""
        failures, outage_started = 0, None
        while True:
            if not self._control.running:
                raise PullAbortedError(f"connector {self._control.state.value} at page {index}")
            try:
                return await self._client.list_customers(index, self._policy.page_size)
            except CircuitOpenError as exc:
                outage_started = outage_started or time.monotonic()
                if time.monotonic() - outage_started > self._policy.max_outage_s:
                    raise
                await asyncio.sleep(exc.retry_in)
            except (TransientError, SessionExpiredError) as exc:
                failures += 1
                report.page_retries += 1
                if failures >= self._policy.max_page_attempts:
                    raise
                retry_after = exc.retry_after if isinstance(exc, TransientError) else None
                p = self._policy
                await asyncio.sleep(retry_delay(failures, p.retry_base_s, p.retry_cap_s, retry_after))

    async def _apply(self, customers: list[ErpCustomer], report: PullReport) -> None:
        pulled_at = datetime.now(UTC)
        unique = {c.erp_id: c for c in customers}  # an ord shifted across pages may repeat
        async with self._uow() as uow:
            stored = await uow.hashes.stored(list(unique))
            writes: list[HashWrite] = []
            unchanged: list[int] = []
            for erp_id, customer in unique.items():
                if write := next_version(stored.get(erp_id), customer):
                    writes.append(write)
                else:
                    unchanged.append(erp_id)
            await uow.hashes.upsert(writes, report.scan)
            await uow.hashes.touch_seen(unchanged, report.scan)
            for w in writes:
                uow.outbox.add(
                    topics.ERP_CUSTOMER_PULLED, str(w.customer.erp_id), _event(w, pulled_at, report.scan)
                )
            await uow.commit()
        new = sum(1 for w in writes if w.is_new)
        report.seen += len(unique)
        report.new += new
        report.changed += len(writes) - new
        report.unchanged += len(unchanged)
        self._metrics.customers_pulled(new, len(writes) - new, len(unchanged))


def _event(write: HashWrite, pulled_at: datetime, scan: int) -> Envelope[ErpCustomerPulled]:
    c = write.customer
    payload = ErpCustomerPulled(
        erp_id=c.erp_id, code=c.code, content_hash=c.content_hash, pulled_at=pulled_at, fields=c.fields()
    )
    # Derived from source identity and version: the same change never gets two ids.
    event_id = uuid.uuid5(EVENT_NAMESPACE, f"erp-customer:{c.erp_id}:{write.version}:{c.content_hash}")
    return Envelope[ErpCustomerPulled](
        event_id=event_id,
        event_type="ErpCustomerPulled",
        source=SOURCE,
        correlation_id=f"erp-pull-{scan}",
        payload=payload,
    )
