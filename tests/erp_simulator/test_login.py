import httpx
import pytest

from tests.erp_simulator.erp_calls import (
    CUSTOMER_LIST,
    LOGIN,
    LOGIN_ASP,
    LOGOUT,
    PASSWORD,
    asp,
    login,
    login_body,
)

WRONG = "txt:not-the-password"


@pytest.mark.parametrize("path", [LOGIN, LOGIN_ASP])
async def test_login_with_plain_text_credentials_returns_a_session(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(path, json=login_body())

    header = response.json()["header"]
    assert header["status"] == 0
    assert header["message"] == "API鉴权成功."
    assert header["appversion"] == "32.17"
    assert len(header["session"]) >= 16


async def test_each_login_gets_a_different_token(client: httpx.AsyncClient) -> None:
    first, second = await login(client), await login(client)

    assert first["session"] != second["session"]


async def test_wrong_password_fails_with_a_reason(client: httpx.AsyncClient) -> None:
    header = await login(client, password=WRONG)

    assert header["status"] != 0
    assert "session" not in header
    assert "密码" in header["message"]


@pytest.mark.parametrize(
    "fields",
    [{"user": "rollsync"}, {"password": PASSWORD}],
    ids=["user-without-txt", "password-without-txt"],
)
async def test_values_without_txt_prefix_count_as_undecryptable_des(
    client: httpx.AsyncClient, fields: dict[str, str]
) -> None:
    header = await login(client, **fields)

    assert header["status"] != 0
    assert "解密" in header["message"]


@pytest.mark.parametrize("serial", ["", "txt:", "txt:" + "A" * 21, "B" * 21])
async def test_empty_or_overlong_serial_number_is_rejected(client: httpx.AsyncClient, serial: str) -> None:
    header = await login(client, serialnum=serial)

    assert header["status"] != 0
    assert "序列号" in header["message"]


@pytest.mark.parametrize("serial", ["txt:" + "C" * 20, "ABC123"])
async def test_serial_number_of_up_to_20_characters_is_accepted(
    client: httpx.AsyncClient, serial: str
) -> None:
    header = await login(client, serialnum=serial)

    assert header["status"] == 0


async def test_three_failures_lock_the_user_until_the_captcha_is_sent(
    client: httpx.AsyncClient,
) -> None:
    failures = [await login(client, password=WRONG) for _ in range(3)]

    locked = await login(client)
    wrong_captcha = await login(client, rndcode="txt:0000")
    with_captcha = await login(client, rndcode="txt:8888")

    assert all(f["status"] == failures[0]["status"] != 0 for f in failures)
    assert locked["status"] not in (0, failures[0]["status"])
    assert locked["message"] == "请输入验证码"
    assert wrong_captcha["status"] == locked["status"]
    assert with_captcha["status"] == 0


async def test_two_failures_do_not_demand_the_captcha(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        await login(client, password=WRONG)

    assert (await login(client))["status"] == 0


async def test_failures_count_per_user(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await login(client, user="txt:someone-else", password=WRONG)

    assert (await login(client))["status"] == 0


async def test_unlock_clears_the_failure_count(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await login(client, password=WRONG)

    unlocked = await client.post("/_sim/unlock", json={"user": "rollsync"})

    assert unlocked.status_code == 200
    assert (await login(client))["status"] == 0


async def test_state_counts_logins_and_failures(client: httpx.AsyncClient) -> None:
    await login(client)
    await login(client, password=WRONG)

    state = (await client.get("/_sim/state")).json()

    assert state["logins"] == 1
    assert state["failed_logins"] == 1
    assert state["login_failures"] == {"rollsync": 1}


async def test_logout_ends_the_session(client: httpx.AsyncClient, token: str) -> None:
    bye = await asp(client, LOGOUT, token)

    after = await asp(client, CUSTOMER_LIST, token, "refresh")

    assert bye["header"]["status"] == 0
    assert bye["body"]["message"]["title"]
    assert after["header"]["status"] != 0
