"""The AsyncAPI document is generated from the contracts, current, and true to what the services subscribe to."""

from __future__ import annotations

import json
import re
from pathlib import Path

from common import topics
from common.asyncapi import render
from common.events.catalog import CHANNELS, model_of

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "asyncapi.json"
SUBSCRIBE = re.compile(r"(?:\.subscribe|Subscription)\(\s*topics\.([A-Z_]+)")
SERVICES = {"ingest": "ingest", "transform": "transform", "rules": "rules", "erp-connector": "erp_connector"}


def test_the_committed_document_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "contracts changed: run `make docs` and commit the result"
    )


def test_every_topic_is_documented_with_the_envelope_its_consumers_decode() -> None:
    doc = json.loads(render())
    by_address: dict[str, set[str]] = {}
    for channel in doc["channels"].values():
        message = next(iter(channel["messages"].values()))["$ref"].rsplit("/", 1)[1].replace("%20", " ")
        payload = doc["components"]["messages"][message]["payload"]["$ref"].rsplit("/", 1)[1]
        by_address.setdefault(channel["address"], set()).add(payload)
    assert set(by_address) == set(topics.ALL)
    for topic in topics.ALL:
        assert by_address[topic] == {f"Envelope%5B{model_of(topic).__name__}%5D"}


def _subscriptions(package_dir: Path) -> set[str]:
    found = set()
    for source in package_dir.rglob("*.py"):
        found |= {getattr(topics, name) for name in SUBSCRIBE.findall(source.read_text(encoding="utf-8"))}
    return found


def test_the_catalog_names_exactly_the_topics_each_service_subscribes_to() -> None:
    for service, package in SERVICES.items():
        documented = {c.topic for c in CHANNELS if service in c.consumers}
        actual = _subscriptions(ROOT / "services" / service / "src" / package)
        assert actual, f"no subscription found in {service}: has the subscribe call changed shape?"
        assert actual == documented, service
