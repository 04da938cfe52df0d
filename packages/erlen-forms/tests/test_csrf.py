"""CSRFProtect and the token functions, through the test client."""

from __future__ import annotations

import logging
import typing as t
from datetime import timedelta

import pytest
from conftest import set_cookies
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import Headers
from wtforms import ValidationError

from erlen import Blueprint
from erlen import Erlen
from erlen import g
from erlen import render_template_string
from erlen import session
from erlen.cli import check_command
from erlen.ext import ExtensionError
from erlen.testing import ErlenClient
from erlen_forms import CSRFError
from erlen_forms import CSRFProtect
from erlen_forms import ErlenForm
from erlen_forms import generate_csrf
from erlen_forms import validate_csrf
from erlen_forms.csrf import csrf_meta_tag


@pytest.fixture
def protected(app: Erlen, csrf: CSRFProtect) -> Erlen:
    """An app whose ``/`` echoes ``ok`` and whose ``/token`` hands out a token."""

    @app.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def index() -> str:
        return "ok"

    @app.get("/token")
    def token() -> str:
        return generate_csrf()

    return app


def fetch_token(client: ErlenClient) -> str:
    return client.get("/token").text


# -- the browser's signals ----------------------------------------------------------


@pytest.mark.parametrize("site", ["cross-site", "same-site", "CROSS-SITE", "garbage"])
@pytest.mark.parametrize("base_url", ["http://localhost", "https://localhost"])
def test_sec_fetch_site_from_elsewhere_is_refused_before_the_token(
    protected: Erlen, client: ErlenClient, site: str, base_url: str
) -> None:
    token = fetch_token(client)
    response = client.post(
        "/",
        base_url=base_url,
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": site, "Referer": f"{base_url}/"},
    )
    assert response.status_code == 400
    assert "sent by a page of another site" in response.text
    assert "WTF_CSRF_TRUSTED_ORIGINS" in response.text


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_sec_fetch_site_same_origin_needs_no_token(
    protected: Erlen, client: ErlenClient, site: str
) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.open("/", method=method, headers={"Sec-Fetch-Site": site})
        assert response.status_code == 200, method
        assert response.text == "ok"
    # no session was needed, so none was created
    assert set_cookies(response) == []


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://localhost:8080",
        "null",
        "http://[broken",
        "javascript:alert(1)",
        "",
    ],
)
@pytest.mark.parametrize("base_url", ["http://localhost", "https://localhost"])
def test_foreign_origin_is_refused_even_with_a_valid_token(
    protected: Erlen, client: ErlenClient, origin: str, base_url: str
) -> None:
    token = fetch_token(client)
    response = client.post(
        "/",
        base_url=base_url,
        headers={"Origin": origin, "X-CSRFToken": token, "Referer": f"{base_url}/"},
    )
    assert response.status_code == 400
    assert "sent by a page of another origin" in response.text


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("http://localhost", "http://localhost"),
        ("http://localhost", "HTTP://LOCALHOST:80"),
        ("http://localhost:5000", "http://localhost:5000"),
        ("https://example.com", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        # behind a proxy that terminates TLS, the app sees http
        ("http://example.com", "https://example.com"),
    ],
)
def test_own_origin_needs_no_token(
    protected: Erlen, client: ErlenClient, base_url: str, origin: str
) -> None:
    response = client.post("/", base_url=base_url, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.text == "ok"


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example@localhost",
        "http://localhost/evil",
        "http://localhost?x=1",
        "http://localhost#x",
    ],
)
def test_origin_that_no_browser_sends_is_not_our_own(
    protected: Erlen, client: ErlenClient, origin: str
) -> None:
    """An Origin is only scheme://host[:port]; user info, a path or a query
    mean it was not written by a browser and it does not count as ours."""
    response = client.post("/", base_url="http://localhost", headers={"Origin": origin})
    assert response.status_code == 400


def test_trusted_origins(app: Erlen, protected: Erlen, client: ErlenClient) -> None:
    app.config["WTF_CSRF_TRUSTED_ORIGINS"] = ["https://admin.example:443/"]
    for headers in (
        {"Origin": "https://admin.example"},
        {"Origin": "https://admin.example", "Sec-Fetch-Site": "same-site"},
    ):
        assert client.post("/", headers=headers).status_code == 200
    refused = client.post("/", headers={"Origin": "http://admin.example"})
    assert refused.status_code == 400


def test_safe_methods_are_never_checked(protected: Erlen, client: ErlenClient) -> None:
    cross = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    for method in ("GET", "HEAD", "OPTIONS"):
        assert client.open("/", method=method, headers=cross).status_code == 200


# -- the token fallback -------------------------------------------------------------


