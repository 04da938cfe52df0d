"""Hostile ``Host`` headers: erlen answers what plain Werkzeug answers, never a 500."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

import erlen

#: Host headers a client can send; some are names ``Map.bind`` refuses.
HOSTILE_HOSTS = [
    ".",
    ".example.com",
    ".a:80",
    "a..b",
    "a.",
    "..",
    "[::1",
    "[::1]:80",
    "é.com",
    "\xc3\xa9.example.com",  # UTF-8 bytes as a WSGI server passes them
    "x" * 300,
    "a" * 64 + ".com",
    ".".join(["a" * 63] * 5),
    "a b",
    "a:99999",
    "a:x",
    ":80",
    "",
]

TRUSTED = [None, [".example.com"], ["example.com", "localhost"]]


def _werkzeug_status(host: str, trusted: list[str] | None) -> int:
    """The status plain Werkzeug gives, validating the host as Flask does."""
    url_map = Map([Rule("/docs/", endpoint="docs")])

    @WerkzeugRequest.application  # type: ignore[arg-type]
    def app(request: WerkzeugRequest) -> WerkzeugResponse:
        try:
            if trusted is not None:
                request.trusted_hosts = trusted
                request.host  # noqa: B018 -- validates it
            url_map.bind_to_environ(request.environ).match()
        except HTTPException as e:
            return e.get_response(request.environ)  # type: ignore[return-value]
        return WerkzeugResponse("docs")

    return Client(app).get("/docs", headers={"Host": host}).status_code


@pytest.mark.parametrize("trusted", TRUSTED, ids=["unset", "dot-domain", "names"])
@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=range(len(HOSTILE_HOSTS)))
def test_hostile_host_same_status_as_werkzeug(
    host: str, trusted: list[str] | None
) -> None:
    app = erlen.Erlen(__name__)
    app.config["TRUSTED_HOSTS"] = trusted

    @app.route("/docs/")
    def docs() -> str:
        return "docs"

    response = app.test_client().get("/docs", headers={"Host": host})
    expected = _werkzeug_status(host, trusted)
    assert response.status_code == expected
    assert response.status_code != 500


@pytest.mark.parametrize("host", [".", ".example.com", ".a:80"])
def test_bad_host_is_400_for_slash_redirect(host: str) -> None:
    app = erlen.Erlen(__name__)
    app.config["TRUSTED_HOSTS"] = [".example.com"]

    @app.route("/docs/")
    def docs() -> str:
        return "docs"

    assert app.test_client().get("/docs", headers={"Host": host}).status_code == 400
