"""Every check of the erlen repository, as nox sessions.

Run ``nox`` for the default sessions (what CI runs), ``nox -l`` to list them all,
``nox -s NAME`` for one. Arguments after ``--`` go to the tool a session runs,
e.g. ``nox -s tests-erlen -- -k blueprints -x``.
"""

# Conventions the sessions rely on:
#
# * A package is a folder ``packages/<dir>/`` holding a ``pyproject.toml``. Its
#   import name is ``[tool.flit.module] name`` or the project name with ``-``
#   replaced by ``_``; its tests live in ``packages/<dir>/tests/``. A new package
#   gets a ``tests-<project name>`` session without editing this file.
# * A package's test dependencies are the ``tests`` group of the
#   ``[dependency-groups]`` table (PEP 735) in its pyproject.toml, e.g.
#
#       [dependency-groups]
#       tests = ["pytest", "coverage[toml]", "aiosqlite"]
#
#   pytest and coverage are always installed; the group adds the rest.
# * The repository's own packages (``erlen``, ``erlen-*``) are always installed
#   from ``packages/``, never from an index.
# * ``DEPENDENCY_MATRIX`` lists packages whose tests run once per version of a
#   third-party library.
# * Tests that need a server binary (gunicorn, PostgreSQL) skip when it is
#   missing, but fail instead when ``CI=true`` is set, so CI cannot pass by
#   skipping.

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tarfile
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
DIST = ROOT / "dist"
CORE = "erlen"

#: Packages whose tests run once per listed version of a library:
#: ``{project name: (library, [minor versions])}`` installs ``library~=X.Y.0``.
DEPENDENCY_MATRIX: dict[str, tuple[str, list[str]]] = {
    "erlen-sql": ("sqlalchemy", ["2.0", "2.1"]),
    "erlen-migrate": ("sqlalchemy", ["2.0", "2.1"]),
}
#: More pins for one version of a matrix (session names stay the same):
#: ``{project name: {minor version: [requirements]}}``. erlen-migrate runs on
#: the oldest supported Alembic with SQLAlchemy 2.0 and the newest with 2.1.
MATRIX_PINS: dict[str, dict[str, list[str]]] = {
    "erlen-migrate": {"2.0": ["alembic~=1.13.0"], "2.1": ["alembic>=1.18"]},
}

#: Linters are pinned so that a new release cannot fail CI on unchanged code.
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"
PYRIGHT = "pyright==1.1.414"
TEST_TOOLS = ("pytest", "coverage[toml]")
SERVER_TOOLS = ("gunicorn", "uvicorn", "hypercorn", "granian", "websockets")


@dataclasses.dataclass(frozen=True)
class Package:
    """One package under ``packages/``, as its ``pyproject.toml`` describes it."""

    name: str
    path: Path
    import_name: str
    dependencies: tuple[Requirement, ...]
    extras: dict[str, tuple[Requirement, ...]]
    test_requirements: tuple[str, ...]

    @property
    def rel(self) -> str:
        """The package folder relative to the repository root, for pip."""
        return self.path.relative_to(ROOT).as_posix()


def _load_package(pyproject_path: Path) -> Package:
    pyproject = nox.project.load_toml(pyproject_path)
    project = pyproject["project"]
    name = canonicalize_name(project["name"])
    flit_module = pyproject.get("tool", {}).get("flit", {}).get("module", {})
    groups = pyproject.get("dependency-groups", {})
    return Package(
        name=name,
        path=pyproject_path.parent,
        import_name=flit_module.get("name", name.replace("-", "_")),
        dependencies=tuple(Requirement(r) for r in project.get("dependencies", [])),
        extras={
            extra: tuple(Requirement(r) for r in reqs)
            for extra, reqs in project.get("optional-dependencies", {}).items()
        },
        test_requirements=(
            nox.project.dependency_groups(pyproject, "tests")
            if "tests" in groups
            else ()
        ),
    )


def _discover_packages() -> dict[str, Package]:
    found = [_load_package(p) for p in sorted(ROOT.glob("packages/*/pyproject.toml"))]
    found.sort(key=lambda p: (p.name != CORE, p.name))
    return {p.name: p for p in found}


PACKAGES = _discover_packages()


