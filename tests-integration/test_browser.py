"""Use the erlen notes demo in a real browser: headless Chromium driven by Selenium.

The demo (``examples/demo``) runs under gunicorn with 2 workers on 127.0.0.1,
with its SQLite database in tmp, upgraded by ``erlen db upgrade`` first. Chromium and chromedriver come from Debian's packages
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
from demo_server import start_demo
from liveserver import LiveServer
from liveserver import require_server
from liveserver import StartServer

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.common.exceptions import TimeoutException
    from selenium.common.exceptions import WebDriverException
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


def launch_chromium(profile: Path, log_file: Path) -> WebDriver:
    """Start headless Chromium with the profile folder ``profile`` (kept on quit)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log_file))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    driver.set_script_timeout(PAGE_LOAD_TIMEOUT)
    return driver


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip (or fail in CI) without Selenium, Chromium or chromedriver; never download."""
    require_server("selenium", HAVE_SELENIUM, "python -m pip install selenium")
    require_server("Chromium", CHROMIUM.is_file(), "apt-get install chromium")
    require_server(
        "chromedriver", CHROMEDRIVER.is_file(), "apt-get install chromium-driver"
    )
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setattr(SeleniumManager, "binary_paths", _selenium_manager_called)


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> cabc.Iterator[WebDriver]:
    """Headless Chromium from Debian, with a fresh profile; quit when the test ends.

    When the test fails, ``conftest.py`` saves a screenshot of the page it was on.
    """
    driver = launch_chromium(tmp_path / "chromium-profile", tmp_path / "driver.log")
    try:
        yield driver
    finally:
        driver.quit()


class Backend(t.TypedDict, total=False):
    """Where :func:`start_demo` keeps the demo's data (its keyword arguments)."""

    database: str
    redis: str


