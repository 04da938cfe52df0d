"""Functions views call: ``url_for``, ``redirect``, ``abort``, ``flash``, ``send_file``..."""

from __future__ import annotations

import importlib.util
import os
import sys
import typing as t
import weakref
from datetime import datetime
from functools import update_wrapper

import werkzeug.utils
from werkzeug.exceptions import abort as _wz_abort
from werkzeug.utils import redirect as _wz_redirect

from .globals import _cv_app
from .globals import _cv_request
from .globals import current_app
from .globals import request
from .globals import request_ctx
from .globals import session
from .signals import message_flashed

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.wrappers import Response as BaseResponse

    from .ctx import AppContext
    from .ctx import RequestContext
    from .wrappers import Response


def get_debug_flag() -> bool:
    """Whether ``ERLEN_DEBUG`` asks for debug mode (anything but ``0``, ``false``, ``no``)."""
    val = os.environ.get("ERLEN_DEBUG")
    return bool(val and val.lower() not in {"0", "false", "no"})


def get_load_dotenv(default: bool = True) -> bool:
    """Whether dotenv files should be loaded; ``ERLEN_SKIP_DOTENV`` turns it off."""
    val = os.environ.get("ERLEN_SKIP_DOTENV")
    if not val:
        return default
    return val.lower() in ("0", "false", "no")


def get_root_path(import_name: str) -> str:
    """The folder of a module or package, or the working directory if it has none.

    Used as the default ``root_path`` of apps and blueprints.
    """
    mod = sys.modules.get(import_name)
    mod_file: str | None = getattr(mod, "__file__", None)
    if mod_file is not None:
        return os.path.dirname(os.path.abspath(mod_file))
    try:
        spec = importlib.util.find_spec(import_name)
        if spec is None:
            raise ValueError
    except (ImportError, ValueError):
        loader = None
    else:
        loader = spec.loader
    if loader is None:
        return os.getcwd()
    filepath: str | None
    get_filename = getattr(loader, "get_filename", None)
    if get_filename is not None:
        filepath = str(get_filename(import_name))
    else:
        __import__(import_name)
        mod = sys.modules[import_name]
        filepath = getattr(mod, "__file__", None)
        if filepath is None:
            raise RuntimeError(
                "No root path can be found for the provided module"
                f" {import_name!r}. This can happen because the module came"
                " from an import hook that does not provide file name"
                " information or because it's a namespace package. In this"
                " case the root path needs to be explicitly provided."
            )
    return os.path.dirname(os.path.abspath(filepath))


def stream_with_context(
    generator_or_function: t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]],
) -> t.Iterator[t.AnyStr]:
    """Keep the request context active while a streamed response is generated.

    Use it on a generator (or as a decorator on a generator function) that a
    view returns. The request's teardown (``teardown_request``,
    ``teardown_appcontext``, closing uploaded files) waits until the stream is
    sent or closed, so ``g`` and ``request`` are intact while it runs.
    """
    try:
        gen = iter(generator_or_function)  # type: ignore[arg-type]
    except TypeError:

        def decorator(*args: t.Any, **kwargs: t.Any) -> t.Any:
            gen = generator_or_function(*args, **kwargs)  # type: ignore[operator]
            return stream_with_context(gen)

        return update_wrapper(decorator, generator_or_function)  # type: ignore[arg-type,return-value]

    req_ctx = _cv_request.get(None)
    if req_ctx is None:
        raise RuntimeError(
            "'stream_with_context' can only be used when a request context is"
            " active, such as in a view function."
        )
    return _ContextStream(gen, _cv_app.get(), req_ctx)