def _is_ours(req: Requirement) -> bool:
    """Tell whether ``req`` names one of the repository's packages, built or not."""
    name = canonicalize_name(req.name)
    return name == CORE or name.startswith(f"{CORE}-")


def _local_closure(*names: str) -> list[Package]:
    """Return the named packages and the repository packages they depend on."""
    result: dict[str, Package] = {}
    todo = list(names)
    while todo:
        package = PACKAGES[todo.pop()]
        if package.name in result:
            continue
        result[package.name] = package
        for req in filter(_is_ours, package.dependencies):
            name = canonicalize_name(req.name)
            if name not in PACKAGES:
                raise ValueError(f"{package.name} needs {name}; packages/ lacks it")
            todo.append(name)
    return sorted(result.values(), key=lambda p: (p.name != CORE, p.name))


def _editable(packages: list[Package]) -> list[str]:
    """``pip install`` arguments that install ``packages`` from their folders."""
    return [arg for p in packages for arg in ("-e", p.rel)]


def _external_extras(package: Package) -> list[str]:
    """Every third-party requirement of ``package``'s extras (ours left out)."""
    reqs = {str(r) for reqs in package.extras.values() for r in reqs if not _is_ours(r)}
    return sorted(reqs)


def _install_everything(session: nox.Session) -> None:
    """Install every package, editable, with the third-party parts of its extras."""
    packages = list(PACKAGES.values())
    extras = [r for p in packages for r in _external_extras(p)]
    session.install(*_editable(packages), *extras)


def _run_tests_with_coverage(
    session: nox.Session, package: Package, *pytest_args: str
) -> None:
    env = {"COVERAGE_FILE": str(Path(session.virtualenv.location) / ".coverage")}
    session.run(
        "coverage", "run", "-m", "pytest", f"{package.rel}/tests", *pytest_args, env=env
    )
    session.run("coverage", "report", f"--include={package.rel}/src/*", env=env)


# --- tests of each package ---------------------------------------------------------


#: The core's tests run against the oldest Werkzeug its pyproject allows and the
#: newest: erlen._werkzeug_compat holds the private names a release may change.
CORE_WERKZEUG = {"werkzeug-oldest": "werkzeug==3.1.0", "werkzeug-newest": "werkzeug"}


@nox.session(name=f"tests-{CORE}")
@nox.parametrize("werkzeug", list(CORE_WERKZEUG.values()), ids=list(CORE_WERKZEUG))
def tests_core(session: nox.Session, werkzeug: str) -> None:
    """Test the core alone: only erlen[async,asgi,dotenv], pytest, coverage, servers."""
    core = PACKAGES[CORE]
    session.install(
        "-e", f"{core.rel}[async,asgi,dotenv]", werkzeug, *TEST_TOOLS, *SERVER_TOOLS
    )
    if werkzeug == "werkzeug":  # a reused virtualenv gets the newest release too
        session.install("--upgrade", "werkzeug")
    _run_tests_with_coverage(session, core, *session.posargs)


def _define_package_tests(package: Package) -> None:
    """Register ``tests-<package>``, parametrized when the package has a matrix."""

    def run(session: nox.Session, *pins: str) -> None:
        requirements = [*TEST_TOOLS, *package.test_requirements, *pins]
        session.install(
            *_editable(_local_closure(package.name)), *dict.fromkeys(requirements)
        )
        _run_tests_with_coverage(session, package, *session.posargs)

    run.__doc__ = f"Test {package.name} with only the core and its own dependencies."
    if package.name in DEPENDENCY_MATRIX:
        library, versions = DEPENDENCY_MATRIX[package.name]
        more = MATRIX_PINS.get(package.name, {})

        def matrix_run(session: nox.Session, version: str) -> None:
            run(session, f"{library}~={version}.0", *more.get(version, []))

        matrix_run.__doc__ = run.__doc__
        parametrize = nox.parametrize(
            "version", versions, ids=[f"{library}-{v}" for v in versions]
        )
        nox.session(name=f"tests-{package.name}")(parametrize(matrix_run))
    else:
        nox.session(name=f"tests-{package.name}")(run)


for _package in PACKAGES.values():
    if _package.name != CORE:
        _define_package_tests(_package)


