"""Which process a progress report names, from ingest's copy of the catalogue and the contract's columns."""

from __future__ import annotations

from ingest.domain.processes import KnownProcess, ProcessNames

SPRAY = KnownProcess("热喷涂", ("热喷涂", "喷涂(底层)", "热喷"), active=True)
RETIRED = KnownProcess("退镀", ("退镀",), active=False)


def test_an_alias_or_a_former_name_is_recorded_under_the_cloud_name() -> None:
    names = ProcessNames([SPRAY], columns=[])
    assert names.resolve("喷涂（底层）") == "热喷涂"  # full-width parentheses
    assert names.resolve("热喷") == "热喷涂"
    assert names.resolve("热喷涂") == "热喷涂"


def test_a_column_of_the_contract_is_known_even_when_the_catalogue_is_not_told() -> None:
    names = ProcessNames([SPRAY], columns=["新工序X"])
    assert names.resolve("新工序X") == "新工序X"
    assert names.resolve("别的工序") is None


def test_a_retired_process_is_known_only_where_the_lines_carry_its_column() -> None:
    assert ProcessNames([RETIRED], columns=[]).resolve("退镀") is None
    assert ProcessNames([RETIRED], columns=["退镀"]).resolve("退镀") == "退镀"
