"""Ordered plain-SQL migrations per service schema, recorded inside that schema.

Run as a step before a service starts (make up, compose one-shot, Kubernetes Job), never on import:

    python -m common.migrations provision --schema ingest --password-file /run/secrets/pg_ingest
    python -m common.migrations migrate --schema ingest --dir services/ingest/migrations

The admin password comes from the file ROLLSYNC_PG_ADMIN_PASSWORD_FILE names (or ROLLSYNC_PG_ADMIN_PASSWORD).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import sys
from importlib import resources
from pathlib import Path

import asyncpg

from common.settings import read_secret_file

# The shared plumbing, applied before a service's own files. A file once applied is never edited (its checksum
# is recorded): a change to the plumbing is a new file here, named so it sorts before every service's 0001.
PLUMBING = (  # (recorded name, file in the package)
    ("0000_plumbing.sql", "sql/plumbing.sql"),
    ("0000_plumbing_01_indexes.sql", "sql/plumbing_01_indexes.sql"),
    ("0000_plumbing_02_rate_limits.sql", "sql/plumbing_02_rate_limits.sql"),
    ("0000_plumbing_03_outbox_fillfactor.sql", "sql/plumbing_03_outbox_fillfactor.sql"),
)
_LOCK_KEY = 0x726F6C6C  # "roll": one migrator at a time per database


def ident(name: str) -> str:
    """`name` quoted as an SQL identifier; anything but letters, digits and `_` is refused."""
    if not name.replace("_", "").isalnum() or not name[0].isalpha():
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f'"{name}"'


def load_migrations(directory: Path) -> list[tuple[str, str]]:
    """The shared plumbing first, then the service's files in name order."""
    package = resources.files("common")
    plumbing = [(name, package.joinpath(source).read_text("utf-8")) for name, source in PLUMBING]
    own = sorted(directory.glob("*.sql")) if directory.exists() else []
    return [*plumbing, *((f.name, f.read_text("utf-8")) for f in own)]


async def migrate(conn: asyncpg.Connection, schema: str, migrations: list[tuple[str, str]]) -> list[str]:
    """Apply what is not yet recorded, each file in its own transaction. Returns applied names."""
    s = ident(schema)
    await conn.execute(f"SET search_path TO {s}")
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = dict(await conn.fetch("SELECT name, checksum FROM schema_migrations"))
        applied = []
        for name, sql in migrations:
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if name in done:
                if done[name] != checksum:
                    raise RuntimeError(f"migration {name} changed after it was applied to {schema}")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", name, checksum
                )
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of `password` (RFC 5802/7677; `ALTER ROLE … PASSWORD` accepts it as is).

    Non-ASCII passwords go as they are: the server applies SASLprep to those itself, which is not done here.
    """
    if not password.isascii():
        return password
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


async def provision(conn: asyncpg.Connection, schema: str, password: str) -> None:
    """Create the service's role and schema (dev and CI; production uses the DBA's tooling)."""
    role = ident(schema)
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", schema)
    verb = "ALTER" if exists else "CREATE"
    # Identifiers come from ident; the password goes as its SCRAM verifier (what the server stores anyway), so a
    # statement the server logs (an error, log_statement=ddl) holds no password; quoted by the server.
    literal = await conn.fetchval("SELECT quote_literal($1)", scram_verifier(password))
    await conn.execute(f"{verb} ROLE {role} LOGIN PASSWORD {literal}")
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role}")
    await conn.execute(f"ALTER ROLE {role} SET search_path TO {role}")
    await conn.execute(f"REVOKE ALL ON SCHEMA public FROM {role}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m common.migrations")
    p.add_argument("command", choices=["provision", "migrate"])
    p.add_argument("--schema", required=True)
    p.add_argument("--dir", type=Path, default=None, help="migrations directory (migrate)")
    p.add_argument("--password-env", default=None, help="env var with the role password")
    p.add_argument("--password-file", default=None, help="file with the role password (provision)")
    p.add_argument("--host", default=os.environ.get("ROLLSYNC_PG_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("ROLLSYNC_PG_PORT", "55432")))
    p.add_argument("--database", default=os.environ.get("ROLLSYNC_PG_DB", "rollsync"))
    p.add_argument("--user", default=os.environ.get("ROLLSYNC_PG_ADMIN", "rollsync_admin"))
    return p


def _admin_password() -> str | None:
    path = os.environ.get("ROLLSYNC_PG_ADMIN_PASSWORD_FILE")
    if path:
        return read_secret_file("ROLLSYNC_PG_ADMIN_PASSWORD_FILE", path)
    return os.environ.get("ROLLSYNC_PG_ADMIN_PASSWORD")


def _role_password(args: argparse.Namespace) -> str:
    if args.password_file:
        return read_secret_file("--password-file", args.password_file)
    return os.environ.get(args.password_env, "") if args.password_env else ""


async def _admin_connect(args: argparse.Namespace, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=args.host,
        port=args.port,
        database=database,
        user=args.user,
        password=_admin_password(),
        timeout=10,
    )


async def ensure_database(args: argparse.Namespace) -> None:
    conn = await _admin_connect(args, "postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.database):
            await conn.execute(f"CREATE DATABASE {ident(args.database)} ENCODING 'UTF8'")
    finally:
        await conn.close()


async def _main(args: argparse.Namespace) -> str:
    password = _role_password(args) if args.command == "provision" else ""
    if args.command == "provision":
        if not password:
            raise ValueError(f"provision: env var {args.password_env} is empty")
        await ensure_database(args)
    conn = await _admin_connect(args, args.database)
    try:
        if args.command == "provision":
            await provision(conn, args.schema, password)
            return f"schema {args.schema}: role and schema ready"
        # Objects belong to the service role, so the service can use what it migrated.
        await conn.execute(f"SET ROLE {ident(args.schema)}")
        applied = await migrate(conn, args.schema, load_migrations(args.dir or Path("missing")))
        return f"schema {args.schema}: applied {applied or 'nothing new'}"
    finally:
        await conn.close()


if __name__ == "__main__":
    try:
        print(asyncio.run(_main(_parser().parse_args())))  # noqa: T201
    except (OSError, asyncpg.PostgresError, RuntimeError, ValueError) as exc:
        sys.exit(f"migrations: {type(exc).__name__}: {exc}")
