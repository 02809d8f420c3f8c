"""`python -m alert_relay`: read the settings (refusing placeholders outside dev), then serve."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from alert_relay.config import Settings
from alert_relay.main import create_app
from common.logs import configure_logging

log = logging.getLogger("rollsync.startup")


def main() -> None:
    configure_logging("alert-relay")
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        log.error("alert-relay: invalid configuration (ALERT_RELAY_*): %s", problems)
        sys.exit(1)
    configure_logging("alert-relay", settings.log_level)
    app = create_app(settings)
    robots = [name for name in ("wecom", "dingtalk") if getattr(settings, f"{name}_url") is not None]
    log.info(
        "alert-relay: starting on http://%s:%s, robots: %s", settings.host, settings.port, ", ".join(robots)
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
