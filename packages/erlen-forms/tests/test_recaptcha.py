"""reCAPTCHA: the widget, and the validator against a fake verification server on 127.0.0.1."""

from __future__ import annotations

import collections.abc as cabc
import http.server
import json
import socket
import threading
import typing as t
import urllib.parse

import pytest
from markupsafe import Markup

from erlen import Erlen
from erlen.testing import ErlenClient
from erlen_forms import ErlenForm
from erlen_forms import Recaptcha
from erlen_forms import RecaptchaField
from erlen_forms.recaptcha import validators


class Captcha(ErlenForm):
    class Meta:
        csrf = False

    recaptcha = RecaptchaField(nonce=lambda: "n0nce")


class FakeVerifier(http.server.BaseHTTPRequestHandler):
    """Answers like the reCAPTCHA service: ``pass`` succeeds, ``broken`` is not JSON."""

    received: t.ClassVar[list[dict[str, list[str]]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        self.received.append(form)
        answer = form["response"][0]
        if answer == "broken":
            body = b"<html>oops</html>"
        elif answer == "server-error":
            self.send_error(500)
            return
        else:
            ok = answer == "pass"
            codes = [] if ok else [answer]
            body = json.dumps({"success": ok, "error-codes": codes}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: t.Any) -> None:
        pass


@pytest.fixture
def verifier() -> cabc.Iterator[str]:
    """The fake service on a free port of 127.0.0.1; its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeVerifier)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    FakeVerifier.received.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def captcha_app(app: Erlen, verifier: str) -> Erlen:
    app.config.update(
        TESTING=False,
        RECAPTCHA_PUBLIC_KEY="site-key",
        RECAPTCHA_PRIVATE_KEY="secret-key",
        RECAPTCHA_VERIFY_SERVER=verifier,
    )

    @app.route("/", methods=["GET", "POST"])
    def index() -> dict[str, t.Any]:
        form = Captcha()
        valid = form.validate_on_submit()
        return {"valid": valid, "errors": form.errors, "html": str(form.recaptcha())}

    return app


def test_answer_checked_with_the_service(
    captcha_app: Erlen, client: ErlenClient
) -> None:
    answer = client.post(
        "/",
        data={"g-recaptcha-response": "pass"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    ).json
    assert answer is not None
    assert answer["valid"] is True
    assert FakeVerifier.received == [
        {"secret": ["secret-key"], "remoteip": ["10.1.2.3"], "response": ["pass"]}
    ]
    from_json = client.post("/", json={"g-recaptcha-response": "pass"}).json
    assert from_json is not None
    assert from_json["valid"] is True


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        ({}, "The response parameter is missing."),
        (
            {"g-recaptcha-response": "invalid-input-response"},
            "The response parameter is invalid or malformed.",
        ),
        (
            {"g-recaptcha-response": "invalid-input-secret"},
            "The secret parameter is invalid or malformed.",
        ),
        (
            {"g-recaptcha-response": "timeout-or-duplicate"},
            "The response parameter is missing.",
        ),
        ({"g-recaptcha-response": "broken"}, "could not be verified"),
        ({"g-recaptcha-response": "server-error"}, "could not be verified"),
    ],
)
def test_refusals_are_field_errors_never_500(
    captcha_app: Erlen, client: ErlenClient, sent: dict[str, str], error: str
) -> None:
    response = client.post("/", data=sent)
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["valid"] is False
    assert error in response.json["errors"]["recaptcha"][0]


def test_unreachable_service(captcha_app: Erlen, client: ErlenClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    captcha_app.config["RECAPTCHA_VERIFY_SERVER"] = f"http://127.0.0.1:{port}/"
    captcha_app.config["RECAPTCHA_TIMEOUT"] = 2
    response = client.post("/", data={"g-recaptcha-response": "pass"})
    assert response.status_code == 200
    assert "could not be verified" in response.json["errors"]["recaptcha"][0]  # type: ignore[index]


def test_skipped_when_testing_or_disabled(
    captcha_app: Erlen, client: ErlenClient
) -> None:
    captcha_app.config["TESTING"] = True
    assert client.post("/").json["valid"] is True  # type: ignore[index]
    captcha_app.config.update(TESTING=False, RECAPTCHA_ENABLED=False)
    answer = client.post("/").json
    assert answer is not None
    assert answer["valid"] is True
    assert answer["html"] == "<!-- recaptcha disabled -->"
    assert FakeVerifier.received == []


def test_missing_keys_are_clear_errors(app: Erlen) -> None:
    app.config["TESTING"] = False
    with app.test_request_context(method="POST", data={"g-recaptcha-response": "x"}):
        form = Captcha()
        with pytest.raises(RuntimeError, match="RECAPTCHA_PUBLIC_KEY"):
            form.recaptcha()
        with pytest.raises(RuntimeError, match="RECAPTCHA_PRIVATE_KEY"):
            form.validate()


def test_widget_html(app: Erlen) -> None:
    app.config.update(
        RECAPTCHA_PUBLIC_KEY="site-key",
        RECAPTCHA_PARAMETERS={"hl": "fr"},
        RECAPTCHA_DATA_ATTRS={"theme": "light", "size": "compact"},
    )
    with app.test_request_context():
        html = Captcha().recaptcha(data_theme="dark", aria_label='"x"')
    assert isinstance(html, Markup)
    assert (
        '<script src="https://www.google.com/recaptcha/api.js?hl=fr" async defer nonce="n0nce">'
        in html
    )
    assert 'class="g-recaptcha"' in html
    assert 'id="recaptcha"' in html
    assert 'data-sitekey="site-key"' in html
    assert 'data-theme="dark"' in html and "light" not in html
    assert 'data-size="compact"' in html
    assert 'aria-label="&#34;x&#34;"' in html

    app.config.update(
        RECAPTCHA_SCRIPT="https://hcaptcha.com/1/api.js",
        RECAPTCHA_DIV_CLASS="h-captcha",
    )
    with app.test_request_context():
        html = Captcha().recaptcha()
    assert "hcaptcha.com/1/api.js" in html and 'class="h-captcha"' in html
    app.config["RECAPTCHA_HTML"] = "<b>custom</b>"
    with app.test_request_context():
        assert Captcha().recaptcha() == Markup("<b>custom</b>")


def test_custom_message_and_http_module(
    captcha_app: Erlen, client: ErlenClient
) -> None:
    assert validators.http.urlopen is not None
    Captcha.recaptcha.kwargs["validators"] = [Recaptcha("Try again.")]
    try:
        answer = client.post("/", data={"g-recaptcha-response": "unknown"}).json
    finally:
        del Captcha.recaptcha.kwargs["validators"]
    assert answer is not None
    assert answer["errors"] == {"recaptcha": ["Try again."]}
