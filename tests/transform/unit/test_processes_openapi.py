"""transform's OpenAPI document describes the process catalogue's routes, their bodies and error answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from transform.entrypoints.http import router
from transform.entrypoints.processes_http import router as processes_router


def _spec() -> dict[str, Any]:
    """The routes' part of the document, as create_app includes them (no settings or token keys needed)."""
    app = FastAPI()
    app.include_router(router)
    app.include_router(processes_router)
    return app.openapi()


def test_every_catalogue_route_is_documented_with_its_body_and_errors() -> None:
    paths = _spec()["paths"]
    assert set(paths["/processes"]) == {"get", "post"}
    writes = {
        ("/processes", "post"): "name",
        ("/processes/{name}/rename", "post"): "name",
        ("/processes/{name}/aliases", "put"): "aliases",
        ("/process-routes/{product_type}", "put"): "steps",
        ("/process-routes/{product_type}/weights", "put"): "weights",
    }
    for (path, method), field in writes.items():
        op = paths[path][method]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema["required"] == [field], path
        assert "422" in op["responses"], path
        assert op["responses"]["422"]["content"]["application/json"]["schema"]["required"] == [
            "code",
            "message",
            "request_id",
        ]
    assert "409" in paths["/processes/{name}/retire"]["post"]["responses"]


def test_the_contract_list_documents_the_my_queue_filter() -> None:
    params = {p["name"]: p for p in _spec()["paths"]["/contracts"]["get"]["parameters"]}
    assert "my queue" in params["employee"]["description"]
