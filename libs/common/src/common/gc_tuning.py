"""The collector's settings for a service process, applied once before it serves.

A batch of 500 contract lines allocates hundreds of thousands of short-lived containers (rows, states, tuples
for the statements). With CPython's default first threshold (700 allocations) that triggers thousands of
collections per batch, and each older-generation pass walks every object the process keeps (modules, pydantic
schemas, caches). Measured on a history import (bench/README.md, "The collector"): 869 ms of CPU per 1 000 lines
in transform and PostgreSQL with the defaults, 647 ms with these settings.
Freezing what start-up created moves those objects out of every later pass; a higher first threshold makes
passes rarer. Reference counting still frees most objects at once: the threshold only decides how often cyclic
garbage is looked for, so memory grows by at most that many uncollected cyclic objects.
"""

from __future__ import annotations

import gc

from pydantic import BaseModel, Field


class GcSettings(BaseModel):
    gen0_threshold: int = Field(
        default=50_000,
        ge=100,
        le=1_000_000,
        description="Allocations between first-generation collections (CPython's default: 700)",
    )
    freeze_after_start: bool = Field(
        default=True, description="gc.freeze() once start-up objects exist, so collections skip them"
    )


def tune_collector(settings: GcSettings) -> None:
    """Call after the app is built (its modules and schemas exist) and before it serves."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(settings.gen0_threshold, gen1, gen2)
    if settings.freeze_after_start:
        gc.collect()
        gc.freeze()
