"""``erlen.flask_patch``: Flask extensions import ``flask`` and get erlen.

The patch changes ``sys.modules`` for the whole process, so every test runs it
in a child Python; the rest of the suite never sees a ``flask`` module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TEST_APPS = Path(__file__).parent / "test_apps"
#: Importing erlen.flask_patch here would patch this process: the expected
#: values are spelled out instead.
FLASK_VERSION = "3.1.3"
#: The public submodules the issue lists, and the erlen module each must be.
SUBMODULES = {
    "flask.json": "erlen.json",
    "flask.json.provider": "erlen.json.provider",
    "flask.json.tag": "erlen.json.tag",
    "flask.sessions": "erlen.sessions",
    "flask.cli": "erlen.cli",
    "flask.views": "erlen.views",
    "flask.wrappers": "erlen.wrappers",
    "flask.testing": "erlen.testing",
    "flask.ctx": "erlen.ctx",
    "flask.globals": "erlen.globals",
    "flask.helpers": "erlen.helpers",
    "flask.templating": "erlen.templating",
    "flask.blueprints": "erlen.blueprints",
    "flask.signals": "erlen.signals",
    "flask.config": "erlen.config",
    "flask.logging": "erlen.logging",
    "flask.typing": "erlen.typing",
    "flask.debughelpers": "erlen.debughelpers",
    "flask.app": "erlen.app",
    "flask.sansio.app": "erlen.app",
    "flask.sansio.scaffold": "erlen.scaffold",
    "flask.sansio.blueprints": "erlen.blueprints",
}


def test_this_process_is_not_patched() -> None:
    """The other tests run the patch in child processes only."""
    assert "flask" not in sys.modules
    assert "erlen.flask_patch" not in sys.modules


def run(
    *args: str,
    cwd: Path,
    path: tuple[Path, ...] = (),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` in a clean environment with ``path`` on ``sys.path``."""
    child_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ERLEN_", "FLASK_", "PYTHON"))
    }
    child_env["ERLEN_SKIP_DOTENV"] = "1"
    if path:
        child_env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_code(
    code: str, tmp_path: Path, path: tuple[Path, ...] = (), args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return run("-c", textwrap.dedent(code), *args, cwd=tmp_path, path=path)


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name -> text) under ``folder`` and return it."""
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.fixture
def fake_flask(tmp_path: Path) -> Path:
    """A folder holding a stand-in for the real Flask package and an extension using it."""
    return write(
        tmp_path / "site",
        {
            "flask/__init__.py": "class Flask:\n    pass\n",
            "my_extension.py": "from flask import Flask\n",
        },
    )


def test_flask_and_its_submodules_are_erlens_modules(tmp_path: Path) -> None:
    result = run_code(
        """
        import importlib, json, sys
        import erlen.flask_patch
        import flask, erlen
        SUBMODULES = json.loads(sys.argv[1])
        for name in SUBMODULES:
            importlib.import_module(name)

        print(json.dumps({
            "modules": {
                name: sys.modules[name] is importlib.import_module(target)
                for name, target in SUBMODULES.items()
            },
            "attributes": {
                name: eval(name) is sys.modules[name]
                for name in SUBMODULES
            },
            "declared": erlen.flask_patch.SUBMODULES == SUBMODULES,
            "json": flask.json is erlen.json,
        }))
        """,
        tmp_path,
        args=(json.dumps(SUBMODULES),),
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["json"] is True
    assert found["declared"] is True
    assert found["modules"] == dict.fromkeys(SUBMODULES, True)
    assert found["attributes"] == dict.fromkeys(SUBMODULES, True)


def test_flask_names_are_the_erlen_objects(tmp_path: Path) -> None:
    result = run_code(
        """
        import json
        import erlen.flask_patch
        import erlen, erlen.cli, erlen.testing
        import flask
        from flask import Flask, request, jsonify, Blueprint
        from flask.app import Flask as AppFlask
        from flask.cli import FlaskGroup
        from flask.testing import FlaskClient, FlaskCliRunner
        from flask.sansio.app import App
        from flask.sansio.scaffold import Scaffold, _endpoint_from_view_func

        app = Flask("demo")
        bp = Blueprint("bp", __name__)

        @bp.route("/hello")
        def hello():
            return jsonify(name=request.args["name"])

        app.register_blueprint(bp)
        client = app.test_client()
        response = client.get("/hello?name=erlen")
        print(json.dumps({
            "Flask": Flask is erlen.Erlen is AppFlask is App,
            "FlaskGroup": FlaskGroup is erlen.cli.ErlenGroup,
            "FlaskClient": FlaskClient is erlen.testing.ErlenClient,
            "FlaskCliRunner": FlaskCliRunner is erlen.testing.ErlenCliRunner,
            "isinstance": isinstance(app, flask.Flask) and isinstance(app, Scaffold),
            "client": type(client) is FlaskClient,
            "request": flask.request is erlen.request,
            "endpoint": _endpoint_from_view_func(hello),
            "response": [response.status_code, response.get_json()],
        }))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "Flask": True,
        "FlaskGroup": True,
        "FlaskClient": True,
        "FlaskCliRunner": True,
        "isinstance": True,
        "client": True,
        "request": True,
        "endpoint": "hello",
        "response": [200, {"name": "erlen"}],
    }


