"""The demo under gunicorn with 2 workers sharing erlen-login's throttle store in Redis.

Failed logins and revoked API tokens are recorded in Redis, so every worker
sees them: the limit is the limit of the site, not of each process.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib.util
from pathlib import Path

import pytest
from demo_server import csrf_token
from demo_server import login
from demo_server import run_cli
from demo_server import start_demo
from liveserver import LiveServer
from liveserver import StartServer

pytestmark = [pytest.mark.server, pytest.mark.redis]

if importlib.util.find_spec("erlen_login") is None:  # pragma: no cover
    pytest.skip("erlen-login is not installed", allow_module_level=True)


#: Failed logins allowed per account (and address) within the window.
LIMIT = 4
#: Requests sent, each on a new connection, after the limit is reached.
AFTER_LIMIT = 6
BOB = ("bob@example.com", "notes-bob")


@pytest.fixture
def demo(
    gunicorn_server: StartServer, redis_url: str, tmp_path: Path
) -> cabc.Iterator[LiveServer]:
    """The seeded demo, 2 workers, the throttle in Redis (emptied before and after)."""
    import redis

    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    env = {"ERLEN_LOGIN_THROTTLE_LIMIT": str(LIMIT)}
    yield start_demo(
        gunicorn_server, tmp_path / "instance", seed=True, redis=redis_url, env=env
    )
    store.flushdb()
    store.close()


def test_failed_logins_are_counted_across_the_workers(
    demo: LiveServer, redis_url: str
) -> None:
    import redis

    # Each attempt is a new connection, served by whichever worker accepts it.
    statuses = [login(demo.client(), BOB[0], "wrong") for _ in range(LIMIT)]
    assert statuses == [400] * LIMIT
    refused = [login(demo.client(), BOB[0], "wrong") for _ in range(AFTER_LIMIT)]
    assert refused == [429] * AFTER_LIMIT
    # Even the right password waits for the window to end.
    assert login(demo.client(), *BOB) == 429
    reply = demo.client().post(
        "/auth/login",
        form={"email": BOB[0], "password": BOB[1]},
        headers={"Origin": demo.url},
    )
    assert reply.status == 429
    assert int(reply.headers["Retry-After"]) > 0
    with redis.Redis.from_url(redis_url) as store:
        assert store.dbsize() > 0  # the counters are in Redis, not in the workers
    assert "Traceback" not in demo.log()


def test_a_revoked_api_token_is_refused_by_every_worker(
    demo: LiveServer, tmp_path: Path
) -> None:
    token = run_cli(tmp_path / "instance", "api-token", BOB[0]).strip()
    bearer = {"Authorization": f"Bearer {token}"}
    note = {"title": "With a token"}
    created = demo.client().post("/api/notes", json_body=note, headers=bearer)
    assert created.status == 201, created.text

    browser = demo.client()
    assert login(browser, *BOB) == 302
    page = browser.get("/auth/tokens")
    revoked = browser.post(
        "/auth/tokens",
        form={"csrf_token": csrf_token(page.text), "token": token},
        headers={"Origin": demo.url},
    )
    assert revoked.status == 302, revoked.text
    statuses = [
        demo.client().post("/api/notes", json_body=note, headers=bearer).status
        for _ in range(AFTER_LIMIT)
    ]
    assert statuses == [401] * AFTER_LIMIT
    assert "Traceback" not in demo.log()
