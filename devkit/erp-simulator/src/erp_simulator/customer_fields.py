"""Customer field ids, captions and limits of the vendor copy (ERP_ZHIBANG.md section 5)."""

from dataclasses import dataclass

from erp_simulator.enums import ENUM_SOURCE, ENUM_TRADE, ENUM_VALUE


@dataclass(frozen=True)
class FieldSpec:
    id: str
    caption: str
    max_len: int | None = None
    enum_id: int | None = None


_CONTACT = 50
_LONG_TEXT = 4000
_BANK = tuple(
    FieldSpec(f"bank_{i}", caption, 50)
    for i, caption in enumerate(
        ("开户银行", "银行账号", "开户名称", "税号", "开票地址", "开票电话", "开票备注"), start=1
    )
)

SAVABLE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "客户名称", 100),
    FieldSpec("pym", "拼音码", 200),
    FieldSpec("khid", "客户编号", 50),
    FieldSpec("sort1", "客户分类", 50),
    FieldSpec("ly", "客户来源", enum_id=ENUM_SOURCE),
    FieldSpec("trade", "客户行业", enum_id=ENUM_TRADE),
    FieldSpec("jz", "价值评估", enum_id=ENUM_VALUE),
    FieldSpec("area", "客户区域", 50),
    FieldSpec("bz", "客户币种", 50),
    FieldSpec("credit", "信用等级", 50),
    FieldSpec("cateid", "销售人员", 50),
    FieldSpec("url", "客户网址", 100),
    FieldSpec("address", "客户地址", 200),
    FieldSpec("zip", "邮编", 10),
    FieldSpec("faren", "法人代表", 50),
    FieldSpec("zijin", "注册资本", 50),
    FieldSpec("pernum1", "人员数量-销售", 10),
    FieldSpec("pernum2", "人员数量-总数", 10),
    FieldSpec("product", "客户简介", _LONG_TEXT),
    FieldSpec("c2", "合作现状", _LONG_TEXT),
    FieldSpec("c3", "合作前景", _LONG_TEXT),
    FieldSpec("c4", "跟进策略", _LONG_TEXT),
    FieldSpec("intro", "备注", _LONG_TEXT),
    FieldSpec("person_name", "联系人", 50),
    FieldSpec("sex", "性别", 10),
    FieldSpec("job", "职务", 50),
    FieldSpec("part1", "部门", 50),
    FieldSpec("age", "年龄", 10),
    FieldSpec("year1", "生日", 20),
    FieldSpec("mobile", "手机", _CONTACT),
    FieldSpec("phone", "办公电话", _CONTACT),
    FieldSpec("fax", "传真", _CONTACT),
    FieldSpec("email", "电子邮件", _CONTACT),
    FieldSpec("qq", "QQ", 20),
    FieldSpec("weixinAcc", "微信", _CONTACT),
    *_BANK,
    FieldSpec("fkdays", "账期", 10),
    FieldSpec("fkdate", "结算日", 10),
)
FIELDS_BY_ID = {spec.id: spec for spec in SAVABLE_FIELDS}

# Internal keys with no documented ASP save id; V3 `sort1` and follow-up records set them.
FOLLOW_LEVEL = "follow_level"
TALK_PROGRESS = "telintro"

REQUIRED_BY_INTSORT: dict[int, tuple[str, ...]] = {
    1: ("name", "sort1", "person_name"),
    2: ("name", "sort1"),
}
# V3 reuses some ASP names for other meanings (section 5 "The two styles name fields differently").
V3_RENAMES = {"sort2": "intsort", "sort": "sort1", "sort1": FOLLOW_LEVEL}

DETAIL_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "基本信息",
        (
            "name",
            "pym",
            "khid",
            "sort1",
            "ly",
            "trade",
            "jz",
            "area",
            "credit",
            "bz",
            "cateid",
            "url",
            "address",
            "zip",
            "faren",
            "zijin",
            "pernum1",
            "pernum2",
        ),
    ),
    (
        "联系人",
        (
            "person_name",
            "sex",
            "job",
            "part1",
            "age",
            "year1",
            "mobile",
            "phone",
            "fax",
            "email",
            "qq",
            "weixinAcc",
        ),
    ),
    ("开票信息", (*(spec.id for spec in _BANK), "fkdays", "fkdate")),
    ("其他信息", ("product", "c2", "c3", "c4", "intro", "date1")),
)
