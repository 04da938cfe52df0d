"""``erlen check``: configuration checks, run by ``erlen check [--deploy]``.

Each check looks at an app and yields :class:`DeployProblem` objects that say
what is wrong and how to fix it. The core registers its own with
:func:`deploy_check`; extensions add theirs for one app with
:func:`add_deploy_check` (``erlen.ext`` re-exports it).
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import importlib.metadata
import os
import re
import typing as t
import weakref

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Erlen


from .security import is_loopback

__all__ = ["DeployProblem", "add_deploy_check", "deploy_check", "run_deploy_checks"]

# -- the checks ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DeployProblem:
    """One problem a check found: what is wrong and how to fix it.

    :param check: a short id, like ``"secret_key"``, shown in brackets.
    :param message: what is wrong.
    :param fix: what to do about it.
    """

    check: str
    message: str
    fix: str


#: A check: takes the app and yields the problems it finds (none when all is well).
DeployCheck = t.Callable[["Erlen"], cabc.Iterable[DeployProblem]]

_global_checks: list[tuple[DeployCheck, bool]] = []
_app_checks: weakref.WeakKeyDictionary[Erlen, list[tuple[DeployCheck, bool]]] = (
    weakref.WeakKeyDictionary()
)


@t.overload
def deploy_check(func: DeployCheck, /) -> DeployCheck: ...
@t.overload
def deploy_check(*, deploy: bool = True) -> t.Callable[[DeployCheck], DeployCheck]: ...
def deploy_check(func: DeployCheck | None = None, /, *, deploy: bool = True) -> t.Any:
    """Register a check that ``erlen check`` runs for every app.

    Use as ``@deploy_check`` or ``@deploy_check(deploy=False)``. Checks with
    ``deploy=True`` run only with ``--deploy``; others always run. For a check
    that belongs to one app (an extension's), use :func:`add_deploy_check`.
    """

    def decorator(f: DeployCheck) -> DeployCheck:
        _global_checks.append((f, deploy))
        return f

    return decorator(func) if func is not None else decorator


def add_deploy_check(app: Erlen, check: DeployCheck, *, deploy: bool = True) -> None:
    """Register a check that ``erlen check`` runs for ``app`` only.

    Extensions call it from ``init_app`` (``erlen.ext`` re-exports it), so
    their problems (an insecure remember cookie, CSRF turned off) appear next
    to the core's.
    """
    _app_checks.setdefault(app, []).append((check, deploy))


def run_deploy_checks(app: Erlen, *, deploy: bool = True) -> list[DeployProblem]:
    """Run the checks for ``app`` and return every problem found.

    :param deploy: include the checks meant for production deployments.
    """
    problems: list[DeployProblem] = []
    for check, for_deploy in [*_global_checks, *_app_checks.get(app, ())]:
        if for_deploy and not deploy:
            continue
        problems.extend(check(app))
    return problems


#: Example secret keys from tutorials and templates; never use one in production.
WELL_KNOWN_SECRET_KEYS = frozenset(
    {
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "your-secret-key",
        "your_secret_key",
        "your-secret-key-here",
        "mysecretkey",
        "my-secret-key",
        "super secret key",
        "supersecretkey",
        "super-secret",
        "changeme",
        "change-me",
        "change_me",
        "default",
        "password",
        "test",
        "testing",
        "development key",
        "dev-key",
        "dev_key",
        "you-will-never-guess",
        "hard to guess string",
        "s3cr3t",
    }
)

#: Shortest secret key that ``erlen check --deploy`` accepts, in characters.
MIN_SECRET_KEY_LENGTH = 32

#: Lowest versions of dependencies that fix published security advisories.
ADVISORY_MINIMUM_VERSIONS: cabc.Mapping[str, tuple[str, str]] = {
    "werkzeug": (
        "3.1.6",
        "GHSA-29vq-49wr-vm6x, GHSA-87hc-h4r5-73f7, GHSA-hgf8-39gv-g3f2",
    ),
    "jinja2": (
        "3.1.6",
        "GHSA-cpwx-vrp4-4pq7, GHSA-q2x7-8rv6-6q7h, GHSA-gmj6-6f8f-6699",
    ),
    "gunicorn": ("23.0.0", "CVE-2024-6827, CVE-2024-1135 (request smuggling)"),
}

_FIX_SECRET_KEY = (
    "Set SECRET_KEY to a long random value kept out of version control, for"
    ' example from: python -c "import secrets; print(secrets.token_hex())"'
)


#: Words that mark a key as a placeholder someone meant to replace.
PLACEHOLDER_WORDS = (
    "change",
    "secret",
    "example",
    "placeholder",
    "replace",
    "your",
    "todo",
    "fixme",
    "insert",
    "dummy",
    "sample",
    "password",
    "default",
    "token_hex",
    "generate",
)

#: Fewest different characters a key must use (a random hex key uses ~16).
MIN_SECRET_KEY_VARIETY = 10


def secret_key_weakness(key: object) -> str | None:
    """Say why ``key`` is unsafe as a signing key, or return ``None`` if it looks random.

    Rejects well-known example values, placeholders (text with words such as
    "change", "secret", "example"), keys shorter than
    :data:`MIN_SECRET_KEY_LENGTH` and keys with little character variety.
    """
    text = key.decode("latin1") if isinstance(key, bytes) else str(key)
    folded = text.strip().lower()
    if folded in WELL_KNOWN_SECRET_KEYS:
        return f"is a well-known example value ({text!r})"
    words = [w for w in PLACEHOLDER_WORDS if w in folded]
    if words:
        return f"reads as a placeholder ({text!r} contains {words[0]!r})"
    if len(text) < MIN_SECRET_KEY_LENGTH:
        return (
            f"is only {len(text)} characters long; use at least {MIN_SECRET_KEY_LENGTH}"
        )
    if len(set(text)) < MIN_SECRET_KEY_VARIETY:
        return f"uses only {len(set(text))} different characters: it is not random"
    return None


@deploy_check
def _check_secret_key(app: Erlen) -> cabc.Iterator[DeployProblem]:
    key = app.config.get("SECRET_KEY")
    if not key:
        yield DeployProblem(
            "secret_key",
            "SECRET_KEY is not set: sessions cannot be signed.",
            _FIX_SECRET_KEY,
        )
    else:
        weakness = secret_key_weakness(key)
        if weakness is not None:
            yield DeployProblem(
                "secret_key",
                f"SECRET_KEY {weakness}: anyone who guesses it can forge"
                " session cookies.",
                _FIX_SECRET_KEY,
            )
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS")
    if not fallbacks:
        return
    if isinstance(fallbacks, (str, bytes)):
        yield DeployProblem(
            "secret_key",
            "SECRET_KEY_FALLBACKS is a single string; it must be a list of keys.",
            'Write SECRET_KEY_FALLBACKS = ["old key"], not "old key".',
        )
        return
    for index, fallback in enumerate(fallbacks):
        weakness = "is empty" if not fallback else secret_key_weakness(fallback)
        if weakness is not None:
            yield DeployProblem(
                "secret_key",
                f"SECRET_KEY_FALLBACKS[{index}] {weakness}: old keys still"
                " verify sessions, so anyone who guesses it can forge them.",
                "Remove the key from SECRET_KEY_FALLBACKS; keep only random keys"
                " that signed real sessions, and drop them once those expired.",
            )


@deploy_check
def _check_debug(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if app.debug or _env_flag("ERLEN_DEBUG"):
        yield DeployProblem(
            "debug",
            "DEBUG is on: errors show tracebacks and the debugger can run code.",
            "Set DEBUG = False and unset ERLEN_DEBUG in production.",
        )


@deploy_check
def _check_body_limit(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        yield DeployProblem(
            "max_content_length",
            "MAX_CONTENT_LENGTH is None: clients can send bodies of any size.",
            "Set MAX_CONTENT_LENGTH to the largest body the app accepts (the"
            " default is 16 MiB).",
        )


@deploy_check
def _check_trusted_hosts(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if not app.config.get("TRUSTED_HOSTS"):
        yield DeployProblem(
            "trusted_hosts",
            "TRUSTED_HOSTS is empty: any Host header is accepted, so URLs built"
            " from it (password reset links, redirects) can point elsewhere.",
            "Set TRUSTED_HOSTS to the names the app is served under, for"
            ' example ["example.com", ".example.com"].',
        )


@deploy_check(deploy=False)
def _check_trusted_hosts_type(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if isinstance(app.config.get("TRUSTED_HOSTS"), str):
        yield DeployProblem(
            "trusted_hosts",
            "TRUSTED_HOSTS is a string; it must be a list of host names.",
            'Write TRUSTED_HOSTS = ["example.com"], not "example.com".',
        )


@deploy_check(deploy=False)
def _check_limit_types(app: Erlen) -> cabc.Iterator[DeployProblem]:
    from .config import limit_problems

    for problem in limit_problems(app.config):
        yield DeployProblem(
            "limits",
            problem,
            "Set the key to an int (for example 4093 or 16 * 1024 * 1024) or None.",
        )


@deploy_check
def _check_secure_cookies(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if not app.config.get("SESSION_COOKIE_SECURE"):
        yield DeployProblem(
            "session_cookie_secure",
            "SESSION_COOKIE_SECURE is off: session (and extensions' auth)"
            " cookies are also sent over plain HTTP.",
            "Serve the app over HTTPS and set SESSION_COOKIE_SECURE = True.",
        )


@deploy_check(deploy=False)
def _check_samesite_none(app: Erlen) -> cabc.Iterator[DeployProblem]:
    samesite = app.config.get("SESSION_COOKIE_SAMESITE")
    if (
        isinstance(samesite, str)
        and samesite.lower() == "none"
        and not app.config.get("SESSION_COOKIE_SECURE")
    ):
        yield DeployProblem(
            "session_cookie_samesite",
            "SESSION_COOKIE_SAMESITE is 'None' without SESSION_COOKIE_SECURE:"
            " browsers reject such cookies, so sessions will not work.",
            "Set SESSION_COOKIE_SECURE = True, or use 'Lax' (the default).",
        )


def _wrapped_apps(app: Erlen) -> cabc.Iterator[t.Any]:
    """``app.wsgi_app`` and the apps middleware wraps, a few levels deep."""
    current: t.Any = app.wsgi_app
    for _ in range(8):
        if current is None:
            return
        yield current
        current = getattr(current, "app", None) or getattr(current, "wsgi_app", None)


@deploy_check
def _check_debugger(app: Erlen) -> cabc.Iterator[DeployProblem]:
    from werkzeug.debug import DebuggedApplication

    if any(isinstance(a, DebuggedApplication) for a in _wrapped_apps(app)):
        yield DeployProblem(
            "debugger",
            "The app is wrapped in Werkzeug's debugger: anyone who reaches it"
            " can run code on the server.",
            "Remove the DebuggedApplication middleware in production.",
        )
        return
    host = os.environ.get("ERLEN_RUN_HOST")
    if host and not is_loopback(host) and (app.debug or _env_flag("ERLEN_DEBUG")):
        yield DeployProblem(
            "debugger",
            f"ERLEN_RUN_HOST={host} with debug on: 'erlen run' would expose"
            " the debugger to the network.",
            "Unset ERLEN_RUN_HOST or ERLEN_DEBUG; deploy with a WSGI server.",
        )


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "")
    return bool(value) and value.lower() not in ("0", "false", "no")


def _version_tuple(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(p) for p in match.group().split(".")) if match else ()


@deploy_check
def _check_dependency_versions(app: Erlen) -> cabc.Iterator[DeployProblem]:
    for name, (minimum, advisories) in ADVISORY_MINIMUM_VERSIONS.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if _version_tuple(installed) < _version_tuple(minimum):
            yield DeployProblem(
                "dependencies",
                f"{name} {installed} is installed; versions before {minimum}"
                f" have known security advisories ({advisories}).",
                f"Upgrade it: python -m pip install '{name}>={minimum}'",
            )
