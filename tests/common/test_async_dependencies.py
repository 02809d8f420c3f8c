"""Every route dependency of every service is a coroutine function.

FastAPI runs a plain `def` dependency in the thread pool: a thread hop per dependency per request, for what is
an attribute read. Measured on the progress-report path (G7), those hops were a visible share of a request's
CPU. This reads each service's real routes, so a new sync dependency fails here rather than in a benchmark.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

ROUTERS = (
    "ingest.entrypoints.http",
    "transform.entrypoints.http",
    "transform.entrypoints.reconcile_http",
    "transform.entrypoints.processes_http",
    "rules.entrypoints.http",
    "erp_connector.entrypoints.http",
)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _is_coroutine(call: Any) -> bool:
    method = type(call).__call__ if not inspect.isfunction(call) else None  # a callable instance: BearerAuth
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(method)


def sync_dependencies(routes: list[Any]) -> list[str]:
    found = []
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        for call in [route.endpoint, *_calls(route.dependant)]:
            if not _is_coroutine(call):
                found.append(
                    f"{sorted(route.methods or ())} {route.path}: {getattr(call, '__qualname__', call)}"
                )
    return found


@pytest.mark.parametrize("module", ROUTERS)
def test_no_route_of_the_service_runs_a_dependency_in_the_thread_pool(module: str) -> None:
    routes = importlib.import_module(module).router.routes
    assert [route for route in routes if isinstance(route, APIRoute)], "no routes read: the test sees nothing"
    assert sync_dependencies(routes) == []


def _plain() -> int:
    return 1


def test_a_plain_def_dependency_is_caught() -> None:
    app = FastAPI()

    @app.get("/x")
    async def route(value: Annotated[int, Depends(_plain)]) -> int:
        return value

    assert sync_dependencies(app.routes) == ["['GET'] /x: _plain"]