class _ContextStream:
    """A streamed body that keeps the request's contexts alive until it is sent.

    Created in the view, it holds the contexts: when the request ends, their
    teardown (closing ``g.db``, ``request.close()``) waits. Iteration pushes
    them again; the end of the stream, an error in it, or closing it (a HEAD
    request, a client gone) pops them and runs the teardown once. A stream
    that is never sent (the view returned something else, an after-request
    hook replaced the response or raised) is released when the response that
    was sent instead is closed, or when it is garbage-collected (a test
    client response nobody read or closed).
    """

    def __init__(
        self, gen: t.Iterator[t.Any], app_ctx: AppContext, req_ctx: RequestContext
    ) -> None:
        self._gen = gen
        self._app_ctx = app_ctx
        self._req_ctx = req_ctx
        self._pushed = False
        self._closed = False
        app_ctx._stream_holds += 1
        req_ctx._stream_holds += 1
        streams = req_ctx._streams
        if streams is None:
            streams = req_ctx._streams = weakref.WeakSet()
        streams.add(self)

    def __iter__(self) -> _ContextStream:
        return self

    def __next__(self) -> t.Any:
        if self._closed:
            raise StopIteration
        if not self._pushed:
            self._push()
        try:
            return next(self._gen)
        except StopIteration:
            self.close()
            raise
        except BaseException as e:
            self._finish(e)  # teardown sees the error, as Flask's does
            raise

    def _push(self) -> None:
        # The app context first, so the request context does not push another.
        self._app_ctx.push()
        self._req_ctx.push()
        self._pushed = True

    def close(self) -> None:
        """Close the stream and release the contexts; safe to call twice."""
        self._finish(None)

    def _finish(self, exc: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        streams = self._req_ctx._streams
        if streams is not None:
            streams.discard(self)
        # Inside the request (the view dropped the stream) the contexts are
        # active; after it, they are pushed so the teardown functions run
        # inside them.
        if not self._pushed and not self._req_ctx._cv_tokens:
            self._push()
        try:
            close = getattr(self._gen, "close", None)
            if close is not None:
                close()
        finally:
            self._app_ctx._stream_holds -= 1
            self._req_ctx._stream_holds -= 1
            if self._pushed:
                try:
                    self._req_ctx.pop(exc)
                finally:
                    self._app_ctx.pop(exc)

    def __del__(self) -> None:
        # An abandoned stream (never sent, never closed) still tears down.
        if not self._closed:
            self._finish(None)


def release_streams(req_ctx: RequestContext) -> None:
    """Close the streams of a request that are still open (none were sent)."""
    streams = req_ctx._streams
    if streams:
        for stream in list(streams):
            stream.close()


class ReleasingAppIter:
    """The WSGI body of a request that created streams: closing it (the server
    does once the response is sent) also releases streams that were never
    sent, so their request's teardown runs. Dropped unclosed, it closes itself."""

    def __init__(self, app_iter: t.Iterable[bytes], req_ctx: RequestContext) -> None:
        self._app_iter = app_iter
        self._req_ctx: RequestContext | None = req_ctx

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(self._app_iter)

    def close(self) -> None:
        """Close the body, then release the request's remaining streams."""
        req_ctx, self._req_ctx = self._req_ctx, None
        if req_ctx is None:
            return
        try:
            close = getattr(self._app_iter, "close", None)
            if close is not None:
                close()
        finally:
            release_streams(req_ctx)

    def __del__(self) -> None:
        self.close()


def make_response(*args: t.Any) -> Response:
    """Turn a view's return value into a response, to add headers before returning it.

    With no arguments, an empty response; one argument or several are handled
    like the return value of a view (see :meth:`Erlen.make_response`).
    """
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return current_app.make_response(args)


def url_for(
    endpoint: str,
    /,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build the URL of an endpoint; see :meth:`Erlen.url_for`.

    A leading ``.`` names an endpoint of the current blueprint. Unknown keyword
    arguments become the query string.
    """
    return current_app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def redirect(
    location: str, code: int = 302, Response: type[BaseResponse] | None = None
) -> BaseResponse:
    """Return a redirect response to ``location`` (302 by default).

    Control characters in ``location`` are percent-encoded, never sent in the
    ``Location`` header. Check a user-given target with
    :func:`erlen.security.is_safe_redirect_url` before redirecting to it.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.redirect(location, code=code)
    from .security import safe_redirect_location

    return _wz_redirect(safe_redirect_location(location), code=code, Response=Response)


def abort(code: int | BaseResponse, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the ``HTTPException`` for a status code, or one that sends a response."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _wz_abort(code, *args, **kwargs)


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """Load a macro or variable a template exports, to call it from Python."""
    return getattr(current_app.jinja_env.get_template(template_name).module, attribute)


def flash(message: str, category: str = "message") -> None:
    """Store a message in the session for the next request to show.

    Read messages with :func:`get_flashed_messages` in a template. The
    ``message_flashed`` signal is sent.
    """
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if message_flashed.receivers:
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Pop the flashed messages from the session; repeated calls in a request agree.

    :param with_categories: return ``(category, message)`` pairs.
    :param category_filter: return only these categories.
    """
    flashes = request_ctx.flashes
    if flashes is None:
        flashes = session.pop("_flashes") if "_flashes" in session else []
        request_ctx.flashes = flashes
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    if not with_categories:
        return [x[1] for x in flashes]
    return flashes


def _prepare_send_file_kwargs(**kwargs: t.Any) -> dict[str, t.Any]:
    if kwargs.get("max_age") is None:
        kwargs["max_age"] = current_app.get_send_file_max_age
    kwargs.update(
        environ=request.environ,
        use_x_sendfile=current_app.config["USE_X_SENDFILE"],
        response_class=current_app.response_class,
        _root_path=current_app.root_path,
    )
    return kwargs


def send_file(
    path_or_file: os.PathLike[t.AnyStr] | str | t.BinaryIO,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: None | (int | t.Callable[[str | None], int | None]) = None,
) -> Response:
    """Send a file or file-like object, with conditional-request support.

    A relative path is taken from the app's root path. Never pass a path from
    the user: use :func:`send_from_directory` for that.
    """
    return werkzeug.utils.send_file(  # type: ignore[return-value]
        **_prepare_send_file_kwargs(
            path_or_file=path_or_file,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=conditional,
            etag=etag,
            last_modified=last_modified,
            max_age=max_age,
        )
    )


def send_from_directory(
    directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: t.Any
) -> Response:
    """Send a file from inside ``directory``; a path that escapes it is a 404.

    Safe for user-supplied ``path``. Keyword arguments go to :func:`send_file`.
    """
    return werkzeug.utils.send_from_directory(  # type: ignore[return-value]
        directory, path, **_prepare_send_file_kwargs(**kwargs)
    )
