"""docs/login.md's examples, run as written: the login app, remember-me, password reset."""

from __future__ import annotations

import importlib.util
import pathlib
import re
import typing as t

import pytest

if (
    importlib.util.find_spec("erlen_login") is None
    or importlib.util.find_spec("erlen_sql") is None
):  # pragma: no cover
    pytest.skip("erlen-login and erlen-sql are needed", allow_module_level=True)

from jinja2 import DictLoader  # noqa: E402

from erlen_login import hash_password  # noqa: E402

GUIDE = pathlib.Path(__file__).parents[1] / "docs" / "login.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text("utf-8"), re.S)


@pytest.fixture
def docs_app() -> t.Any:
    """The guide's first example plus its password-reset views, on in-memory SQLite."""
    blocks = _blocks()
    first = blocks[0].replace('"sqlite:///app.db"', '"sqlite://"')
    reset = next(b for b in blocks if "def reset(token)" in b)
    sent: list[str] = []
    namespace: dict[str, t.Any] = {"__name__": "login_docs_example"}
    exec(compile(first, str(GUIDE), "exec", dont_inherit=True), namespace)  # noqa: S102
    namespace["send_mail"] = lambda to, subject, link: sent.append(link)
    exec(compile(reset, str(GUIDE), "exec", dont_inherit=True), namespace)  # noqa: S102
    app, db, user_class = namespace["app"], namespace["db"], namespace["User"]
    app.jinja_loader = DictLoader(
        {"login.html": "{{ error or '' }}", "reset.html": "new password"}
    )
    with app.app_context():
        db.create_all()
        db.session.add(
            user_class(email="ada@example.com", password_hash=hash_password("pw"))
        )
        db.session.commit()
    app.sent = sent
    return app


def _remember(client: t.Any) -> str:
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    return t.cast(str, cookie.value)


def test_returning_visitors_remember_cookie_rotates_and_the_used_one_ends(
    docs_app: t.Any,
) -> None:
    browser = docs_app.test_client()
    response = browser.post(
        "/login", data={"email": "ada@example.com", "password": "pw", "remember": "on"}
    )
    assert response.status_code == 302
    first = _remember(browser)

    back = docs_app.test_client()  # the next day: no session, only the cookie
    back.set_cookie("remember_token", first)
    assert back.get("/").text == "Hello ada@example.com"
    second = _remember(back)
    assert second != first

    later = docs_app.test_client()
    later.set_cookie("remember_token", second)
    assert later.get("/").text == "Hello ada@example.com"
    copy = docs_app.test_client()
    copy.set_cookie("remember_token", first)
    assert copy.get("/").status_code == 302


def test_password_reset_link_works_once_and_a_bad_one_is_a_400(
    docs_app: t.Any,
) -> None:
    client = docs_app.test_client()
    assert client.get("/reset/not-a-token").status_code == 400
    client.post("/forgot", data={"email": "ada@example.com"})
    path = "/" + docs_app.sent[-1].split("/", 3)[3]
    assert client.get(path).text == "new password"
    assert client.post(path, data={"password": "new"}).status_code == 302
    assert client.get(path).status_code == 400
