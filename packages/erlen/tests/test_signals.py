"""The ten signals: names, senders, keyword arguments and order."""

from __future__ import annotations

import typing as t

import pytest

import erlen
from erlen import signals

SIGNAL_NAMES = {
    "template_rendered": "template-rendered",
    "before_render_template": "before-render-template",
    "request_started": "request-started",
    "request_finished": "request-finished",
    "request_tearing_down": "request-tearing-down",
    "got_request_exception": "got-request-exception",
    "appcontext_tearing_down": "appcontext-tearing-down",
    "appcontext_pushed": "appcontext-pushed",
    "appcontext_popped": "appcontext-popped",
    "message_flashed": "message-flashed",
}


@pytest.mark.parametrize(("attr", "name"), SIGNAL_NAMES.items())
def test_signal_names(attr: str, name: str) -> None:
    signal = getattr(signals, attr)
    assert signal.name == name
    assert getattr(erlen, attr) is signal


class Recorder:
    """Connects to every signal for one app and records ``(name, kwargs)``."""

    def __init__(self, app: erlen.Erlen) -> None:
        self.app = app
        self.events: list[tuple[str, dict[str, t.Any]]] = []
        self._receivers: list[tuple[t.Any, t.Callable[..., None]]] = []

    def __enter__(self) -> Recorder:
        for attr in SIGNAL_NAMES:
            signal = getattr(signals, attr)

            def receiver(sender: t.Any, _attr: str = attr, **kw: t.Any) -> None:
                assert sender is self.app
                self.events.append((_attr, kw))

            signal.connect(receiver, self.app)
            self._receivers.append((signal, receiver))
        return self

    def __exit__(self, *exc: object) -> None:
        for signal, receiver in self._receivers:
            signal.disconnect(receiver, self.app)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def kwargs(self, name: str) -> dict[str, t.Any]:
        return next(kw for n, kw in self.events if n == name)


def test_request_signals(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        erlen.flash("note", "info")
        return erlen.render_template_string("{{ 1 + 1 }}")

    with Recorder(app) as rec:
        rv = client.get("/")
    assert rv.data == b"2"
    assert rec.names == [
        "appcontext_pushed",
        "request_started",
        "message_flashed",
        "before_render_template",
        "template_rendered",
        "request_finished",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert rec.kwargs("appcontext_pushed") == {}
    assert rec.kwargs("request_started") == {}
    assert rec.kwargs("message_flashed") == {"message": "note", "category": "info"}
    before = rec.kwargs("before_render_template")
    rendered = rec.kwargs("template_rendered")
    assert set(before) == {"template", "context"}
    assert before["template"] is rendered["template"]
    finished = rec.kwargs("request_finished")
    assert set(finished) == {"response"}
    assert finished["response"].status_code == 200
    assert rec.kwargs("request_tearing_down") == {"exc": None}
    assert rec.kwargs("appcontext_tearing_down") == {"exc": None}
    assert rec.kwargs("appcontext_popped") == {}


def test_got_request_exception(app: erlen.Erlen) -> None:
    app.testing = False
    error = ValueError("boom")

    @app.route("/")
    def index() -> str:
        raise error

    with Recorder(app) as rec:
        rv = app.test_client().get("/")
    assert rv.status_code == 500
    assert rec.kwargs("got_request_exception") == {"exception": error}
    assert rec.kwargs("request_tearing_down") == {"exc": error}
    assert rec.kwargs("appcontext_tearing_down") == {"exc": error}
    assert "request_finished" in rec.names


def test_got_request_exception_propagating(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        raise KeyError("k")

    with Recorder(app) as rec:
        with pytest.raises(KeyError):
            app.test_client().get("/")
    assert isinstance(rec.kwargs("got_request_exception")["exception"], KeyError)
    assert "request_finished" not in rec.names


def test_handled_exception_sends_no_signal(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        erlen.abort(404)

    with Recorder(app) as rec:
        assert app.test_client().get("/").status_code == 404
    assert "got_request_exception" not in rec.names
    assert rec.kwargs("request_finished")["response"].status_code == 404


def test_signal_only_for_connected_sender(app: erlen.Erlen) -> None:
    other = erlen.Erlen("other")
    with Recorder(app) as rec:
        with other.app_context():
            pass
    assert rec.events == []


def test_template_signals_context(app: erlen.Erlen) -> None:
    with Recorder(app) as rec:
        with app.test_request_context():
            erlen.render_template("b_value.html", value="v")
            request = erlen.request._get_current_object()  # type: ignore[attr-defined]
            g = erlen.g._get_current_object()  # type: ignore[attr-defined]
    rendered = rec.kwargs("template_rendered")
    assert rendered["template"].name == "b_value.html"
    assert rendered["context"]["value"] == "v"
    assert rendered["context"]["request"] is request
    assert rendered["context"]["g"] is g


def test_appcontext_signals_standalone(app: erlen.Erlen) -> None:
    with Recorder(app) as rec:
        with pytest.raises(LookupError):
            with app.app_context():
                raise LookupError()
    assert rec.names == [
        "appcontext_pushed",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert isinstance(rec.kwargs("appcontext_tearing_down")["exc"], LookupError)


def test_receiver_that_raises_in_request_started(app: erlen.Erlen) -> None:
    app.testing = False

    @app.route("/")
    def index() -> str:
        return "ok"

    def broken(sender: t.Any, **kw: t.Any) -> None:
        raise RuntimeError("receiver failed")

    with erlen.request_started.connected_to(broken, app):
        rv = app.test_client().get("/")
    assert rv.status_code == 500
