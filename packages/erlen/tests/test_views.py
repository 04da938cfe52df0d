"""Class-based views: ``View`` and ``MethodView``."""

from __future__ import annotations

import functools
import typing as t

import pytest

import erlen
import erlen.views
from erlen.testing import ErlenClient


def common_test(client: ErlenClient) -> None:
    assert client.get("/").data == b"GET"
    assert client.post("/").data == b"POST"
    assert client.put("/").status_code == 405
    rv = client.open("/", method="OPTIONS")
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_basic_view(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.View):
        methods = ["GET", "POST"]

        def dispatch_request(self) -> str:
            return erlen.request.method

    app.add_url_rule("/", view_func=Index.as_view("index"))
    common_test(client)


def test_method_based_view(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.MethodView):
        def get(self) -> str:
            return "GET"

        def post(self) -> str:
            return "POST"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    common_test(client)


def test_as_view_attributes() -> None:
    class Index(erlen.views.View):
        """The index view."""

        methods = ["GET"]
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return ""

    view = Index.as_view("my_index")
    assert view.__name__ == "my_index"
    assert view.__doc__ == "The index view."
    assert view.__module__ == __name__
    assert view.view_class is Index  # type: ignore[attr-defined]
    assert view.methods == ["GET"]  # type: ignore[attr-defined]
    assert view.provide_automatic_options is False  # type: ignore[attr-defined]


def test_view_name_is_the_endpoint(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.View):
        def dispatch_request(self) -> str:
            return erlen.request.endpoint or ""

    app.add_url_rule("/", view_func=Index.as_view("home"))
    assert client.get("/").data == b"home"
    with app.test_request_context():
        assert erlen.url_for("home") == "/"


def test_view_default_methods(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.View):
        def dispatch_request(self) -> str:
            return "index"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").data == b"index"
    assert client.post("/").status_code == 405
    assert sorted(client.options("/").allow) == ["GET", "HEAD", "OPTIONS"]


