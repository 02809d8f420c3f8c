"""Feed order = state order per line: both consumers lock their contracts before their first write.

The pending-updates feed serves rows by (txid, seq) and the factory's agent applies each item's full state in
that order, so for any two transactions writing the same line the one that commits second must have the larger
transaction id. A transaction gets its xid at its first write, not at BEGIN. The inbox row is that first write:
were the contract locks taken after it, transaction A could take xid 100, wait for the lock held by B (xid 101),
then commit the newer state after B; the feed would serve A's row first and leave the agent on B's older one.

So the locks come first, before the inbox row (the consumer's `before_inbox` hook). Advisory locks need no xid.
For any two writers sharing a contract: whichever gets the lock first takes its xid while holding it; the other
takes its xid only after its single lock statement returns, i.e. after the first one has ended. Xid order then
follows lock order, which is commit order. This holds for concurrent batches because each transaction takes
all its contracts' locks in ONE statement (ascending key order, so no deadlock) before writing anything:
no transaction holds an xid while it waits for a contract lock. The locks the service layer takes again later
are the same ones (re-taking a held advisory lock never waits); they keep direct callers serialised too.
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
