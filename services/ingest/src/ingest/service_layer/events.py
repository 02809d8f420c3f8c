"""The envelope of ingest's integration events."""

from __future__ import annotations

SOURCE = "ingest"  # Envelope.source: the producing service
