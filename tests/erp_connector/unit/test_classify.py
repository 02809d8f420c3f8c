"""Error classification from both envelope styles, HTML and HTTP statuses (ERP_ZHIBANG.md §4, §10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from erp_connector.domain.classify import (
    Vocabulary,
    asp_error,
    http_error,
    is_not_found,
    parse_json,
    parse_retry_after,
    v3_error,
)
from erp_connector.domain.errors import (
    AuthError,
    BusinessError,
    CaptchaRequiredError,
    SessionExpiredError,
    TransientError,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def asp(status: int, message: str = "") -> dict[str, object]:
    return {"header": {"status": status, "message": message}}


def test_asp_status_zero_is_success() -> None:
    assert asp_error(asp(0)) is None


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("用户名或密码错误", AuthError),
        ("用户名或密码解密失败", AuthError),
        ("序列号不能为空且不能超过20位", AuthError),
        ("请输入验证码", CaptchaRequiredError),
        ("验证码错误", CaptchaRequiredError),
    ],
)
def test_a_failed_login_is_a_rejection_never_a_retry(message: str, cls: type[Exception]) -> None:
    error = asp_error(asp(1, message), login=True)
    assert type(error) is cls
    assert not isinstance(error, TransientError)


def test_a_throttled_login_is_transient_not_a_rejection() -> None:
    error = asp_error(asp(7, "访问过于频繁，请稍后再试"), login=True)
    assert isinstance(error, TransientError) and error.throttled and not error.maybe_applied


@pytest.mark.parametrize("message", ["登录超时或未登录", "会话已失效，请重新登录"])
def test_an_expired_session_means_log_in_again(message: str) -> None:
    assert isinstance(asp_error(asp(5, message)), SessionExpiredError)


def test_other_asp_failures_are_business_errors_with_the_erp_text() -> None:
    error = asp_error(asp(6, "联系人(person_name)不能为空"))
    assert isinstance(error, BusinessError)
    assert error.message == "联系人(person_name)不能为空"
    assert error.erp_status == "6"


def test_a_missing_header_is_transient() -> None:
    assert isinstance(asp_error({"body": {}}), TransientError)


def test_extra_texts_from_a_real_instance_extend_the_vocabulary() -> None:
    vocabulary = Vocabulary(session_expired=("令牌失效",))
    assert isinstance(asp_error(asp(9, "令牌失效"), vocabulary=vocabulary), SessionExpiredError)
    assert isinstance(asp_error(asp(9, "令牌失效")), BusinessError)


@pytest.mark.parametrize(
    ("code", "cls"),
    [(300, BusinessError), (400, SessionExpiredError), (500, TransientError), (999, TransientError)],
)
def test_v3_codes(code: int, cls: type[Exception]) -> None:
    assert v3_error({"Code": 200, "Msg": "ok"}) is None
    assert type(v3_error({"Code": code, "Msg": "x"})) is cls


def test_v3_throttling_in_a_300_is_transient() -> None:
    error = v3_error({"Code": 300, "Msg": "访问过于频繁，请稍后再试"})
    assert isinstance(error, TransientError) and error.throttled


def test_html_and_truncated_bodies_are_transient() -> None:
    with pytest.raises(TransientError, match="HTML"):
        parse_json(
            b"<html><body>Microsoft VBScript \xe8\xbf\x90\xe8\xa1\x8c\xe6\x97\xb6\xe9\x94\x99\xe8\xaf\xaf</body></html>"
        )
    with pytest.raises(TransientError, match="unreadable"):
        parse_json(b'{"header":{"sta')
    with pytest.raises(TransientError):
        parse_json(b"[1, 2]")
    assert parse_json(b'{"header": {"status": 0}}') == {"header": {"status": 0}}


def test_429_and_503_with_retry_after_are_throttles_that_were_not_applied() -> None:
    for status in (429, 503):
        error = http_error(status, {"retry-after": "3"}, NOW)
        assert isinstance(error, TransientError)
        assert (error.retry_after, error.throttled, error.maybe_applied) == (3.0, True, False)


def test_500_may_have_been_applied() -> None:
    error = http_error(500, {}, NOW)
    assert isinstance(error, TransientError) and error.maybe_applied and not error.throttled
    plain_503 = http_error(503, {}, NOW)
    assert isinstance(plain_503, TransientError) and plain_503.maybe_applied


def test_redirects_and_4xx() -> None:
    assert http_error(200, {}) is None
    assert isinstance(http_error(302, {"location": "/login"}), TransientError)
    assert isinstance(http_error(404, {}), BusinessError)
    assert isinstance(http_error(408, {}), TransientError)


def test_retry_after_takes_seconds_or_an_http_date_and_is_capped() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("999999", NOW) == 3600.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_not_found_is_recognised_in_business_errors_only() -> None:
    assert is_not_found(BusinessError("客户不存在或没有查看权限"))
    assert not is_not_found(BusinessError("客户名称重复"))
    assert not is_not_found(TransientError("客户不存在"))
