"""Log lines are JSON objects whose ids are fields, so an operator can filter on `event_id` or `topic`."""

from __future__ import annotations

import logging
import uuid

import orjson

from common.logs import JsonFormatter, correlation_id


def _format(record: logging.LogRecord) -> dict[str, object]:
    parsed = orjson.loads(JsonFormatter("unit").format(record))
    assert isinstance(parsed, dict)
    return parsed


def _record(msg: str, extra: dict[str, object]) -> logging.LogRecord:
    logger = logging.getLogger("unit.logs")
    return logger.makeRecord("unit.logs", logging.WARNING, __file__, 1, msg, (), None, extra=extra)


def test_extra_fields_are_emitted_as_json_fields() -> None:
    event_id = uuid.uuid4()
    entry = _format(_record("dead-lettered", {"event_id": event_id, "topic": "t.v1", "attempts": 3}))
    assert entry["msg"] == "dead-lettered"
    assert entry["event_id"] == str(event_id)  # not JSON-native: written as text
    assert entry["topic"] == "t.v1"
    assert entry["attempts"] == 3
    assert entry["service"] == "unit"


def test_standard_record_attributes_are_not_repeated() -> None:
    token = correlation_id.set("req-1")
    try:
        entry = _format(_record("plain", {}))
    finally:
        correlation_id.reset(token)
    assert set(entry) == {"ts", "level", "service", "logger", "msg", "correlation_id"}
    assert entry["correlation_id"] == "req-1"


def test_an_extra_field_cannot_overwrite_the_message_or_level() -> None:
    entry = _format(_record("real message", {"level_hint": "x", "msg_id": 7}))
    assert entry["msg"] == "real message" and entry["level"] == "WARNING"
    assert entry["level_hint"] == "x" and entry["msg_id"] == 7
