"""The data-quality score of DOMAIN.md §5: every factor and its points, explained."""

from typing import Any

import pytest

from rules.domain.quality import score


def points(customer: dict[str, Any]) -> dict[str, int]:
    return {f.factor: f.points for f in score(customer).factors}


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ({}, 0),
        ({"phone": "13800138000"}, 15),
        ({"phone": "13800138000", "phone_verified": True}, 30),
        ({"phone": "", "phone_verified": True}, 0),
    ],
)
def test_phone_gives_30_verified_15_present(customer: dict[str, Any], expected: int) -> None:
    assert points(customer)["phone"] == expected


@pytest.mark.parametrize(
    ("name", "verified", "expected"),
    [
        ("测试公司", False, 20),
        ("测试公司", True, 30),
        ("宏达", False, 0),  # fewer than 4 characters
        ("王老板的厂", False, 0),
        ("张先生公司", True, 0),
        ("李女士工作室", False, 0),
        ("陈小姐商行", False, 0),
        (None, True, 0),
    ],
)
def test_company_gives_30_verified_20_present_long_and_not_a_person(name: str | None, verified: bool,
                                                                    expected: int) -> None:  # fmt: skip
    assert points({"company_name": name, "company_name_verified": verified})["company_name"] == expected


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ({"business_license_verified": True}, 20),
        ({"business_license_path": "/licences/1.jpg"}, 10),
        ({"business_license_path": "/licences/1.jpg", "business_license_verified": True}, 20),
        ({}, 0),
    ],
)
def test_licence_gives_20_verified_10_uploaded(customer: dict[str, Any], expected: int) -> None:
    assert points(customer)["business_license"] == expected


@pytest.mark.parametrize(
    ("intent", "expected"), [(100, 20), (80, 20), (79, 15), (60, 15), (59, 10), (40, 10), (39, 0), (None, 0)]
)
def test_intent_gives_20_15_10_at_80_60_40(intent: int | None, expected: int) -> None:
    assert points({"intent_score": intent})["intent"] == expected


def test_the_total_is_the_sum_of_the_factors_and_each_factor_says_why() -> None:
    q = score(
        {
            "phone": "13800138000",
            "phone_verified": True,
            "company_name": "汕头宏达彩印有限公司",
            "business_license_path": "/l.jpg",
            "intent_score": 85,
        }
    )
    assert q.score == 30 + 20 + 10 + 20 == sum(f.points for f in q.factors)
    assert [f.factor for f in q.factors] == ["phone", "company_name", "business_license", "intent"]
    assert all(f.reason for f in q.factors)
    assert sum(f.max_points for f in q.factors) == 100


def test_seed_q2_example_scores_45() -> None:
    q = score({"phone": "13800138000", "company_name": "测试公司", "intent_score": 50})
    assert q.score == 45
    assert q.completeness == 0.4


def test_quality_issues_name_what_is_wrong() -> None:
    q = score({"phone": "0755-8888888", "email": "not-an-email", "company_name": "张先生"})
    assert set(q.issues) == {"phone_not_mobile", "email_invalid", "company_name_personal"}
