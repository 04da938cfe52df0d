"""``MAX_COOKIE_SIZE``: one meaning everywhere; a wrong type is a clear error at once."""

from __future__ import annotations

import warnings

import pytest

import erlen
from erlen.checks import run_deploy_checks

#: Through the WSGI and the ASGI entry, the apps made in helpers too.
pytestmark = pytest.mark.usefixtures("any_app_entry")


def _app(limit: object) -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.secret_key = "k" * 40
    app.config["MAX_COOKIE_SIZE"] = limit

    @app.route("/login")
    def login() -> str:
        erlen.session["user"] = "ada"
        erlen.session["blob"] = erlen.request.args.get("blob", "")
        return "ok"

    @app.route("/me")
    def me() -> str:
        return str(erlen.session.get("user"))

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    return app


@pytest.mark.parametrize("limit", [0, None])
def test_no_limit_keeps_the_session(limit: object) -> None:
    client = _app(limit).test_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no cookie-size warning either
        client.get("/login", query_string={"blob": "x" * 6000})
    assert client.get("/me").data == b"ada"
    assert client.get("/plain").status_code == 200


@pytest.mark.parametrize("limit", [0, None])
def test_no_limit_keeps_long_cookies(limit: object) -> None:
    app = _app(limit)

    @app.route("/cookie")
    def cookie() -> str:
        return str(len(erlen.request.cookies.get("big", "")))

    response = app.test_client(use_cookies=False).get(
        "/cookie", headers={"Cookie": "big=" + "y" * 5000}
    )
    assert response.data == b"5000"


def test_limit_drops_longer_session_cookies() -> None:
    client = _app(100).test_client()
    with pytest.warns(UserWarning):
        client.get("/login", query_string={"blob": "x" * 200})
    assert client.get("/me").data == b"None"


@pytest.mark.parametrize("limit", ["4093", 4093.0, -1, True])
def test_wrong_type_is_a_clear_error_at_the_first_request(limit: object) -> None:
    app = _app(limit)
    app.testing = True
    client = app.test_client()
    with pytest.raises(TypeError, match="MAX_COOKIE_SIZE must be a whole number"):
        client.get("/plain")
    problems = run_deploy_checks(app, deploy=False)
    assert [p.check for p in problems] == ["limits"]
