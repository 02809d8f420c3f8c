"""Test-control endpoints under ``/_sim/``; never part of the emulated ERP API."""

from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.requests import Request

from erp_simulator.contracts import ContractRecord
from erp_simulator.customers import CustomerRecord
from erp_simulator.dependencies import State
from erp_simulator.envelopes import Json, JsonResponse
from erp_simulator.errors import BadRequestError
from erp_simulator.request_bodies import read_json_object
from erp_simulator.state import default_seed_spec


class ResetRequest(BaseModel):
    seed: int | None = None
    customers: int | None = Field(default=None, ge=0)
    contracts: int | None = Field(default=None, ge=0)
    enum_shuffle: bool | None = None


class UserRequest(BaseModel):
    user: str | None = None


class BulkInsertRequest(BaseModel):
    count: int = Field(ge=1, le=1_000_000)


def build_control_router() -> APIRouter:
    router = APIRouter(prefix="/_sim")

    @router.get("/state")
    async def read_state(state: State) -> JsonResponse:
        return JsonResponse(
            {
                **state.counters.snapshot(),
                "stored_customers": len(state.customers),
                "stored_contracts": len(state.contracts),
                "active_sessions": state.sessions.active(),
                "login_failures": state.login_gate.failures(),
                "seed": vars(state.seed_spec),
                "faults": state.faults.model_dump(),
            }
        )

    @router.get("/faults")
    async def read_faults(state: State) -> JsonResponse:
        return JsonResponse(state.faults.model_dump())

    @router.post("/faults")
    async def set_faults(request: Request, state: State) -> JsonResponse:
        patch = await _control_body(request)
        state.faults = state.faults.patched(patch)
        return JsonResponse(state.faults.model_dump())

    @router.post("/reset")
    async def reset(request: Request, state: State) -> JsonResponse:
        # Back to the configured seed; the body may pick another one for this run.
        wanted = ResetRequest.model_validate(await _control_body(request)).model_dump()
        state.reset(default_seed_spec(state.settings, **wanted))
        return JsonResponse({"seed": vars(state.seed_spec), "stored_customers": len(state.customers)})

    @router.post("/unlock")
    async def unlock(request: Request, state: State) -> JsonResponse:
        user = UserRequest.model_validate(await _control_body(request)).user
        state.login_gate.unlock(user)
        return JsonResponse({"login_failures": state.login_gate.failures()})

    @router.post("/expire-sessions")
    async def expire_sessions(request: Request, state: State) -> JsonResponse:
        user = UserRequest.model_validate(await _control_body(request)).user
        return JsonResponse({"expired": state.sessions.expire(user)})

    @router.get("/customers")
    async def customers(state: State) -> JsonResponse:
        rows = [_customer_truth(record) for record in sorted(state.customers, key=_by_ord)]
        return JsonResponse({"count": len(rows), "customers": rows})

    @router.post("/customers")
    async def bulk_insert(request: Request, state: State) -> JsonResponse:
        body = BulkInsertRequest.model_validate(await _control_body(request))
        ords = state.add_generated_customers(body.count)
        return JsonResponse(
            {
                "inserted": len(ords),
                "first_ord": ords[0],
                "last_ord": ords[-1],
                "stored_customers": len(state.customers),
            }
        )

    @router.get("/contracts")
    async def contracts(state: State) -> JsonResponse:
        rows = [_contract_truth(record) for record in sorted(state.contracts, key=_by_ord)]
        return JsonResponse({"count": len(rows), "contracts": rows})

    return router


async def _control_body(request: Request) -> dict[str, Any]:
    """JSON whatever the content type, so a bare `curl -d '{...}'` works."""
    try:
        return await read_json_object(request)
    except BadRequestError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ["body"], "msg": exc.message}]) from exc


def _by_ord(record: CustomerRecord | ContractRecord) -> int:
    return record.ord


def _customer_truth(record: CustomerRecord) -> Json:
    return {
        "ord": record.ord,
        "intsort": record.intsort,
        "khid": record.get("khid"),
        "name": record.get("name"),
        "mobile": record.get("mobile"),
        "save_count": record.save_count,
        "added_at": f"{record.added_at:%Y-%m-%d %H:%M:%S}",
        # Exposed here only, never through the emulated API.
        "modified_at": f"{record.modified_at:%Y-%m-%d %H:%M:%S}",
        "fields": dict(record.fields),
    }


def _contract_truth(record: ContractRecord) -> Json:
    return {
        "ord": record.ord,
        "htid": record.get("htid"),
        "company": record.get("company"),
        "save_count": record.save_count,
        "added_at": f"{record.added_at:%Y-%m-%d %H:%M:%S}",
        "fields": dict(record.fields),
        "lines": len(record.lines),
    }
