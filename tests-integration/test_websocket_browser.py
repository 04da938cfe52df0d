"""The WebSocket chat example in a real browser: headless Chromium under uvicorn.

``examples/websocket`` runs under uvicorn (the app's ASGI entry) on 127.0.0.1;
the page opens a WebSocket, and what a second client (the ``websockets``
library) says appears in the browser, and what the browser says reaches it.
Skips when a piece is missing, fails instead under ``CI=true``.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib.util
import sys
from pathlib import Path

import pytest
from liveserver import answers
from liveserver import free_port
from liveserver import require_server
from liveserver import run_server
from test_browser import browser as browser  # noqa: F401 - the fixture
from test_browser import chromium as chromium  # the fixture browser needs
from test_browser import HAVE_SELENIUM

if HAVE_SELENIUM:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.wait import WebDriverWait

pytestmark = pytest.mark.server

EXAMPLE = Path(__file__).parents[1] / "examples" / "websocket"
WAIT = 10.0


@pytest.fixture
def chat(tmp_path: Path) -> cabc.Iterator[int]:
    """The chat example under uvicorn; yields its port."""
    for module, install in (("uvicorn", "'erlen[asgi]'"), ("websockets", "websockets")):
        require_server(
            module,
            importlib.util.find_spec(module) is not None,
            f"python -m pip install {install}",
        )
    port = free_port()
    with run_server(
        [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)],
        name="uvicorn",
        cwd=EXAMPLE,
        log_file=tmp_path / "uvicorn.log",
        ready=lambda: answers(port),
    ):
        yield port


def log_lines(driver: WebDriver) -> list[str]:
    return [p.text for p in driver.find_elements(By.CSS_SELECTOR, "#log p")]


def wait_for_line(driver: WebDriver, line: str) -> None:
    WebDriverWait(driver, WAIT).until(
        lambda d: line in log_lines(d), f"{line!r} never appeared: {log_lines(driver)}"
    )


def test_chat_in_the_browser(browser: WebDriver, chat: int) -> None:  # noqa: F811
    from websockets.sync.client import connect
    from websockets.typing import Origin

    browser.get(f"http://127.0.0.1:{chat}/")
    assert browser.title == "erlen chat"
    browser.find_element(By.ID, "name").send_keys("ada")
    browser.find_element(By.CSS_SELECTOR, "#join button").click()
    wait_for_line(browser, "ada joined")

    with connect(
        f"ws://127.0.0.1:{chat}/chat?name=bob",
        origin=Origin(f"http://127.0.0.1:{chat}"),
        open_timeout=WAIT,
    ) as bob:
        wait_for_line(browser, "bob joined")
        bob.send("hello from bob")
        wait_for_line(browser, "bob: hello from bob")
        browser.find_element(By.ID, "message").send_keys("hi bob")
        browser.find_element(By.CSS_SELECTOR, "#say button").click()
        replies = []
        while "ada: hi bob" not in replies:
            replies.append(bob.recv(timeout=WAIT))
    wait_for_line(browser, "bob left")
