"""The status page in a real headless browser (Debian's chromium + chromedriver), screenshots kept.

The browser comes from scripts/browser_tools.sh (as `make test` provisions it); without it this FAILS.
Screenshots: .local/artifacts/agent-status-*.png (not committed).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from rollsync_agent.status_page import StatusServer, serve
from tests.agent.status_fakes import (
    HOSTILE_CONTRACT,
    HOSTILE_MESSAGE,
    HOSTILE_REASON,
    Controlled,
    busy_snapshot,
)
from tests.support.stack import ROOT

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / ".local" / "artifacts"
# The seed's System.Drawing colours: Yellow, Orange, LightGreen, Pink.
COLOURS = {
    "disconnected": ("未连接", "rgba(255, 255, 0, 1)"),
    "syncing": ("同步中", "rgba(255, 165, 0, 1)"),
    "ok": ("同步成功", "rgba(144, 238, 144, 1)"),
    "failed": ("同步失败", "rgba(255, 192, 203, 1)"),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    tools = subprocess.run(
        [str(ROOT / "scripts" / "browser_tools.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if tools.returncode != 0 or not chromium or not driver_path:
        pytest.fail(f"no browser for the status page test: scripts/browser_tools.sh said\n{tools.stderr}")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,900"):
        options.add_argument(arg)
    options.binary_location = chromium
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def ctl() -> Controlled:
    return Controlled(busy_snapshot("disconnected"))


@pytest.fixture
def page(ctl: Controlled, browser: webdriver.Chrome) -> Iterator[StatusServer]:
    srv = serve(ctl.snapshot, ctl.request_sync, "127.0.0.1", 0)
    browser.get(srv.url)
    yield srv
    browser.get("about:blank")  # stop its polling first: the next test's server may get the same port
    srv.stop()


def until(browser: webdriver.Chrome, what: str, check: Callable[[webdriver.Chrome], bool]) -> None:
    """Poll the live page. It replaces itself when the snapshot changes, so a node found a moment ago can be gone
    (stale, or chromedriver's "Node ... does not belong to the document"): such a poll is simply tried again."""
    WebDriverWait(browser, 20, poll_frequency=0.2, ignored_exceptions=(WebDriverException,)).until(
        check, message=what
    )


def in_page(browser: webdriver.Chrome, script: str, *args: str) -> Any:
    """Read the page inside the page in one step, so it cannot replace a node between the find and the read."""
    read: list[Any] = []

    def attempt(b: webdriver.Chrome) -> bool:
        read[:] = [b.execute_script(script, *args)]
        return True

    until(browser, f"page read {script!r}", attempt)
    return read[0]


def text_of(browser: webdriver.Chrome, element_id: str) -> str:
    return str(in_page(browser, "return document.getElementById(arguments[0]).innerText", element_id))


def label(browser: webdriver.Chrome) -> tuple[str, str]:
    state = browser.find_element(By.ID, "state")
    return state.text, state.value_of_css_property("background-color")


def shows(state: str) -> Callable[[webdriver.Chrome], bool]:
    text, colour = COLOURS[state]
    return lambda b: label(b) == (f"同步状态: {text}", colour)


def screenshot(browser: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / f"agent-status-{name}.png"))


def test_each_state_in_its_colour_as_the_page_refreshes_itself(
    page: StatusServer, ctl: Controlled, browser: webdriver.Chrome
) -> None:
    for state in ("disconnected", "syncing", "ok", "failed"):
        ctl.snap = busy_snapshot(state)
        until(browser, f"label for {state}", shows(state))  # no driver refresh: the page's own polling
        screenshot(browser, state)


def test_counts_and_hostile_rows_render_as_text(
    page: StatusServer, ctl: Controlled, browser: webdriver.Chrome
) -> None:
    ctl.snap = busy_snapshot("ok")
    until(browser, "ok state", shows("ok"))
    assert text_of(browser, "last-upload").endswith("120 行 lines")
    assert text_of(browser, "last-download").endswith("7 行 lines")
    assert text_of(browser, "pending") == "3"
    assert text_of(browser, "rejected-count") == "2"
    first = in_page(
        browser,
        "return [...document.querySelectorAll('#rejected tr:nth-child(2) td')].map(td => td.innerText)",
    )
    assert first[:4] == [HOSTILE_CONTRACT, "P-1", HOSTILE_REASON, HOSTILE_MESSAGE.strip()]
    assert browser.find_elements(By.CSS_SELECTOR, "img, #injected, b") == []
    assert browser.execute_script("return window.pwned === undefined") is True
    screenshot(browser, "rejected-rows")


def test_refused_secret_is_visible(page: StatusServer, ctl: Controlled, browser: webdriver.Chrome) -> None:
    ctl.snap = busy_snapshot("disconnected", auth_failed=True)
    until(browser, "failed for a refused secret", shows("failed"))
    notice = text_of(browser, "auth")
    assert "client_secret" in notice
    assert "ask the administrator for a new secret" in notice
    screenshot(browser, "auth-failed")


def click_sync_now(browser: webdriver.Chrome) -> bool:
    """Find and click the button; the page reloads itself when the snapshot changes, so a node found just before
    a reload is gone by the click: then find it again on the next poll."""
    try:
        button = browser.find_element(By.ID, "sync-now")
        if button.text != "立即同步":
            return False
        button.click()
    except WebDriverException:
        return False
    return True


def test_sync_now_button_requests_a_round_and_shows_syncing(
    page: StatusServer, ctl: Controlled, browser: webdriver.Chrome
) -> None:
    ctl.snap = busy_snapshot("ok")
    until(browser, "ok state", shows("ok"))
    until(browser, "立即同步 clicked", click_sync_now)
    until(browser, "request_sync called", lambda _: ctl.sync_requests >= 1)
    until(browser, "同步中 after the click", shows("syncing"))
    screenshot(browser, "after-click")


class _Attacker(BaseHTTPRequestHandler):
    """Another local web page: it POSTs to the agent's /sync-now behind the clerk's back."""

    target = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><title>attacker</title><script>"
            f"fetch({self.target!r}, {{method: 'POST', mode: 'no-cors'}})"
            ".then(() => document.title = 'sent', e => document.title = 'failed: ' + e);</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_another_local_page_cannot_press_the_button(
    page: StatusServer, ctl: Controlled, browser: webdriver.Chrome, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rollsync_agent.status_page")
    _Attacker.target = f"{page.url}sync-now"
    attacker = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{attacker.server_address[1]}/")
        until(browser, "the attacker's POST went out", lambda b: b.title == "sent")
    finally:
        attacker.shutdown()
        attacker.server_close()
    assert ctl.sync_requests == 0
    origin = f"http://127.0.0.1:{attacker.server_address[1]}"
    assert f"refused /sync-now from origin {origin!r}" in caplog.text  # it arrived, and was refused
