"""The ``erlen`` command line, driven the way users drive it."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
import types
import typing as t
import urllib.error
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import erlen.cli
from erlen import Blueprint
from erlen import current_app
from erlen import Erlen
from erlen.cli import AppGroup
from erlen.cli import CertParamType
from erlen.cli import cli
from erlen.cli import ErlenGroup
from erlen.cli import find_app_by_string
from erlen.cli import find_best_app
from erlen.cli import get_version
from erlen.cli import load_dotenv
from erlen.cli import locate_app
from erlen.cli import main
from erlen.cli import NoAppException
from erlen.cli import pass_script_info
from erlen.cli import prepare_import
from erlen.cli import routes_command
from erlen.cli import run_command
from erlen.cli import ScriptInfo
from erlen.cli import shell_command
from erlen.cli import with_appcontext
from erlen.ext import ExtensionError

TEST_APPS = Path(__file__).parent / "test_apps"
CLIENT_VARS = (
    "ERLEN_APP",
    "ERLEN_DEBUG",
    "ERLEN_ENV_FILE",
    "ERLEN_RUN_FROM_CLI",
    "ERLEN_SKIP_DOTENV",
    "WERKZEUG_RUN_MAIN",
)
DOTENV_VARS = ("FOO", "BAR", "SPAM", "EGGS", "HAM", "FROM_CUSTOM")


@pytest.fixture(autouse=True)
def _isolated_cli(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    """Give each test a clean CLI environment and forget the fixture apps it imported."""
    for name in CLIENT_VARS + DOTENV_VARS:
        monkeypatch.delenv(name, raising=False)
    saved_environ = dict(os.environ)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    yield
    os.environ.clear()
    os.environ.update(saved_environ)
    sys.path[:] = saved_path
    roots = (str(TEST_APPS), os.path.realpath(tempfile.gettempdir()))
    for name in set(sys.modules) - saved_modules:
        path = getattr(sys.modules[name], "__file__", None) or ""
        if os.path.realpath(path).startswith(roots):
            del sys.modules[name]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def test_apps(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the fixture apps on ``sys.path`` and make their folder the working directory."""
    monkeypatch.syspath_prepend(str(TEST_APPS))
    monkeypatch.chdir(TEST_APPS)
    return TEST_APPS


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no app, no dotenv files, and no parent dotenv files."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    return tmp_path


