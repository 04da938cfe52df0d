"""Error handling from the user's side: handlers, abort, trapping, propagation, logging."""

from __future__ import annotations

import logging
import typing as t

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import NotFound

import erlen
from erlen.testing import ErlenClient


class ParentError(Exception):
    pass


class ChildError(ParentError):
    pass


class GrandchildError(ChildError):
    pass


class TeapotError(HTTPException):
    code = 418
    description = "I am a teapot."


# -- handlers by code and by class ------------------------------------------------


def test_handler_by_code(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        assert isinstance(e, NotFound)
        return f"custom {e.code}", 404

    @app.errorhandler(403)
    def forbidden(e: Forbidden) -> tuple[str, int]:
        return "forbidden", 403

    @app.route("/secret")
    def secret() -> str:
        erlen.abort(403)

    rv = client.get("/missing")
    assert (rv.status_code, rv.data) == (404, b"custom 404")
    rv = client.get("/secret")
    assert (rv.status_code, rv.data) == (403, b"forbidden")


def test_handler_return_value_is_made_into_a_response(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> dict[str, t.Any]:
        return {"error": e.name}

    rv = client.get("/missing")
    # Without an explicit status the handler's response is a 200.
    assert rv.status_code == 200
    assert rv.json == {"error": "Not Found"}


def test_register_error_handler(app: erlen.Erlen, client: ErlenClient) -> None:
    app.register_error_handler(404, lambda e: ("registered", 404))
    app.register_error_handler(ParentError, lambda e: ("parent", 500))

    @app.route("/")
    def index() -> str:
        raise ParentError

    assert client.get("/missing").data == b"registered"
    assert client.get("/").data == b"parent"


def test_handler_by_exception_class_follows_mro(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(ParentError)
    def parent(e: ParentError) -> str:
        return f"parent handled {type(e).__name__}"

    @app.errorhandler(ChildError)
    def child(e: ChildError) -> str:
        return f"child handled {type(e).__name__}"

    @app.route("/<kind>")
    def raise_(kind: str) -> str:
        raise {"p": ParentError, "c": ChildError, "g": GrandchildError}[kind]()

    assert client.get("/p").data == b"parent handled ParentError"
    assert client.get("/c").data == b"child handled ChildError"
    assert client.get("/g").data == b"child handled GrandchildError"


def test_generic_exception_handler_catches_http_errors(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(Exception)
    def everything(e: Exception) -> tuple[str, int]:
        if isinstance(e, HTTPException):
            return f"http {e.code}", t.cast(int, e.code)
        return f"other {type(e).__name__}", 500

    @app.route("/error")
    def error() -> str:
        raise KeyError("k")

    assert client.get("/missing").data == b"http 404"
    assert client.get("/error").data == b"other KeyError"


def test_code_handler_beats_class_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(HTTPException)
    def generic(e: HTTPException) -> tuple[str, int]:
        return "generic", t.cast(int, e.code)

    @app.errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        return "specific", 404

    @app.route("/forbidden")
    def forbidden() -> str:
        erlen.abort(403)

    assert client.get("/missing").data == b"specific"
    rv = client.get("/forbidden")
    assert (rv.status_code, rv.data) == (403, b"generic")


def test_handler_for_http_exception_subclass(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class CustomNotFound(NotFound):
        pass

    @app.errorhandler(NotFound)
    def not_found(e: NotFound) -> tuple[str, int]:
        return "generic 404", 404

    @app.errorhandler(CustomNotFound)
    def custom(e: CustomNotFound) -> tuple[str, int]:
        return "custom 404", 404

    @app.errorhandler(TeapotError)
    def teapot(e: TeapotError) -> tuple[str, int]:
        return "short and stout", 418

    @app.route("/custom")
    def raise_custom() -> str:
        raise CustomNotFound

    @app.route("/plain")
    def raise_plain() -> str:
        erlen.abort(404)

    @app.route("/teapot")
    def raise_teapot() -> str:
        raise TeapotError

    assert client.get("/custom").data == b"custom 404"
    assert client.get("/plain").data == b"generic 404"
    assert client.get("/teapot").data == b"short and stout"


def test_unhandled_http_exception_becomes_its_response(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        raise TeapotError

    rv = client.get("/")
    assert rv.status_code == 418
    assert b"I am a teapot." in rv.data


def test_unknown_code_is_an_error(app: erlen.Erlen) -> None:
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(999, lambda e: "")
    with pytest.raises(ValueError, match="999"):

        @app.errorhandler(999)
        def handler(e: Exception) -> str:
            return ""


def test_exception_instance_is_an_error(app: erlen.Erlen) -> None:
    with pytest.raises(TypeError, match="is an instance, not a class"):
        app.register_error_handler(ParentError(), lambda e: "")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="is an instance, not a class"):
        app.errorhandler(NotFound())(lambda e: "")  # type: ignore[arg-type]


def test_non_exception_class_is_an_error(app: erlen.Erlen) -> None:
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(str, lambda e: "")  # type: ignore[arg-type]


def test_handler_that_raises_goes_to_500(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(404)
    def broken(e: NotFound) -> str:
        raise ValueError("handler failed")

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        return f"500 from {type(e.original_exception).__name__}", 500

    rv = client.get("/missing")
    assert (rv.status_code, rv.data) == (500, b"500 from ValueError")


# -- blueprint handlers ------------------------------------------------------------


def test_blueprint_handler_before_app_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.errorhandler(403)
    def bp_forbidden(e: Forbidden) -> str:
        return "bp 403"

    @bp.errorhandler(ParentError)
    def bp_parent(e: ParentError) -> str:
        return "bp parent"

    @app.errorhandler(403)
    def app_forbidden(e: Forbidden) -> str:
        return "app 403"

    @app.errorhandler(ParentError)
    def app_parent(e: ParentError) -> str:
        return "app parent"

    @bp.route("/forbidden")
    def bp_view() -> str:
        erlen.abort(403)

    @bp.route("/parent")
    def bp_raise() -> str:
        raise ChildError

    @app.route("/forbidden")
    def app_view() -> str:
        erlen.abort(403)

    @app.route("/parent")
    def app_raise() -> str:
        raise ChildError

    app.register_blueprint(bp)
    assert client.get("/bp/forbidden").data == b"bp 403"
    assert client.get("/bp/parent").data == b"bp parent"
    assert client.get("/forbidden").data == b"app 403"
    assert client.get("/parent").data == b"app parent"


def test_blueprint_falls_back_to_app_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.route("/bp")
    def bp_view() -> str:
        raise ChildError

    @app.errorhandler(ParentError)
    def app_parent(e: ParentError) -> str:
        return "app parent"

    app.register_blueprint(bp)
    assert client.get("/bp").data == b"app parent"


def test_blueprint_code_handler_beats_app_class_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.errorhandler(HTTPException)
    def bp_generic(e: HTTPException) -> str:
        return "bp generic"

    @app.errorhandler(403)
    def app_forbidden(e: Forbidden) -> str:
        return "app 403"

    @bp.route("/bp")
    def bp_view() -> str:
        erlen.abort(403)

    app.register_blueprint(bp)
    # A handler for the code beats a class handler, even one of the blueprint.
    assert client.get("/bp").data == b"app 403"


def test_app_errorhandler_from_blueprint(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        return "bp handles app 404", 404

    @bp.app_errorhandler(ParentError)
    def parent(e: ParentError) -> str:
        return "bp handles app parent"

    @app.route("/")
    def index() -> str:
        raise ChildError

    app.register_blueprint(bp)
    assert client.get("/missing").data == b"bp handles app 404"
    assert client.get("/").data == b"bp handles app parent"


def test_nested_blueprint_handler_chain(app: erlen.Erlen, client: ErlenClient) -> None:
    parent = erlen.Blueprint("parent", __name__, url_prefix="/parent")
    child = erlen.Blueprint("child", __name__, url_prefix="/child")
    grandchild = erlen.Blueprint("grandchild", __name__, url_prefix="/grandchild")

    @parent.errorhandler(403)
    def parent_403(e: Forbidden) -> str:
        return "parent 403"

    @parent.errorhandler(ParentError)
    def parent_error(e: ParentError) -> str:
        return "parent error"

    @child.errorhandler(ParentError)
    def child_error(e: ParentError) -> str:
        return "child error"

    @app.errorhandler(403)
    def app_403(e: Forbidden) -> str:
        return "app 403"

    @app.errorhandler(404)
    def app_404(e: NotFound) -> str:
        return "app 404"

    @grandchild.route("/403")
    def gc_403() -> str:
        erlen.abort(403)

    @grandchild.route("/error")
    def gc_error() -> str:
        raise ChildError

    @grandchild.route("/404")
    def gc_404() -> str:
        erlen.abort(404)

    @parent.route("/error")
    def parent_view() -> str:
        raise ChildError

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)

    assert client.get("/parent/child/grandchild/403").data == b"parent 403"
    assert client.get("/parent/child/grandchild/error").data == b"child error"
    assert client.get("/parent/child/grandchild/404").data == b"app 404"
    assert client.get("/parent/error").data == b"parent error"


# -- abort -----------------------------------------------------------------------


def test_abort_with_code(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/<int:code>")
    def index(code: int) -> str:
        erlen.abort(code)

    for code in (400, 401, 403, 404, 409, 410, 418, 500, 503):
        assert client.get(f"/{code}").status_code == code


def test_abort_with_description(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        erlen.abort(404, description="No such thing here.")

    rv = client.get("/")
    assert rv.status_code == 404
    assert b"No such thing here." in rv.data


def test_abort_with_response(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        erlen.abort(erlen.Response("custom body", 402, {"X-Why": "pay"}))

    rv = client.get("/")
    assert (rv.status_code, rv.data, rv.headers["X-Why"]) == (
        402,
        b"custom body",
        "pay",
    )


def test_abort_with_unknown_code(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        erlen.abort(999)

    with pytest.raises(LookupError):
        client.get("/")


def test_abort_outside_app_context() -> None:
    with pytest.raises(NotFound):
        erlen.abort(404)


def test_abort_uses_app_aborter(app: erlen.Erlen, client: ErlenClient) -> None:
    app.aborter.mapping[418] = TeapotError

    @app.route("/")
    def index() -> str:
        erlen.abort(418)

    rv = client.get("/")
    assert rv.status_code == 418
    assert b"I am a teapot." in rv.data


def test_abort_triggers_handlers(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.errorhandler(401)
    def unauthorized(e: HTTPException) -> tuple[str, int, dict[str, str]]:
        return "login first", 401, {"WWW-Authenticate": "Basic"}

    @app.route("/")
    def index() -> str:
        erlen.abort(401)

    rv = client.get("/")
    assert (rv.status_code, rv.data) == (401, b"login first")
    assert rv.headers["WWW-Authenticate"] == "Basic"


# -- trapping -----------------------------------------------------------------------


def test_trap_http_exceptions(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/")
    def index() -> str:
        erlen.abort(403)

    with pytest.raises(NotFound):
        client.get("/missing")
    with pytest.raises(Forbidden):
        client.get("/")


def test_trapped_http_exception_uses_class_handlers(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.errorhandler(Exception)
    def everything(e: Exception) -> str:
        return f"trapped {type(e).__name__}"

    assert client.get("/missing").data == b"trapped NotFound"


def test_trap_http_exception_override(client: ErlenClient) -> None:
    class MyApp(erlen.Erlen):
        def trap_http_exception(self, e: Exception) -> bool:
            return isinstance(e, Forbidden)

    app = MyApp(__name__)
    app.testing = True

    @app.route("/forbidden")
    def forbidden() -> str:
        erlen.abort(403)

    client = app.test_client()
    assert client.get("/missing").status_code == 404
    with pytest.raises(Forbidden):
        client.get("/forbidden")


def test_trap_bad_request_key_errors(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/key")
    def key() -> str:
        return erlen.request.form["missing_key"]

    @app.route("/abort")
    def abort() -> str:
        erlen.abort(400)

    # Default: a plain 400 that does not reveal the key.
    rv = client.get("/key")
    assert rv.status_code == 400
    assert b"missing_key" not in rv.data
    assert client.get("/abort").status_code == 400

    # In debug mode, TRAP_BAD_REQUEST_ERRORS=None traps key errors only.
    app.debug = True
    with pytest.raises(KeyError) as exc_info:
        client.get("/key")
    assert isinstance(exc_info.value, BadRequest)
    assert "missing_key" in exc_info.value.get_description()
    assert client.get("/abort").status_code == 400

    # TRAP_BAD_REQUEST_ERRORS=True traps every 400, debug or not.
    app.debug = False
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    with pytest.raises(KeyError):
        client.get("/key")
    with pytest.raises(BadRequest):
        client.get("/abort")


def test_bad_request_key_shown_in_debug_when_not_trapped(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.debug = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False

    @app.route("/key")
    def key() -> str:
        return erlen.request.args["missing_key"]

    rv = client.get("/key")
    assert rv.status_code == 400
    assert b"missing_key" in rv.data


def test_trapped_bad_request_uses_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True

    @app.errorhandler(KeyError)
    def key_error(e: KeyError) -> tuple[str, int]:
        return f"key error {type(e).__name__}", 400

    @app.route("/key")
    def key() -> str:
        return erlen.request.form["missing_key"]

    assert client.get("/key").data == b"key error BadRequestKeyError"


# -- propagation, 500, logging, signals ----------------------------------------------


@pytest.mark.parametrize(
    ("debug", "testing", "propagate", "raises"),
    [
        (False, False, None, False),
        (True, False, None, True),
        (False, True, None, True),
        (True, True, None, True),
        (False, False, True, True),
        (True, True, False, False),
    ],
)
def test_propagate_exceptions(
    debug: bool, testing: bool, propagate: bool | None, raises: bool
) -> None:
    app = erlen.Erlen(__name__)
    app.debug = debug
    app.testing = testing
    app.config["PROPAGATE_EXCEPTIONS"] = propagate

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError("boom")

    client = app.test_client()
    if raises:
        with pytest.raises(ZeroDivisionError):
            client.get("/")
    else:
        rv = client.get("/")
        assert rv.status_code == 500
        assert b"Internal Server Error" in rv.data
        assert b"boom" not in rv.data


def test_500_handler_receives_original_exception(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[InternalServerError] = []

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        seen.append(e)
        return "sorry", 500

    @app.route("/error")
    def error() -> str:
        raise KeyError("boom")

    @app.route("/abort")
    def abort() -> str:
        erlen.abort(500)

    rv = client.get("/error")
    assert (rv.status_code, rv.data) == (500, b"sorry")
    assert isinstance(seen[0], InternalServerError)
    assert isinstance(seen[0].original_exception, KeyError)
    rv = client.get("/abort")
    assert (rv.status_code, rv.data) == (500, b"sorry")
    assert seen[1].original_exception is None


def test_internal_server_error_class_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(InternalServerError)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        return f"class handler {type(e.original_exception).__name__}", 500

    @app.route("/")
    def index() -> str:
        raise ValueError

    assert client.get("/").data == b"class handler ValueError"


def test_unhandled_error_in_blueprint_uses_blueprint_500_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = erlen.Blueprint("bp", __name__)

    @bp.errorhandler(500)
    def bp_500(e: InternalServerError) -> tuple[str, int]:
        return "bp 500", 500

    @bp.route("/bp")
    def bp_view() -> str:
        raise ValueError

    @app.route("/app")
    def app_view() -> str:
        raise ValueError

    app.register_blueprint(bp)
    assert client.get("/bp").data == b"bp 500"
    rv = client.get("/app")
    assert rv.status_code == 500
    assert b"Internal Server Error" in rv.data


def test_got_request_exception_signal(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    received: list[tuple[t.Any, BaseException]] = []

    def record(sender: t.Any, exception: BaseException, **extra: t.Any) -> None:
        received.append((sender, exception))

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    @app.route("/handled")
    def handled() -> str:
        raise ParentError

    app.register_error_handler(ParentError, lambda e: "handled")

    with erlen.got_request_exception.connected_to(record, app):
        assert client.get("/").status_code == 500
        assert client.get("/handled").data == b"handled"
        assert client.get("/missing").status_code == 404
    assert len(received) == 1
    assert received[0][0] is app
    assert isinstance(received[0][1], ZeroDivisionError)


def test_got_request_exception_signal_with_propagation(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    received = []

    def record(sender: t.Any, exception: BaseException, **extra: t.Any) -> None:
        received.append(exception)

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    with erlen.got_request_exception.connected_to(record, app):
        with pytest.raises(ZeroDivisionError):
            client.get("/")
    assert isinstance(received[0], ZeroDivisionError)


def test_unhandled_error_is_logged(
    app: erlen.Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/fail", methods=["POST"])
    def fail() -> str:
        raise ZeroDivisionError("boom")

    with caplog.at_level(logging.ERROR):
        assert client.post("/fail").status_code == 500
    records = [r for r in caplog.records if r.name == app.name]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "Exception on /fail [POST]"
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError
    assert app.logger.name == "erlen_test"


def test_handled_errors_are_not_logged(
    app: erlen.Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.register_error_handler(ParentError, lambda e: "handled")

    @app.route("/")
    def index() -> str:
        raise ParentError

    with caplog.at_level(logging.DEBUG):
        client.get("/")
        client.get("/missing")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_log_exception_override(app: erlen.Erlen) -> None:
    logged = []

    class MyApp(erlen.Erlen):
        def log_exception(self, exc_info: t.Any) -> None:
            logged.append(exc_info[0])

    app = MyApp(__name__)

    @app.route("/")
    def index() -> str:
        raise ValueError

    assert app.test_client().get("/").status_code == 500
    assert logged == [ValueError]


def test_error_in_after_request_while_handling_error_is_logged(
    app: erlen.Erlen, client: ErlenClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    calls = []

    @app.after_request
    def broken(response: erlen.Response) -> erlen.Response:
        calls.append(response.status_code)
        raise RuntimeError("after_request failed")

    @app.route("/")
    def index() -> str:
        return "ok"

    with caplog.at_level(logging.ERROR):
        rv = client.get("/")
    assert rv.status_code == 500
    # Once for the view's response, once for the 500 response.
    assert calls == [200, 500]
    messages = [r.getMessage() for r in caplog.records if r.name == app.name]
    assert messages == [
        "Exception on / [GET]",
        "Request finalizing failed with an error while handling an error",
    ]


def test_error_in_after_request_propagates_in_testing(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.after_request
    def broken(response: erlen.Response) -> erlen.Response:
        raise RuntimeError("after_request failed")

    app.add_url_rule("/", "index", lambda: "ok")
    with pytest.raises(RuntimeError, match="after_request failed"):
        client.get("/")


def test_error_in_before_request_is_handled(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.before_request
    def before() -> None:
        raise ParentError

    @app.errorhandler(ParentError)
    def handle(e: ParentError) -> tuple[str, int]:
        return "before failed", 400

    after_ran = []

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        after_ran.append(response.status_code)
        return response

    app.add_url_rule("/", "index", lambda: "ok")
    rv = client.get("/")
    assert (rv.status_code, rv.data) == (400, b"before failed")
    assert after_ran == [400]


def test_async_error_handler(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.errorhandler(ParentError)
    async def handle(e: ParentError) -> str:
        return "async handled"

    @app.route("/")
    async def index() -> str:
        raise ParentError

    assert client.get("/").data == b"async handled"


def test_routing_redirect_is_not_given_to_handlers(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(HTTPException)
    def generic(e: HTTPException) -> str:
        return "handled"

    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    rv = client.get("/folder")
    assert rv.status_code == 308


def test_500_handler_not_used_when_propagating(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        return "handled", 500

    @app.route("/")
    def index() -> str:
        raise ValueError("propagated")

    with pytest.raises(ValueError, match="propagated"):
        client.get("/")


def test_405_handler(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.errorhandler(405)
    def not_allowed(e: HTTPException) -> tuple[str, int]:
        return f"not allowed: {sorted(e.valid_methods)}", 405  # type: ignore[attr-defined]

    app.add_url_rule("/", "index", lambda: "", methods=["POST"])
    rv = client.get("/")
    assert rv.status_code == 405
    assert rv.data == b"not allowed: ['OPTIONS', 'POST']"


def test_error_handler_returning_response_object(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> erlen.Response:
        return erlen.Response("gone fishing", 404, {"X-Handler": "1"})

    rv = client.get("/missing")
    assert (rv.status_code, rv.data, rv.headers["X-Handler"]) == (
        404,
        b"gone fishing",
        "1",
    )


def test_error_in_after_request_is_not_given_to_handlers(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(ParentError)
    def handle(e: ParentError) -> str:
        return "handled"

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        if response.status_code == 200:
            raise ParentError
        return response

    app.add_url_rule("/", "index", lambda: "ok")
    assert client.get("/").status_code == 500


def test_base_exception_is_not_handled(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[BaseException | None] = []

    @app.errorhandler(Exception)
    def handle(e: Exception) -> str:
        return "handled"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    def index() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.get("/")
    assert isinstance(seen[0], KeyboardInterrupt)
    assert not erlen.has_request_context()


def test_debug_files_key_error(app: erlen.Erlen, client: ErlenClient) -> None:
    from erlen.debughelpers import DebugFilesKeyError

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        return erlen.request.files["photo"].filename or ""

    # Outside debug mode, a missing file is a plain 400.
    assert client.post("/upload", data={"photo": "me.jpg"}).status_code == 400

    app.debug = True
    with pytest.raises(DebugFilesKeyError) as exc_info:
        client.post("/upload", data={"photo": "me.jpg"})
    message = str(exc_info.value)
    assert "'photo'" in message
    assert "multipart/form-data" in message
    assert "'me.jpg'" in message
    assert isinstance(exc_info.value, KeyError)

    # A key that is in neither files nor form is a plain (trapped) 400.
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    assert client.post("/upload", data={"other": "x"}).status_code == 400
