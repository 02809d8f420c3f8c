"""FastAPI dependencies: the state object and authenticated calls of both API styles."""

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from erp_simulator.request_bodies import AspCall, read_asp_call
from erp_simulator.sessions import Session
from erp_simulator.state import SimulatorState

V3_AUTH_HEADER = "ZBAPI-Token"


def get_state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.sim
    return state


State = Annotated[SimulatorState, Depends(get_state)]
AspBody = Annotated[AspCall, Depends(read_asp_call)]


def asp_session(call: AspBody, state: State) -> Session:
    return state.sessions.resolve(call.token)


def v3_session(request: Request, state: State) -> Session:
    return state.sessions.resolve(request.headers.get(V3_AUTH_HEADER))


AspSession = Annotated[Session, Depends(asp_session)]
V3Session = Annotated[Session, Depends(v3_session)]
