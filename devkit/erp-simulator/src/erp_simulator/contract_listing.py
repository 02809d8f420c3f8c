"""``contract/billlist.asp``: the contract table, its columns and its filters."""

from collections.abc import Callable, Iterable, Mapping

from erp_simulator.contracts import ContractRecord
from erp_simulator.enums import CONTRACT_SORTS, CURRENCIES, label
from erp_simulator.listing import Column, any_of, contains, in_range
from erp_simulator.sales_team import SalesTeam

Predicate = Callable[[ContractRecord], bool]
NameLookup = Callable[[str], str]

_TIME_RANGES = {
    ("dateQD_0", "dateQD_1"): "date3",
    ("dateKS_0", "dateKS_1"): "date1",
    ("dateZZ_0", "dateZZ_1"): "date2",
}
_MONEY_RANGES = {("htmoney_0", "htmoney_1"): "premoney", ("moneyall_0", "moneyall_1"): "money1"}
SEARCH_FIELDS = ("htbh", "khmc", "title", "htzt", "htfl", "stype", "datatype", "ord")


def contract_columns(team: SalesTeam, customer_name: NameLookup) -> list[Column[ContractRecord]]:
    def field(field_id: str) -> Callable[[ContractRecord], str]:
        return lambda record: record.get(field_id)

    return [
        Column("ord", "合同ID", lambda r: r.ord),
        Column("htid", "合同编号", field("htid")),
        Column("title", "合同主题", field("title")),
        Column("khmc", "客户名称", lambda r: customer_name(r.get("company"))),
        Column("xsry", "销售人员", lambda r: team.name_of(r.get("cateid"))),
        Column("htfl", "合同分类", lambda r: label(CONTRACT_SORTS, r.get("sort"))),
        Column("moneyall", "合同金额", field("money1")),
        Column("hkmoney", "已回款", field("hkmoney")),
        Column("htbz", "币种", lambda r: label(CURRENCIES, r.get("bz"))),
        Column("dateQD", "签订日期", field("date3")),
        Column("dateKS", "开始日期", field("date1")),
        Column("dateZZ", "终止日期", field("date2")),
        Column("spzt", "审批状态", field("spzt")),
        Column("spMan", "审批人", field("spman")),
        Column("UrgentType", "紧急程度", field("urgent")),
        Column("ckjz", "出库进展", field("ckjz")),
        Column("fhjz", "发货进展", field("fhjz")),
        Column("skjz", "收款进展", field("skjz")),
        Column("kpjz", "开票进展", field("kpjz")),
    ]


def contract_filters(params: Mapping[str, str], customer_name: NameLookup) -> list[Predicate]:
    predicates: list[Predicate] = []
    if htbh := params.get("htbh", "").strip():
        predicates.append(lambda r: contains(r.get("htid"), htbh))
    if title := params.get("title", "").strip():
        predicates.append(lambda r: contains(r.get("title"), title))
    if khmc := params.get("khmc", "").strip():
        predicates.append(lambda r: contains(customer_name(r.get("company")), khmc))
    if htzt := params.get("htzt", "").strip():
        predicates.append(lambda r: any_of(r.get("complete1"), htzt))
    if htfl := params.get("htfl", "").strip():
        predicates.append(lambda r: any_of(r.get("sort"), htfl))
    # datatype=tel with ord = a customer id lists that customer's contracts.
    if params.get("datatype") == "tel" and (company := params.get("ord", "").strip()):
        predicates.append(lambda r: r.get("company") == company)
    if params.get("stype", "").strip() == "1":
        predicates.append(lambda r: r.get("spzt") != "审批通过")
    for (low, high), field_id in _TIME_RANGES.items():
        predicates += _date_range(field_id, params.get(low, ""), params.get(high, ""))
    for (low, high), field_id in _MONEY_RANGES.items():
        predicates += _money_range(field_id, params.get(low, ""), params.get(high, ""))
    added_low, added_high = params.get("tdate1", ""), params.get("tdate2", "")
    if added_low.strip() or added_high.strip():
        predicates.append(lambda r: in_range(r.added_at, added_low, added_high))
    return predicates


def select(records: Iterable[ContractRecord], predicates: list[Predicate]) -> list[ContractRecord]:
    return [r for r in records if all(predicate(r) for predicate in predicates)]


def _date_range(field_id: str, low: str, high: str) -> list[Predicate]:
    if not (low.strip() or high.strip()):
        return []
    # ISO dates compare correctly as text.
    return [lambda r: (not low or r.get(field_id) >= low) and (not high or r.get(field_id) <= high)]


def _money_range(field_id: str, low: str, high: str) -> list[Predicate]:
    bounds = (_number(low), _number(high))
    if bounds == (None, None):
        return []
    lowest, highest = bounds
    return [
        lambda r: (
            (lowest is None or (_number(r.get(field_id)) or 0.0) >= lowest)
            and (highest is None or (_number(r.get(field_id)) or 0.0) <= highest)
        )
    ]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