@pytest.fixture(params=["sqlite", "postgresql+redis"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Where the demo keeps its data: ``{}`` for SQLite in its instance folder
    (the default), or ``database=`` and ``redis=`` URLs of a throwaway
    PostgreSQL and Redis (the login throttle and Socket.IO's queue), as a
    deployment runs it."""
    if request.param == "sqlite":
        return {}
    import redis

    queue: str = request.getfixturevalue("redis_url")
    redis.Redis.from_url(queue).flushdb()  # no counters left by other tests
    return {
        "database": request.getfixturevalue("postgresql_database_url"),
        "redis": queue,
    }


@pytest.fixture
def demo(backend: Backend, gunicorn_server: StartServer, tmp_path: Path) -> LiveServer:
    """The notes demo under gunicorn with 2 workers and an empty database."""
    return start_demo(gunicorn_server, tmp_path / "instance", **backend)


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
    mark_this_page(driver)
    element.click()
    accept_confirm_dialog(driver)
    wait_until_left(driver)
    wait_for_page(driver, title)


def mark_this_page(driver: WebDriver) -> None:
    """Tag the current document so :func:`wait_until_left` sees it replaced."""
    driver.execute_script("window.__erlenOldPage = true;")


def wait_until_left(driver: WebDriver) -> None:
    """Wait until the document tagged by :func:`mark_this_page` is replaced and loaded.

    A tag in the page's own window is checked rather than an element held
    across the navigation: Chromium may answer a query on an element of a
    document being torn down with an inspector error instead of "stale".
    """

    def left(d: WebDriver) -> bool:
        return bool(
            d.execute_script(
                "return window.__erlenOldPage === undefined"
                " && document.readyState === 'complete';"
            )
        )

    WebDriverWait(driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
        left, f"the page {driver.current_url} was not replaced"
    )


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


def png_size(data: bytes) -> tuple[int, int]:
    """Return a PNG's width and height, checking its signature and header chunk."""
    assert data.startswith(PNG_SIGNATURE), f"not a PNG: {data[:16]!r}"
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR"), "the PNG does not start with IHDR"
    return width, height


def fill(driver: WebDriver, **fields: str) -> None:
    """Type into the form fields with these ids, replacing what they hold."""
    for name, value in fields.items():
        element = driver.find_element(By.ID, name)
        element.clear()
        element.send_keys(value)


def submit(driver: WebDriver, title: str) -> None:
    """Click the submit button of the page's main form; wait for the page ``title``."""
    button = driver.find_element(By.CSS_SELECTOR, "main form.stack button[type=submit]")
    click_to_page(driver, button, title)


def register_in_browser(driver: WebDriver, demo: LiveServer, name: str) -> str:
    """Register ``name`` through the form (logged in afterwards); return the password."""
    password = f"{name}-password"
    driver.get(demo.url + "/auth/register")
    wait_for_page(driver, "Register")
    fill(
        driver,
        name=name,
        email=f"{name}@example.com",
        password=password,
        confirm=password,
    )
    submit(driver, "Notes")
    assert texts(driver, "p.flash.success") == [f"Welcome, {name}!"]
    return password


def log_in_in_browser(
    driver: WebDriver,
    demo: LiveServer,
    name: str,
    *,
    remember: bool,
    next_url: str = "",
) -> None:
    """Log in through the form, ticking "Remember me" or not."""
    query = f"?next={next_url}" if next_url else ""
    driver.get(f"{demo.url}/auth/login{query}")
    wait_for_page(driver, "Log in")
    fill(driver, email=f"{name}@example.com", password=f"{name}-password")
    if remember:
        driver.find_element(By.ID, "remember").click()
    mark_this_page(driver)
    driver.find_element(By.CSS_SELECTOR, "main form.stack button[type=submit]").click()
    wait_until_left(driver)


def who(driver: WebDriver) -> str | None:
    """The user name the page header shows, or ``None`` for a visitor."""
    found = driver.find_elements(By.CSS_SELECTOR, "header a.who")
    return found[0].text if found else None


def log_out_in_browser(driver: WebDriver) -> None:
    """Click "Log out" in the header."""
    button = driver.find_element(By.CSS_SELECTOR, "header form button")
    assert button.text == "Log out"
    click_to_page(driver, button, "Notes")


WRITE_NOTES_SCRIPT = """
const [titles, done] = [arguments[0], arguments[arguments.length - 1]];
const token = document.querySelector("input[name=csrf_token]").value;
(async () => {
  const statuses = [];
  for (const title of titles) {
    const body = new URLSearchParams({title: title, body: "", csrf_token: token});
    const response = await fetch("/notes/new", {method: "POST", body: body});
    statuses.push(response.status);
  }
  done(statuses);
})().catch((error) => done(String(error)));
"""


def test_register_write_and_find_the_note_on_page_two(
    browser: WebDriver, demo: LiveServer, tmp_path: Path
) -> None:
    title = "Groceries für Sonntag"
    browser.get(demo.url + "/")
    wait_for_page(browser, "Notes")
    assert "No notes yet." in browser.find_element(By.TAG_NAME, "main").text
    assert who(browser) is None

    click_to_page(browser, link(browser, "Register", within="header nav"), "Register")
    fill(browser, name="Erika", email="erika@example.com", password="short")
    fill(browser, confirm="short")
    submit(browser, "Register")
    assert texts(browser, "p.error") == ["Use 8 to 200 characters."]
    fill(browser, password="erika-password", confirm="erika-password")
    submit(browser, "Notes")
    assert texts(browser, "p.flash.success") == ["Welcome, Erika!"]
    assert who(browser) == "Erika"

    click_to_page(browser, link(browser, "New note", within="header nav"), "New note")
    assert browser.switch_to.active_element == browser.find_element(By.ID, "title")
    fill(browser, body="milk\nbread")
    submit(browser, "New note")
    assert texts(browser, "p.error") == ["Give the note a title."]
    assert browser.find_element(By.ID, "body").get_attribute("value") == "milk\nbread"
    fill(browser, title=f"  {title} ")
    submit(browser, title)
    assert browser.current_url == f"{demo.url}/notes/1"
    assert texts(browser, "p.flash.success") == [f"Created “{title}”."]
    assert browser.find_element(By.CSS_SELECTOR, "article .body").text == "milk\nbread"
    fill(browser, body="Don't forget the coffee.")
    submit(browser, title)
    assert texts(browser, "p.flash.success") == ["Comment added."]
    assert texts(browser, ".comment .body") == ["Don't forget the coffee."]

    # 25 more notes, written by the same browser (fetch() from the page).
    statuses = browser.execute_async_script(
        WRITE_NOTES_SCRIPT, [f"Later note {n}" for n in range(1, 26)]
    )
    assert statuses == [200] * 25, statuses  # fetch() follows the redirect

    click_to_page(browser, link(browser, "All notes", within="header nav"), "Notes")
    assert "Notes 1 to 20 of 26." in browser.find_element(By.TAG_NAME, "main").text
    first_page = texts(browser, "ul.notes a")
    assert first_page[0] == "Later note 25"
    assert title not in first_page
    screenshot = tmp_path / "notes-list.png"
    assert browser.save_screenshot(str(screenshot))
    width, height = png_size(screenshot.read_bytes())
    assert width > 0
    assert height > 0

    click_to_page(browser, link(browser, "Older →", within="main"), "Notes")
    assert browser.current_url == f"{demo.url}/?page=2"
    assert texts(browser, "ul.notes a") == [
        *(f"Later note {n}" for n in range(5, 0, -1)),
        title,
    ]

    log_out_in_browser(browser)
    assert texts(browser, "p.flash.info") == ["You are logged out."]
    assert who(browser) is None
    browser.get(f"{demo.url}/notes/new")
    wait_for_page(browser, "Log in")
    assert texts(browser, "p.flash.info") == ["Log in to see that page."]
    fill(browser, email="erika@example.com", password="erika-password")
    submit(browser, "New note")
    assert browser.current_url == f"{demo.url}/notes/new"
    assert who(browser) == "Erika"
    assert "Traceback" not in demo.log()


def test_remember_me_survives_a_browser_restart(
    chromium: None, demo: LiveServer, tmp_path: Path
) -> None:
    results: dict[bool, str | None] = {}
    for remember in (True, False):
        name = "rita" if remember else "nora"
        profile = tmp_path / f"profile-{name}"
        driver = launch_chromium(profile, tmp_path / f"{name}-driver.log")
        try:
            register_in_browser(driver, demo, name)
            log_out_in_browser(driver)
            log_in_in_browser(driver, demo, name, remember=remember)
            wait_for_page(driver, "Notes")
            assert who(driver) == name
        finally:
            driver.quit()
        # The same profile again: session cookies are gone, lasting ones are not.
        driver = launch_chromium(profile, tmp_path / f"{name}-driver-2.log")
        try:
            driver.get(demo.url + "/")
            wait_for_page(driver, "Notes")
            results[remember] = who(driver)
        finally:
            driver.quit()
    assert results == {True: "rita", False: None}


def test_next_never_leads_to_another_site(browser: WebDriver, demo: LiveServer) -> None:
    register_in_browser(browser, demo, "nils")
    log_out_in_browser(browser)
    for evil in ("//evil.example", "https://evil.example/", "/%5Cevil.example"):
        log_in_in_browser(browser, demo, "nils", remember=False, next_url=evil)
        wait_for_page(browser, "Notes")
        assert browser.current_url == f"{demo.url}/", evil
        log_out_in_browser(browser)
    log_in_in_browser(browser, demo, "nils", remember=False, next_url="/auth/account")
    wait_for_page(browser, "Your account")


def wait_until_listening(driver: WebDriver) -> None:
    """Wait until the page's Socket.IO connection is up (``body[data-live]``)."""
    WebDriverWait(driver, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "body[data-live=listening]")),
        f"{driver.current_url} did not connect its live updates",
    )


def test_a_second_browser_sees_a_new_note_arrive_live(
    browser: WebDriver,
    backend: Backend,
    gunicorn_server: StartServer,
    tmp_path: Path,
) -> None:
    # Without Redis a live update reaches the pages of its own worker only.
    workers = 2 if "redis" in backend else 1
    demo = start_demo(
        gunicorn_server, tmp_path / "instance", workers=workers, **backend
    )
    reader = launch_chromium(tmp_path / "reader-profile", tmp_path / "reader.log")
    try:
        register_in_browser(reader, demo, "Rita")
        wait_until_listening(reader)
        assert texts(reader, "ul.notes a") == []

        register_in_browser(browser, demo, "Walter")
        click_to_page(
            browser, link(browser, "New note", within="header nav"), "New note"
        )
        fill(browser, title="Fresh from Walter", body="live")
        submit(browser, "Fresh from Walter")

        WebDriverWait(reader, WAIT).until(
            ec.text_to_be_present_in_element(
                (By.CSS_SELECTOR, "ul.notes"), "Fresh from Walter"
            ),
            "the new note did not arrive on the other browser's index",
        )
        note = link(reader, "Fresh from Walter", within="ul.notes")
        assert note.get_attribute("href") == f"{demo.url}/notes/1"
        assert reader.current_url == f"{demo.url}/"  # no reload: the same page

        # A comment arrives on the note's page the same way.
        click_to_page(reader, note, "Fresh from Walter")
        wait_until_listening(reader)
        fill(browser, body="First!")
        submit(browser, "Fresh from Walter")
        WebDriverWait(reader, WAIT).until(
            ec.text_to_be_present_in_element((By.ID, "comments"), "First!"),
            "the new comment did not arrive on the other browser's note page",
        )
        assert texts(reader, ".comment .body") == ["First!"]
        assert "Comments (1)" in texts(reader, "#comments h2")
    finally:
        reader.quit()
    assert "Traceback" not in demo.log()
