"""Logs rotate at seed 000's maxFileSize."""

from __future__ import annotations

import logging
from pathlib import Path

from rollsync_agent.config import Logging
from rollsync_agent.logs import setup_logging


def test_the_log_rotates_at_max_file_size(tmp_path: Path) -> None:
    path = tmp_path / "sync.log"
    setup_logging(Logging(level="Info", file_path=str(path), max_file_size="1KB"), str(path))
    log = logging.getLogger("rollsync_agent.test")
    log.debug("not at Info level")
    for i in range(40):
        log.info("round %d uploaded 50 lines", i)
    for h in logging.getLogger("rollsync_agent").handlers:
        h.flush()
    assert path.stat().st_size <= 1024
    assert (tmp_path / "sync.log.1").exists()
    assert "not at Info level" not in path.read_text() + (tmp_path / "sync.log.1").read_text()
    logging.getLogger("rollsync_agent").handlers.clear()
