"""Composition root: ``create_app`` wires settings, state, middleware and routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import ValidationError

from erp_simulator.errors import SimulatorError
from erp_simulator.exception_handlers import control_validation_response, simulator_error_response
from erp_simulator.fault_middleware import FaultMiddleware
from erp_simulator.quiet_logging import SimulatedResetFilter
from erp_simulator.routes_contracts import build_contract_router
from erp_simulator.routes_control import build_control_router
from erp_simulator.routes_customers import build_customer_router
from erp_simulator.routes_enums import build_enum_router
from erp_simulator.routes_fallback import build_fallback_router
from erp_simulator.routes_login import build_login_router
from erp_simulator.routes_v3 import build_v3_router
from erp_simulator.settings import SimulatorSettings
from erp_simulator.state import SimulatorState


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()
    reset_filter = SimulatedResetFilter()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        reset_filter.install()
        yield
        reset_filter.remove()

    app = FastAPI(
        title="智邦 ERP simulator",
        # The real ERP serves no OpenAPI pages; those paths fall through to the portal page.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.sim = SimulatorState(settings)
    app.add_exception_handler(SimulatorError, simulator_error_response)
    app.add_exception_handler(ValidationError, control_validation_response)
    app.add_middleware(FaultMiddleware, state=app.state.sim)
    routers = (
        build_control_router(),
        build_login_router(),
        build_customer_router(),
        build_contract_router(),
        build_enum_router(),
        build_v3_router(),
        build_fallback_router(),  # last: it matches every path
    )
    for router in routers:
        app.include_router(router)
    return app
