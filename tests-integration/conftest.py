"""Fixtures that serve apps under real servers for the integration tests."""

from __future__ import annotations

import collections.abc as cabc
from pathlib import Path

import pytest
from liveserver import require_server
from liveserver import server_starter
from liveserver import StartServer

# A throwaway PostgreSQL server per run (``postgresql_url``), and a new
# database per test (``postgresql_database_url``), for every module here.
from erlen_sql.pytest_plugin import postgresql_database_url as postgresql_database_url
from erlen_sql.pytest_plugin import postgresql_url as postgresql_url


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> cabc.Iterator[StartServer]:
    """Start WSGI apps under gunicorn: ``gunicorn_server("apps.basic:app")``.

    Call it with gunicorn's app spec, and optionally ``cwd=`` (default: this
    folder, so ``apps.*`` modules import) and ``env=`` (extra environment
    variables). It returns a :class:`liveserver.LiveServer` that already answers
    HTTP; every server started stops when the test ends. Skips when gunicorn is
    not installed, and fails instead under ``CI=true``.
    """
    with server_starter(tmp_path, default_cwd=Path(__file__).parent) as start:
        yield start


@pytest.fixture(scope="session")
def redis_url() -> cabc.Iterator[str]:
    """A throwaway ``redis-server`` on 127.0.0.1 for the run (erlen-login's helper).

    Tests that use it empty the keys they rely on. Skips without redis-server,
    and fails instead under ``CI=true``.
    """
    try:
        from erlen_login.testing import redis_server
        from erlen_login.testing import RedisUnavailable
    except ImportError as e:  # pragma: no cover - depends on the environment
        require_server("redis-server", False, f"erlen-login[redis] is needed ({e})")
        return
    try:
        with redis_server() as server:
            yield server.url
    except RedisUnavailable as e:
        require_server("redis-server", False, f"apt-get install redis-server ({e})")


#: Where a failed browser test leaves a screenshot and the HTML of its last page.
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> cabc.Generator[None, pytest.TestReport, pytest.TestReport]:
    """Save a screenshot of the browser's page when a test using ``browser`` fails."""
    report = yield
    driver = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and driver is not None:
        SCREENSHOTS.mkdir(exist_ok=True)
        stem = SCREENSHOTS / item.name.replace("/", "_")
        try:
            driver.save_screenshot(str(stem.with_suffix(".png")))
            stem.with_suffix(".html").write_text(driver.page_source)
        except Exception as error:  # the browser may be what failed
            report.sections.append(("screenshot", f"none taken: {error!r}"))
        else:
            report.sections.append(
                ("screenshot", f"{stem}.png and .html ({driver.current_url})")
            )
    return report