def make_module(name: str, **attrs: t.Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def script_info_for(app: Erlen) -> ScriptInfo:
    return ScriptInfo(create_app=lambda: app)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- finding the app inside a module ------------------------------------------


@pytest.mark.parametrize("attr", ["app", "application"])
def test_find_best_app_prefers_conventional_names(attr: str) -> None:
    wanted = Erlen("wanted")
    module = make_module("mod", other=Erlen("other"), **{attr: wanted})
    assert find_best_app(module) is wanted


def test_find_best_app_ignores_conventional_name_that_is_not_an_app() -> None:
    only = Erlen("only")
    module = make_module("mod", app="not an app", myapp=only)
    assert find_best_app(module) is only


@pytest.mark.parametrize("factory_name", ["create_app", "make_app"])
def test_find_best_app_calls_factory(factory_name: str) -> None:
    def factory(config: str | None = None) -> Erlen:
        return Erlen(f"made-{config}")

    app = find_best_app(make_module("mod", **{factory_name: factory}))
    assert app.name == "made-None"


def test_find_best_app_factory_needing_arguments() -> None:
    def create_app(config_name: str) -> Erlen:
        return Erlen(config_name)

    with pytest.raises(NoAppException) as exc_info:
        find_best_app(make_module("mymod", create_app=create_app))
    message = str(exc_info.value)
    assert "'create_app'" in message
    assert "takes arguments" in message
    assert "--app mymod:create_app(args)" in message


def test_find_best_app_type_error_inside_factory_propagates() -> None:
    def create_app() -> Erlen:
        raise TypeError("bad config value inside the factory")

    with pytest.raises(TypeError, match="inside the factory"):
        find_best_app(make_module("mod", create_app=create_app))


def test_find_best_app_factory_returning_something_else() -> None:
    with pytest.raises(NoAppException, match="returned 'NoneType', not an erlen"):
        find_best_app(make_module("mod", make_app=lambda: None, create_app=None))


def test_find_best_app_skips_non_function_factory_names() -> None:
    module = make_module("mod", create_app="a string", make_app=42)
    with pytest.raises(NoAppException, match="Failed to find an erlen application"):
        find_best_app(module)


def test_find_best_app_same_app_under_two_names() -> None:
    only = Erlen("only")
    assert find_best_app(make_module("mod", web=only, alias=only)) is only


def test_find_best_app_multiple_apps() -> None:
    module = make_module("mymod", first=Erlen("first"), second=Erlen("second"))
    with pytest.raises(NoAppException) as exc_info:
        find_best_app(module)
    message = str(exc_info.value)
    assert "Detected multiple erlen applications in module 'mymod'" in message
    assert "--app mymod:name" in message


def test_find_best_app_nothing_found() -> None:
    with pytest.raises(NoAppException) as exc_info:
        find_best_app(make_module("mymod", value=1))
    assert "--app mymod:name" in str(exc_info.value)


# -- finding the app from --app -----------------------------------------------


@pytest.mark.parametrize(
    ("module_name", "app_name", "expected"),
    [
        ("cliapp.app", None, "testapp"),
        ("cliapp.app", "testapp", "testapp"),
        ("cliapp.factory", None, "app"),
        ("cliapp.factory", "create_app", "app"),
        ("cliapp.factory", "create_app()", "app"),
        ("cliapp.factory", ' create_app2("foo", "bar") ', "app2_foo_bar"),
        ("cliapp.factory", 'create_app2("foo", "bar", )', "app2_foo_bar"),
        ("cliapp.factory", "create_app2(bar='y', foo='x')", "app2_x_y"),
        ("cliapp.factory", "create_app2('x', bar='z')", "app2_x_z"),
        ("cliapp.inner1", None, "cliapp.inner1"),
        ("cliapp.inner1.inner2.erlen", None, "cliapp.inner1.inner2.erlen"),
    ],
)
def test_locate_app(
    test_apps: Path, module_name: str, app_name: str | None, expected: str
) -> None:
    assert locate_app(module_name, app_name).name == expected


@pytest.mark.parametrize(
    ("module_name", "app_name", "message"),
    [
        ("notanapp", None, "Could not import 'notanapp'"),
        ("cliapp.notamodule", None, "Could not import 'cliapp.notamodule'"),
        ("cliapp.message.txt", None, "Could not import 'cliapp.message.txt'"),
        ("cliapp.app", "notanapp", "Failed to find attribute 'notanapp'"),
        ("cliapp.factory", 'create_app2("foo")', "could not be called"),
        ("cliapp.factory", "create_app(", "Failed to parse 'create_app('"),
        ("cliapp.factory", "1 + 2", "Failed to parse '1 + 2'"),
        ("cliapp.factory", "factory.create_app()", "must be a simple name"),
        ("cliapp.factory", "create_app(x)", "as literal values"),
        ("cliapp.factory", "create_app(**opts)", "'**' unpacking"),
        ("cliapp.factory", "no_app", "A valid erlen application was not obtained"),
        ("cliapp.app", "__name__", "A valid erlen application was not obtained"),
        ("cliapp.multiapp", None, "Detected multiple erlen applications"),
    ],
)
def test_locate_app_errors(
    test_apps: Path, module_name: str, app_name: str | None, message: str
) -> None:
    with pytest.raises(NoAppException) as exc_info:
        locate_app(module_name, app_name)
    assert message in str(exc_info.value)


def test_locate_app_reports_import_error_inside_module(test_apps: Path) -> None:
    with pytest.raises(NoAppException) as exc_info:
        locate_app("cliapp.importerrorapp", None)
    message = str(exc_info.value)
    assert (
        "While importing 'cliapp.importerrorapp', an ImportError was raised" in message
    )
    assert "could not import its dependency" in message
    assert "Traceback" in message


def test_locate_app_reports_missing_dependency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needsdep.py").write_text(
        "import erlen_cli_test_missing_dependency\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(NoAppException) as exc_info:
        locate_app("needsdep", None, raise_if_not_found=False)
    assert "No module named 'erlen_cli_test_missing_dependency'" in str(exc_info.value)


def test_locate_app_missing_module_without_raising(test_apps: Path) -> None:
    assert locate_app("notanapp", None, raise_if_not_found=False) is None


def test_factory_type_error_inside_propagates_through_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "brokenfactory.py").write_text(
        textwrap.dedent(
            """\
            def create_app(name):
                return len(name, "too many arguments for len")
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match="len"):
        locate_app("brokenfactory", "create_app('x')")


def test_find_app_by_string_on_module_object() -> None:
    app = Erlen("direct")
    module = make_module("direct_mod", application=app)
    assert find_app_by_string(module, "application") is app


# -- prepare_import ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("cliapp/app.py", "cliapp.app"),
        ("cliapp/app", "cliapp.app"),
        ("cliapp.app", "cliapp.app"),
        ("cliapp/inner1/__init__.py", "cliapp.inner1"),
        ("cliapp/inner1", "cliapp.inner1"),
        ("cliapp/inner1/inner2/erlen.py", "cliapp.inner1.inner2.erlen"),
        ("helloworld/hello.py", "hello"),
    ],
)
def test_prepare_import(
    monkeypatch: pytest.MonkeyPatch, path: str, expected: str
) -> None:
    monkeypatch.chdir(TEST_APPS)
    assert prepare_import(path) == expected
    root = TEST_APPS / "helloworld" if path.startswith("helloworld") else TEST_APPS
    assert sys.path[0] == str(root)


def test_prepare_import_does_not_repeat_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TEST_APPS)
    prepare_import("cliapp/app.py")
    before = list(sys.path)
    prepare_import("cliapp/factory.py")
    assert sys.path == before


def test_prepare_import_then_locate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TEST_APPS / "cliapp" / "inner1")
    module_name = prepare_import("inner2/erlen.py")
    assert module_name == "cliapp.inner1.inner2.erlen"
    assert locate_app(module_name, None).name == module_name


# -- ScriptInfo ----------------------------------------------------------------


def test_script_info_create_app_is_cached() -> None:
    calls: list[Erlen] = []

    def create_app() -> Erlen:
        calls.append(Erlen("made"))
        return calls[-1]

    info = ScriptInfo(create_app=create_app)
    assert info.load_app() is info.load_app()
    assert len(calls) == 1
    assert info.data == {}


@pytest.mark.parametrize(
    "import_path",
    [
        "cliapp.app:testapp",
        "cliapp/app.py",
        "cliapp/app.py:testapp",
        str(TEST_APPS / "cliapp" / "app.py"),
        str(TEST_APPS / "cliapp" / "app.py") + ":testapp",
    ],
)
def test_script_info_import_path(
    monkeypatch: pytest.MonkeyPatch, import_path: str
) -> None:
    monkeypatch.chdir(TEST_APPS)
    assert ScriptInfo(import_path).load_app().name == "testapp"


def test_script_info_factory_call_in_import_path(test_apps: Path) -> None:
    info = ScriptInfo("cliapp.factory:create_app2('a', 'b')")
    assert info.load_app().name == "app2_a_b"


def test_script_info_empty_name_means_best_app(test_apps: Path) -> None:
    assert ScriptInfo("cliapp/app.py:").load_app().name == "testapp"


def test_script_info_finds_wsgi_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TEST_APPS / "helloworld")
    assert ScriptInfo().load_app().name == "hello"


def test_script_info_finds_app_py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(
        "from erlen import Erlen\n\nsomething = Erlen('from_app_py')\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert ScriptInfo().load_app().name == "from_app_py"


def test_script_info_nothing_to_find(empty_cwd: Path) -> None:
    with pytest.raises(NoAppException) as exc_info:
        ScriptInfo().load_app()
    assert str(exc_info.value) == (
        "Could not locate an erlen application. Use the 'erlen --app' option,"
        " 'ERLEN_APP' environment variable, or a 'wsgi.py' or 'app.py' file in"
        " the current directory."
    )


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False)])
def test_script_info_sets_debug_from_env(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", value)
    app = Erlen("dbg")
    app.debug = not expected
    assert ScriptInfo(create_app=lambda: app).load_app().debug is expected


def test_script_info_can_leave_debug_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    app = Erlen("dbg")
    app.debug = False
    info = ScriptInfo(create_app=lambda: app, set_debug_flag=False)
    assert info.load_app().debug is False


def test_script_info_respects_skip_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ScriptInfo().load_dotenv_defaults is True
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    assert ScriptInfo().load_dotenv_defaults is False


# -- with_appcontext, AppGroup ---------------------------------------------------


def test_with_appcontext_loads_app(runner: CliRunner) -> None:
    app = Erlen("ctxapp")

    @click.command()
    @with_appcontext
    def whoami() -> None:
        click.echo(current_app.name)

    result = runner.invoke(whoami, obj=script_info_for(app))
    assert result.exit_code == 0, result.output
    assert result.output == "ctxapp\n"


def test_with_appcontext_uses_active_context(runner: CliRunner) -> None:
    app = Erlen("already")

    def fail() -> Erlen:
        raise AssertionError("the app must not be loaded again")

    @click.command()
    @with_appcontext
    def whoami() -> None:
        click.echo(current_app.name)

    with app.app_context():
        result = runner.invoke(whoami, obj=ScriptInfo(create_app=fail))
    assert result.output == "already\n"


def test_app_group_commands_run_in_app_context(runner: CliRunner) -> None:
    app = Erlen("grouped")

    @click.group(cls=AppGroup)
    def tools() -> None:
        pass

    @tools.command()
    def with_parens() -> None:
        click.echo(f"with parens: {current_app.name}")

    @tools.command
    def bare() -> None:
        click.echo(f"bare: {current_app.name}")

    @tools.group()
    def sub() -> None:
        pass

    @sub.command()
    def nested() -> None:
        click.echo(f"nested: {current_app.name}")

    assert isinstance(sub, AppGroup)
    obj = script_info_for(app)
    assert runner.invoke(tools, ["with-parens"], obj=obj).output == (
        "with parens: grouped\n"
    )
    assert runner.invoke(tools, ["bare"], obj=obj).output == "bare: grouped\n"
    assert runner.invoke(tools, ["sub", "nested"], obj=obj).output == (
        "nested: grouped\n"
    )


def test_app_group_command_without_appcontext(runner: CliRunner) -> None:
    def fail() -> Erlen:
        raise AssertionError("the app must not be loaded")

    @click.group(cls=AppGroup)
    def tools() -> None:
        pass

    @tools.command(with_appcontext=False)
    def plain() -> None:
        click.echo("no app needed")

    @tools.group(cls=click.Group)
    def clickgroup() -> None:
        pass

    assert type(clickgroup) is click.Group
    result = runner.invoke(tools, ["plain"], obj=ScriptInfo(create_app=fail))
    assert result.exit_code == 0
    assert result.output == "no app needed\n"


def test_pass_script_info(runner: CliRunner) -> None:
    @click.command()
    @pass_script_info
    def show(info: ScriptInfo) -> None:
        click.echo(repr(info.app_import_path))

    assert runner.invoke(show, obj=ScriptInfo("x.y:z")).output == "'x.y:z'\n"
    assert runner.invoke(show).output == "None\n"


# -- ErlenGroup -------------------------------------------------------------------


def make_app_with_command() -> Erlen:
    app = Erlen("withcmd")

    @app.cli.command("hello")
    @click.option("--name", default="world")
    def hello(name: str) -> None:
        click.echo(f"hello {name} from {current_app.name}")

    @app.cli.command("raw", with_appcontext=False)
    def raw() -> None:
        click.echo(f"raw sees {current_app.name}")

    return app


def test_erlen_group_runs_app_commands(runner: CliRunner) -> None:
    group = ErlenGroup(create_app=make_app_with_command)
    result = runner.invoke(group, ["hello", "--name", "you"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello you from withcmd\n"
    # get_command pushes the context even for commands that opted out
    assert runner.invoke(group, ["raw"]).output == "raw sees withcmd\n"


def test_app_cli_with_test_cli_runner() -> None:
    app = make_app_with_command()
    assert isinstance(app.cli, AppGroup)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hello", "--name", "tests"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello tests from withcmd\n"


def test_erlen_group_as_custom_script(runner: CliRunner) -> None:
    @click.group(cls=ErlenGroup, create_app=make_app_with_command)
    def manage() -> None:
        """Management script for the app."""

    @manage.command()
    def own() -> None:
        click.echo(f"own command sees {current_app.name}")

    result = runner.invoke(manage, ["--help"])
    assert "Management script for the app." in result.output
    for name in ("hello", "own", "routes", "run", "shell"):
        assert name in result.output
    assert runner.invoke(manage, ["own"]).output == "own command sees withcmd\n"


def test_erlen_group_sets_run_from_cli(runner: CliRunner) -> None:
    seen: list[str | None] = []

    def create_app() -> Erlen:
        seen.append(os.environ.get("ERLEN_RUN_FROM_CLI"))
        return make_app_with_command()

    runner.invoke(ErlenGroup(create_app=create_app), ["hello"])
    assert seen == ["true"]


def test_app_run_is_ignored_under_the_cli(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runs_at_import.py").write_text(
        textwrap.dedent(
            """\
            from erlen import Erlen

            app = Erlen("runs_at_import")
            app.run(port=1)
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    result = runner.invoke(cli, ["--app", "runs_at_import.py", "routes"])
    assert result.exit_code == 0, result.output
    assert "Ignoring a call to 'app.run()'" in result.output


def test_erlen_group_app_option(runner: CliRunner, test_apps: Path) -> None:
    result = runner.invoke(cli, ["--app", "helloworld/hello.py", "greet"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello from the helloworld app!\n"
    result = runner.invoke(cli, ["-A", "hello:app", "greet"])
    assert result.output == "Hello from the helloworld app!\n"


def test_erlen_group_app_from_env(
    runner: CliRunner, test_apps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERLEN_APP", "helloworld/hello.py")
    assert runner.invoke(cli, ["greet"]).output == "Hello from the helloworld app!\n"


@pytest.mark.parametrize("args", [["--help"], []])
def test_help_lists_app_commands_from_env(
    runner: CliRunner,
    test_apps: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    monkeypatch.setenv("ERLEN_APP", "helloworld/hello.py")
    result = runner.invoke(cli, args)
    assert "greet" in result.output
    assert "Error" not in result.output
    assert "A general utility script for erlen applications." in result.output


def test_help_without_app_shows_error_and_builtins(
    runner: CliRunner, empty_cwd: Path
) -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Could not locate an erlen application." in result.stderr
    assert "Traceback" not in result.output
    for name in ("routes", "run", "shell"):
        assert name in result.stdout


def test_help_with_broken_app_shows_error_not_traceback(runner: CliRunner) -> None:
    def create_app() -> Erlen:
        raise ValueError("the database URL is missing")

    result = runner.invoke(ErlenGroup(create_app=create_app), ["--help"])
    assert result.exit_code == 0
    assert "ValueError: the database URL is missing" in result.stderr
    assert "Traceback" not in result.output
    assert "run" in result.stdout


def test_unknown_command_reports_load_error(runner: CliRunner, empty_cwd: Path) -> None:
    result = runner.invoke(cli, ["nothere"])
    assert result.exit_code == 2
    assert "Could not locate an erlen application." in result.stderr
    assert "No such command 'nothere'" in result.stderr


def test_app_command_with_extension_error_is_one_line(runner: CliRunner) -> None:
    """An extension's configuration error while loading is one line, not a traceback."""

    def create_app() -> Erlen:
        raise ExtensionError("The database driver 'pymysql' is not installed.")

    result = runner.invoke(ErlenGroup(create_app=create_app), ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: The app could not be loaded, so its command 'db' is missing: The"
        " database driver 'pymysql' is not installed.\n"
    )


def test_unknown_command_says_the_app_failed_to_load(
    runner: CliRunner, empty_cwd: Path
) -> None:
    result = runner.invoke(cli, ["db"])
    assert "The app could not be loaded, so its command 'db' may be missing." in (
        result.stderr
    )


def test_unknown_command_with_loaded_app(runner: CliRunner) -> None:
    result = runner.invoke(ErlenGroup(create_app=make_app_with_command), ["nothere"])
    assert result.exit_code == 2
    assert "No such command 'nothere'" in result.stderr
    assert "Could not locate" not in result.output


def test_app_command_with_failing_discovery_shows_message(
    runner: CliRunner, test_apps: Path
) -> None:
    result = runner.invoke(cli, ["--app", "cliapp.importerrorapp", "routes"])
    assert result.exit_code == 2
    assert "While importing 'cliapp.importerrorapp'" in result.output


@pytest.mark.parametrize(
    ("args", "expected"), [(["--debug"], "1"), (["--no-debug"], "0"), ([], None)]
)
def test_debug_option(runner: CliRunner, args: list[str], expected: str | None) -> None:
    seen: list[tuple[str | None, bool]] = []

    def create_app() -> Erlen:
        app = make_app_with_command()

        @app.cli.command("probe")
        def probe() -> None:
            seen.append((os.environ.get("ERLEN_DEBUG"), current_app.debug))

        return app

    result = runner.invoke(ErlenGroup(create_app=create_app), [*args, "probe"])
    assert result.exit_code == 0, result.output
    assert seen == [(expected, expected == "1")]


def test_debug_from_env_var(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", "true")
    app = make_app_with_command()

    @app.cli.command("probe")
    def probe() -> None:
        click.echo(f"debug={current_app.debug}")

    result = runner.invoke(ErlenGroup(create_app=lambda: app), ["probe"])
    assert result.output == "debug=True\n"
    assert os.environ["ERLEN_DEBUG"] == "1"


def test_version_option(runner: CliRunner) -> None:
    from importlib.metadata import version

    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Python ")
    assert lines[1] == f"Erlen {version('erlen')}"
    assert lines[2] == f"Werkzeug {version('werkzeug')}"


def test_get_version_does_nothing_without_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    version_param = next(p for p in cli.params if p.name == "version")
    get_version(click.Context(cli), version_param, False)
    assert capsys.readouterr().out == ""


def test_version_of_missing_distribution() -> None:
    assert erlen.cli._package_version("erlen-no-such-distribution") == (
        "unknown (not installed)"
    )


def test_group_without_defaults_or_version(runner: CliRunner) -> None:
    group = ErlenGroup(
        add_default_commands=False,
        add_version_option=False,
        create_app=make_app_with_command,
        params=[click.Option(["--extra"], expose_value=False)],
        context_settings={"help_option_names": ["--help", "-?"]},
    )
    result = runner.invoke(group, ["-?"])
    assert result.exit_code == 0, result.output
    assert "--version" not in result.output
    assert "--extra" in result.output
    assert "run" not in result.stdout.split("Commands:")[1].split()
    assert "hello" in result.output
    assert runner.invoke(group, ["--version"]).exit_code == 2


def test_explicit_obj_is_kept(runner: CliRunner) -> None:
    app = make_app_with_command()
    result = runner.invoke(
        ErlenGroup(create_app=lambda: Erlen("other")),
        ["hello"],
        obj=script_info_for(app),
    )
    assert result.output == "hello world from withcmd\n"


def test_blueprint_commands(runner: CliRunner) -> None:
    app = Erlen("bpapp")
    grouped = Blueprint("grouped", __name__)
    merged = Blueprint("merged", __name__, cli_group=None)

    @grouped.cli.command("one")
    def one() -> None:
        click.echo(f"one in {current_app.name}")

    @merged.cli.command("two")
    def two() -> None:
        click.echo(f"two in {current_app.name}")

    app.register_blueprint(grouped)
    app.register_blueprint(merged)
    group = ErlenGroup(create_app=lambda: app)
    assert runner.invoke(group, ["grouped", "one"]).output == "one in bpapp\n"
    assert runner.invoke(group, ["two"]).output == "two in bpapp\n"


def test_plugin_commands_from_entry_points(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "erlen_cli_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: erlen-cli-plugin-demo\nVersion: 1.0\n",
        encoding="utf-8",
    )
    (dist / "entry_points.txt").write_text(
        "[erlen.commands]\nplugged = erlen_cli_plugin_demo:plugged\n",
        encoding="utf-8",
    )
    (tmp_path / "erlen_cli_plugin_demo.py").write_text(
        textwrap.dedent(
            """\
            import click

            @click.command()
            def plugged():
                click.echo("plugin says hi")
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def fail() -> Erlen:
        raise AssertionError("plugins work without loading the app")

    group = ErlenGroup(create_app=fail)
    result = runner.invoke(group, ["plugged"])
    assert result.exit_code == 0, result.output
    assert result.output == "plugin says hi\n"
    ctx = click.Context(group, obj=ScriptInfo(create_app=make_app_with_command))
    assert {"plugged", "hello", "run"} <= set(group.list_commands(ctx))


def test_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["erlen", "--version"])
    with pytest.raises(SystemExit) as exc_info:
        main()
    assert exc_info.value.code == 0
    assert "Erlen " in capsys.readouterr().out


# -- dotenv ------------------------------------------------------------------------


def test_load_dotenv_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EGGS", "3")
    monkeypatch.chdir(TEST_APPS)
    assert load_dotenv()
    assert os.environ["FOO"] == "env"  # .env is loaded after .erlenenv and wins
    assert os.environ["BAR"] == "bar"  # only in .erlenenv
    assert os.environ["SPAM"] == "1"  # only in .env
    assert os.environ["EGGS"] == "3"  # already set, files never override
    assert os.environ["HAM"] == "火腿"  # files are read as UTF-8


def test_load_dotenv_searches_parents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TEST_APPS / "cliapp" / "inner1")
    assert load_dotenv()
    assert os.environ["FOO"] == "env"


def test_load_dotenv_explicit_file_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.env"
    custom.write_text("FOO=custom\nFROM_CUSTOM=yes\n", encoding="utf-8")
    monkeypatch.chdir(TEST_APPS)
    assert load_dotenv(custom)
    assert os.environ["FOO"] == "custom"
    assert os.environ["FROM_CUSTOM"] == "yes"
    assert os.environ["BAR"] == "bar"


def test_load_dotenv_only_explicit_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.env"
    custom.write_text("FROM_CUSTOM=yes\nEMPTY_KEY\n", encoding="utf-8")
    monkeypatch.chdir(TEST_APPS)
    assert load_dotenv(custom, load_defaults=False)
    assert os.environ["FROM_CUSTOM"] == "yes"
    assert "EMPTY_KEY" not in os.environ
    assert "FOO" not in os.environ


def test_load_dotenv_nothing_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert not load_dotenv(tmp_path / "missing.env", load_defaults=False)


def test_load_dotenv_without_python_dotenv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)
    monkeypatch.chdir(TEST_APPS)
    assert not load_dotenv()
    assert "FOO" not in os.environ
    assert "Install python-dotenv to use them." in capsys.readouterr().err


def test_load_dotenv_without_python_dotenv_or_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)
    monkeypatch.chdir(tmp_path)
    assert not load_dotenv()
    assert capsys.readouterr().err == ""


def probe_env_app() -> Erlen:
    app = Erlen("envprobe")

    @app.cli.command("env")
    @click.argument("names", nargs=-1)
    def env(names: tuple[str, ...]) -> None:
        for name in names:
            click.echo(f"{name}={os.environ.get(name)}")

    return app


def test_cli_loads_dotenv(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TEST_APPS)
    result = runner.invoke(ErlenGroup(create_app=probe_env_app), ["env", "FOO", "BAR"])
    assert result.output == "FOO=env\nBAR=bar\n"


def test_cli_env_file_option_wins(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.env"
    custom.write_text("FOO=custom\n", encoding="utf-8")
    monkeypatch.chdir(TEST_APPS)
    group = ErlenGroup(create_app=probe_env_app)
    result = runner.invoke(group, ["-e", str(custom), "env", "FOO", "SPAM"])
    assert result.output == "FOO=custom\nSPAM=1\n"


def test_cli_env_file_from_env_var(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.env"
    custom.write_text("FROM_CUSTOM=viaenv\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERLEN_ENV_FILE", str(custom))
    result = runner.invoke(ErlenGroup(create_app=probe_env_app), ["env", "FROM_CUSTOM"])
    assert result.output == "FROM_CUSTOM=viaenv\n"


def test_cli_env_file_must_exist(runner: CliRunner, empty_cwd: Path) -> None:
    result = runner.invoke(cli, ["-e", "nope.env", "routes"])
    assert result.exit_code == 2
    assert "nope.env" in result.stderr


def test_cli_skip_dotenv(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.env"
    custom.write_text("FROM_CUSTOM=yes\n", encoding="utf-8")
    monkeypatch.chdir(TEST_APPS)
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    group = ErlenGroup(create_app=probe_env_app)
    result = runner.invoke(group, ["env", "FOO"])
    assert result.output == "FOO=None\n"
    # an explicit file is still loaded
    result = runner.invoke(group, ["-e", str(custom), "env", "FOO", "FROM_CUSTOM"])
    assert result.output == "FOO=None\nFROM_CUSTOM=yes\n"


def test_cli_group_without_dotenv(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(TEST_APPS)
    group = ErlenGroup(create_app=probe_env_app, load_dotenv=False)
    assert runner.invoke(group, ["env", "FOO"]).output == "FOO=None\n"


def test_cli_env_file_needs_python_dotenv(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.env"
    custom.write_text("FOO=custom\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "dotenv", None)
    monkeypatch.chdir(tmp_path)
    group = ErlenGroup(create_app=probe_env_app)
    result = runner.invoke(group, ["-e", str(custom), "env", "FOO"])
    assert result.exit_code == 2
    assert "python-dotenv must be installed to load an env file" in result.stderr
    # without -e the command still runs
    assert runner.invoke(group, ["env", "FOO"]).output == "FOO=None\n"


def test_dotenv_can_name_the_app(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".erlenenv").write_text(
        f"ERLEN_APP={TEST_APPS / 'helloworld' / 'hello.py'}\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    assert "greet" in runner.invoke(cli, ["--help"]).output
    result = runner.invoke(cli, ["greet"])
    assert result.output == "Hello from the helloworld app!\n"


# -- run -----------------------------------------------------------------------------


class RunSimpleCall(t.NamedTuple):
    host: str
    port: int
    app: t.Any
    options: dict[str, t.Any]


@pytest.fixture
def run_simple_calls(monkeypatch: pytest.MonkeyPatch) -> list[RunSimpleCall]:
    """Record the server ``erlen run`` would start, for checking its options."""
    calls: list[RunSimpleCall] = []

    def record(host: str, port: int, app: t.Any, **options: t.Any) -> None:
        calls.append(RunSimpleCall(host, port, app, options))

    monkeypatch.setattr(erlen.cli, "run_simple", record)
    return calls


def test_run_defaults(runner: CliRunner, run_simple_calls: list[RunSimpleCall]) -> None:
    app = Erlen("runapp")
    result = runner.invoke(run_command, obj=script_info_for(app))
    assert result.exit_code == 0, result.output
    assert result.output == " * Debug mode: off\n"
    (call,) = run_simple_calls
    assert (call.host, call.port, call.app) == ("127.0.0.1", 5000, app)
    assert call.options == {
        "use_reloader": False,
        "use_debugger": False,
        "threaded": True,
        "ssl_context": None,
        "extra_files": None,
        "exclude_patterns": None,
    }


def test_run_debug_turns_on_reloader_and_debugger(
    runner: CliRunner, run_simple_calls: list[RunSimpleCall], test_apps: Path
) -> None:
    result = runner.invoke(
        cli, ["--app", "cliapp.app", "run", "--debug", "-h", "127.0.0.2", "-p", "8123"]
    )
    assert result.exit_code == 0, result.output
    assert " * Serving erlen app 'cliapp.app'" in result.output
    assert " * Debug mode: on" in result.output
    (call,) = run_simple_calls
    assert (call.host, call.port) == ("127.0.0.2", 8123)
    assert call.options["use_reloader"] is True
    assert call.options["use_debugger"] is True
    assert call.app.debug is True


def test_run_explicit_switches(
    runner: CliRunner, run_simple_calls: list[RunSimpleCall], tmp_path: Path
) -> None:
    one = tmp_path / "one.cfg"
    two = tmp_path / "two.cfg"
    one.touch()
    two.touch()
    result = runner.invoke(
        run_command,
        [
            "--debug",
            "--no-reload",
            "--no-debugger",
            "--without-threads",
            "--extra-files",
            os.pathsep.join([str(one), str(two)]),
            "--exclude-patterns",
            os.pathsep.join(["*.pyc", "*/node_modules/*"]),
        ],
        obj=script_info_for(Erlen("switches")),
    )
    assert result.exit_code == 0, result.output
    options = run_simple_calls[0].options
    assert options["use_reloader"] is False
    assert options["use_debugger"] is False
    assert options["threaded"] is False
    assert options["extra_files"] == [str(one), str(two)]
    assert options["exclude_patterns"] == ["*.pyc", "*/node_modules/*"]


def test_run_port_from_env(
    runner: CliRunner,
    run_simple_calls: list[RunSimpleCall],
    test_apps: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERLEN_RUN_PORT", "8765")
    monkeypatch.setenv("ERLEN_RUN_HOST", "127.0.0.3")
    result = runner.invoke(cli, ["--app", "cliapp.app", "run"])
    assert result.exit_code == 0, result.output
    assert (run_simple_calls[0].host, run_simple_calls[0].port) == ("127.0.0.3", 8765)


def test_run_without_app_fails(
    runner: CliRunner, run_simple_calls: list[RunSimpleCall], empty_cwd: Path
) -> None:
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "Could not locate an erlen application." in result.stderr
    assert run_simple_calls == []


def test_run_in_reloader_serves_the_load_error(
    runner: CliRunner,
    run_simple_calls: list[RunSimpleCall],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")

    def create_app() -> Erlen:
        raise RuntimeError("syntax slip while editing")

    result = runner.invoke(run_command, obj=ScriptInfo(create_app=create_app))
    assert result.exit_code == 0, result.output
    assert "syntax slip while editing" in result.stderr
    assert "Debug mode" not in result.output  # the reloader child prints no banner
    (call,) = run_simple_calls
    with pytest.raises(RuntimeError, match="syntax slip"):
        call.app({}, lambda *args: None)


@pytest.fixture
def cert_files(tmp_path: Path) -> tuple[Path, Path]:
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    cert.write_text("not really a certificate", encoding="utf-8")
    key.write_text("not really a key", encoding="utf-8")
    return cert, key


def test_run_cert_and_key(
    runner: CliRunner,
    run_simple_calls: list[RunSimpleCall],
    cert_files: tuple[Path, Path],
) -> None:
    cert, key = cert_files
    result = runner.invoke(
        run_command,
        ["--cert", str(cert), "--key", str(key)],
        obj=script_info_for(Erlen("tls")),
    )
    assert result.exit_code == 0, result.output
    assert run_simple_calls[0].options["ssl_context"] == (str(cert), str(key))


@pytest.mark.parametrize(
    ("use", "message"),
    [
        ("cert-only", 'Required when using "--cert".'),
        ("key-only", '"--cert" must also be specified.'),
        ("adhoc-key", 'When "--cert" is "adhoc", "--key" is not used.'),
        ("context-key", 'When "--cert" is an SSLContext object, "--key" is not used.'),
        ("bad-cert", "does not exist"),
    ],
)
def test_run_cert_errors(
    runner: CliRunner,
    run_simple_calls: list[RunSimpleCall],
    cert_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    use: str,
    message: str,
) -> None:
    cert, key = cert_files
    (tmp_path / "tlsctx.py").write_text(
        "import ssl\n\ncontext = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    args = {
        "cert-only": ["--cert", str(cert)],
        "key-only": ["--key", str(key)],
        "adhoc-key": ["--cert", "adhoc", "--key", str(key)],
        "context-key": ["--cert", "tlsctx.context", "--key", str(key)],
        "bad-cert": ["--cert", "no_such_module.context"],
    }[use]
    result = runner.invoke(run_command, args, obj=script_info_for(Erlen("tls")))
    assert result.exit_code == 2
    assert message in result.stderr
    assert run_simple_calls == []


def test_run_cert_ssl_context(
    runner: CliRunner,
    run_simple_calls: list[RunSimpleCall],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "tlsctx2.py").write_text(
        "import ssl\n\ncontext = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = runner.invoke(
        run_command, ["--cert", "tlsctx2.context"], obj=script_info_for(Erlen("tls"))
    )
    assert result.exit_code == 0, result.output
    assert isinstance(run_simple_calls[0].options["ssl_context"], ssl.SSLContext)


def test_run_cert_adhoc(
    runner: CliRunner,
    run_simple_calls: list[RunSimpleCall],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    obj = script_info_for(Erlen("tls"))
    result = runner.invoke(run_command, ["--cert", "adhoc"], obj=obj)
    assert result.exit_code == 2
    assert "requires the cryptography library" in result.stderr

    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    result = runner.invoke(run_command, ["--cert", "ADHOC"], obj=obj)
    assert result.exit_code == 0, result.output
    assert run_simple_calls[0].options["ssl_context"] == "adhoc"


def test_cert_param_type_accepts_converted_values(
    cert_files: tuple[Path, Path],
) -> None:
    cert, _ = cert_files
    assert CertParamType()(str(cert)) == str(cert)
    assert CertParamType().name == "path"


@pytest.mark.server
def test_run_serves_requests(tmp_path: Path) -> None:
    """``python -m erlen --app hello run`` starts a real server that answers."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ERLEN_", "WERKZEUG_"))
    }
    env["ERLEN_SKIP_DOTENV"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "erlen",
                "--app",
                "hello",
                "run",
                "--port",
                str(port),
            ],
            cwd=TEST_APPS / "helloworld",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            body = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/", timeout=2
                    ) as response:
                        body = response.read()
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.1)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait(timeout=5)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert body == b"Hello World!", output
    assert " * Serving erlen app 'hello'" in output
    assert " * Debug mode: off" in output
    assert f"http://127.0.0.1:{port}" in output


# -- shell -------------------------------------------------------------------------


def make_shell_app() -> Erlen:
    app = Erlen("shellapp")

    @app.shell_context_processor
    def extra() -> dict[str, t.Any]:
        return {"answer": 42}

    return app


def test_shell(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    startup = tmp_path / "startup.py"
    startup.write_text("from_startup = 'hi'\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    hook_calls: list[bool] = []
    monkeypatch.setattr(sys, "__interactivehook__", lambda: hook_calls.append(True))
    app = make_shell_app()
    result = runner.invoke(
        shell_command,
        input="print(app.name, answer, from_startup, g is not None)\n",
        obj=script_info_for(app),
    )
    assert result.exit_code == 0, result.output
    assert "shellapp 42 hi True" in result.stdout
    assert "App: shellapp" in result.stderr
    assert f"Instance: {app.instance_path}" in result.stderr
    assert hook_calls == [True]


def test_shell_without_interactive_hook(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    monkeypatch.delenv("PYTHONSTARTUP", raising=False)
    result = runner.invoke(
        cli,
        ["shell"],
        input="print(answer * 2)\n",
        obj=script_info_for(make_shell_app()),
    )
    assert result.exit_code == 0, result.output
    assert "84" in result.stdout


# -- routes ------------------------------------------------------------------------


def make_routes_app() -> Erlen:
    app = Erlen("routesapp", static_folder=None)

    @app.route("/get_post/<int:x>/<int:y>", methods=["GET", "POST"])
    def yyy_get_post(x: int, y: int) -> str:
        return "ok"

    @app.delete("/zzz_delete")
    def zzz_delete() -> str:
        return "ok"

    @app.route("/aaa_get")
    def aaa_get() -> str:
        return "ok"

    return app


def routes_output(runner: CliRunner, app: Erlen, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(routes_command, list(args))
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def endpoints(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines[2:]]


def test_routes_table(runner: CliRunner) -> None:
    lines = routes_output(runner, make_routes_app())
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert set(lines[1]) == {"-", " "}
    assert endpoints(lines) == ["aaa_get", "yyy_get_post", "zzz_delete"]
    row = next(line for line in lines if line.startswith("yyy_get_post"))
    assert "GET, POST" in row
    assert "/get_post/<int:x>/<int:y>" in row
    assert "HEAD" not in "\n".join(lines)
    assert "OPTIONS" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("endpoint", ["aaa_get", "yyy_get_post", "zzz_delete"]),
        ("methods", ["zzz_delete", "aaa_get", "yyy_get_post"]),
        ("rule", ["aaa_get", "yyy_get_post", "zzz_delete"]),
        ("match", ["yyy_get_post", "zzz_delete", "aaa_get"]),
        ("domain", ["yyy_get_post", "zzz_delete", "aaa_get"]),
    ],
)
def test_routes_sort(runner: CliRunner, sort: str, expected: list[str]) -> None:
    assert (
        endpoints(routes_output(runner, make_routes_app(), "--sort", sort)) == expected
    )
    assert endpoints(routes_output(runner, make_routes_app(), "-s", sort)) == expected


def test_routes_all_methods(runner: CliRunner) -> None:
    lines = routes_output(runner, make_routes_app(), "--all-methods")
    row = next(line for line in lines if line.startswith("yyy_get_post"))
    assert "GET, HEAD, OPTIONS, POST" in row


def test_routes_subdomain_column(runner: CliRunner) -> None:
    app = Erlen("subapp", static_folder=None, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="api")
    def api_index() -> str:
        return "api"

    @app.route("/")
    def index() -> str:
        return "www"

    lines = routes_output(runner, app, "--sort", "domain")
    assert lines[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert endpoints(lines) == ["index", "api_index"]
    assert "api" in next(line for line in lines if line.startswith("api_index")).split()


def test_routes_host_column(runner: CliRunner) -> None:
    app = Erlen("hostapp", static_folder=None, host_matching=True)

    @app.route("/", host="b.example.test")
    def b_index() -> str:
        return "b"

    @app.route("/", host="a.example.test")
    def a_index() -> str:
        return "a"

    lines = routes_output(runner, app, "-s", "domain")
    assert lines[0].split() == ["Endpoint", "Methods", "Host", "Rule"]
    assert endpoints(lines) == ["a_index", "b_index"]


def test_routes_without_host_values(runner: CliRunner) -> None:
    app = Erlen("hostless", static_folder=None, host_matching=True, static_host=None)

    @app.route("/")
    def index() -> str:
        return "x"

    assert routes_output(runner, app)[0].split() == ["Endpoint", "Methods", "Rule"]


def test_routes_empty(runner: CliRunner) -> None:
    app = Erlen("empty", static_folder=None)
    assert routes_output(runner, app) == ["No routes were registered."]


def test_routes_through_the_cli(runner: CliRunner, test_apps: Path) -> None:
    result = runner.invoke(cli, ["--app", "helloworld/hello.py", "routes"])
    assert result.exit_code == 0, result.output
    assert "hello" in result.output
    assert "/" in result.output


def test_app_command_named_check_replaces_the_builtin() -> None:
    """Apps ported from Flask may have their own ``check``; it wins over ours."""
    app = Erlen("checkapp")

    @app.cli.command("check")
    def own_check() -> None:
        click.echo("the app's own check")

    cli = ErlenGroup(create_app=lambda: app)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 0
    assert result.output == "the app's own check\n"

    plain = Erlen("plainapp")
    result = CliRunner().invoke(ErlenGroup(create_app=lambda: plain), ["check"])
    assert "No problems found" in result.output


def test_run_asgi_without_uvicorn_says_what_to_install(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = runner.invoke(run_command, ["--asgi"], obj=script_info_for(Erlen("x")))
    assert result.exit_code == 2
    assert "pip install 'erlen[asgi]'" in result.output


def test_run_asgi_passes_the_app_to_uvicorn(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("uvicorn")
    calls: list[tuple[t.Any, dict[str, t.Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append((app, kw)))
    app = Erlen("asgiapp")
    result = runner.invoke(
        run_command, ["--asgi", "--port", "8123"], obj=script_info_for(app)
    )
    assert result.exit_code == 0, result.output
    assert calls == [(app, {"host": "127.0.0.1", "port": 8123, "log_level": "info"})]
