"""Schemathesis runs for the e2e tests (issue 10): one `st run` per service and token, gated on the checks that
must never fail. Shared by the read-mostly run and the state-changing run that goes last."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.stack import ROOT

ST = str(ROOT / ".venv" / "bin" / "st")
EXAMPLES = 100
GATED = {  # failure types of the gated checks (schemathesis.openapi.checks / core.failures)
    "not_a_server_error": {"ServerError", "ContentTypeServerError"},
    "status_code_conformance": {"UndefinedStatusCode"},
    "negative_data_rejection": {"AcceptedNegativeData"},
    "response_schema_conformance": {
        "JsonSchemaError",
        "MalformedJson",
        "ContentDeserializationError",
        "DiscriminatorMismatch",
    },
    "ignored_auth": {"IgnoredAuth"},
}
STATE_CHANGING = {  # (service, method, path): the operations whose effects other tests rely on
    ("ingest", "post", "/sync/contracts/batch"),
    ("ingest", "put", "/sync/contracts/{contract_no}/progress"),
    ("ingest", "post", "/sync/employees/batch"),
    ("ingest", "post", "/customers/capture"),
    ("rules", "post", "/rules"),
    ("rules", "patch", "/rules/{name}"),
    ("rules", "put", "/rules/config/{key}"),
    ("rules", "put", "/rules/field-policies/{field}"),
    ("erp-connector", "post", "/sync/erp/trigger"),
    ("erp-connector", "post", "/sync/erp/pause"),
    ("erp-connector", "post", "/sync/erp/resume"),
}
SERVICES = ("ingest", "transform", "rules", "erp-connector")


def seed() -> int:
    chosen = 20261205 if os.environ.get("CI") else random.SystemRandom().randrange(1, 2**31)
    print(f"schemathesis seed: {chosen}")  # noqa: T201 (rerun with the same seed)
    return chosen


async def operation_ids(http: httpx.AsyncClient, url: str, service: str) -> tuple[list[str], list[str]]:
    """(read-mostly, state-changing) operation ids of the service's document."""
    doc = (await http.get(f"{url}/openapi.json")).json()
    safe: list[str] = []
    changing: list[str] = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            (changing if (service, method, path) in STATE_CHANGING else safe).append(op["operationId"])
    return safe, changing


@dataclass(frozen=True)
class Run:
    service: str
    kind: str
    url: str
    ids: list[str]
    token: str


async def _st(run: Run, report: Path, seed: int) -> tuple[dict[str, Any], float]:
    source = f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        ST,
        "run",
        f"{run.url}/openapi.json",
        "--checks=all",
        f"--max-examples={EXAMPLES}",
        f"--seed={seed}",
        "--no-color",
        "--report=json",
        f"--report-json-path={report}",
        f"--header=Authorization: Bearer {run.token}",
        f"--header=X-Real-IP: {source}",
        *(f"--include-operation-id={i}" for i in run.ids),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=report.parent,  # its example database (.schemathesis/) stays out of the repository
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
    elapsed = time.monotonic() - started
    try:
        result: dict[str, Any] = json.loads(await asyncio.to_thread(report.read_text))
    except FileNotFoundError:
        pytest.fail(f"schemathesis wrote no report:\n{out.decode()[-4000:]}")
    result["output"] = out.decode()
    return result, elapsed


async def run_and_gate(runs: list[Run], tmp_path: Path) -> None:
    """Run them in parallel; fail on any gated failure, print the others."""
    chosen = seed()
    started = time.monotonic()
    results = await asyncio.gather(
        *(_st(r, tmp_path / f"{r.service}-{r.kind}.json", chosen) for r in runs if r.ids)
    )
    total = time.monotonic() - started
    gated: list[str] = []
    other: list[str] = []
    lines: list[str] = []
    outputs: list[str] = []
    for run, (result, elapsed) in zip([r for r in runs if r.ids], results, strict=True):
        lines.append(
            f"{run.service} ({run.kind}): {result['test_cases']['generated']} cases in {elapsed:.0f} s"
        )
        assert result["complete"] and not result["errors"], result["output"][-4000:]
        for failure in result["failures"]:
            entry = f"{run.service}: {failure['code']} {failure['type']} {failure['operations']}"
            is_gated = any(failure["type"] in types for types in GATED.values())
            (gated if is_gated else other).append(entry)
            if is_gated:
                outputs.append(result["output"][-20000:])  # the whole report: it holds the curl to reproduce
    print(f"schemathesis: {total:.0f} s in all; " + "; ".join(lines))  # noqa: T201
    print("not gated:\n  " + "\n  ".join(other))  # noqa: T201
    assert not gated, "\n".join(gated) + "\n" + "\n\n".join(dict.fromkeys(outputs))
