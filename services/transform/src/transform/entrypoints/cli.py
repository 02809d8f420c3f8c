"""`python -m transform.entrypoints.cli consistency`: seed 000's consistency check from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
import orjson

from common.db import create_pool
from common.web import json_default
from transform.adapters import queries
from transform.adapters.reconcile_queries import PostgresReconciliation
from transform.adapters.schema import SCHEMA
from transform.config import Settings
from transform.service_layer.reconciliation import has_differences, local_vs_cloud


async def _main(args: argparse.Namespace) -> int:
    pool = await create_pool(Settings().postgres, SCHEMA)
    try:
        report = await queries.consistency(pool, args.sample)
        report["local_vs_cloud"] = await local_vs_cloud(PostgresReconciliation(pool), args.sample)
    finally:
        await pool.close()
    sys.stdout.write(orjson.dumps(report, default=json_default, option=orjson.OPT_INDENT_2).decode() + "\n")
    problems = sum(len(v) for v in report.values() if isinstance(v, list)) + report["lines_dead_lettered"]
    problems += has_differences(report["local_vs_cloud"])
    return 1 if problems and args.fail_on_issues else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m transform.entrypoints.cli", description=__doc__)
    parser.add_argument("command", choices=["consistency"])
    parser.add_argument("--sample", type=int, default=100, help="rows listed per issue type")
    parser.add_argument("--fail-on-issues", action="store_true", help="exit 1 when anything is inconsistent")
    try:
        sys.exit(asyncio.run(_main(parser.parse_args())))
    except (OSError, asyncpg.PostgresError) as exc:
        sys.exit(f"consistency: {type(exc).__name__}: {exc}")
