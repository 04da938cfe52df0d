"""``Config``: a dict of settings with loaders for files, objects and the environment."""

from __future__ import annotations

import errno
import json
import os
import types
import typing as t

from werkzeug.utils import import_string

if t.TYPE_CHECKING:  # pragma: no cover
    import typing_extensions as te

    from .app import Erlen

T = t.TypeVar("T")


class ConfigAttribute(t.Generic[T]):
    """Make an app attribute read and write one config key, optionally converting it."""

    def __init__(
        self, name: str, get_converter: t.Callable[[t.Any], T] | None = None
    ) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @t.overload
    def __get__(self, obj: None, owner: None) -> te.Self: ...

    @t.overload
    def __get__(self, obj: Erlen, owner: type[Erlen]) -> T: ...

    def __get__(
        self, obj: Erlen | None, owner: type[Erlen] | None = None
    ) -> T | te.Self:
        if obj is None:
            return self
        rv = obj.config[self.__name__]
        if self.get_converter is not None:
            rv = self.get_converter(rv)
        return rv  # type: ignore[no-any-return]

    def __set__(self, obj: Erlen, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, t.Any]):
    """The app's configuration: a dict whose loaders only take UPPERCASE keys.

    :param root_path: relative file names are resolved against this folder
        (the app's root path, or its instance folder).
    :param defaults: initial values.
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str],
        defaults: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python config file named by an environment variable.

        :param silent: return ``False`` instead of raising when the variable is
            unset or the file is missing.
        """
        rv = os.environ.get(variable_name)
        if not rv:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and as"
                " such configuration could not be loaded. Set this variable and"
                " make it point to a configuration file."
            )
        return self.from_pyfile(rv, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "ERLEN", *, loads: t.Callable[[str], t.Any] = json.loads
    ) -> bool:
        """Load every ``{prefix}_*`` environment variable, without the prefix.

        Values are parsed with ``loads`` (JSON by default) and kept as strings
        when that fails. A double underscore sets a key in a nested dict:
        ``ERLEN_DB__HOST`` sets ``config["DB"]["HOST"]``. Always returns ``True``.
        """
        start = f"{prefix}_"
        for key in sorted(os.environ):
            if not key.startswith(start):
                continue
            raw = os.environ[key]
            try:
                value = loads(raw)
            except Exception:
                value = raw
            key = key[len(start) :]
            if "__" not in key:
                self[key] = value
                continue
            current: dict[str, t.Any] = self
            *parts, tail = key.split("__")
            for part in parts:
                if part not in current:
                    current[part] = {}
                current = current[part]
            current[tail] = value
        return True

    def from_pyfile(
        self, filename: str | os.PathLike[str], silent: bool = False
    ) -> bool:
        """Execute a Python file and load its UPPERCASE names.

        :param silent: return ``False`` instead of raising when the file is missing.
        """
        filename = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = filename
        try:
            with open(filename, mode="rb") as config_file:
                exec(compile(config_file.read(), filename, "exec"), module.__dict__)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the UPPERCASE attributes of an object, class or module (or its import path)."""
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: t.Callable[[t.IO[t.Any]], t.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a file with ``load`` (``json.load``, ``tomllib.load``) and take its UPPERCASE keys.

        :param text: open the file in text mode; ``tomllib.load`` needs ``False``.
        :param silent: return ``False`` instead of raising when the file is missing.
        """
        filename = os.path.join(self.root_path, filename)
        try:
            with open(filename, "r" if text else "rb") as f:
                obj = load(f)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        return self.from_mapping(obj)

    def from_mapping(
        self, mapping: t.Mapping[str, t.Any] | None = None, **kwargs: t.Any
    ) -> bool:
        """Load the UPPERCASE keys of a mapping and keyword arguments. Always ``True``."""
        mappings: dict[str, t.Any] = {}
        if mapping is not None:
            mappings.update(mapping)
        mappings.update(kwargs)
        for key, value in mappings.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """Return the keys that start with ``namespace`` as a new dict.

        ``config.get_namespace("IMAGE_STORE_")`` turns ``IMAGE_STORE_TYPE`` into
        ``{"type": ...}``; ``lowercase`` and ``trim_namespace`` control the keys.
        """
        rv = {}
        for k, v in self.items():
            if not k.startswith(namespace):
                continue
            key = k[len(namespace) :] if trim_namespace else k
            if lowercase:
                key = key.lower()
            rv[key] = v
        return rv

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


#: Config keys that hold a size or count limit, and whether ``0`` is allowed.
#: ``None`` turns each off; ``MAX_COOKIE_SIZE = 0`` does too (as Werkzeug's
#: ``max_cookie_size``).
LIMIT_KEYS: t.Mapping[str, bool] = {
    "MAX_CONTENT_LENGTH": True,
    "MAX_FORM_MEMORY_SIZE": True,
    "MAX_FORM_PARTS": True,
    "MAX_COOKIE_SIZE": True,
    "MAX_JSON_DEPTH": False,
}


def limit_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """Describe every limit key in ``config`` whose value is not a whole number or ``None``."""
    problems = []
    for key, zero_ok in LIMIT_KEYS.items():
        value = config.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (0 if zero_ok else 1)
        ):
            lowest = "0 or more" if zero_ok else "1 or more"
            problems.append(
                f"{key} must be a whole number ({lowest}) or None to turn it"
                f" off, not {value!r} ({type(value).__name__})."
            )
    return problems


def check_limit_types(config: t.Mapping[str, t.Any]) -> None:
    """Raise ``TypeError`` naming every limit key with a value of the wrong type."""
    problems = limit_problems(config)
    if problems:
        raise TypeError("Invalid configuration: " + " ".join(problems))


def cookie_size_limit(config: t.Mapping[str, t.Any]) -> int | None:
    """The largest cookie value in characters, or ``None`` for no limit.

    ``MAX_COOKIE_SIZE`` of ``0`` or ``None`` means no limit: no warning when
    a cookie is set and no cookie left out when one is read.
    """
    value = config.get("MAX_COOKIE_SIZE", 4093)
    return value or None
