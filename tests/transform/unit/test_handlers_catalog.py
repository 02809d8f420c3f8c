"""The process catalogue's commands on fakes: each one commits its change, history and ProcessChanged together."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common import topics
from tests.transform.fakes import FakeTransformUnitOfWork
from transform.domain.process_catalog import CatalogError
from transform.service_layer import catalog


def _uow() -> FakeTransformUnitOfWork:
    uow = FakeTransformUnitOfWork()
    uow.catalog.seed("喷砂", "喷沙")
    uow.catalog.seed("抛光")
    uow.catalog.route_rows["anilox"] = [("喷砂", Decimal(1)), ("抛光", Decimal(2))]
    return uow


async def test_adding_a_process_publishes_it_records_history_and_moves_the_revision() -> None:
    uow = _uow()
    entry = await catalog.add_process(uow.start, {"name": "激光雕刻", "aliases": ["雕刻"]}, "admin", "c1")

    assert (entry.name, entry.aliases, entry.version) == ("激光雕刻", ("雕刻",), 1)
    assert uow.committed == 1
    assert uow.locks.taken == ["catalog"]
    (event,) = uow.outbox.published
    assert (event.topic, event.key) == (topics.TRANSFORM_PROCESS_CHANGED, str(entry.process_id))
    assert event.envelope.payload.change == "added"
    assert event.envelope.source == "transform"
    assert event.envelope.correlation_id == "c1"
    assert await uow.catalog.history(entry.process_id) == [
        {
            "version": 1,
            "change": "added",
            "detail": {"name": "激光雕刻", "aliases": ["雕刻"]},
            "client_id": "admin",
        }
    ]
    assert uow.catalog.revision == 1
    assert await uow.catalog.unannounced() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "喷沙"}, "duplicate_name"),
        ({"name": "合同编号"}, "reserved_name"),
        ({"name": ""}, "invalid_name"),
    ],
)
async def test_a_refused_name_commits_and_publishes_nothing(body: dict[str, str], code: str) -> None:
    uow = _uow()
    with pytest.raises(CatalogError) as caught:
        async with uow:
            await catalog.add_process(uow.start, body, "admin", "c1")
    assert caught.value.code == code
    assert (uow.committed, uow.outbox.published) == (0, [])


async def test_a_rename_keeps_the_old_name_as_a_former_name_and_publishes_version_two() -> None:
    uow = _uow()
    entry = await catalog.rename_process(uow.start, "喷沙", {"name": "喷砂处理"}, "admin", "c2")

    assert (entry.name, entry.former_names, entry.version) == ("喷砂处理", ("喷砂",), 2)
    assert [e.envelope.payload.change for e in uow.outbox.published] == ["renamed"]
    assert (await uow.catalog.routes())["anilox"][0]["process"] == "喷砂处理"


async def test_renaming_to_the_same_name_changes_nothing() -> None:
    uow = _uow()
    entry = await catalog.rename_process(uow.start, "喷砂", {"name": "喷砂"}, "admin", "c2")
    assert entry.version == 1
    assert (uow.committed, uow.outbox.published) == (0, [])


async def test_new_aliases_replace_the_old_ones_and_are_published() -> None:
    uow = _uow()
    entry = await catalog.set_aliases(uow.start, "喷砂", {"aliases": ["喷丸"]}, "admin", "c3")
    assert entry.aliases == ("喷丸",)
    assert [e.envelope.payload.aliases for e in uow.outbox.published] == [["喷丸"]]


async def test_a_process_still_on_a_route_is_not_retired() -> None:
    uow = _uow()
    with pytest.raises(CatalogError) as caught:
        await catalog.retire_process(uow.start, "抛光", "admin", "c4")
    assert (caught.value.status, caught.value.code) == (409, "process_in_route")
    assert (uow.committed, uow.outbox.published) == (0, [])

    await catalog.put_route(uow.start, "anilox", {"steps": ["喷砂"]})
    entry = await catalog.retire_process(uow.start, "抛光", "admin", "c4")
    assert entry.active is False
    assert uow.outbox.payloads(topics.TRANSFORM_PROCESS_CHANGED)[-1].change == "retired"


async def test_a_route_change_renumbers_its_steps_and_moves_the_revision() -> None:
    uow = _uow()
    steps = await catalog.put_route(
        uow.start, "anilox", {"steps": ["抛光", {"process": "喷沙", "weight": 3}]}
    )
    assert steps == [
        {"seq": 10, "process": "抛光", "weight": Decimal(2)},
        {"seq": 20, "process": "喷砂", "weight": Decimal(3)},
    ]
    assert (uow.committed, uow.catalog.revision) == (1, 1)


async def test_weights_for_an_unknown_product_type_are_refused_with_404() -> None:
    uow = _uow()
    with pytest.raises(CatalogError) as caught:
        await catalog.put_weights(uow.start, "nosuch", {"weights": {"喷砂": 2}})
    assert caught.value.status == 404
    steps = await catalog.put_weights(uow.start, "anilox", {"weights": {"抛光": 5}})
    assert [s["weight"] for s in steps] == [Decimal(1), Decimal(5)]
    assert uow.committed == 1


async def test_at_start_only_the_processes_never_announced_are_published() -> None:
    uow = _uow()
    uow.catalog.seed("检验", announced=False)
    assert await catalog.announce_unannounced(uow.start, "transform-start") == 1
    assert [p.name for p in uow.outbox.payloads(topics.TRANSFORM_PROCESS_CHANGED)] == ["检验"]
    assert await catalog.announce_unannounced(uow.start, "transform-start") == 0
    assert uow.committed == 2


async def test_views_show_every_process_and_one_with_its_history() -> None:
    uow = _uow()
    await catalog.rename_process(uow.start, "抛光", {"name": "精抛"}, "admin", "c5")
    view = await catalog.catalog_view(uow.start)
    assert [p["name"] for p in view["processes"]] == ["喷砂", "精抛"]
    assert set(view["routes"]) == {"anilox"}
    one = await catalog.process_view(uow.start, "抛光")  # found by its former name
    assert one["name"] == "精抛"
    assert [h["change"] for h in one["history"]] == ["renamed"]
