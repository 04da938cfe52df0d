"""The extension protocol (``erlen.ext``), shown with a small, complete extension.

``Greeter`` below is written the way the documentation tells extension authors
to write one: per-app state in ``app.extensions``, config defaults, a hook, a
template global and a CLI command registered in ``setup_app``, and run-time
access through ``current_app``.
"""

from __future__ import annotations

import dataclasses
import typing as t

import click
import pytest

import erlen
from erlen.ext import Extension
from erlen.ext import ExtensionError
from erlen.ext import get_app

#: Through the WSGI and the ASGI entry, the apps made in helpers too.
pytestmark = pytest.mark.usefixtures("any_app_entry")


@dataclasses.dataclass
class GreeterState:
    """What the extension keeps for one app."""

    word: str
    punctuation: str
    greeted: list[str] = dataclasses.field(default_factory=list)


class Greeter(Extension[GreeterState]):
    """Greets people; configured with ``GREETER_WORD`` and ``GREETER_PUNCTUATION``."""

    name = "greeter"
    config_defaults = {"GREETER_WORD": "Hello", "GREETER_PUNCTUATION": "!"}

    def create_state(self, app: erlen.Erlen) -> GreeterState:
        return GreeterState(
            word=app.config["GREETER_WORD"],
            punctuation=app.config["GREETER_PUNCTUATION"],
        )

    def setup_app(self, app: erlen.Erlen, state: GreeterState) -> None:
        app.add_template_global(self.greet, "greet")

        @app.after_request
        def add_header(response: erlen.Response) -> erlen.Response:
            response.headers["X-Greeter"] = state.word
            return response

        @app.cli.command("greet")
        @click.argument("who")
        def greet_command(who: str) -> None:
            click.echo(self.greet(who))

    def greet(self, who: str) -> str:
        state = self.state
        state.greeted.append(who)
        return f"{state.word}, {who}{state.punctuation}"


def make_app(name: str = "greeter_app", **config: t.Any) -> erlen.Erlen:
    app = erlen.Erlen(name)
    app.config.update(TESTING=True, **config)
    return app


def test_init_app_through_constructor() -> None:
    app = make_app()
    greeter = Greeter(app)
    state = app.extensions["greeter"]
    assert isinstance(state, GreeterState)
    assert greeter.get_state(app) is state
    with app.app_context():
        assert greeter.state is state
        assert greeter.greet("Ann") == "Hello, Ann!"
    assert state.greeted == ["Ann"]


def test_config_defaults_use_setdefault() -> None:
    app = make_app(GREETER_WORD="Hi")
    Greeter().init_app(app)
    assert app.config["GREETER_WORD"] == "Hi"
    assert app.config["GREETER_PUNCTUATION"] == "!"
    assert app.extensions["greeter"].word == "Hi"


def test_one_extension_many_apps() -> None:
    greeter = Greeter()
    first = make_app("first")
    second = make_app("second", GREETER_WORD="Hej")
    greeter.init_app(first)
    greeter.init_app(second)
    assert first.extensions["greeter"] is not second.extensions["greeter"]
    with first.app_context():
        assert greeter.greet("Ann") == "Hello, Ann!"
    with second.app_context():
        assert greeter.greet("Bo") == "Hej, Bo!"
    assert first.extensions["greeter"].greeted == ["Ann"]
    assert second.extensions["greeter"].greeted == ["Bo"]
    assert not hasattr(greeter, "word")


def test_application_factory_pattern() -> None:
    greeter = Greeter()

    def create_app(word: str) -> erlen.Erlen:
        app = make_app(GREETER_WORD=word)
        greeter.init_app(app)

        @app.route("/<who>")
        def hello(who: str) -> str:
            return greeter.greet(who)

        return app

    assert create_app("Hello").test_client().get("/Ann").data == b"Hello, Ann!"
    assert create_app("Salut").test_client().get("/Bo").data == b"Salut, Bo!"


