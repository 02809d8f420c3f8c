"""Logging per seed 000's `logging` block: level, file, rotation at maxFileSize."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from rollsync_agent.config import Logging

_LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "information": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "fatal": "CRITICAL",
    "critical": "CRITICAL",
}
BACKUPS = 5


def setup_logging(cfg: Logging, path_for_file: str) -> None:
    handler = RotatingFileHandler(
        path_for_file, maxBytes=cfg.max_bytes, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("rollsync_agent")
    root.handlers[:] = [handler, logging.StreamHandler()]
    root.setLevel(_LEVELS.get(cfg.level.lower(), "INFO"))
