"""Build request environs, call WSGI apps in-process, and validate their responses."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from io import BytesIO

from werkzeug.test import EnvironBuilder

from apps import APPS_BY_NAME
from apps import common
from apps import load
from apps import WSGIApp


@dataclass
class Prepared:
    """A loaded app with a ready environ for one endpoint.

    :param environ: copied for every call; ``wsgi.input`` is replaced each time.
    """

    app_name: str
    endpoint: common.Endpoint
    app: WSGIApp
    environ: dict[str, t.Any]
    body: bytes


@dataclass
class Result:
    """What an app answered: status code, headers and the whole body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def base_environ(
    endpoint: common.Endpoint, cookie: str | None = None
) -> dict[str, t.Any]:
    """Return the environ for ``endpoint``, as a front server would pass it."""
    headers = [("User-Agent", "erlen-bench/1"), ("Accept", "*/*")]
    if cookie:
        headers.append(("Cookie", cookie))
    builder = EnvironBuilder(
        path=endpoint.path,
        method=endpoint.method,
        data=endpoint.body or None,
        content_type=endpoint.content_type,
        headers=headers,
        base_url="http://127.0.0.1:8000/",
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ.pop("wsgi.input", None)
    environ["wsgi.multithread"] = False
    environ["wsgi.multiprocess"] = True
    return environ


def call(app: WSGIApp, environ: dict[str, t.Any], body: bytes) -> Result:
    """Call ``app`` once on a copy of ``environ`` and return everything it sent."""
    captured: list[t.Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Callable[[bytes], None]:
        captured[:] = [status, headers]
        return lambda data: None

    env = environ.copy()
    env["wsgi.input"] = BytesIO(body)
    iterable = app(env, start_response)
    try:
        data = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    if not captured:
        return Result(0, [], data)
    return Result(int(captured[0].split(" ", 1)[0]), list(captured[1]), data)


def session_cookie(result: Result) -> str | None:
    """Return ``name=value`` of the session cookie ``result`` sets, if any."""
    for key, value in result.headers:
        if key.lower() == "set-cookie" and value.startswith(
            f"{common.SESSION_COOKIE}="
        ):
            return value.split(";", 1)[0]
    return None


def prepare(app_name: str, endpoint: common.Endpoint, app: WSGIApp) -> Prepared:
    """Return the app and environ for one measurement, checking the response.

    For the session endpoint a first request obtains the cookie, which the
    measured requests send back.

    :raises ValueError: the app answered wrongly; the message says how.
    """
    cookie = None
    if endpoint.uses_session:
        first = call(app, base_environ(endpoint), endpoint.body)
        problem = common.FIRST_SESSION_CHECK(first.status, first.headers, first.body)
        if problem is not None:
            raise ValueError(f"first request: {problem}")
        cookie = session_cookie(first)
    environ = base_environ(endpoint, cookie)
    result = call(app, environ, endpoint.body)
    problem = endpoint.check(result.status, result.headers, result.body)
    if problem is not None:
        raise ValueError(problem)
    return Prepared(app_name, endpoint, app, environ, endpoint.body)


def supported(app_name: str, endpoint_name: str) -> bool:
    """Tell whether app ``app_name`` implements ``endpoint_name`` (else n/a)."""
    return endpoint_name not in APPS_BY_NAME[app_name].unsupported


@dataclass
class Validation:
    """The outcome of checking every app on every endpoint before measuring.

    :param prepared: ready measurements, keyed by ``(app, endpoint)``.
    :param problems: ``(app, endpoint) -> reason`` for wrong answers.
    :param unavailable: ``app -> reason`` for apps that could not be loaded.
    """

    prepared: dict[tuple[str, str], Prepared]
    problems: dict[tuple[str, str], str]
    unavailable: dict[str, str]


def validate(app_names: t.Sequence[str], endpoint_names: t.Sequence[str]) -> Validation:
    """Load every app, check every endpoint, and return what can be measured."""
    outcome = Validation({}, {}, {})
    for app_name in app_names:
        try:
            app = load(app_name)
        except Exception as e:
            outcome.unavailable[app_name] = f"{type(e).__name__}: {e}"
            continue
        for endpoint_name in endpoint_names:
            if not supported(app_name, endpoint_name):
                continue
            endpoint = common.ENDPOINTS_BY_NAME[endpoint_name]
            try:
                outcome.prepared[app_name, endpoint_name] = prepare(
                    app_name, endpoint, app
                )
            except Exception as e:
                outcome.problems[app_name, endpoint_name] = f"{type(e).__name__}: {e}"
    return outcome