def test_unknown_flask_names_fail_clearly(tmp_path: Path) -> None:
    result = run_code(
        """
        import erlen.flask_patch
        import flask
        try:
            import flask.not_a_module
        except ModuleNotFoundError as e:
            print(e)
        try:
            flask.not_a_name
        except AttributeError as e:
            print(e)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "No module named 'flask.not_a_module'",
        "module 'flask' (erlen, through erlen.flask_patch) has no attribute"
        " 'not_a_name'",
    ]


def test_flask_version_and_metadata(tmp_path: Path) -> None:
    result = run_code(
        """
        import importlib.metadata as md, json
        import erlen.flask_patch
        import flask
        print(json.dumps([
            flask.__version__,
            md.version("flask"),
            md.version("Flask"),
            md.metadata("flask")["Name"],
            any(d.metadata["Name"] == "Flask" for d in md.distributions()),
        ]))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [FLASK_VERSION] * 3 + ["Flask", True]
    assert FLASK_VERSION.startswith("3.1.")


def test_version_needs_no_package_on_disk(tmp_path: Path) -> None:
    """Before the patch, this environment has no Flask; after it, metadata has one."""
    result = run_code(
        """
        import importlib.metadata as md, importlib.util
        if importlib.util.find_spec("flask") is not None:
            raise SystemExit("skip: Flask is installed here")
        try:
            md.version("flask")
        except md.PackageNotFoundError:
            print("absent")
        import erlen.flask_patch
        print(md.version("flask"))
        """,
        tmp_path,
    )
    if result.stderr.startswith("skip:"):
        pytest.skip("Flask is installed in this environment")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["absent", FLASK_VERSION]


def test_pytest_plugin(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "test_ext.py": """
                import erlen
                import flask
                from flask.testing import FlaskClient

                def test_app_is_erlen():
                    app = flask.Flask(__name__)
                    app.get("/")(lambda: "ok")
                    client = app.test_client()
                    assert isinstance(app, erlen.Erlen)
                    assert isinstance(client, FlaskClient)
                    assert client.get("/").text == "ok"
            """,
        },
    )
    args = ("-m", "pytest", "-p", "erlen.flask_patch", "-p", "no:cacheprovider")
    result = run(*args, "-q", "test_ext.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_refuses_after_the_real_flask_and_names_the_importer(
    tmp_path: Path, fake_flask: Path
) -> None:
    result = run_code(
        """
        import my_extension
        try:
            import erlen.flask_patch
        except RuntimeError as e:
            print(type(e).__name__)
            print(e)
        """,
        tmp_path,
        path=(fake_flask,),
    )
    assert result.returncode == 0, result.stderr
    name, message = result.stdout.split("\n", 1)
    assert name == "FlaskAlreadyImportedError"
    assert "The real Flask" in message
    assert str(fake_flask / "flask" / "__init__.py") in message
    assert "already imported by 'my_extension'" in message
    assert "Import erlen.flask_patch before anything that imports flask" in message


