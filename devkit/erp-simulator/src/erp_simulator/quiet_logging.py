"""Keep deliberate connection resets out of uvicorn's error log."""

import logging

from erp_simulator.errors import SimulatedConnectionResetError

_UVICORN_ERRORS = "uvicorn.error"


class _DropSimulatedResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedConnectionResetError)


class SimulatedResetFilter:
    """Installed for the app's lifetime only; uvicorn logs a traceback for every reset otherwise."""

    def __init__(self) -> None:
        self._filter = _DropSimulatedResets()

    def install(self) -> None:
        logging.getLogger(_UVICORN_ERRORS).addFilter(self._filter)

    def remove(self) -> None:
        logging.getLogger(_UVICORN_ERRORS).removeFilter(self._filter)