def test_token_from_field_prefixed_field_headers_and_json(
    protected: Erlen, client: ErlenClient
) -> None:
    missing = client.post("/")
    assert missing.status_code == 400
    assert "The CSRF token is missing." in missing.text

    token = fetch_token(client)
    assert client.post("/", data={"csrf_token": token}).text == "ok"
    assert client.post("/", data={"profile-csrf_token": token}).text == "ok"
    assert client.post("/", data={"profile-csrf_token": ""}).status_code == 400
    assert client.post("/", headers={"X-CSRFToken": token}).text == "ok"
    assert client.post("/", headers={"X-CSRF-Token": token}).text == "ok"
    assert client.post("/", json={"csrf_token": token}).text == "ok"


def test_custom_field_name_and_headers(
    app: Erlen, protected: Erlen, client: ErlenClient
) -> None:
    app.config.update(WTF_CSRF_FIELD_NAME="_token", WTF_CSRF_HEADERS=["X-XSRF-Token"])
    token = fetch_token(client)
    assert client.post("/", data={"_token": token}).text == "ok"
    assert client.post("/", headers={"X-XSRF-Token": token}).text == "ok"
    assert client.post("/", headers={"X-CSRFToken": token}).status_code == 400


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ({"data": {"csrf_token": "garbage"}}, "The CSRF token is invalid."),
        ({"data": {"csrf_token": "a" * 5000}}, "The CSRF token is invalid."),
        ({"data": {"csrf_token": "\x00\xff.\x01"}}, "The CSRF token is invalid."),
        ({"json": {"csrf_token": 12345}}, "The CSRF token is invalid."),
        ({"json": {"csrf_token": ["x", "y"]}}, "The CSRF token is invalid."),
        ({"json": {"csrf_token": {"a": 1}}}, "The CSRF token is invalid."),
        ({"data": "{not json", "content_type": "application/json"}, "missing"),
    ],
)
def test_bad_tokens_are_400_with_a_reason(
    protected: Erlen, client: ErlenClient, sent: dict[str, t.Any], reason: str
) -> None:
    fetch_token(client)
    response = client.post("/", **sent)
    assert response.status_code == 400
    assert reason in response.text


def test_token_of_another_session_does_not_match(
    protected: Erlen, client: ErlenClient, app: Erlen
) -> None:
    other = app.test_client()
    token = fetch_token(other)
    fetch_token(client)
    response = client.post("/", data={"csrf_token": token})
    assert response.status_code == 400
    assert "The CSRF tokens do not match." in response.text


def test_missing_session_says_what_to_do(protected: Erlen, client: ErlenClient) -> None:
    token = fetch_token(client)
    client.delete_cookie("session")
    response = client.post("/", data={"csrf_token": token})
    assert response.status_code == 400
    assert "The CSRF session token is missing." in response.text
    assert "carried no session cookie" in response.text
    assert "reload the page" in response.text

    with client.session_transaction() as sess:
        sess["user"] = "someone"
    response = client.post("/", data={"csrf_token": token})
    assert response.status_code == 400
    assert "never rendered a token" in response.text
    assert "form.hidden_tag()" in response.text


def test_ssl_strict_referer_applies_to_the_token_fallback(
    app: Erlen, protected: Erlen, client: ErlenClient
) -> None:
    token = fetch_token(client)
    headers = Headers({"X-CSRFToken": token})
    https = "https://localhost"
    missing = client.post("/", base_url=https, headers=headers)
    assert "The referrer header is missing." in missing.text
    for referrer in ("http://localhost/", "https://other/", "https://localhost:8080/"):
        headers["Referer"] = referrer
        refused = client.post("/", base_url=https, headers=headers)
        assert "The referrer does not match the host." in refused.text
    headers["Referer"] = "https://localhost/form"
    assert client.post("/", base_url=https, headers=headers).text == "ok"

    app.config["WTF_CSRF_SSL_STRICT"] = False
    assert client.post("/", base_url=https, headers={"X-CSRFToken": token}).text == "ok"


def test_secret_key_fallbacks(
    app: Erlen, protected: Erlen, client: ErlenClient
) -> None:
    token = fetch_token(client)
    app.config.update(SECRET_KEY="new secret", SECRET_KEY_FALLBACKS=["test secret"])
    assert client.post("/", data={"csrf_token": token}).text == "ok"
    fresh = fetch_token(client)
    assert fresh != token
    signer = URLSafeTimedSerializer("new secret", salt="wtf-csrf-token")
    assert signer.loads(fresh) == signer.loads(fresh)  # signed with the new key
    with pytest.raises(BadSignature):
        signer.loads(token)

    with app.test_request_context():
        app.config["SECRET_KEY_FALLBACKS"] = []
        old = URLSafeTimedSerializer("test secret", salt="wtf-csrf-token")
        session["csrf_token"] = "raw"
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(old.dumps("raw"))
        app.config["SECRET_KEY_FALLBACKS"] = ["test secret"]
        validate_csrf(old.dumps("raw"))