def test_view_provide_automatic_options_false(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class Index(erlen.views.View):
        methods = ["GET", "OPTIONS"]
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "own " + erlen.request.method

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.options("/").data == b"own OPTIONS"


def test_view_url_arguments(app: erlen.Erlen, client: ErlenClient) -> None:
    class User(erlen.views.View):
        def dispatch_request(self, user_id: int) -> str:
            return f"user {user_id}"

    app.add_url_rule("/users/<int:user_id>", view_func=User.as_view("user"))
    assert client.get("/users/7").data == b"user 7"


def test_view_class_arguments(app: erlen.Erlen, client: ErlenClient) -> None:
    class Greeting(erlen.views.View):
        def __init__(self, greeting: str, punctuation: str = ".") -> None:
            self.greeting = greeting
            self.punctuation = punctuation

        def dispatch_request(self) -> str:
            return self.greeting + self.punctuation

    app.add_url_rule("/hi", view_func=Greeting.as_view("hi", "Hi"))
    app.add_url_rule(
        "/hello", view_func=Greeting.as_view("hello", "Hello", punctuation="!")
    )
    assert client.get("/hi").data == b"Hi."
    assert client.get("/hello").data == b"Hello!"


def test_init_every_request_true(app: erlen.Erlen, client: ErlenClient) -> None:
    instances: list[int] = []

    class Counter(erlen.views.View):
        def __init__(self) -> None:
            self.count = 0
            instances.append(id(self))

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    app.add_url_rule("/", view_func=Counter.as_view("counter"))
    assert client.get("/").data == b"1"
    assert client.get("/").data == b"1"
    assert len(instances) == 2


def test_init_every_request_false(app: erlen.Erlen, client: ErlenClient) -> None:
    created = []

    class Counter(erlen.views.View):
        init_every_request = False

        def __init__(self, start: int) -> None:
            self.count = start
            created.append(self)

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    view = Counter.as_view("counter", 10)
    assert len(created) == 1
    app.add_url_rule("/", view_func=view)
    assert client.get("/").data == b"11"
    assert client.get("/").data == b"12"
    assert len(created) == 1


def test_view_decorators(app: erlen.Erlen, client: ErlenClient) -> None:
    applied: list[str] = []

    def add_header(name: str) -> t.Callable[[t.Callable[..., t.Any]], t.Any]:
        def decorator(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            applied.append(f"{name} wraps {f.__name__}")

            @functools.wraps(f)
            def wrapper(**kwargs: t.Any) -> erlen.Response:
                rv = erlen.make_response(f(**kwargs))
                rv.headers[f"X-{name}"] = "1"
                rv.headers.add("X-Order", name)
                return rv

            return wrapper

        return decorator

    class Index(erlen.views.View):
        decorators = [add_header("Inner"), add_header("Outer")]

        def dispatch_request(self) -> str:
            return "decorated"

    view = Index.as_view("index")
    assert view.__name__ == "index"
    assert view.view_class is Index  # type: ignore[attr-defined]
    assert applied == ["Inner wraps index", "Outer wraps index"]
    app.add_url_rule("/", view_func=view)
    rv = client.get("/")
    assert rv.data == b"decorated"
    assert rv.headers["X-Inner"] == "1"
    assert rv.headers["X-Outer"] == "1"
    assert rv.headers.getlist("X-Order") == ["Inner", "Outer"]


def test_view_decorator_can_short_circuit(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    def login_required(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        @functools.wraps(f)
        def wrapper(**kwargs: t.Any) -> t.Any:
            if "user" not in erlen.request.args:
                erlen.abort(401)
            return f(**kwargs)

        return wrapper

    class Secret(erlen.views.View):
        decorators = [login_required]

        def dispatch_request(self) -> str:
            return "secret"

    app.add_url_rule("/", view_func=Secret.as_view("secret"))
    assert client.get("/").status_code == 401
    assert client.get("/?user=1").data == b"secret"


def test_dispatch_request_not_implemented(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.add_url_rule("/", view_func=erlen.views.View.as_view("base"))
    with pytest.raises(NotImplementedError):
        client.get("/")


def test_method_view_collects_methods() -> None:
    class Resource(erlen.views.MethodView):
        def get(self) -> str:
            return ""

        def delete(self) -> str:
            return ""

        def not_a_method(self) -> str:
            return ""

    assert Resource.methods == {"GET", "DELETE"}


def test_method_view_without_handlers() -> None:
    class Empty(erlen.views.MethodView):
        pass

    assert Empty.methods is None


def test_method_view_explicit_methods_win() -> None:
    class Resource(erlen.views.MethodView):
        methods = ["GET"]

        def get(self) -> str:
            return ""

        def post(self) -> str:
            return ""

    assert Resource.methods == ["GET"]


def test_method_view_inheritance(app: erlen.Erlen, client: ErlenClient) -> None:
    class Base(erlen.views.MethodView):
        def get(self) -> str:
            return "GET"

        def post(self) -> str:
            return "POST"

    class Child(Base):
        def delete(self) -> str:
            return "DELETE"

    assert Child.methods == {"GET", "POST", "DELETE"}
    app.add_url_rule("/", view_func=Child.as_view("index"))
    assert client.get("/").data == b"GET"
    assert client.post("/").data == b"POST"
    assert client.delete("/").data == b"DELETE"
    assert client.put("/").status_code == 405


def test_method_view_mixin_inheritance(app: erlen.Erlen, client: ErlenClient) -> None:
    class GetMixin:
        def get(self) -> str:
            return "GET"

    class PostView(erlen.views.MethodView):
        def post(self) -> str:
            return "POST"

    class Both(GetMixin, PostView):
        pass

    assert Both.methods == {"GET", "POST"}
    app.add_url_rule("/", view_func=Both.as_view("index"))
    common_test(client)


def test_method_view_override_in_subclass(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class Base(erlen.views.MethodView):
        def get(self) -> str:
            return "base GET"

    class Child(Base):
        def get(self) -> str:
            return "child " + super().get()

    app.add_url_rule("/", view_func=Child.as_view("index"))
    assert client.get("/").data == b"child base GET"


def test_method_view_head_falls_back_to_get(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    calls = []

    class Index(erlen.views.MethodView):
        def get(self) -> erlen.Response:
            calls.append(erlen.request.method)
            return erlen.Response("body", headers={"X-Method": erlen.request.method})

    app.add_url_rule("/", view_func=Index.as_view("index"))
    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["X-Method"] == "HEAD"
    assert rv.content_length == 4
    assert calls == ["HEAD"]


def test_method_view_explicit_head(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.MethodView):
        def get(self) -> str:
            return "GET"

        def head(self) -> erlen.Response:
            return erlen.Response("", headers={"X-Head": "own"})

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.head("/").headers["X-Head"] == "own"
    assert client.get("/").data == b"GET"


def test_method_view_url_arguments(app: erlen.Erlen, client: ErlenClient) -> None:
    class Item(erlen.views.MethodView):
        def get(self, item_id: int) -> str:
            return f"get {item_id}"

        def put(self, item_id: int) -> str:
            return f"put {item_id} {erlen.request.get_json()['name']}"

    app.add_url_rule("/items/<int:item_id>", view_func=Item.as_view("item"))
    assert client.get("/items/3").data == b"get 3"
    assert client.put("/items/4", json={"name": "x"}).data == b"put 4 x"


def test_method_view_with_routing_for_list_and_detail(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class ItemAPI(erlen.views.MethodView):
        init_every_request = False

        def __init__(self, store: dict[int, str]) -> None:
            self.store = store

        def get(self, item_id: int | None = None) -> t.Any:
            if item_id is None:
                return list(self.store.values())
            return {"item": self.store[item_id]}

        def post(self) -> tuple[t.Any, int]:
            new_id = len(self.store) + 1
            self.store[new_id] = erlen.request.get_json()["name"]
            return {"id": new_id}, 201

    view = ItemAPI.as_view("items", {1: "first"})
    app.add_url_rule("/items/", view_func=view, methods=["GET", "POST"])
    app.add_url_rule("/items/<int:item_id>", view_func=view, methods=["GET"])
    assert client.get("/items/").json == ["first"]
    rv = client.post("/items/", json={"name": "second"})
    assert (rv.status_code, rv.json) == (201, {"id": 2})
    assert client.get("/items/2").json == {"item": "second"}


def test_method_view_in_blueprint(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("api", __name__, url_prefix="/api")

    class Index(erlen.views.MethodView):
        def get(self) -> str:
            return erlen.url_for(".index")

    bp.add_url_rule("/", view_func=Index.as_view("index"))
    app.register_blueprint(bp)
    assert client.get("/api/").data == b"/api/"


def test_method_view_async_handlers(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.MethodView):
        async def get(self) -> str:
            return "async GET"

        async def post(self) -> str:
            return "async POST"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").data == b"async GET"
    assert client.post("/").data == b"async POST"
    assert client.head("/").status_code == 200


def test_view_async_dispatch_request(app: erlen.Erlen, client: ErlenClient) -> None:
    class Index(erlen.views.View):
        async def dispatch_request(self) -> str:  # type: ignore[override]
            return "async view"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").data == b"async view"


def test_method_view_unimplemented_method_is_405(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class Index(erlen.views.MethodView):
        def get(self) -> str:
            return "GET"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.post("/").status_code == 405


def test_method_view_methods_given_at_registration(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class Index(erlen.views.MethodView):
        def get(self) -> str:
            return "GET"

        def post(self) -> str:
            return "POST"

    app.add_url_rule("/", view_func=Index.as_view("index"), methods=["GET"])
    assert client.get("/").data == b"GET"
    assert client.post("/").status_code == 405
