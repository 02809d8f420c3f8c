"""Deterministic synthetic contracts for roll orders, referencing seeded customers."""

import random
from collections import Counter
from datetime import datetime, timedelta

from erp_simulator.contracts import ContractLine, ContractRecord
from erp_simulator.customers import CustomerRecord
from erp_simulator.vocabulary import ROLL_PRODUCTS

# (quantity range, unit price range in yuan) per product kind, from DOMAIN.md section 7.
_PRICING: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "凹印版辊": ((4, 12), (800, 4000)),
    "网纹辊": ((1, 3), (8000, 60000)),
    "镀铬辊": ((1, 6), (3000, 50000)),
    "旧辊修复": ((1, 4), (300, 2000)),
}
_PAYMENT_TERMS = ("预付30%，发货前付清", "月结60天", "货到付款")
_DELIVERY = ("送货上门", "物流", "自提")
_DONE_PROGRESS = {"ckjz": "已出库", "fhjz": "已发货", "skjz": "已收款", "kpjz": "已开票"}
_OPEN_PROGRESS = {"ckjz": "未出库", "fhjz": "未发货", "skjz": "未收款", "kpjz": "未开票"}


def generate_contracts(
    rng: random.Random, customers: list[CustomerRecord], total: int, first_ord: int, until: datetime
) -> list[ContractRecord]:
    if not customers:
        return []
    picks = [rng.choice(customers) for _ in range(total)]
    signed = sorted(
        ((_signing_time(rng, customer.added_at, until), customer) for customer in picks),
        key=lambda pair: (pair[0], pair[1].ord),
    )
    per_year: Counter[int] = Counter()
    contracts = []
    for offset, (moment, customer) in enumerate(signed):
        per_year[moment.year] += 1
        htid = f"HT{moment.year}{per_year[moment.year]:03d}"
        contracts.append(_contract(rng, first_ord + offset, htid, moment, customer, until))
    return contracts


def _contract(
    rng: random.Random,
    ord_: int,
    htid: str,
    signed: datetime,
    customer: CustomerRecord,
    until: datetime,
) -> ContractRecord:
    lines = [_line(rng, signed, ord_ * 100 + n) for n in range(1, rng.randint(1, 6) + 1)]
    premoney = sum(float(line.money1) for line in lines)
    discount = round(premoney * rng.choice((0.0, 0.0, 0.02)), 2)
    last_delivery = max(line.date2 for line in lines)
    done = datetime.strptime(last_delivery, "%Y-%m-%d") + timedelta(days=30) < until
    money1 = premoney - discount
    fields = {
        "company": str(customer.ord),
        "htid": htid,
        "title": f"{customer.get('name')}{lines[0].title}订单",
        "date3": signed.strftime("%Y-%m-%d"),
        "date1": signed.strftime("%Y-%m-%d"),
        "date2": last_delivery,
        "sort": "192",
        "complete1": "196" if done else "195",
        "bz": "14",
        "premoney": f"{premoney:.2f}",
        "yhvalue": f"{discount:.2f}",
        "money1": f"{money1:.2f}",
        "fqhk": "0",
        "invoicePlan": "1",
        "invoiceMode": "2",
        "cateid": customer.get("cateid"),
        "jh_intro3": rng.choice(_PAYMENT_TERMS),
        "jh_intro5": rng.choice(_DELIVERY),
        "hkmoney": f"{money1 if done else 0.0:.2f}",
        "spzt": "审批通过",
        "spman": "总经理",
        **(_DONE_PROGRESS if done else _OPEN_PROGRESS),
    }
    return ContractRecord(ord_, fields, signed, signed, lines, save_count=1)


def _line(rng: random.Random, signed: datetime, serial: int) -> ContractLine:
    title, type1 = rng.choice(ROLL_PRODUCTS)
    (qty_low, qty_high), (price_low, price_high) = _PRICING[title]
    quantity = rng.randint(qty_low, qty_high)
    price = rng.randrange(price_low, price_high, 10)
    delivery = signed + timedelta(days=rng.randint(3, 45))
    return ContractLine(
        title=title,
        order1=f"P{signed:%Y%m%d}{serial % 1000:03d}",
        type1=type1,
        unit="242",
        num1=quantity,
        price1=f"{price:.2f}",
        money1=f"{price * quantity:.2f}",
        date2=delivery.strftime("%Y-%m-%d"),
    )


def _signing_time(rng: random.Random, customer_added: datetime, until: datetime) -> datetime:
    span = max(int((until - customer_added).total_seconds()), 1)
    return customer_added + timedelta(seconds=rng.randrange(span))
