"""Outage, poison or a counted attempt (consumers), and "retry shortly" (HTTP 503) - pure rules."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import CommitFailedError, KafkaConnectionError

from common.delivery import Failure, PermanentError, classify, is_unavailable

AMBIGUOUS = [
    TimeoutError(),  # asyncpg command timeout: a slow query, or a server that does not answer
    asyncpg.exceptions.InterfaceError("cannot call Connection.fetch(): connection is closed"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    ConnectionRefusedError(111, "Connect call failed"),
    RuntimeError("a bug in the apply function"),
]


@pytest.mark.parametrize("exc", AMBIGUOUS, ids=lambda e: type(e).__name__)
def test_the_same_error_is_an_outage_only_while_the_database_does_not_answer(exc: Exception) -> None:
    assert classify(exc, reachable=False) is Failure.OUTAGE
    assert classify(exc, reachable=True) is Failure.ATTEMPT


@pytest.mark.parametrize("reachable", [True, False])
def test_a_permanent_error_is_poison_whatever_the_database_does(reachable: bool) -> None:
    assert classify(PermanentError("invalid"), reachable=reachable) is Failure.POISON


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.InterfaceError("cannot call Connection.fetch(): connection is closed"),
        KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_unavailability_is_recognised(exc: Exception) -> None:
    assert is_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.DataError("invalid input"),
        CommitFailedError("rebalanced"),
        ValueError("bad"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bugs_and_bad_data_are_not_unavailability(exc: Exception) -> None:
    assert not is_unavailable(exc)
