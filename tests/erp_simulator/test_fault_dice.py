"""The simulator's fault dice: seeded per kind, so concurrency cannot change which faults a run sees."""

from erp_simulator.faults import FaultConfig, FaultDice, WriteFault


def lost_replies(dice: FaultDice, config: FaultConfig, writes: int, requests_between: int) -> list[int]:
    hits = []
    for n in range(writes):
        for _ in range(requests_between):
            dice.request_fault(config)
        if dice.write_fault(config) is WriteFault.LOST_REPLY:
            hits.append(n)
    return hits


def test_which_write_loses_its_reply_does_not_depend_on_other_draws_in_between() -> None:
    config = FaultConfig(error_rate=0.25, timeout_rate=0.025, lost_reply_rate=0.05)
    alone = lost_replies(FaultDice(seed=11), config, writes=200, requests_between=0)
    interleaved = lost_replies(FaultDice(seed=11), config, writes=200, requests_between=3)
    assert alone  # 5 % of 200 draws
    assert interleaved == alone


def test_another_seed_draws_other_faults() -> None:
    config = FaultConfig(lost_reply_rate=0.05)
    assert lost_replies(FaultDice(seed=11), config, 200, 0) != lost_replies(
        FaultDice(seed=12), config, 200, 0
    )
