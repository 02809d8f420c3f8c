"""Event contracts are pinned: a change to an event's JSON Schema shows up here, in review.

Within a version changes must be additive; regenerate the snapshots deliberately with
`UPDATE_CONTRACTS=1 uv run pytest tests/contracts` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from common.events import customers, ingest, transform
from common.events.envelope import Envelope

SNAPSHOTS = Path(__file__).parent / "schemas"
EVENTS: list[type[BaseModel]] = [
    ingest.HetongRowChanged,
    ingest.ProgressReported,
    ingest.EmployeeChanged,
    transform.ContractStandardized,
    transform.ProcessChanged,
    customers.WechatCustomerCaptured,
    customers.ErpCustomerPulled,
    customers.CustomerSyncRequested,
    customers.CustomerPushCompleted,
]


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.__name__)
def test_event_schema_matches_its_snapshot(model: type[BaseModel]) -> None:
    schema = json.dumps(Envelope[model].model_json_schema(), ensure_ascii=False, indent=2, sort_keys=True)  # type: ignore[valid-type]
    path = SNAPSHOTS / f"{model.__name__}.json"
    if os.environ.get("UPDATE_CONTRACTS") == "1":
        path.write_text(schema + "\n", encoding="utf-8")
    assert path.exists(), f"no snapshot for {model.__name__}; run with UPDATE_CONTRACTS=1 once"
    assert path.read_text(encoding="utf-8") == schema + "\n"


def test_every_event_module_model_is_pinned() -> None:
    declared = {
        name
        for module in (ingest, transform, customers)
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__
    }
    assert declared == {m.__name__ for m in EVENTS}
