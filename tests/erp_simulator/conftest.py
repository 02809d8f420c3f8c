from collections.abc import AsyncIterator

import httpx
import pytest

from tests.erp_simulator.erp_calls import sim_client, token_for


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with sim_client() as sim:
        yield sim


@pytest.fixture
async def token(client: httpx.AsyncClient) -> str:
    return await token_for(client)
