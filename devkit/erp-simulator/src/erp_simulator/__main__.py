"""``python -m erp_simulator``: serve the simulator with uvicorn in factory mode."""

import uvicorn

from erp_simulator.settings import SimulatorSettings

# Seconds to wait for hanging requests (timeout faults) before a stop cancels them.
_SHUTDOWN_GRACE_SECONDS = 2


def main() -> None:
    settings = SimulatorSettings()
    uvicorn.run(
        "erp_simulator.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )


if __name__ == "__main__":
    main()
