import httpx
import pytest

from tests.erp_simulator.erp_calls import (
    ENUMS,
    allocate,
    asp,
    quiet_settings,
    save_unit,
    sim_client,
    token_for,
)


def options(result: dict[str, object]) -> dict[int, str]:
    source = result["body"]["source"]  # type: ignore[index]
    return {item["value"]: item["text"] for item in source["options"]}


@pytest.mark.parametrize(
    ("enum_id", "expected"),
    [(11, {139: "印刷"}), (13, {171: "网站注册", 172: "朋友介绍", 173: "陌生开发"}),
     (14, {175: "很高", 289: "较高", 176: "一般", 177: "较低", 290: "很低"})],
)  # fmt: skip
async def test_enums_list_value_text_pairs(
    client: httpx.AsyncClient, token: str, enum_id: int, expected: dict[int, str]
) -> None:
    result = await asp(client, f"{ENUMS}?enumid={enum_id}", token)

    assert expected.items() <= options(result).items()


async def test_enum_page_answers_under_the_short_path_and_via_datas(
    client: httpx.AsyncClient, token: str
) -> None:
    result = await asp(client, "/mobilephone/source.asp", token, enumid=13)

    assert options(result)[172] == "朋友介绍"


async def test_unknown_enum_is_an_error(client: httpx.AsyncClient, token: str) -> None:
    result = await asp(client, f"{ENUMS}?enumid=9999", token)

    assert result["header"]["status"] != 0


async def test_enums_need_a_session(client: httpx.AsyncClient) -> None:
    result = await asp(client, f"{ENUMS}?enumid=11", "BAD")

    assert result["header"]["status"] != 0


async def test_shuffled_enums_break_hard_coded_ids() -> None:
    async with sim_client(quiet_settings(enum_shuffle=True)) as client:
        token = await token_for(client)
        trades = options(await asp(client, f"{ENUMS}?enumid=11", token))
        printing = next(value for value, text in trades.items() if text == "印刷")
        hard_coded = await save_unit(client, token, await allocate(client, token), trade="139")
        looked_up = await save_unit(
            client, token, await allocate(client, token), khid="", trade=str(printing)
        )

    assert printing != 139
    assert hard_coded["header"]["status"] != 0
    assert looked_up["header"]["status"] == 0
