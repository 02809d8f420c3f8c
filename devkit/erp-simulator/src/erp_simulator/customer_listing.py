"""``custom/list.asp``: the customer table, its columns and its filters."""

from collections.abc import Callable, Iterable, Mapping

from erp_simulator.customer_fields import FOLLOW_LEVEL, TALK_PROGRESS
from erp_simulator.customers import CustomerRecord
from erp_simulator.enums import CATEGORIES, FOLLOW_LEVELS, label
from erp_simulator.listing import Column, any_of, contains, in_range
from erp_simulator.sales_team import SalesTeam

Predicate = Callable[[CustomerRecord], bool]

# Query parameter -> fields it searches. `phone` also matches mobiles [INF]: one public client
# looks customers up by mobile through this filter.
_TEXT_FILTERS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "pym": ("pym",),
    "khid": ("khid",),
    "phone": ("phone", "mobile"),
    "mobile": ("mobile",),
    "fax": ("fax",),
    "url": ("url",),
    "address": ("address",),
    "zip": ("zip",),
    "intro": ("intro",),
    "email": ("email",),
    "person_name": ("person_name",),
}
_ENUM_FILTERS = ("ly", "jz", "trade", "area", "cateid")
_ADD_TIME_RANGES = (("date1_0", "date1_1"), ("a_date_0", "a_date_1"))
SEARCH_FIELDS = (*_TEXT_FILTERS, *_ENUM_FILTERS, "searchKey", "date1_0", "date1_1", "telord")


def customer_columns(team: SalesTeam) -> list[Column[CustomerRecord]]:
    def field(field_id: str) -> Callable[[CustomerRecord], str]:
        return lambda record: record.get(field_id)

    return [
        Column("ord", "客户ID", lambda r: r.ord),
        Column("name", "客户名称", field("name")),
        Column("khid", "客户编号", field("khid")),
        Column("catename", "销售人员", lambda r: team.name_of(r.get("cateid"))),
        Column("sortname", "客户分类", lambda r: label(CATEGORIES, r.get("sort1"))),
        Column("sort1name", "跟进程度", lambda r: label(FOLLOW_LEVELS, r.get(FOLLOW_LEVEL))),
        Column("personname", "联系人", field("person_name")),
        Column("personjob", "职务", field("job")),
        Column("person", "联系人ID", lambda r: str(r.person_id) if r.get("person_name") else ""),
        Column("phone", "办公电话", field("phone")),
        Column("mobile", "手机", field("mobile")),
        Column("fax", "传真", field("fax")),
        Column("email", "电子邮件", field("email")),
        Column("weixin", "微信", field("weixinAcc")),
        Column("qq", "QQ", field("qq")),
        Column("part1", "部门", field("part1")),
        Column("intro", "备注", field("intro")),
        Column("telintro", "洽谈进展", field(TALK_PROGRESS)),
        Column("url", "客户网址", field("url")),
        Column("personurl", "联系人主页", lambda _r: ""),
        Column("address", "客户地址", field("address")),
    ]


def customer_filters(params: Mapping[str, str], columns: list[Column[CustomerRecord]]) -> list[Predicate]:
    predicates: list[Predicate] = []
    for param, field_ids in _TEXT_FILTERS.items():
        if needle := params.get(param, "").strip():
            predicates.append(_text_predicate(field_ids, needle))
    for param in _ENUM_FILTERS:
        if wanted := params.get(param, "").strip():
            predicates.append(_enum_predicate(param, wanted))
    if telord := params.get("telord", "").strip():
        predicates.append(lambda r: any_of(str(r.ord), telord))
    for low_param, high_param in _ADD_TIME_RANGES:
        low, high = params.get(low_param, ""), params.get(high_param, "")
        if low.strip() or high.strip():
            predicates.append(_added_between(low, high))
    if key := params.get("searchKey", "").strip():
        predicates.append(lambda r: any(contains(str(c.value(r)), key) for c in columns[1:]))
    return predicates


def select(records: Iterable[CustomerRecord], predicates: list[Predicate]) -> list[CustomerRecord]:
    return [r for r in records if all(predicate(r) for predicate in predicates)]


def _text_predicate(field_ids: tuple[str, ...], needle: str) -> Predicate:
    return lambda record: any(contains(record.get(f), needle) for f in field_ids)


def _enum_predicate(field_id: str, wanted: str) -> Predicate:
    return lambda record: any_of(record.get(field_id), wanted)


def _added_between(low: str, high: str) -> Predicate:
    return lambda record: in_range(record.added_at, low, high)