def test_wtf_secret_key_replaces_secret_key(app: Erlen) -> None:
    with app.test_request_context():
        app.config["WTF_CSRF_SECRET_KEY"] = "just for csrf"
        token = generate_csrf()
        validate_csrf(token)
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(token, secret_key="something else")


def test_time_limit(app: Erlen, protected: Erlen, client: ErlenClient) -> None:
    token = fetch_token(client)
    app.config["WTF_CSRF_TIME_LIMIT"] = -1
    expired = client.post("/", data={"csrf_token": token})
    assert "The CSRF token has expired." in expired.text
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    assert client.post("/", data={"csrf_token": token}).text == "ok"


def test_per_form_time_limit_holds_after_csrfprotect(
    app: Erlen, protected: Erlen, client: ErlenClient
) -> None:
    class Strict(ErlenForm):
        class Meta:
            csrf_time_limit = timedelta(seconds=-1)

    class Relaxed(ErlenForm):
        pass

    @app.post("/strict")
    def strict() -> str:
        form = Strict()
        return "valid" if form.validate() else " ".join(form.csrf_token.errors)

    @app.post("/relaxed")
    def relaxed() -> str:
        return "valid" if Relaxed().validate() else "invalid"

    token = fetch_token(client)
    assert client.post("/relaxed", headers={"X-CSRFToken": token}).text == "valid"
    strict_answer = client.post("/strict", headers={"X-CSRFToken": token})
    assert strict_answer.status_code == 200  # CSRFProtect let it through ...
    assert strict_answer.text == "The CSRF token has expired."  # ... the form did not


# -- switches, exemptions, errors ---------------------------------------------------


