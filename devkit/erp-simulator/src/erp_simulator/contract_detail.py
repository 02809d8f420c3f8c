"""``Data`` of ``/webapi/v3/sales/contract/detail`` (ERP_ZHIBANG.md section 8)."""

from erp_simulator.contracts import ContractRecord
from erp_simulator.enums import CONTRACT_STATES, label
from erp_simulator.envelopes import Json


def contract_detail(record: ContractRecord, customer_name: str) -> Json:
    return {
        "Ord": record.ord,
        "Title": record.get("title"),
        "Htid": record.get("htid"),
        "Company": record.get("company"),
        "CompanyName": customer_name,
        "Date3": record.get("date3"),
        "Date1": record.get("date1"),
        "Date2": record.get("date2"),
        "Date7": f"{record.added_at:%Y-%m-%d %H:%M:%S}",
        "Complete1": record.get("complete1"),
        "Complete1Name": label(CONTRACT_STATES, record.get("complete1")),
        "SpStatus": record.get("spzt"),
        "mZt1": record.get("ckjz"),
        "mZt2": record.get("fhjz"),
        "Premoney": record.get("premoney"),
        "Yhvalue": record.get("yhvalue"),
        "Money1": record.get("money1"),
        "HkMoney1": record.get("hkmoney"),
        "contractlist": [
            {
                "Title": line.title,
                "Order1": line.order1,
                "Type1": line.type1,
                "Unit": line.unit,
                "Num1": line.num1,
                "Price1": line.price1,
                "Money1": line.money1,
                "Date2": line.date2,
            }
            for line in record.lines
        ],
    }
