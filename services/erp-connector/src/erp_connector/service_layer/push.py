"""The push: drain erp_push_queue in batches with bounded concurrency, never inside a Kafka handler.

Create idempotently: look the customer up by our code in khid, then by exact name; only then
allocate an ord, and keep it, so every retry saves to that same ord (a save to an allocated ord
inserts, a second one updates): a lost reply or a timeout can never create a duplicate. Every save
is read back. An attempt is one ERP save (<= max_attempts); failed reads are retried without
spending one, up to max_read_failures; an open breaker spends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from common.backoff import retry_delay
from erp_connector.domain.errors import (
    AuthError,
    BusinessError,
    CircuitOpenError,
    ErpError,
    SessionExpiredError,
    TransientError,
    WriteNotPersistedError,
)
from erp_connector.domain.push import Origin, PushItem, PushRequest, Stage

if TYPE_CHECKING:
    from erp_connector.domain.rate_limit import RetryBudget
    from erp_connector.service_layer.control import ConnectorControl
    from erp_connector.service_layer.ports import (
        AbstractConnectorMetrics,
        AbstractErpClient,
        AbstractUnitOfWork,
        UnitOfWorkFactory,
    )
    from erp_connector.service_layer.push_outcomes import PushOutcomes

log = logging.getLogger(__name__)
BUDGET_PAUSE_S = 1.0


class LeaseLostError(Exception):
    """Our claim on a queued push expired or was taken by another worker: send nothing more for it."""


@dataclass(frozen=True, slots=True)
class PushPolicy:
    batch_size: int
    concurrency: int
    max_attempts: int
    max_read_failures: int
    retry_base_s: float
    retry_cap_s: float
    max_wait_in_run_s: float
    lease_s: float
    create_defaults: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class PushReport:
    synced: int = 0
    dead: int = 0
    retried: int = 0
    deferred: int = 0
    lease_lost: int = 0
    saves: int = 0
    error: str | None = None

    @property
    def result(self) -> str:
        if self.error and not self.synced:
            return "failed"
        if self.dead or self.error:
            return "partial" if self.synced else "failed"
        return "success"


async def enqueue(uow: AbstractUnitOfWork, requests: list[PushRequest]) -> int:
    """Called from the Kafka handler inside its inbox transaction: store, never call the ERP."""
    async with uow:
        stored = await uow.pushes.enqueue(requests)
        await uow.commit()
    return stored


class PushWorker:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        client: AbstractErpClient,
        control: ConnectorControl,
        metrics: AbstractConnectorMetrics,
        budget: RetryBudget,
        policy: PushPolicy,
        outcomes: PushOutcomes,
    ) -> None:
        self._uow, self._client, self._control, self._metrics = uow, client, control, metrics
        self._budget, self._policy, self._outcomes = budget, policy, outcomes
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> PushReport:
        """Drain what is due; wait for retries coming due within max_wait_in_run_s, then end."""
        started, report = time.monotonic(), PushReport()
        self._stop.clear()
        try:
            while self._control.running and not self._stop.is_set():
                items = await self._claim()
                if items:
                    await self._batch(items, report)
                elif not await self._wait_for_due():
                    break
        except ErpError as exc:
            report.error = f"{type(exc).__name__}: {exc.message}"
        if report.synced or report.dead or report.error:
            detail = {**asdict(report), "duration_s": round(time.monotonic() - started, 3)}
            async with self._uow() as uow:
                await uow.sync_logs.add("push", report.result, detail)
                await uow.commit()
        return report

    async def _claim(self) -> list[PushItem]:
        async with self._uow() as uow:
            items = await uow.pushes.claim(self._policy.batch_size, self._policy.lease_s)
            await uow.commit()
        return items

    async def _release(self, item: PushItem, delay_s: float, error: str | None) -> None:
        async with self._uow() as uow:
            await uow.pushes.release(item, delay_s, error)
            await uow.commit()

    async def _attempt(
        self, item: PushItem, stage: Stage, outcome: str, error: str | None, started: float
    ) -> None:
        duration_s = time.perf_counter() - started
        async with self._uow() as uow:
            await uow.pushes.add_attempt(item, stage.value, outcome, error, duration_s)
            await uow.commit()

    async def _wait_for_due(self) -> bool:
        async with self._uow() as uow:
            due_in = await uow.pushes.next_due_in()
        if due_in is None or due_in > self._policy.max_wait_in_run_s:
            return False
        try:
            async with asyncio.timeout(max(due_in, 0.05)):
                await self._stop.wait()
        except TimeoutError:
            return True
        return False

    async def _batch(self, items: list[PushItem], report: PushReport) -> None:
        gate = asyncio.Semaphore(self._policy.concurrency)

        async def one(item: PushItem) -> None:
            async with gate:
                await self._one(item, report)

        results = await asyncio.gather(*(one(i) for i in items), return_exceptions=True)
        auth = next((r for r in results if isinstance(r, AuthError)), None)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, AuthError):
                log.error(
                    "push worker: unexpected error", extra={"error_class": type(r).__name__, "error": str(r)}
                )
        if auth is not None:
            await self._control.stop_auth(auth.message)
            raise auth

    async def _one(self, item: PushItem, report: PushReport) -> None:
        if not self._control.running or self._stop.is_set():
            await self._release(item, 0.0, None)
            return
        if item.attempts or item.read_failures:
            if not self._budget.try_retry():  # over the retry budget: later, spending nothing
                report.deferred += 1
                await self._release(item, BUDGET_PAUSE_S, None)
                return
        else:
            self._budget.first_try()
        await self._apply_request_target(item)
        try:
            await self._advance(item, report)
        except LeaseLostError:
            report.lease_lost += 1  # the row is another worker's now (or will be, once reclaimed)
            log.warning(
                "push lease lost; left to the worker that holds it", extra={"customer_id": item.customer_id}
            )
        except asyncio.CancelledError:
            if item.stage is Stage.WRITE and item.attempts:
                item.stage = Stage.VERIFY  # the save may have been sent: read back before resending
            await asyncio.shield(self._release(item, 0.0, None))
            raise
        except AuthError:
            self._refund(item, report)
            await self._release(item, 0.0, None)
            raise
        except CircuitOpenError as exc:
            self._refund(item, report)
            await self._release(item, exc.retry_in, None)
        except BusinessError as exc:
            await self._dead(item, exc, report)
        except (TransientError, SessionExpiredError, WriteNotPersistedError) as exc:
            await self._retry_later(item, exc, report)
        except (
            Exception
        ) as exc:  # a bug or the database: log, free the item, spend nothing on the ERP's account
            log.exception("push failed unexpectedly", extra={"customer_id": item.customer_id})
            with contextlib.suppress(Exception):
                await self._release(item, self._policy.retry_base_s, f"{type(exc).__name__}: {exc}"[:1000])

    @staticmethod
    def _refund(item: PushItem, report: PushReport) -> None:
        """The save was counted before sending, but an open breaker or a stopped login sent nothing."""
        if item.stage is Stage.WRITE and item.attempts > 0:
            item.attempts -= 1
            report.saves -= 1

    async def _apply_request_target(self, item: PushItem) -> None:
        """An ord named by the command (rules linked the customer) overrides one we found."""
        named = item.request.erp_id
        if named is not None and named != item.erp_id:
            item.erp_id, item.origin, item.write_code = named, Origin.REQUEST, False
            item.stage = Stage.WRITE
            await self._hold(item)

    async def _hold(self, item: PushItem) -> None:
        """Persist progress and renew the lease; called before every ERP call, so a worker whose
        claim expired (and may already be someone else's) never talks to the ERP for it again."""
        async with self._uow() as uow:
            held = await uow.pushes.save_progress(item, self._policy.lease_s)
            await uow.commit()
        if not held:
            raise LeaseLostError(item.customer_id)

    async def _advance(self, item: PushItem, report: PushReport) -> None:
        while True:
            if item.stage is Stage.RESOLVE:
                await self._step(item, Stage.RESOLVE, self._resolve(item))
            elif item.stage is Stage.WRITE:
                if item.attempts >= self._policy.max_attempts:
                    raise BusinessError(f"gave up after {item.attempts} ERP saves; last: {item.last_error}")
                item.attempts += 1
                report.saves += 1
                await self._hold(item)  # counted before it is sent
                await self._step(item, Stage.WRITE, self._write(item))
            else:
                await self._step(item, Stage.VERIFY, self._verify(item))
                if not await self._outcomes.synced(item):
                    raise LeaseLostError(item.customer_id)
                report.synced += 1
                self._metrics.push_ended("synced")
                return

    async def _step(self, item: PushItem, stage: Stage, work: Awaitable[None]) -> None:
        started = time.perf_counter()
        try:
            await work
        except (CircuitOpenError, AuthError):
            raise  # nothing reached the ERP for this push
        except ErpError as exc:
            item.last_error = f"{type(exc).__name__}: {exc.message}"[:1000]
            await self._attempt(item, stage, type(exc).__name__, exc.message, started)
            if isinstance(exc, WriteNotPersistedError):
                item.stage = Stage.WRITE  # the save did not stick: the next try saves again
            elif stage is Stage.WRITE and isinstance(exc, TransientError | SessionExpiredError):
                # A save that may have landed is read back before it is ever sent again.
                maybe = not isinstance(exc, TransientError) or exc.maybe_applied
                item.stage = Stage.VERIFY if maybe else Stage.WRITE
            elif isinstance(exc, TransientError | SessionExpiredError):
                item.read_failures += 1
            raise
        await self._attempt(item, stage, "ok", None, started)
        await self._hold(item)

    async def _resolve(self, item: PushItem) -> None:
        item.erp_id, item.origin, item.write_code = await self._target(item)
        item.stage = Stage.WRITE

    async def _target(self, item: PushItem) -> tuple[int, Origin, bool]:
        """Ours by code, else a record with our exact name, else a new ord; the lease is renewed
        before each call (an item may wait its turn in a batch for a while after the claim)."""
        code = item.request.code.strip()
        await self._hold(item)
        if code and (found := await self._client.find_by_code(code)):
            return found.erp_id, Origin.CODE, True
        if item.name:
            if code:
                await self._hold(item)
            if found := await self._client.find_by_name(item.name):
                # Claim a record with no code of its own; never overwrite the ERP's own code.
                return found.erp_id, Origin.NAME, found.code is None
        intsort, _ = item.write_plan(self._policy.create_defaults)
        await self._hold(item)
        return await self._client.allocate_customer_id(intsort), Origin.ALLOCATED, True

    async def _write(self, item: PushItem) -> None:
        assert item.erp_id is not None
        intsort, fields = item.write_plan(self._policy.create_defaults)
        await self._client.save_customer(item.erp_id, fields, intsort)
        item.stage = Stage.VERIFY

    async def _verify(self, item: PushItem) -> None:
        assert item.erp_id is not None
        await self._hold(item)
        _, fields = item.write_plan(self._policy.create_defaults)
        await self._client.verify_customer(item.erp_id, fields)

    async def _retry_later(self, item: PushItem, exc: ErpError, report: PushReport) -> None:
        out_of_saves = item.stage is Stage.WRITE and item.attempts >= self._policy.max_attempts
        if out_of_saves or item.read_failures > self._policy.max_read_failures:
            await self._dead(item, exc, report)
            return
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        tries = max(item.attempts, item.read_failures, 1)
        delay = retry_delay(tries, self._policy.retry_base_s, self._policy.retry_cap_s, retry_after)
        report.retried += 1
        await self._release(item, delay, item.last_error)

    async def _dead(self, item: PushItem, exc: ErpError, report: PushReport) -> None:
        if not await self._outcomes.dead(item, exc):
            report.lease_lost += 1  # another worker holds it now; it decides how this push ends
            return
        report.dead += 1
        self._metrics.push_ended("dead")