def test_disabled_and_check_default(
    app: Erlen, protected: Erlen, client: ErlenClient
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/").text == "ok"
    app.config.update(WTF_CSRF_ENABLED=True, WTF_CSRF_CHECK_DEFAULT=False)
    assert client.post("/").text == "ok"
    app.config.update(WTF_CSRF_CHECK_DEFAULT=True, WTF_CSRF_METHODS=["DELETE"])
    assert client.post("/").text == "ok"
    assert client.delete("/").status_code == 400


def test_exempt_view_name_and_blueprints(
    app: Erlen, csrf: CSRFProtect, client: ErlenClient
) -> None:
    @app.post("/hook")
    @csrf.exempt
    def hook() -> str:
        return "hook"

    @app.post("/named")
    def named() -> str:
        return "named"

    csrf.exempt(f"{__name__}.named")

    public = Blueprint("public", __name__)
    outer = Blueprint("outer", __name__)

    @public.post("/public")
    def public_view() -> str:
        return "public"

    csrf.exempt(public)
    outer.register_blueprint(public)
    app.register_blueprint(outer, url_prefix="/outer")

    @app.post("/guarded")
    def guarded() -> str:
        return "guarded"

    assert client.post("/hook").text == "hook"
    assert client.post("/named").text == "named"
    assert client.post("/outer/public").text == "public"
    assert client.post("/guarded").status_code == 400
    assert client.post("/nowhere").status_code == 404


def test_exempt_blueprint_does_not_exempt_another_of_the_same_name(
    app: Erlen, csrf: CSRFProtect, client: ErlenClient
) -> None:
    """Exempting one blueprint leaves an unrelated (nested) blueprint that
    happens to share its name protected."""
    hooks = Blueprint("hooks", __name__)
    admin = Blueprint("admin", __name__)
    admin_hooks = Blueprint("hooks", __name__)

    @hooks.post("/in")
    def incoming() -> str:
        return "hook"

    @admin_hooks.post("/purge")
    def purge() -> str:
        return "purged"

    csrf.exempt(hooks)
    admin.register_blueprint(admin_hooks, url_prefix="/hooks")
    app.register_blueprint(hooks, url_prefix="/hooks")
    app.register_blueprint(admin, url_prefix="/admin")

    assert client.post("/hooks/in").text == "hook"
    cross = {"Sec-Fetch-Site": "cross-site"}
    assert client.post("/admin/hooks/purge", headers=cross).status_code == 400
    assert client.post("/admin/hooks/purge").status_code == 400


def test_blueprint_registered_under_another_name_stays_exempt(
    app: Erlen, csrf: CSRFProtect, client: ErlenClient
) -> None:
    hooks = Blueprint("hooks", __name__)

    @hooks.post("/in")
    def incoming() -> str:
        return "hook"

    csrf.exempt(hooks)
    app.register_blueprint(hooks, url_prefix="/v1")
    app.register_blueprint(hooks, url_prefix="/v2", name="hooks_v2")
    assert client.post("/v1/in").text == "hook"
    assert client.post("/v2/in").text == "hook"


def test_manual_protect_with_exemptions(
    app: Erlen, csrf: CSRFProtect, client: ErlenClient
) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.post("/manual")
    def manual() -> str:
        csrf.protect()
        return "manual"

    @app.post("/webhook")
    @csrf.exempt
    def webhook() -> str:
        csrf.protect(apply_exemptions=True)
        return "webhook"

    assert client.post("/manual").status_code == 400
    assert client.post("/manual", headers={"Sec-Fetch-Site": "same-origin"}).text == (
        "manual"
    )
    assert client.post("/webhook").text == "webhook"


def test_state_in_extensions_serves_flask_wtf_code(
    app: Erlen, csrf: CSRFProtect, client: ErlenClient
) -> None:
    state = app.extensions["csrf"]
    assert state.owner is csrf

    @app.post("/via-state")
    @state.exempt
    def via_state() -> str:
        return "exempt"

    assert client.post("/via-state").text == "exempt"


def test_one_extension_many_apps(app: Erlen) -> None:
    csrf = CSRFProtect()
    other = Erlen("other")
    csrf.init_app(app)
    csrf.init_app(other)
    assert app.extensions["csrf"].owner is other.extensions["csrf"].owner is csrf
    with pytest.raises(ExtensionError, match="already registered"):
        csrf.init_app(app)
    with pytest.raises(ExtensionError, match="not registered"):
        CSRFProtect().get_state(Erlen("third"))


def test_error_handler_and_log(
    protected: Erlen, app: Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.errorhandler(CSRFError)
    def handle(e: CSRFError) -> tuple[str, int]:
        return f"custom: {e.description}", 400

    with caplog.at_level(logging.INFO, logger="erlen_forms.csrf"):
        response = client.post("/")
    assert response.text == "custom: The CSRF token is missing."
    assert caplog.messages == ["The CSRF token is missing."]


def test_validate_csrf_reasons(app: Erlen) -> None:
    with app.test_request_context():
        for data, reason in ((None, "missing"), ("", "missing")):
            with pytest.raises(ValidationError, match=reason):
                validate_csrf(data)
        with pytest.raises(ValidationError, match="session token is missing"):
            validate_csrf("no session yet")
        token = generate_csrf()
        assert generate_csrf() == token == g.csrf_token
        assert isinstance(session["csrf_token"], str)
        validate_csrf(token)
        with pytest.raises(ValidationError, match="expired"):
            validate_csrf(token, time_limit=-1)
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(token + "x")
        with pytest.raises(ValidationError, match="do not match"):
            validate_csrf(generate_csrf(token_key="other"))


def test_a_secret_key_is_required(app: Erlen) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="Set SECRET_KEY"):
            generate_csrf()


def test_template_globals(protected: Erlen, app: Erlen) -> None:
    app.config["WTF_CSRF_META_NAME"] = "authenticity"
    with app.test_request_context():
        token = generate_csrf()
        assert render_template_string("{{ csrf_token() }}") == token
        assert render_template_string("{{ csrf_meta_tag() }}") == (
            f'<meta name="authenticity" content="{token}">'
        )
        assert '&#34;&gt;&lt;b&gt;"' in csrf_meta_tag(name='"><b>')


def test_no_session_cookie_unless_a_token_is_rendered(
    app: Erlen, protected: Erlen, client: ErlenClient
) -> None:
    class Empty(ErlenForm):
        pass

    @app.get("/built")
    def built() -> str:
        Empty()
        return "built"

    @app.get("/rendered")
    def rendered() -> str:
        return str(Empty().hidden_tag())

    assert set_cookies(client.get("/built")) == []
    assert set_cookies(client.get("/")) == []
    response = client.get("/rendered")
    assert 'name="csrf_token"' in response.text
    assert [c.split("=")[0] for c in set_cookies(response)] == ["session"]


def test_deploy_check(app: Erlen, csrf: CSRFProtect) -> None:
    runner = app.test_cli_runner()
    clean = runner.invoke(check_command, ["--deploy"])
    assert "WTF_CSRF" not in clean.output
    app.config.update(WTF_CSRF_ENABLED=False, WTF_CSRF_SSL_STRICT=False)
    result = runner.invoke(check_command, ["--deploy"])
    assert "WTF_CSRF_ENABLED is False" in result.output
    assert "WTF_CSRF_SSL_STRICT is False" in result.output
