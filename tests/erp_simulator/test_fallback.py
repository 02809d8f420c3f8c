import httpx
import pytest


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/webapi/v3/sales/customer/list"), ("POST", "/sysa/mobilephone/nothing.asp"),
     ("GET", "/sysa/mobilephone/login.asp"), ("GET", "/docs")],
)  # fmt: skip
async def test_unknown_paths_answer_html_under_http_200(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text


async def test_unknown_control_path_is_a_plain_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/_sim/nothing")

    assert response.status_code == 404


async def test_unreadable_body_is_an_envelope_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/sysa/mobilephone/salesmanage/custom/list.asp", content=b"{not json")

    assert response.status_code == 200
    assert response.json()["header"]["status"] != 0
