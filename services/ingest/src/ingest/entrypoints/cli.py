"""`python -m ingest.entrypoints.cli`: create, list, disable, enable and rotate system clients.

A new or rotated secret is printed once; only its hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from functools import partial
from typing import TYPE_CHECKING

import asyncpg

from common.db import create_pool
from ingest.adapters import unit_of_work
from ingest.adapters.schema import SCHEMA
from ingest.config import Settings
from ingest.domain.clients import SCOPES, new_secret
from ingest.service_layer import clients

if TYPE_CHECKING:
    from ingest.service_layer.ports import UowFactory


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ingest.entrypoints.cli", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a client and print its secret once")
    create.add_argument("client_id")
    create.add_argument(
        "--scopes",
        default="contracts:write,progress:write,sync:read",
        help=f"comma-separated, from {','.join(sorted(SCOPES))}",
    )
    create.add_argument("--name", default="")
    create.add_argument("--per-minute", type=int, default=60)
    create.add_argument("--per-day", type=int, default=10_000, help="requests per UTC day")
    create.add_argument(
        "--rows-per-day", type=int, default=10_000, help="contract lines per China day (seed 000 dailyLimit)"
    )
    create.add_argument(
        "--secret-env",
        default=None,
        help="take the secret from this env var instead (refused under 24 characters or ~128 bits of entropy)",
    )
    create.add_argument("--if-missing", action="store_true", help="do nothing when the client exists")
    sub.add_parser("list", help="list clients (never secrets)")
    for name in ("disable", "enable", "rotate"):
        sub.add_parser(name).add_argument("client_id")
    rows = sub.add_parser(
        "set-rows-per-day", help="change a client's daily row limit (e.g. for a history import)"
    )
    rows.add_argument("client_id")
    rows.add_argument("rows_per_day", type=int)
    return p


async def _run(args: argparse.Namespace, uow: UowFactory) -> str:
    if args.command == "list":
        rows = await clients.list_clients(uow)
        return (
            "\n".join(
                f"{r.client_id}\t{','.join(r.scopes)}\t{'disabled' if r.disabled else 'active'}"
                f"\t{r.rate_per_minute}/min\t{r.rate_per_day}/day\t{r.rows_per_day} rows/day"
                for r in rows
            )
            or "(no clients)"
        )
    if args.command in ("disable", "enable"):
        found = await clients.set_disabled(uow, args.client_id, args.command == "disable")
        return f"{args.client_id}: {args.command}d" if found else f"{args.client_id}: no such client"
    if args.command == "set-rows-per-day":
        found = await clients.set_rows_per_day(uow, args.client_id, args.rows_per_day)
        return (
            f"{args.client_id}: {args.rows_per_day} rows/day"
            if found
            else f"{args.client_id}: no such client"
        )
    if args.command == "rotate":
        secret = new_secret()
        found = await clients.rotate_secret(uow, args.client_id, secret)
        return f"{args.client_id}: new secret {secret}" if found else f"{args.client_id}: no such client"
    return await _create(args, uow)


async def _create(args: argparse.Namespace, uow: UowFactory) -> str:
    secret = os.environ[args.secret_env] if args.secret_env else new_secret()
    command = clients.CreateClient(
        args.client_id,
        args.name,
        secret,
        args.scopes,
        args.per_minute,
        args.per_day,
        args.rows_per_day,
        if_missing=args.if_missing,
        chosen_secret=bool(args.secret_env),
    )
    try:
        created = await clients.create_client(uow, command)
    except clients.WeakSecretError as exc:
        raise ValueError(
            f"the secret in {args.secret_env} is too weak to be a client secret: {exc}. Leave out"
            " --secret-env for a random one, or choose e.g. `python3 -c 'import secrets;"
            " print(secrets.token_urlsafe(32))'`"
        ) from None
    if not created:
        return f"{args.client_id}: exists, unchanged"
    return f"{args.client_id}: created" + ("" if args.secret_env else f"; secret (shown once): {secret}")


async def _main(args: argparse.Namespace) -> str:
    # The CLI is its own composition root: entrypoints sit below bootstrap in the layers, so it builds the
    # same unit of work bootstrap does, on a pool of its own.
    pool = await create_pool(Settings().postgres, SCHEMA)
    try:
        return await _run(args, partial(unit_of_work.begin, pool))
    finally:
        await pool.close()


if __name__ == "__main__":
    try:
        print(asyncio.run(_main(_parser().parse_args())))  # noqa: T201
    except (OSError, asyncpg.PostgresError, ValueError, KeyError) as exc:
        sys.exit(f"clients: {type(exc).__name__}: {exc}")
