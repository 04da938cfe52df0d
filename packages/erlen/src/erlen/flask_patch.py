"""Make ``import flask`` give erlen, so Flask extensions run on erlen unchanged.

Import this module before any Flask extension, in the module that creates the
app, or load it as a pytest plugin (``pytest -p erlen.flask_patch``)::

    import erlen.flask_patch  # noqa: F401  (first, before the extensions)
    from flask import Flask
    from flask_cors import CORS

    app = Flask(__name__)  # an erlen.Erlen
    CORS(app)

After the import, ``flask`` and its public submodules (``flask.json``,
``flask.testing``, ``flask.sansio.app``, ...) are erlen's own modules, and every
``Flask*`` name is its ``Erlen*`` twin (``flask.Flask is erlen.Erlen``):
nothing is copied or subclassed, so ``isinstance(app, flask.Flask)`` holds.
``flask.__version__`` and ``importlib.metadata.version("flask")`` report
:data:`FLASK_VERSION`, the Flask release whose API erlen provides, without a
package installed on disk.

The patch changes the whole process. It refuses to run once the real Flask is
imported (:class:`FlaskAlreadyImportedError` names the importer); if Flask is
installed but not imported yet, the patch wins and says so once in the log at
debug level (logger ``erlen.flask_patch``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import pathlib
import re
import sys
import typing as t
from importlib.machinery import ModuleSpec
from types import FunctionType
from types import ModuleType

__all__ = ["FLASK_VERSION", "FlaskAlreadyImportedError", "apply", "is_applied"]

#: The Flask release whose API erlen provides, reported as ``flask.__version__``.
FLASK_VERSION = "3.1.3"

#: ``flask`` submodule -> the erlen module it is. The facade packages ``flask``
#: and ``flask.sansio`` are made by :func:`apply`.
SUBMODULES: dict[str, str] = {
    "flask.app": "erlen.app",
    "flask.blueprints": "erlen.blueprints",
    "flask.cli": "erlen.cli",
    "flask.config": "erlen.config",
    "flask.ctx": "erlen.ctx",
    "flask.debughelpers": "erlen.debughelpers",
    "flask.globals": "erlen.globals",
    "flask.helpers": "erlen.helpers",
    "flask.json": "erlen.json",
    "flask.json.provider": "erlen.json.provider",
    "flask.json.tag": "erlen.json.tag",
    "flask.logging": "erlen.logging",
    "flask.sessions": "erlen.sessions",
    "flask.signals": "erlen.signals",
    "flask.templating": "erlen.templating",
    "flask.testing": "erlen.testing",
    "flask.typing": "erlen.typing",
    "flask.views": "erlen.views",
    "flask.wrappers": "erlen.wrappers",
    # Flask 3 keeps its WSGI-independent bases in flask.sansio; erlen's app,
    # scaffold and blueprint classes are both at once.
    "flask.sansio.app": "erlen.app",
    "flask.sansio.blueprints": "erlen.blueprints",
    "flask.sansio.scaffold": "erlen.scaffold",
}

_MARKER = "__erlen_flask_patch__"
_METADATA = f"""\
Metadata-Version: 2.1
Name: Flask
Version: {FLASK_VERSION}
Summary: Provided by erlen through erlen.flask_patch (the Flask {FLASK_VERSION} API).
"""

logger = logging.getLogger(__name__)


class FlaskAlreadyImportedError(RuntimeError):
    """The real Flask was imported before the patch; extensions may hold it already."""


def is_applied() -> bool:
    """Tell whether ``import flask`` gives erlen in this process."""
    return getattr(sys.modules.get("flask"), _MARKER, False) is True


def apply() -> None:
    """Redirect ``flask`` and its submodules to erlen; repeated calls do nothing.

    :raises FlaskAlreadyImportedError: when the real Flask is already imported.
    """
    if is_applied():
        return
    real = sys.modules.get("flask")
    if real is not None:
        raise FlaskAlreadyImportedError(_already_imported_message(real))
    installed = importlib.util.find_spec("flask")

    import erlen

    modules = {
        name: importlib.import_module(erlen_name)
        for name, erlen_name in SUBMODULES.items()
    }
    for module in set(modules.values()):
        _add_flask_names(module)

    sansio = _package(
        "flask.sansio", "Flask 3's sans-IO bases: erlen's app, scaffold and blueprints."
    )
    flask = _package("flask", erlen.__doc__)
    flask.__dict__.update(
        (k, v) for k, v in vars(erlen).items() if not k.startswith("_")
    )
    flask.__dict__.update(Flask=erlen.Erlen, __version__=FLASK_VERSION, sansio=sansio)
    flask.__dict__["__getattr__"] = _forward_to(erlen)
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent in ("flask", "flask.sansio"):
            setattr(sansio if parent == "flask.sansio" else flask, child, module)

    if not any(isinstance(f, FlaskDistributionFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, FlaskDistributionFinder())
    sys.modules.update(modules)
    sys.modules["flask.sansio"] = sansio
    sys.modules["flask"] = flask
    if installed is not None:
        logger.debug(
            "Flask is installed (%s) but not imported: erlen.flask_patch makes"
            " 'import flask' give erlen in this process.",
            installed.origin,
        )


def _package(name: str, doc: str | None) -> ModuleType:
    """Make an empty package module ``name`` that the patch owns."""
    module = ModuleType(name, doc)
    module.__path__ = []
    module.__spec__ = ModuleSpec(name, None, origin=__name__, is_package=True)
    module.__package__ = name
    setattr(module, _MARKER, True)
    return module


def _forward_to(module: ModuleType) -> t.Callable[[str], t.Any]:
    """Return a module ``__getattr__`` that looks names up on ``module`` at use time."""

    def __getattr__(name: str) -> t.Any:
        try:
            return getattr(module, name)
        except AttributeError:
            raise AttributeError(
                f"module 'flask' (erlen, through erlen.flask_patch) has no attribute {name!r}"
            ) from None

    return __getattr__


def _add_flask_names(module: ModuleType) -> None:
    """Give each ``Erlen*`` name of ``module`` its ``Flask*`` twin (the same object)."""
    for name, value in list(vars(module).items()):
        if name.startswith("Erlen"):
            module.__dict__.setdefault(f"Flask{name[5:]}", value)
    if module.__name__ == "erlen.app":
        module.__dict__.setdefault("App", module.Erlen)


def _already_imported_message(real: ModuleType) -> str:
    importers = _importers_of_flask()
    if importers:
        shown = ", ".join(repr(name) for name in importers[:5])
        more = f" and {len(importers) - 5} more" if len(importers) > 5 else ""
        by = f" by {shown}{more}"
    else:
        by = ""
    location = getattr(real, "__file__", None) or repr(real)
    return (
        f"The real Flask ({location}) was already imported{by}, so"
        " erlen.flask_patch cannot make 'import flask' give erlen: extensions"
        " imported so far hold Flask's objects. Import erlen.flask_patch before"
        " anything that imports flask (first in the module that creates the app,"
        " or 'pytest -p erlen.flask_patch'), or uninstall Flask."
    )


def _importers_of_flask() -> list[str]:
    """Name the loaded modules, outside Flask, that hold Flask's modules, classes or functions."""
    found = []
    for name, module in list(sys.modules.items()):
        if (
            name == "flask"
            or name.startswith("flask.")
            or not isinstance(module, ModuleType)
        ):
            continue
        if any(_comes_from_flask(v) for v in list(vars(module).values())):
            found.append(name)
    return sorted(found)


