"""Topic names: `<context>.<event>.v<N>`; dead letters on `<topic>.dlq`."""

from __future__ import annotations

from typing import Final

INGEST_HETONG_ROW_CHANGED: Final = "ingest.hetong-row-changed.v1"
INGEST_PROGRESS_REPORTED: Final = "ingest.progress-reported.v1"
TRANSFORM_CONTRACT_STANDARDIZED: Final = "transform.contract-standardized.v1"

ALL: Final = (
    INGEST_HETONG_ROW_CHANGED,
    INGEST_PROGRESS_REPORTED,
    TRANSFORM_CONTRACT_STANDARDIZED,
)


def dlq(topic: str) -> str:
    return f"{topic}.dlq"
