"""The configuration cache and the locks-first ordering on fakes."""

from __future__ import annotations

import pytest

from tests.transform.fakes import FakeLocks, FakeTransformUnitOfWork
from transform.service_layer.configuration import ConfigurationCache
from transform.service_layer.ordering import lock_before_first_write


async def test_a_batch_reloads_the_configuration_when_the_catalogues_revision_moved() -> None:
    uow = FakeTransformUnitOfWork()
    cache = ConfigurationCache(uow.start, max_age_s=3600)
    first = await cache.get(uow)
    assert await cache.get(uow) is first
    assert uow.configuration.loads == 1

    uow.configuration.current_revision += 1  # a /processes change committed in another process
    assert await cache.get(uow) is not first
    assert uow.configuration.loads == 2


async def test_without_a_unit_of_work_the_cache_loads_on_one_of_its_own_once() -> None:
    uow = FakeTransformUnitOfWork()
    cache = ConfigurationCache(uow.start, max_age_s=3600)
    await cache.get()
    await cache.get()
    assert (uow.begun, uow.configuration.loads) == (1, 1)
    cache.invalidate()
    await cache.get()
    assert uow.configuration.loads == 2


async def test_seeding_the_defaults_commits() -> None:
    uow = FakeTransformUnitOfWork()
    await ConfigurationCache(uow.start, 30).seed_defaults()
    assert (uow.configuration.seeded, uow.committed) == (1, 1)


async def test_locks_first_takes_the_shared_catalogue_lock_then_every_contract_in_one_call() -> None:
    locks = FakeLocks()
    await lock_before_first_write(locks, ["HT2", "HT1", "HT2"])
    assert locks.taken == ["catalog_shared", "contracts:HT1,HT2"]


async def test_locks_first_refuses_a_transaction_that_already_wrote() -> None:
    locks = FakeLocks()
    locks.written = True
    with pytest.raises(RuntimeError, match="before the transaction's first write"):
        await lock_before_first_write(locks, ["HT1"])
    assert locks.taken == []
