"""Use the erlen notes demo in a real browser: headless Chromium driven by Selenium.

The demo (``examples/demo``) runs under gunicorn on 127.0.0.1 with its instance
folder in tmp. Chromium and chromedriver come from Debian's packages
(``apt-get install chromium chromium-driver``) and Selenium is told where they
are, so nothing is downloaded: Selenium Manager, which would fetch drivers, is
never run. The test skips when a piece is missing and fails instead under
``CI=true``.
"""

from __future__ import annotations

import collections.abc as cabc
import struct
import typing as t
from pathlib import Path

import pytest
from liveserver import LiveServer
from liveserver import require_server
from liveserver import StartServer

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.selenium_manager import SeleniumManager
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:
    HAVE_SELENIUM = False
else:
    HAVE_SELENIUM = True

pytestmark = pytest.mark.server

DEMO = Path(__file__).parents[1] / "examples" / "demo"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium still looks up Google's and the search engine's hosts (autofill,
    # accounts, updates); resolve no host name at all, the demo is at 127.0.0.1.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--window-size=1200,900",
)
#: Seconds to wait for a page or an element; the demo answers in milliseconds.
WAIT = 5.0
PAGE_LOAD_TIMEOUT = 10.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _selenium_manager_called(self: object, args: list[str]) -> t.NoReturn:
    """Stand in for Selenium Manager, which the test must never reach."""
    raise AssertionError(
        "Selenium tried to run Selenium Manager, which downloads drivers and"
        f" browsers (with {args}); give Service the path of chromedriver"
    )


@pytest.fixture
def browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> cabc.Iterator[WebDriver]:
    """Headless Chromium from Debian, with a fresh profile; quit when the test ends."""
    require_server("selenium", HAVE_SELENIUM, "python -m pip install selenium")
    require_server("Chromium", CHROMIUM.is_file(), "apt-get install chromium")
    require_server(
        "chromedriver", CHROMEDRIVER.is_file(), "apt-get install chromium-driver"
    )
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setattr(SeleniumManager, "binary_paths", _selenium_manager_called)

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(
        executable_path=str(CHROMEDRIVER),
        log_output=str(tmp_path / "chromedriver.log"),
    )
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        driver.set_script_timeout(PAGE_LOAD_TIMEOUT)
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def demo(gunicorn_server: StartServer, tmp_path: Path) -> LiveServer:
    """The notes demo under gunicorn, with an empty database in tmp."""
    instance = tmp_path / "instance"
    return gunicorn_server(
        f"notes:create_app(instance_path={str(instance)!r})", cwd=DEMO
    )


def wait_for_page(driver: WebDriver, title: str) -> None:
    """Wait until the page's title is ``title - erlen notes``, or fail saying why."""
    expected = f"{title} - erlen notes"
    try:
        WebDriverWait(driver, WAIT).until(ec.title_is(expected))
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(
            f"expected the page {expected!r} within {WAIT} s, but {driver.current_url}"
            f" is {driver.title!r}:\n{body[:1000]}"
        ) from None


def click_to_page(driver: WebDriver, element: WebElement, title: str) -> None:
    """Click ``element``, wait for the next page to replace this one, check its title.

    The next page may have the same title (a form shown again with errors), so
    this first waits for the current document to go away.
    """
    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    accept_confirm_dialog(driver)
    WebDriverWait(driver, WAIT).until(
        ec.staleness_of(old_page), f"clicking did not leave {driver.current_url}"
    )
    wait_for_page(driver, title)


def accept_confirm_dialog(driver: WebDriver) -> None:
    """Accept a ``confirm()`` dialog if the click opened one, as a person would."""
    try:
        driver.switch_to.alert.accept()
    except NoAlertPresentException:
        pass


def link(driver: WebDriver, text: str, *, within: str = "body") -> WebElement:
    """Return the visible link labelled ``text`` inside the ``within`` element."""
    scope = driver.find_element(By.CSS_SELECTOR, within)
    found = scope.find_element(By.LINK_TEXT, text)
    assert found.is_displayed(), f"the link {text!r} is hidden"
    return found


