"""A provisioned role's password reaches PostgreSQL only as its SCRAM verifier (issue 10: a statement the server
logs, on an error or with log_statement=ddl, must not hold the password)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import asyncpg
import pytest

from common.migrations import provision, scram_verifier

pytestmark = pytest.mark.integration


def _matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier is the one for `password` (RFC 7677 keys from its salt)."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return (
        method == "SCRAM-SHA-256"
        and hashlib.sha256(client_key).digest() == stored_key
        and hmac.new(salted, b"Server Key", "sha256").digest() == server_key
    )


def test_the_verifier_is_salted_and_never_holds_the_password() -> None:
    password = "correct-horse-" + uuid.uuid4().hex
    first, second = scram_verifier(password), scram_verifier(password)
    assert first != second  # a fresh salt each time
    assert password not in first
    assert _matches(first, password)
    assert not _matches(first, password + "x")


async def test_postgres_stores_our_verifier_so_the_password_authenticates(admin: asyncpg.Connection) -> None:
    role, password = f"t_{uuid.uuid4().hex[:12]}", "pw-" + uuid.uuid4().hex
    try:
        await provision(admin, role, password)
        stored = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
        # Had the server taken the verifier for a plain password, it would have hashed the verifier string.
        assert _matches(stored, password)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{role}" CASCADE')
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
