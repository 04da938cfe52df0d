"""erlen-login behind gunicorn with 2 worker processes sharing SQLite and Redis."""

from __future__ import annotations

import collections.abc as cabc
import concurrent.futures
import copy
import importlib.util
from pathlib import Path

import pytest
from liveserver import Client
from liveserver import LiveServer
from liveserver import server_starter

pytestmark = [pytest.mark.server, pytest.mark.redis]

if importlib.util.find_spec("erlen_login") is None:  # pragma: no cover
    pytest.skip("erlen-login is not installed", allow_module_level=True)


#: Rounds of two concurrent requests to /pid before giving up on seeing both workers.
MAX_PID_ROUNDS = 5
#: The accounts in the database; each test uses its own.
USERS = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture(scope="module")
def server(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> cabc.Iterator[LiveServer]:
    """One gunicorn with 2 workers for the module; each test uses its own users."""
    from apps.login import init_db

    folder = tmp_path_factory.mktemp("login")
    database = folder / "users.db"
    init_db(str(database), {name: f"{name}-password" for name in USERS})
    with server_starter(folder, default_cwd=Path(__file__).parent) as start:
        yield start(
            "apps.login:app",
            env={"LOGIN_DB": str(database), "LOGIN_REDIS_URL": redis_url},
            workers=2,
        )


@pytest.fixture(autouse=True)
def fresh_counters(redis_url: str) -> cabc.Iterator[None]:
    """Every test starts and ends with no failed-login counters."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield
    client.flushdb()
    client.close()


def _signin(client: Client, name: str, password: str, remember: bool = False) -> int:
    form = {"name": name, "password": password, "remember": "1" if remember else ""}
    return client.post("/signin", form=form).status


def _cookie_value(client: Client, name: str) -> str | None:
    return next((c.value for c in client.cookies if c.name == name), None)


def _drop_cookie(client: Client, name: str) -> None:
    for cookie in list(client.cookies):
        if cookie.name == name:
            client.cookies.clear(cookie.domain, cookie.path, cookie.name)


def _copy_cookies(source: Client, target: Client) -> None:
    for cookie in source.cookies:
        target.cookies.set_cookie(copy.copy(cookie))


def test_both_workers_answer(server: LiveServer) -> None:
    # A sync worker serves one request at a time: while one holds a request,
    # the other must take the second. Sequential requests could all land on
    # whichever worker happens to win accept().
    pids: set[str] = set()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in range(MAX_PID_ROUNDS):
            replies = [pool.submit(server.client().get, "/pid?hold=0.3") for _ in "ab"]
            pids.update(reply.result().text for reply in replies)
            if len(pids) == 2:
                break
    assert len(pids) == 2, f"only worker {pids} answered"


def test_throttling_is_shared_by_the_workers(server: LiveServer) -> None:
    for _ in range(10):
        assert _signin(server.client(), "erin", "wrong") == 400
    # Whichever worker answers, the eleventh attempt is refused.
    for _ in range(4):
        reply = server.client().post(
            "/signin", form={"name": "erin", "password": "erin-password"}
        )
        assert reply.status == 429
        assert 1 <= int(reply.headers["Retry-After"]) <= 180
    # The ten failures also came from one address (127.0.0.1): it is refused
    # for other accounts too.
    assert _signin(server.client(), "bob", "bob-password") == 429


def test_remember_cookie_rotates_across_workers(server: LiveServer) -> None:
    browser = server.client()
    assert _signin(browser, "alice", "alice-password", remember=True) == 200
    first = _cookie_value(browser, "remember_token")
    assert first
    stolen = server.client()
    _copy_cookies(browser, stolen)
    _drop_cookie(stolen, "session")

    _drop_cookie(browser, "session")
    assert browser.get("/me").text == "alice"
    second = _cookie_value(browser, "remember_token")
    assert second and second != first
    # The old token was used up on the server: its copy logs nobody in.
    assert stolen.get("/me").text == "anonymous"
    for _ in range(3):
        _drop_cookie(browser, "session")
        assert browser.get("/me").text == "alice"


def test_logout_everywhere_across_workers(server: LiveServer) -> None:
    laptop, phone = server.client(), server.client()
    assert _signin(laptop, "carol", "carol-password", remember=True) == 200
    assert _signin(phone, "carol", "carol-password", remember=True) == 200
    thief = server.client()
    _copy_cookies(phone, thief)
    assert thief.get("/me").text == "carol"

    assert laptop.post("/everywhere").status == 200
    for _ in range(4):  # several requests: both workers see the change
        assert laptop.get("/me").text == "carol"
        assert phone.get("/me").text == "anonymous"
        assert thief.get("/me").text == "anonymous"
    _drop_cookie(thief, "session")
    assert thief.get("/me").text == "anonymous"


def test_signout_ends_the_remember_cookie(server: LiveServer) -> None:
    browser = server.client()
    assert _signin(browser, "dave", "dave-password", remember=True) == 200
    copy_of_cookies = server.client()
    _copy_cookies(browser, copy_of_cookies)
    _drop_cookie(copy_of_cookies, "session")
    assert browser.post("/signout").text == "bye"
    assert _cookie_value(browser, "remember_token") is None
    assert copy_of_cookies.get("/me").text == "anonymous"
