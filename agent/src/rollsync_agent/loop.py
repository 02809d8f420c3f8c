"""`rollsync-agent run`: every interval (or when 立即同步 is pressed) upload, download, and reconcile daily."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from rollsync_agent import capture, employees, feed, queue, reconcile
from rollsync_agent.cloud import AuthFailedError, CloudClient, CloudError, CloudRefusedError
from rollsync_agent.config import AgentConfig
from rollsync_agent.factory_db import LineTable, SchemaProblemError, load_table, open_engine
from rollsync_agent.state import StateStore, load_snapshot, now_iso

log = logging.getLogger("rollsync_agent.loop")


class Agent:
    def __init__(
        self, config: AgentConfig, client: CloudClient | None = None, engine: Engine | None = None
    ) -> None:
        self.config = config
        self.client = client or CloudClient(config.cloud_api)
        self.engine = engine or open_engine(config)
        self.state = StateStore(config.state_path)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lines: LineTable | None = None

    def request_sync(self) -> None:
        """Thread-safe: the status page's 立即同步 button."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def cycle(self) -> bool:
        """One round; True when everything went through. Failures are recorded for the page, never raised."""
        self.state.put(state="syncing", message="同步中 / syncing")
        try:
            self._round()
        except AuthFailedError as exc:
            return self._failed(str(exc), auth=True, state="disconnected")
        except CloudRefusedError as exc:
            return self._failed(f"the cloud refused a request: {exc}")
        except CloudError as exc:
            return self._failed(str(exc), state="disconnected")
        except (SchemaProblemError, SQLAlchemyError) as exc:
            return self._failed(f"factory database: {exc}".splitlines()[0])
        rejected = len(self.state.rejected_hashes())
        message = f"同步成功 / ok; {rejected} line(s) refused by the cloud" if rejected else "同步成功 / ok"
        self.state.put(state="ok", message=message, auth_failed=False)
        return True

    def _failed(self, message: str, *, auth: bool = False, state: str = "failed") -> bool:
        log.error("sync round failed: %s", message)
        self.state.error(message)
        self.state.put(state=state, message=message, auth_failed=auth)
        return False

    def _round(self) -> None:
        lines = self._lines = self._lines or load_table(self.engine, self.config)
        sync = self.config.sync
        if sync.capture_mode == "queue":
            q = queue.load_queue(self.engine, self.config.database.queue_table_name)
            out = queue.drain(
                self.engine, lines, q, self.state, self.client, sync.batch_size, sync.retry_count
            )
        else:
            out = capture.scan_and_upload(self.engine, lines, self.state, self.client, sync.batch_size)
        self.state.put(last_upload_at=now_iso(), last_upload_count=out.sent)
        feed.poll(self.engine, lines, self.state, self.client, self.config.database.process_columns)
        if self.config.database.employee_table is not None:
            employees.upload_employees(
                self.engine, self.config.database.employee_table, self.state, self.client, sync.batch_size
            )
        if self._reconcile_due():
            self._reconcile(lines)
        if out.refused:
            raise CloudRefusedError("; ".join(out.refused))

    def _reconcile(self, lines: LineTable) -> None:
        """A cloud without the endpoint (or refusing the digest) must not stop the sync itself."""
        try:
            reconcile.reconcile(self.engine, lines, self.state, self.client)
        except CloudRefusedError as exc:
            self.state.error(f"reconciliation: {exc}")
            self.state.put(last_reconcile_at=now_iso())

    def _reconcile_due(self) -> bool:
        last = self.state.meta_json("last_reconcile_at")
        if last is None:
            return True
        age_h = (datetime.now(UTC) - datetime.fromisoformat(last)).total_seconds() / 3600
        return age_h >= self.config.sync.reconcile_hours

    def run(self, cycles: int | None = None) -> None:
        """Until stop(); with enableAutoSync false, only 立即同步 starts a round."""
        done = 0
        while not self._stop.is_set() and (cycles is None or done < cycles):
            if self.config.sync.enable_auto_sync or self._wake.is_set():
                self._wake.clear()
                self.cycle()
                done += 1
            self._wake.wait(self.config.sync.interval_s)

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()
        self.state.close()


def start_status_page(agent: Agent) -> Any:
    """agentui's page, when it is installed; the loop runs without it."""
    cfg = agent.config.status_page
    if not cfg.enabled:
        return None
    try:
        status_page = importlib.import_module("rollsync_agent.status_page")
    except ImportError:
        log.warning("status page module not available; running without it")
        return None
    path = agent.config.state_path

    def snapshot() -> Any:
        return load_snapshot(path)

    return status_page.serve(snapshot=snapshot, request_sync=agent.request_sync, host=cfg.host, port=cfg.port)


def run_forever(config: AgentConfig) -> None:
    agent = Agent(config)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())  # systemd stop / service manager
    page = start_status_page(agent)
    try:
        agent.run()
    finally:
        if page is not None:
            page.stop()
        agent.close()
