"""Both consumers lock their contracts before their first write.

A line's state is read, changed and written back by the lines consumer, by the two progress processes and by
catalogue changes; the contract's advisory lock serialises them, so the one that commits second has read what
the first wrote, and its feed row (positions follow commit order, migration 0052) carries the newer state.

The locks come first, before the inbox row (the consumer's `before_inbox` hook), and each transaction takes all
its contracts' locks in ONE statement (ascending key order, so no deadlock) before writing anything: no
transaction holds an xid, or any row lock, while it waits for a contract lock. The feed was once ordered by
xid, which needed exactly that; the rule stays because it keeps waits short and deadlocks impossible. The locks
the service layer takes again later are the same ones (re-taking a held advisory lock never waits); they keep
direct callers serialised too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transform.service_layer.ports import Locks


async def lock_before_first_write(locks: Locks, contract_nos: Iterable[str]) -> None:
    """Run before anything in the transaction writes (see the module docstring)."""
    if await locks.has_written():
        raise RuntimeError("contract locks must be taken before the transaction's first write")
    # Shared: many batches at once, but never while a catalogue change (a rename rewrites stored process
    # names) commits; the batch then reads the catalogue's revision under this lock (ConfigurationCache.get).
    await locks.catalog_shared()
    await locks.contracts(contract_nos)
