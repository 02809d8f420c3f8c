"""Whose address a failed login counts against: the edge's report, believed only from a trusted proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from common.rate_limit import source_address

EDGE = ["127.0.0.1/32", "10.0.0.0/8"]


def _request(peer: str, headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "client": (peer, 5000)})


@pytest.mark.parametrize(
    ("peer", "headers", "source"),
    [
        ("127.0.0.1", {"X-Real-IP": "198.51.100.7"}, "198.51.100.7"),  # the edge's report
        ("10.2.3.4", {"X-Forwarded-For": "1.1.1.1, 198.51.100.7"}, "198.51.100.7"),  # last hop, not the first
        ("10.2.3.4", {"X-Real-IP": "198.51.100.7", "X-Forwarded-For": "1.1.1.1"}, "198.51.100.7"),
        ("127.0.0.1", {}, "127.0.0.1"),  # a trusted peer that reports nothing is the source itself
        ("127.0.0.1", {"X-Real-IP": "not-an-address"}, "127.0.0.1"),
        ("203.0.113.9", {"X-Real-IP": "198.51.100.7", "X-Forwarded-For": "198.51.100.7"}, "203.0.113.9"),
        ("::1", {"X-Real-IP": "198.51.100.7"}, "::1"),  # not in the list
    ],
)
def test_the_source_is_the_edges_report_only_from_the_edge(
    peer: str, headers: dict[str, str], source: str
) -> None:
    assert source_address(_request(peer, headers), EDGE) == source
