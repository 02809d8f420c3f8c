"""Operator-chosen client secrets (`cli create --secret-env`) must be as hard to guess as random ones (issue 10)."""

from __future__ import annotations

import secrets

import pytest

from ingest.domain.clients import new_secret, weak_secret_reason


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 64,  # long but one character
        "password",  # short
        "password1234567890abcdef",  # long enough, patterned
        "correct horse battery staple",  # a famous passphrase
        "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",  # a password repeated to length
        secrets.token_hex(8),  # random but only 64 bits
    ],
)
def test_guessable_secrets_are_refused_with_a_reason_that_does_not_repeat_them(secret: str) -> None:
    reason = weak_secret_reason(secret)
    assert reason is not None
    assert secret not in reason


def test_random_secrets_are_accepted() -> None:
    for _ in range(200):
        assert weak_secret_reason(new_secret()) is None
        assert weak_secret_reason(secrets.token_hex(32)) is None
