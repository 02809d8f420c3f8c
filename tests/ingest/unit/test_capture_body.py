"""The capture body refuses what its document refuses (found by Schemathesis fuzzing POST /customers/capture)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from ingest.entrypoints.capture_models import CaptureBody


@pytest.mark.parametrize("value", [0, 1733380000, 1.5, True, [], {}])
def test_captured_at_that_is_not_a_date_time_string_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="captured_at"):
        CaptureBody.model_validate({"wechat_id": "wx1", "captured_at": value})


def test_captured_at_as_an_iso_string_is_read_with_its_offset() -> None:
    body = CaptureBody.model_validate({"wechat_id": "wx1", "captured_at": "2026-12-05T08:30:00+08:00"})
    assert body.captured_at == datetime(2026, 12, 5, 0, 30, tzinfo=UTC)
