"""The explainable data-quality score of seed 004 (DOMAIN.md §5): total and each factor's points. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.domain.formats import is_email, is_empty, is_mobile, is_personal_name, to_int

MIN_COMPANY_CHARS = 4
COMPLETENESS_FIELDS = ("company_name", "real_name", "phone", "email", "address")


@dataclass(frozen=True, slots=True)
class Factor:
    factor: str
    points: int
    max_points: int
    reason: str


@dataclass(frozen=True, slots=True)
class Quality:
    score: int
    factors: tuple[Factor, ...]
    completeness: float
    issues: tuple[str, ...]


def _phone(c: Mapping[str, Any]) -> Factor:
    if is_empty(c.get("phone")):
        return Factor("phone", 0, 30, "无手机号")
    if c.get("phone_verified"):
        return Factor("phone", 30, 30, "手机号已验证")
    return Factor("phone", 15, 30, "有手机号但未验证")


def _company(c: Mapping[str, Any]) -> Factor:
    name = c.get("company_name")
    if is_empty(name):
        return Factor("company_name", 0, 30, "无公司名")
    text = str(name).strip()
    if len(text) < MIN_COMPANY_CHARS:
        return Factor("company_name", 0, 30, f"公司名不足 {MIN_COMPANY_CHARS} 个字")
    if is_personal_name(text):
        return Factor("company_name", 0, 30, "公司名像个人称呼（先生/女士/老板/小姐）")
    if c.get("company_name_verified"):
        return Factor("company_name", 30, 30, "公司名已验证")
    return Factor("company_name", 20, 30, "有公司名但未验证")


def _licence(c: Mapping[str, Any]) -> Factor:
    if c.get("business_license_verified"):
        return Factor("business_license", 20, 20, "营业执照已验证")
    if not is_empty(c.get("business_license_path")):
        return Factor("business_license", 10, 20, "已上传营业执照，未验证")
    return Factor("business_license", 0, 20, "无营业执照")


def _intent(c: Mapping[str, Any]) -> Factor:
    score = to_int(c.get("intent_score")) or 0
    for threshold, points in ((80, 20), (60, 15), (40, 10)):
        if score >= threshold:
            return Factor("intent", points, 20, f"意向分 {score} ≥ {threshold}")
    return Factor("intent", 0, 20, f"意向分 {score} < 40")


def _issues(c: Mapping[str, Any]) -> tuple[str, ...]:
    found = []
    phone, email, company = c.get("phone"), c.get("email"), c.get("company_name")
    if not is_empty(phone) and not is_mobile(str(phone)):
        found.append("phone_not_mobile")
    if not is_empty(email) and not is_email(str(email)):
        found.append("email_invalid")
    if not is_empty(company) and is_personal_name(str(company)):
        found.append("company_name_personal")
    return tuple(found)


def score(customer: Mapping[str, Any]) -> Quality:
    """`customer` is flat, as the seed's rule engine takes it: phone, phone_verified, company_name, …"""
    factors = (_phone(customer), _company(customer), _licence(customer), _intent(customer))
    present = sum(not is_empty(customer.get(f)) for f in COMPLETENESS_FIELDS)
    return Quality(
        sum(f.points for f in factors),
        factors,
        round(present / len(COMPLETENESS_FIELDS), 2),
        _issues(customer),
    )