def test_registers_hooks_globals_and_commands() -> None:
    app = make_app()
    Greeter(app)

    @app.route("/")
    def index() -> str:
        return erlen.render_template_string("{{ greet('you') }}")

    rv = app.test_client().get("/")
    assert rv.data == b"Hello, you!"
    assert rv.headers["X-Greeter"] == "Hello"
    result = app.test_cli_runner().invoke(args=["greet", "CLI"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, CLI!\n"


def test_second_init_app_is_an_error() -> None:
    app = make_app()
    greeter = Greeter(app)
    state = app.extensions["greeter"]
    with pytest.raises(ExtensionError) as exc_info:
        greeter.init_app(app)
    message = str(exc_info.value)
    assert "'greeter' extension is already registered" in message
    assert "'greeter_app'" in message
    assert "init_app" in message
    assert app.extensions["greeter"] is state
    with pytest.raises(ExtensionError, match="already registered"):
        Greeter(app)


def test_state_outside_app_context() -> None:
    greeter = Greeter(make_app())
    with pytest.raises(RuntimeError) as exc_info:
        greeter.state  # noqa: B018
    message = str(exc_info.value)
    assert "Working outside of application context" in message
    assert "'greeter'" in message
    assert "app.app_context()" in message
    with pytest.raises(RuntimeError, match=r"app\.app_context\(\)"):
        greeter.greet("nobody")


def test_state_for_unregistered_app() -> None:
    greeter = Greeter(make_app("registered"))
    other = make_app("other")
    with other.app_context():
        with pytest.raises(ExtensionError) as exc_info:
            greeter.state  # noqa: B018
    message = str(exc_info.value)
    assert "'greeter' extension is not registered on the app 'other'" in message
    assert "greeter.init_app(app)" in message
    with pytest.raises(ExtensionError, match="not registered"):
        greeter.get_state(other)


def test_extension_error_is_runtime_error() -> None:
    assert issubclass(ExtensionError, RuntimeError)


def test_create_state_must_be_implemented() -> None:
    class Incomplete(Extension[None]):
        name = "incomplete"

    app = make_app()
    with pytest.raises(NotImplementedError):
        Incomplete(app)
    assert "incomplete" not in app.extensions


def test_get_app() -> None:
    app = make_app()
    assert get_app(app) is app
    with app.app_context():
        assert get_app() is app
    with pytest.raises(RuntimeError, match="needed to send mail"):
        get_app(purpose="send mail")


# -- all-or-nothing registration and ownership ----------------------------------------


class FailingGreeter(Greeter):
    """A Greeter whose ``setup_app`` fails after registering a hook, until fixed."""

    fail = True

    def setup_app(self, app: erlen.Erlen, state: GreeterState) -> None:
        @app.before_request
        def half_registered() -> None:
            raise AssertionError("a hook of a failed registration ran")

        if self.fail:
            raise RuntimeError("setup failed")
        super().setup_app(app, state)

    def deploy_problems(
        self, app: erlen.Erlen, state: GreeterState
    ) -> t.Iterable[erlen.ext.DeployProblem]:
        yield erlen.ext.DeployProblem("greeter", "greeter problem", "fix it")


def test_failed_setup_registers_nothing_and_can_be_retried() -> None:
    from erlen.checks import run_deploy_checks

    app = make_app()
    greeter = FailingGreeter()
    with pytest.raises(RuntimeError, match="setup failed"):
        greeter.init_app(app)
    assert "greeter" not in app.extensions
    assert "GREETER_WORD" not in app.config
    assert app.before_request_funcs.get(None, []) == []
    with pytest.raises(ExtensionError, match="not registered"):
        greeter.get_state(app)

    greeter.fail = False
    greeter.init_app(app)  # the retry works: no "already registered"
    assert isinstance(app.extensions["greeter"], GreeterState)
    assert [p.check for p in run_deploy_checks(app) if p.check == "greeter"] == [
        "greeter"
    ]


def test_init_app_after_first_request_changes_nothing() -> None:
    app = make_app()

    @app.route("/")
    def index() -> str:
        return "ok"

    app.test_client().get("/")
    with pytest.raises(AssertionError, match="setup method 'init_app'"):
        Greeter().init_app(app)
    assert "greeter" not in app.extensions
    assert "GREETER_WORD" not in app.config


def test_second_unregistered_instance_gets_a_clear_error() -> None:
    app = make_app()
    registered = Greeter(app)
    other = Greeter()
    assert registered.get_state(app) is app.extensions["greeter"]
    with pytest.raises(
        ExtensionError,
        match="not registered with this app .* registered by another Greeter"
        r" instance\. Call init_app\(app\) with this instance",
    ):
        other.get_state(app)
    with app.app_context(), pytest.raises(ExtensionError, match="another Greeter"):
        other.greet("Ann")


def test_one_instance_serves_many_apps_and_state_stays_a_plain_value() -> None:
    greeter = Greeter()
    first, second = make_app("first"), make_app("second", GREETER_WORD="Hi")
    greeter.init_app(first)
    greeter.init_app(second)
    assert greeter.get_state(second).word == "Hi"
    assert type(first.extensions["greeter"]) is GreeterState
    # Replacing the state by hand (as the error message suggests) still works.
    del first.extensions["greeter"]
    other = Greeter(first)
    assert other.get_state(first) is first.extensions["greeter"]
    with pytest.raises(ExtensionError, match="another Greeter"):
        greeter.get_state(first)
