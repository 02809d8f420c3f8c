"""Contract header field ids, captions and rules (ERP_ZHIBANG.md section 8)."""

from erp_simulator.customer_fields import FieldSpec

SAVABLE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("company", "客户"),
    FieldSpec("htid", "合同编号", 50),
    FieldSpec("title", "合同主题", 100),
    FieldSpec("date3", "签订日期"),
    FieldSpec("date1", "开始日期"),
    FieldSpec("date2", "结束日期"),
    FieldSpec("sort", "合同分类"),
    FieldSpec("complete1", "合同状态"),
    FieldSpec("bz", "币种"),
    FieldSpec("premoney", "合同总额"),
    FieldSpec("yhvalue", "优惠总额"),
    FieldSpec("money1", "优惠后总额"),
    FieldSpec("fqhk", "收款计划"),
    FieldSpec("invoicePlan", "开票计划"),
    FieldSpec("invoiceMode", "开票类型"),
    FieldSpec("cateid", "销售人员"),
    FieldSpec("person2id", "对方代表"),
    FieldSpec("intro", "合同概要", 4000),
    FieldSpec("extras", "运杂费"),
    FieldSpec("jh_intro3", "付款方式", 100),
    FieldSpec("jh_intro4", "交货地址", 100),
    FieldSpec("jh_intro5", "交货方式", 100),
    FieldSpec("jh_intro6", "交货时间", 100),
)
FIELDS_BY_ID = {spec.id: spec for spec in SAVABLE_FIELDS}

REQUIRED = (
    "company",
    "htid",
    "title",
    "date3",
    "date1",
    "sort",
    "bz",
    "premoney",
    "yhvalue",
    "money1",
    "fqhk",
    "invoicePlan",
    "invoiceMode",
)
MONEY_FIELDS = ("premoney", "yhvalue", "money1", "extras")
DATE_FIELDS = ("date3", "date1", "date2")
DEFAULT_STATE = "195"
