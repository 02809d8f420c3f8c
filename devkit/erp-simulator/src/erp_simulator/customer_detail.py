"""The BillClass of ``custom/add.asp``: an empty form on allocation, filled for ``edit=1``."""

from erp_simulator.customer_fields import DETAIL_GROUPS, FIELDS_BY_ID
from erp_simulator.customers import CustomerRecord
from erp_simulator.enums import CATEGORIES, CURRENCIES, EnumCatalog, label
from erp_simulator.envelopes import Json, bill_class
from erp_simulator.sales_team import SalesTeam

_DATE1_CAPTION = "添加时间"


def allocation_bill(ord_: int, intsort: int) -> Json:
    groups = [
        {"caption": caption, "fields": [_field(f, "") for f in field_ids if f != "date1"]}
        for caption, field_ids in DETAIL_GROUPS
    ]
    caption = "添加单位客户" if intsort == 1 else "添加个人客户"
    return bill_class("custom", caption, ord_, groups)


def detail_bill(record: CustomerRecord, catalog: EnumCatalog, team: SalesTeam) -> Json:
    groups = [
        {
            "caption": caption,
            "fields": [_filled(record, field_id, catalog, team) for field_id in field_ids],
        }
        for caption, field_ids in DETAIL_GROUPS
    ]
    return bill_class("custom", "客户详情", record.ord, groups)


def _filled(record: CustomerRecord, field_id: str, catalog: EnumCatalog, team: SalesTeam) -> Json:
    if field_id == "date1":
        return {"id": "date1", "caption": _DATE1_CAPTION, "value": f"{record.added_at:%Y-%m-%d %H:%M:%S}"}
    value = record.get(field_id)
    entry = _field(field_id, value)
    text = _display_text(field_id, value, catalog, team)
    if text is not None:
        entry["text"] = text
    return entry


def _field(field_id: str, value: str) -> Json:
    caption = FIELDS_BY_ID[field_id].caption if field_id in FIELDS_BY_ID else _DATE1_CAPTION
    return {"id": field_id, "caption": caption, "value": value}


def _display_text(field_id: str, value: str, catalog: EnumCatalog, team: SalesTeam) -> str | None:
    spec = FIELDS_BY_ID[field_id]
    if spec.enum_id is not None:
        return catalog.text_of(spec.enum_id, value)
    if field_id == "sort1":
        return label(CATEGORIES, value)
    if field_id == "bz":
        return label(CURRENCIES, value)
    if field_id == "cateid":
        return team.name_of(value)
    return None
