"""Take the screenshot of the demo's index page that the README and the tutorial show.

Run in the integration venv (``nox -s integration`` installs what it needs)::

    python tests-integration/demo_screenshot.py docs/demo-index.png

It serves the seeded demo under gunicorn in a temporary folder, logs in as the
sample admin in headless Chromium and saves the index page as a PNG.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from demo_server import start_demo
from liveserver import server_starter
from selenium.webdriver.common.by import By
from test_browser import launch_chromium
from test_browser import wait_for_page

WINDOW = (1000, 760)


def main(target: Path) -> None:
    """Serve the seeded demo, log in as Alice, save the index page to ``target``."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        with server_starter(tmp, default_cwd=tmp) as start:
            demo = start_demo(start, tmp / "instance", seed=True)
            driver = launch_chromium(tmp / "profile", tmp / "driver.log")
            try:
                driver.set_window_size(*WINDOW)
                driver.get(demo.url + "/auth/login")
                wait_for_page(driver, "Log in")
                driver.find_element(By.ID, "email").send_keys("alice@example.com")
                driver.find_element(By.ID, "password").send_keys("notes-alice")
                driver.find_element(By.CSS_SELECTOR, "main form button").click()
                wait_for_page(driver, "Notes")
                driver.get(demo.url + "/")  # without the "Hello" message
                wait_for_page(driver, "Notes")
                if not driver.save_screenshot(str(target)):
                    raise SystemExit(f"could not save {target}")
            finally:
                driver.quit()
    print(f"saved {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/demo-index.png"))
