"""erlen-rest's Swagger UI and ReDoc in a real browser: every operation of the example API is shown.

The pet store example (``examples/rest``) runs under gunicorn; headless
Chromium opens its docs page, which loads Swagger UI from the pinned
``swagger-ui-bundle-v2`` package, and its ReDoc page, which loads the bundle
vendored in erlen-rest (no CDN: Chromium resolves no host name).
Skips like ``test_browser.py`` when Selenium or Chromium is missing, and fails
instead under ``CI=true``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from liveserver import StartServer
from test_browser import browser as browser  # the fixture
from test_browser import chromium as chromium  # which the browser fixture needs
from test_browser import HAVE_SELENIUM
from test_browser import WAIT

pytestmark = pytest.mark.server

EXAMPLE = Path(__file__).parents[1] / "examples" / "rest"


def test_swagger_ui_shows_every_operation(
    gunicorn_server: StartServer, browser: object
) -> None:
    if not HAVE_SELENIUM:  # pragma: no cover - the fixture skips first
        pytest.skip("selenium is not installed")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.wait import WebDriverWait

    assert isinstance(browser, WebDriver)
    server = gunicorn_server(
        "petstore:app",
        cwd=EXAMPLE,
        env={"ERLEN_SWAGGER_UI_DOC_EXPANSION": "list"},
    )
    document = server.client().get("/openapi.json").json()
    expected = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
    }
    browser.get(server.url + "/")
    WebDriverWait(browser, WAIT * 2).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected),
        "Swagger UI did not render the operations",
    )
    shown = set()
    for block in browser.find_elements(By.CSS_SELECTOR, ".opblock"):
        method = block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text
        path = block.find_element(
            By.CSS_SELECTOR, ".opblock-summary-path"
        ).get_attribute("data-path")
        shown.add((method.strip().upper(), path))
    assert shown == expected


def test_redoc_shows_every_operation(
    gunicorn_server: StartServer, browser: object
) -> None:
    if not HAVE_SELENIUM:  # pragma: no cover - the fixture skips first
        pytest.skip("selenium is not installed")
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.wait import WebDriverWait

    assert isinstance(browser, WebDriver)
    server = gunicorn_server("petstore:app", cwd=EXAMPLE)
    document = server.client().get("/openapi.json").json()
    expected = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
    }
    assert len(expected) > 3
    # ReDoc's middle panel: one endpoint bar per operation, the verb then the path.
    read_endpoints = """return Array.from(document.querySelectorAll('.api-content .http-verb'))
        .map(v => [v.textContent.trim().toUpperCase(),
                   v.nextElementSibling ? v.nextElementSibling.textContent.trim() : ''])"""
    browser.get(server.url + "/redoc")
    WebDriverWait(browser, WAIT * 2).until(
        lambda d: len(d.execute_script(read_endpoints)) >= len(expected),
        "ReDoc did not render the operations",
    )
    shown = {tuple(pair) for pair in browser.execute_script(read_endpoints)}
    assert shown == expected
    assert browser.title == document["info"]["title"]
