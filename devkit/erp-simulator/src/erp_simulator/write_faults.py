"""Saves that lie: silent drops, partial stores and replies lost after the store (section 7)."""

from collections.abc import Callable

from erp_simulator.counters import Counters
from erp_simulator.errors import LostReplyError
from erp_simulator.faults import FaultConfig, FaultDice, WriteFault


def store_with_faults(
    config: FaultConfig,
    dice: FaultDice,
    counters: Counters,
    incoming: dict[str, str],
    keep: tuple[str, ...],
    apply: Callable[[dict[str, str]], None],
) -> None:
    """Run ``apply`` on what a faulty ERP would really store; the caller answers success."""
    fault = dice.write_fault(config)
    counters.saves += 1
    if fault is WriteFault.SILENT_DROP:
        counters.fault(fault.value)
        return
    applied = incoming
    if fault is WriteFault.PARTIAL_SAVE:
        applied = dice.drop_some(incoming, keep)
        counters.fault(fault.value)
    apply(applied)
    counters.saves_applied += 1
    if fault is WriteFault.LOST_REPLY:
        counters.fault(fault.value)
        raise LostReplyError