def _comes_from_flask(value: object) -> bool:
    if isinstance(value, ModuleType):
        name = value.__name__
    elif isinstance(value, (type, FunctionType)):
        name = value.__module__
    else:
        return False
    return name == "flask" or name.startswith("flask.")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


class FlaskDistribution(importlib.metadata.Distribution):
    """Metadata of the Flask that erlen provides: a name and a version, no files."""

    def read_text(self, filename: str) -> str | None:
        """Return the ``METADATA`` text; every other metadata file is absent."""
        return _METADATA if filename == "METADATA" else None

    def locate_file(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Resolve ``path`` inside erlen's package folder, which holds the code."""
        return pathlib.Path(__file__).parent / path


class FlaskDistributionFinder(importlib.metadata.DistributionFinder):
    """Serve :class:`FlaskDistribution` to ``importlib.metadata`` for the name ``flask``."""

    def find_spec(
        self,
        fullname: str,
        path: t.Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        """Find no module: the patched modules are already in ``sys.modules``."""
        return None

    def find_distributions(
        self, context: importlib.metadata.DistributionFinder.Context | None = None
    ) -> t.Iterator[importlib.metadata.Distribution]:
        """Yield the Flask distribution when ``context`` asks for it or for all."""
        name = (context or self.Context()).name
        if name is None or _normalize(name) == "flask":
            yield FlaskDistribution()


apply()