def test_wins_over_an_installed_flask_and_logs_it_once(
    tmp_path: Path, fake_flask: Path
) -> None:
    result = run_code(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(message)s")
        import erlen.flask_patch
        erlen.flask_patch.apply()
        import erlen, my_extension
        print(my_extension.Flask is erlen.Erlen)
        """,
        tmp_path,
        path=(fake_flask,),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    logged = [line for line in lines if "erlen.flask_patch makes" in line]
    assert len(logged) == 1
    assert str(fake_flask / "flask" / "__init__.py") in logged[0]
    assert lines[-1] == "True"


def test_no_log_line_without_an_installed_flask(tmp_path: Path) -> None:
    result = run_code(
        """
        import importlib.util, logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(message)s")
        print(importlib.util.find_spec("flask") is not None)
        import erlen.flask_patch
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    installed, *logged = result.stdout.splitlines()
    if installed == "True":
        pytest.skip("Flask is installed in this environment")
    assert logged == []


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    """A folder with an installed (fake) Flask extension registering commands."""
    return write(
        tmp_path / "site",
        {
            "fake_ext-1.0.dist-info/METADATA": """\
                Metadata-Version: 2.1
                Name: fake-ext
                Version: 1.0
            """,
            "fake_ext-1.0.dist-info/entry_points.txt": """\
                [flask.commands]
                fake = fake_ext:cli
                broken = broken_ext:cli
                run = fake_ext:cli
            """,
            "fake_ext.py": """\
                import click
                import flask
                from flask.cli import AppGroup

                cli = AppGroup("fake", help="Commands of a Flask extension.")

                @cli.command()
                def hello():
                    app = flask.current_app._get_current_object()
                    click.echo(f"hello from {app.name}, a {type(app).__name__}")
            """,
            "broken_ext.py": "raise ImportError('broken_ext needs something missing')\n",
        },
    )


def test_cli_lists_and_runs_flask_commands(tmp_path: Path, plugins: Path) -> None:
    help_result = run("-m", "erlen", "--help", cwd=TEST_APPS, path=(plugins,))
    assert help_result.returncode == 0, help_result.stderr
    assert "Commands of a Flask extension." in help_result.stdout
    assert "Run a development server." in help_result.stdout
    assert "'broken' (broken_ext:cli) could not be loaded" in help_result.stderr
    assert "broken_ext needs something missing" in help_result.stderr

    args = ("-m", "erlen", "--app", "helloworld/hello.py", "fake", "hello")
    result = run(*args, cwd=TEST_APPS, path=(plugins,))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from hello, a Erlen\n"


def test_cli_skips_flask_commands_after_the_real_flask(
    tmp_path: Path, plugins: Path, fake_flask: Path
) -> None:
    result = run_code(
        """
        import sys
        import flask
        from erlen.cli import main
        sys.argv = ["erlen", "--help"]
        main()
        """,
        TEST_APPS,
        path=(fake_flask, plugins),
    )
    assert result.returncode == 0, result.stderr
    assert "fake " not in result.stdout
    assert "Warning: Flask extension commands not loaded." in result.stderr
    assert "The real Flask" in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FLASK_APP": "helloworld/hello.py"}, "Hello from the helloworld app!"),
        (
            {"FLASK_APP": "nowhere.py", "ERLEN_APP": "helloworld/hello.py"},
            "Hello from the helloworld app!",
        ),
    ],
)
def test_cli_reads_flask_app_when_erlen_app_is_absent(
    env: dict[str, str], expected: str
) -> None:
    result = run("-m", "erlen", "greet", cwd=TEST_APPS, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FLASK_DEBUG": "1"}, "True 1"),
        ({"FLASK_DEBUG": "1", "ERLEN_DEBUG": "0"}, "False 0"),
        ({}, "False None"),
    ],
)
def test_cli_reads_flask_debug_when_erlen_debug_is_absent(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    write(
        tmp_path,
        {
            "app.py": """
                import os
                from erlen import Erlen, current_app

                app = Erlen(__name__)

                @app.cli.command()
                def probe():
                    print(current_app.debug, os.environ.get("ERLEN_DEBUG"))
            """
        },
    )
    result = run("-m", "erlen", "probe", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
