"""erlen-forms' CSRF protection in a real browser: headless Chromium against the demo.

The notes demo (``examples/demo``, protected by ``CSRFProtect``) runs under
gunicorn on 127.0.0.1, and the browser is logged in to it. A second server on another port plays the attacker: its
page holds a form that posts to the demo. Chromium sends ``Sec-Fetch-Site`` and
``Origin`` with that post, as it does for every form, and erlen-forms refuses
it before looking for a token; the same form filled in on the demo's own page
is accepted. Chromium setup and skipping rules are those of ``test_browser.py``.
"""

from __future__ import annotations

import collections.abc as cabc
import http.server
import json
import threading
import typing as t

import pytest
from liveserver import LiveServer
from test_browser import backend as backend
from test_browser import browser as browser
from test_browser import chromium as chromium
from test_browser import click_to_page
from test_browser import demo as demo
from test_browser import fill
from test_browser import HAVE_SELENIUM
from test_browser import register_in_browser
from test_browser import submit
from test_browser import wait_for_page

if HAVE_SELENIUM:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.server

ATTACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head>
<body>
<form method="post" action="{target}/notes/new">
  <input type="hidden" name="title" value="Forged by another site">
  <input type="hidden" name="body" value="cross-site request forgery">
  <button id="claim" type="submit">Claim your prize</button>
</form>
</body></html>
"""


class _AttackerPage(http.server.BaseHTTPRequestHandler):
    """Serves the attacker's page, whose form posts to ``target``."""

    target: t.ClassVar[str] = ""

    def do_GET(self) -> None:
        body = ATTACK_PAGE.format(target=self.target).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: t.Any) -> None:
        pass


@pytest.fixture
def attacker(demo: LiveServer) -> cabc.Iterator[int]:
    """A second web server on 127.0.0.1 whose page posts to the demo; its port."""
    _AttackerPage.target = demo.url
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def note_titles(browser: WebDriver, demo: LiveServer) -> list[str]:
    """The titles of the demo's notes, as its JSON API lists them to the browser.

    Read in the browser: gunicorn's sync workers may be held by connections
    Chromium opened ahead of time, so a second client could wait for them.
    """
    browser.get(demo.url + "/api/notes")
    payload = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    return [note["title"] for note in payload["items"]]


@pytest.mark.parametrize(
    ("host", "site"),
    [
        # another port of the same host: the same site, but another origin, where
        # SameSite cookies are sent and do not help
        ("127.0.0.1", "same-site"),
        # another host name: another site
        ("localhost", "cross-site"),
    ],
)
def test_a_form_on_another_origin_is_refused(
    browser: WebDriver, demo: LiveServer, attacker: int, host: str, site: str
) -> None:
    # The victim is logged in to the demo, so it holds the demo's cookies.
    register_in_browser(browser, demo, "victim")
    browser.get(demo.url + "/notes/new")
    wait_for_page(browser, "New note")

    browser.get(f"http://{host}:{attacker}/")
    assert browser.title == "Win a prize"
    click_to_page(browser, browser.find_element(By.ID, "claim"), "Bad Request")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "400 Bad Request" in text
    assert f"sent by a page of another site (Sec-Fetch-Site: {site})" in text
    assert note_titles(browser, demo) == []


def test_the_same_form_on_the_site_itself_is_accepted(
    browser: WebDriver, demo: LiveServer
) -> None:
    register_in_browser(browser, demo, "writer")
    browser.get(demo.url + "/notes/new")
    wait_for_page(browser, "New note")
    token = browser.find_element(By.NAME, "csrf_token").get_attribute("value")
    assert token
    fill(browser, title="Written on the site")
    submit(browser, "Written on the site")
    assert note_titles(browser, demo) == ["Written on the site"]
