"""Run state shared by the scheduler, the workers and the HTTP routes, persisted in erp_connector_state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from erp_connector.domain.control import ControlState, RunState

if TYPE_CHECKING:
    from erp_connector.service_layer.ports import (
        AbstractConnectorMetrics,
        AbstractErpClient,
        UnitOfWorkFactory,
    )

log = logging.getLogger(__name__)


class ConnectorControl:
    """`fingerprint()` makes a fresh fingerprint of the current credentials; `same_credentials(fp)`
    tells whether a stored one was made from them (so a credentials stop survives restarts)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        client: AbstractErpClient,
        metrics: AbstractConnectorMetrics,
        fingerprint: Callable[[], str],
        same_credentials: Callable[[str | None], bool],
    ) -> None:
        self._uow, self._client, self._metrics = uow, client, metrics
        self._fingerprint, self._same = fingerprint, same_credentials
        self.current = ControlState()
        self._stored_fp: str | None = None

    @property
    def state(self) -> RunState:
        return self.current.state

    @property
    def running(self) -> bool:
        return self.state is RunState.RUNNING

    async def load(self) -> None:
        async with self._uow() as uow:
            stored, self._stored_fp = await uow.control.load()
            if stored.stopped_auth and not self._same(self._stored_fp):
                log.warning("ERP credentials changed since the connector stopped on them; running again")
                stored = stored.credentials_changed()
                await uow.control.save(stored, None)
                await uow.commit()
        if stored.stopped_auth:
            log.error(
                "ERP connector stays stopped: %s (fix the credentials or POST /sync/erp/resume)",
                stored.reason,
            )
        self._set(stored)

    async def pause(self) -> None:
        await self._save(self.current.pause("paused by operator"))

    async def resume(self) -> None:
        self._client.reset_auth()
        await self._save(self.current.resume())

    async def stop_auth(self, reason: str) -> None:
        if self.current.stopped_auth:
            return
        log.error("ERP rejected the credentials: %s. Stopped; fix them or POST /sync/erp/resume", reason)
        self._stored_fp = self._fingerprint()
        await self._save(self.current.stop_auth(reason))

    async def _save(self, state: ControlState) -> None:
        fingerprint = self._stored_fp if state.stopped_auth else None
        async with self._uow() as uow:
            await uow.control.save(state, fingerprint)
            await uow.commit()
        self._set(state)

    def _set(self, state: ControlState) -> None:
        self.current = state
        self._metrics.set_state(state.state.value)