# --- checks across the repository ----------------------------------------------


@nox.session
def integration(session: nox.Session) -> None:
    """Run tests-integration/: every package together, behind real servers."""
    _install_everything(session)
    # python-socketio's client drives erlen-socketio's servers.
    session.install(
        "pytest",
        "selenium",
        "psycopg[binary]",
        "python-socketio[client]",
        *SERVER_TOOLS,
    )
    session.run("pytest", "tests-integration", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check lint rules and formatting with ruff (config in pyproject.toml)."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Run mypy --strict and pyright on every package, their type_check tests, and the rest."""
    _install_everything(session)
    session.install(
        MYPY, PYRIGHT, "pytest", "gunicorn", "nox", "selenium", "websockets"
    )
    session.run("mypy", *session.posargs)
    # pyright (from PyPI) runs on the machine's Node.js, fetching its npm package.
    session.run("pyright")
    for folder in sorted(ROOT.glob("packages/*/tests/type_check")):
        session.run("mypy", folder.relative_to(ROOT).as_posix())
    # The rest of the repository's Python, in runs whose module names do not
    # clash (each test folder has its own conftest.py).
    session.run(
        "mypy",
        *("noxfile.py", "examples/hello/app.py", "examples/factory"),
        *("examples/crud/crud.py", "examples/demo/notes"),
        "examples/rest/petstore.py",
    )
    session.run("mypy", "examples/websocket/app.py")
    session.run("mypy", "examples/chat/app.py")
    session.run("mypy", "tests-integration")
    session.run("mypy", "compat")
    session.run(
        "mypy",
        *("examples/conftest.py", "examples/test_examples.py"),
        *("examples/demo/test_demo.py",),
        env={"MYPYPATH": "tests-integration"},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation with Sphinx, treating every warning as an error."""
    if not (ROOT / "docs" / "conf.py").exists():
        session.skip("docs/conf.py does not exist yet: nothing to build")
    _install_everything(session)
    session.install("-r", "docs/requirements.txt", "pytest")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )
    # The guides' complete apps (blocks marked <!-- docs-test: ... -->) must run.
    session.run("pytest", "docs/test_docs_code.py", *session.posargs)


@nox.session
def examples(session: nox.Session) -> None:
    """Smoke-test every example under gunicorn, with every package installed."""
    _install_everything(session)
    session.install("pytest", "python-socketio[client]", *SERVER_TOOLS)
    session.run("pytest", "examples", *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build an sdist and a wheel of every package into dist/, then install them.

    The check installs ``erlen[all]`` into a fresh virtualenv using only dist/
    for the repository's packages and imports every package there. The core's
    ``all`` extra may list only packages that exist under packages/: a sibling
    named in an extra before its folder exists cannot be installed, so add a
    package to ``all`` (and to its own extra) in the same change that adds it.
    """
    missing = sorted(
        r.name
        for r in PACKAGES[CORE].extras.get("all", ())
        if _is_ours(r) and canonicalize_name(r.name) not in PACKAGES
    )
    if missing:
        session.error(
            f"erlen[all] lists {', '.join(missing)}, which packages/ does not hold;"
            " remove them from the extras in packages/erlen/pyproject.toml until"
            " the packages exist"
        )

    if session.venv_backend == "uv":
        session.install("build[uv]", "virtualenv")
        build_cmd = ["python", "-m", "build", "--installer=uv"]
    else:
        session.install("build", "virtualenv")
        build_cmd = ["python", "-m", "build"]
    shutil.rmtree(DIST, ignore_errors=True)
    for package in PACKAGES.values():
        session.run(*build_cmd, "--outdir", str(DIST), package.rel)

    pins = []
    for package in PACKAGES.values():
        version = _built_version(package)
        extra = "[all]" if package.name == CORE else ""
        pins.append(f"{package.name}{extra}=={version}")

    fresh = Path(session.create_tmp()) / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    session.run("python", "-m", "virtualenv", "--quiet", str(fresh))
    python = str(fresh / "bin" / "python")
    session.run(
        python,
        *("-m", "pip", "install", "--quiet", "--find-links", str(DIST), *pins),
        external=True,
    )
    imports = ", ".join(p.import_name for p in PACKAGES.values())
    session.run(python, "-c", f"import {imports}", external=True)
    session.run(fresh / "bin" / "erlen", "--help", external=True, silent=True)
    session.log(f"dist/ holds installable builds of {len(PACKAGES)} package(s)")


def _built_version(package: Package) -> str:
    """Return the version of ``package``'s wheel in dist/ (read from its file name)."""
    stem = package.name.replace("-", "_")
    pattern = re.compile(rf"^{re.escape(stem)}-([^-]+)-.*\.whl$")
    versions = [m.group(1) for f in DIST.iterdir() if (m := pattern.match(f.name))]
    if len(versions) != 1:
        raise RuntimeError(f"expected one wheel of {package.name} in dist/: {versions}")
    return versions[0]


# --- Flask extensions on erlen -----------------------------------------------------

#: Flask extensions whose own test suites ``compat`` runs on erlen through
#: ``erlen.flask_patch``: ``{project: (version, its non-Flask requirements)}``.
#: Each is installed with ``--no-deps`` so that Flask never enters the venv.
COMPAT_EXTENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "flask-cors": ("6.0.5", ("typing_extensions>=4.6",)),
    "flask-caching": ("2.4.1", ("cachelib>=0.9",)),
    "flask-limiter": ("4.1.1", ("limits>=3.13", "ordered-set>4,<5", "rich>=12,<15")),
}
#: What the suites import besides the extension, Flask left out: Flask-Limiter's
#: tests use Flask-RESTful and Flask-RESTX (installed ``--no-deps`` as well).
COMPAT_TEST_REQUIREMENTS = (
    *("pytest", "pytest-asyncio", "pytest-check", "pytest-mock", "hiro", "asgiref"),
    *("redis", "pymemcache", "pymongo"),
    *("aniso8601", "pytz", "six", "jsonschema", "importlib_resources"),
)
COMPAT_NO_DEPS_TEST_REQUIREMENTS = ("flask-restful==0.3.10", "flask-restx==1.3.2")


@nox.session
def compat(session: nox.Session) -> None:
    """Run Flask-CORS', Flask-Caching's and Flask-Limiter's own tests on erlen.

    The extensions come from the package index without Flask; their sdists
    (which hold the tests) are downloaded into the session's tmp folder, and
    pytest runs each suite with ``-p erlen.flask_patch``. compat/compat_services.py
    skips or deselects the tests that need Redis, Memcached or MongoDB and marks
    the known differences from Flask (docs/porting.md lists both).
    """
    pins = [f"{name}=={version}" for name, (version, _) in COMPAT_EXTENSIONS.items()]
    requirements = [r for _, reqs in COMPAT_EXTENSIONS.values() for r in reqs]
    session.install("-e", f"{PACKAGES[CORE].rel}[async]", "pip", *requirements)
    session.install(*COMPAT_TEST_REQUIREMENTS)
    session.install("--no-deps", *pins, *COMPAT_NO_DEPS_TEST_REQUIREMENTS)
    session.run(
        "python",
        "-c",
        "import importlib.util, sys; sys.exit(importlib.util.find_spec('flask')"
        " and 'the real Flask is installed in this venv; compat must run without it')",
    )

    sdists = Path(session.create_tmp()).resolve() / "sdists"
    shutil.rmtree(sdists, ignore_errors=True)
    session.run(
        *("python", "-m", "pip", "download", "--quiet", "--no-deps"),
        *("--no-binary", ":all:", "--dest", str(sdists), *pins),
    )
    env = {"PYTHONPATH": str(ROOT / "compat")}
    for name, (version, _) in COMPAT_EXTENSIONS.items():
        folder = _unpack_sdist(sdists, name, version)
        session.log(f"{name} {version}: its own tests, on erlen")
        session.chdir(folder)
        session.run(
            *("python", "-m", "pytest", "-p", "erlen.flask_patch"),
            *("-p", "compat_services", "-p", "no:cacheprovider"),
            *("-o", "addopts=", "-o", "asyncio_default_fixture_loop_scope=function"),
            *("-q", "-rfEsxX", "tests", *session.posargs),
            env=env,
        )
    session.chdir(ROOT)


def _unpack_sdist(folder: Path, name: str, version: str) -> Path:
    """Unpack the sdist of ``name`` ``version`` in ``folder``; return its project folder."""
    stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    with tarfile.open(folder / f"{stem}.tar.gz") as archive:
        archive.extractall(folder, filter="data")
    return folder / stem


# --- not run by default -------------------------------------------------------------


@nox.session
def demo(session: nox.Session) -> None:
    """Serve the erlen notes demo (examples/demo) on http://127.0.0.1:5000 until Ctrl+C.

    Installs the core, erlen-sql, erlen-migrate, erlen-login, erlen-forms,
    erlen-rest[docs] and erlen-socketio from packages/ (editable), runs ``erlen db upgrade`` and
    ``erlen seed`` (sample users and notes, on the first run only), prints the
    URL and the sample logins, and serves. ``nox -s demo -- --host 0.0.0.0
    --port 8000`` serves elsewhere; ``nox -s demo -- --asgi`` serves the same
    app under uvicorn (``erlen run --asgi``). The database and the generated
    secret key live in examples/demo/instance/; delete that folder to start over.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="nox -s demo --")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--asgi", action="store_true", help="serve under uvicorn")
    args = parser.parse_args(session.posargs)
    packages = _local_closure(
        CORE,
        *("erlen-sql", "erlen-migrate", "erlen-login", "erlen-forms", "erlen-rest"),
        "erlen-socketio",  # live updates of new notes and comments
    )
    # The extras the demo uses: Swagger UI's files for /api/docs, uvicorn for --asgi.
    extras = {"erlen-rest": "[docs]", CORE: "[asgi]" if args.asgi else ""}
    session.install(
        *(arg for p in packages for arg in ("-e", p.rel + extras.get(p.name, "")))
    )
    session.chdir(ROOT / "examples" / "demo")
    env = {"ERLEN_NOTES_AUTO_UPGRADE": "false"}
    session.run("erlen", "--app", "notes", "db", "upgrade", env=env)
    session.run("erlen", "--app", "notes", "seed", env=env)
    url = f"http://{args.host}:{args.port}"
    server = "uvicorn" if args.asgi else "the development server"
    session.log(f"Serving erlen notes on {url} with {server} (Ctrl+C stops it)")
    session.log(f"The JSON API's docs: {url}/api/docs (tokens: {url}/auth/tokens)")
    session.run(
        *("erlen", "--app", "notes", "run"),
        *("--host", args.host, "--port", str(args.port)),
        *(["--asgi"] if args.asgi else []),
        env=env,
    )


def _install_bench(session: nox.Session, script: str) -> None:
    """Install the core and the benchmarks' requirements, or skip if bench/ lacks them."""
    for needed in (script, "bench/requirements.txt"):
        if not (ROOT / needed).exists():
            session.skip(f"{needed} does not exist yet: nothing to run")
    session.install(
        *_editable(_local_closure(CORE, "erlen-sql")), "-r", "bench/requirements.txt"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (``-- --quick``; ``-- --realapps`` for the database bench)."""
    _install_bench(session, "bench/run.py")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session(name="bench-gate")
def bench_gate(session: nox.Session) -> None:
    """Fail unless erlen meets the performance goals (needs valgrind's callgrind).

    Three instruction-count gates: erlen ÷ Flask on hello and json, erlen-sql's
    overhead per request over plain SQLAlchemy (on SQLite), and erlen's ASGI
    entry ÷ the Werkzeug floor under ASGI.

    Without valgrind the gate is skipped, except under ``CI=true``, where it fails.
    """
    if shutil.which("valgrind") is None:
        message = "valgrind is not installed (Debian: apt-get install valgrind)"
        if os.environ.get("CI") == "true":
            session.error(f"{message}; CI must run the instruction gate")
        session.skip(f"{message}; the instruction gate needs it")
    _install_bench(session, "bench/gate.py")
    session.run("python", "bench/gate.py", *session.posargs)


nox.options.sessions = [
    "lint",
    "typecheck",
    f"tests-{CORE}",
    *(f"tests-{name}" for name in PACKAGES if name != CORE),
    "integration",
    "examples",
    "docs",
    "build",
    "compat",
    "bench-gate",
]