def texts(driver: WebDriver, selector: str) -> list[str]:
    """Return the visible text of every element matching the CSS ``selector``."""
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def sidebar(driver: WebDriver) -> str:
    """Return the visible text of the "Recently viewed" sidebar."""
    return driver.find_element(By.TAG_NAME, "aside").text


def png_size(data: bytes) -> tuple[int, int]:
    """Return a PNG's width and height, checking its signature and header chunk."""
    assert data.startswith(PNG_SIGNATURE), f"not a PNG: {data[:16]!r}"
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR"), "the PNG does not start with IHDR"
    return width, height


def test_write_edit_and_delete_a_note_in_chromium(
    browser: WebDriver, demo: LiveServer, tmp_path: Path
) -> None:
    title = "Groceries für Sonntag"
    new_title = "Groceries for Monday"

    browser.get(demo.url + "/")
    wait_for_page(browser, "Notes")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Notes"
    assert "No notes yet." in browser.find_element(By.TAG_NAME, "main").text
    assert "Notes you open appear here." in sidebar(browser)

    click_to_page(browser, link(browser, "New note", within="header nav"), "New note")
    assert browser.find_element(By.TAG_NAME, "h1").text == "New note"
    title_field = browser.find_element(By.ID, "title")
    body_field = browser.find_element(By.ID, "body")
    assert browser.switch_to.active_element == title_field  # autofocus
    body_field.send_keys("milk\nbread")
    save = browser.find_element(By.CSS_SELECTOR, "form.note-form button[type=submit]")
    click_to_page(browser, save, "New note")
    assert texts(browser, "p.error") == ["Give the note a title."]
    assert browser.find_element(By.ID, "body").get_attribute("value") == "milk\nbread"
    assert texts(browser, "p.flash") == []

    browser.find_element(By.ID, "title").send_keys(f"  {title} ")
    save = browser.find_element(By.CSS_SELECTOR, "form.note-form button[type=submit]")
    click_to_page(browser, save, title)
    assert browser.current_url == f"{demo.url}/notes/1"
    assert texts(browser, "p.flash.success") == [f"Created “{title}”."]
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.find_element(By.CSS_SELECTOR, "article .body").text == "milk\nbread"
    assert title in sidebar(browser)

    click_to_page(browser, link(browser, "All notes", within="header nav"), "Notes")
    assert texts(browser, "p.flash") == [], "a flashed message showed twice"
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Notes 1 to 1 of 1." in main
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ul.notes a")] == [
        title
    ]
    assert texts(browser, "aside li a") == [title]
    screenshot = tmp_path / "notes-list.png"
    assert browser.save_screenshot(str(screenshot))
    width, height = png_size(screenshot.read_bytes())
    assert width > 0
    assert height > 0

    click_to_page(browser, link(browser, title, within="aside"), title)
    click_to_page(browser, link(browser, "Edit", within="main .actions"), "Edit note")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Edit “{title}”"
    title_field = browser.find_element(By.ID, "title")
    assert title_field.get_attribute("value") == title
    title_field.clear()
    title_field.send_keys(new_title)
    body_field = browser.find_element(By.ID, "body")
    body_field.clear()
    body_field.send_keys("oat milk")
    save = browser.find_element(By.CSS_SELECTOR, "form.note-form button[type=submit]")
    click_to_page(browser, save, new_title)
    assert browser.current_url == f"{demo.url}/notes/1"
    assert texts(browser, "p.flash.success") == [f"Saved “{new_title}”."]
    assert browser.find_element(By.CSS_SELECTOR, "article .body").text == "oat milk"
    assert texts(browser, "aside li a") == [new_title]

    delete = browser.find_element(By.CSS_SELECTOR, "main .actions button.danger")
    assert delete.text == "Delete"
    click_to_page(browser, delete, "Notes")
    assert browser.current_url == f"{demo.url}/"
    assert texts(browser, "p.flash.success") == [f"Deleted “{new_title}”."]
    assert "No notes yet." in browser.find_element(By.TAG_NAME, "main").text
    assert "Notes you open appear here." in sidebar(browser)

    browser.get(f"{demo.url}/notes/1")
    wait_for_page(browser, "Not Found")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Page not found"
    assert "There is no note 1." in browser.find_element(By.TAG_NAME, "main").text

    log = demo.log()
    assert "Traceback" not in log, log
