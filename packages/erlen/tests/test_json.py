"""JSON helpers and providers: ``erlen.json`` and ``erlen.json.provider``."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import gc
import io
import json as stdlib_json
import math
import typing as t
import uuid
import weakref

import pytest
from markupsafe import Markup
from werkzeug.wrappers import Response

import erlen
import erlen.json as ejson
from erlen.json.provider import DefaultJSONProvider
from erlen.json.provider import JSONProvider
from erlen.testing_asgi import AsgiClient


@dataclasses.dataclass
class Point:
    x: int
    y: int


class FakeApp:
    """The little an app must offer a JSON provider."""

    response_class = Response

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug


@pytest.fixture
def provider() -> t.Iterator[DefaultJSONProvider]:
    app = FakeApp()
    yield DefaultJSONProvider(app)  # type: ignore[arg-type]
    del app


# --- module functions without an app -------------------------------------


def test_dumps_without_app_uses_extra_types() -> None:
    value = {
        "date": datetime.date(2024, 2, 29),
        "dt": datetime.datetime(2024, 2, 29, 13, 5, 9, tzinfo=datetime.timezone.utc),
        "dec": decimal.Decimal("1.10"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "point": Point(1, 2),
        "html": Markup("<b>x</b>"),
    }
    assert stdlib_json.loads(ejson.dumps(value)) == {
        "date": "Thu, 29 Feb 2024 00:00:00 GMT",
        "dt": "Thu, 29 Feb 2024 13:05:09 GMT",
        "dec": "1.10",
        "uuid": "12345678-1234-5678-1234-567812345678",
        "point": {"x": 1, "y": 2},
        "html": "<b>x</b>",
    }


def test_dumps_without_app_keeps_stdlib_options() -> None:
    assert ejson.dumps({"b": 1, "a": "é"}) == '{"b": 1, "a": "\\u00e9"}'
    assert ejson.dumps({"b": 1, "a": 2}, sort_keys=True, indent=None) == (
        '{"a": 2, "b": 1}'
    )


def test_dumps_rejects_unknown_types() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON"):
        ejson.dumps(object())
    with pytest.raises(TypeError, match="Object of type type is not JSON"):
        ejson.dumps(Point)


def test_object_with_html_method() -> None:
    class Widget:
        def __html__(self) -> str:
            return "<i>w</i>"

    assert ejson.dumps(Widget()) == '"<i>w</i>"'


def test_dump_load_loads_without_app() -> None:
    fp = io.StringIO()
    ejson.dump({"when": datetime.date(2000, 1, 1)}, fp)
    assert fp.getvalue() == '{"when": "Sat, 01 Jan 2000 00:00:00 GMT"}'
    fp.seek(0)
    assert ejson.load(fp) == {"when": "Sat, 01 Jan 2000 00:00:00 GMT"}
    assert ejson.loads(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert ejson.loads("[]", object_pairs_hook=list) == []


def test_loads_keeps_stdlib_non_finite_numbers() -> None:
    assert math.isnan(ejson.loads("[NaN]")[0])
    assert ejson.dumps(float("inf")) == "Infinity"


def test_jsonify_needs_an_app() -> None:
    with pytest.raises(RuntimeError, match="app_context"):
        ejson.jsonify(a=1)


# --- DefaultJSONProvider directly ----------------------------------------


def test_provider_dumps_sorts_and_escapes(provider: DefaultJSONProvider) -> None:
    assert provider.dumps({"b": 1, "a": "é"}) == '{"a": "\\u00e9", "b": 1}'
    assert provider.dumps({"b": 1, "a": 2}, separators=(",", ":")) == '{"a":2,"b":1}'
    assert provider.dumps({"b": 1, "a": 2}, sort_keys=False) == '{"b": 1, "a": 2}'


def test_provider_settings_apply_after_first_use(
    provider: DefaultJSONProvider,
) -> None:
    assert provider.dumps({"b": "é", "a": 1}) == '{"a": 1, "b": "\\u00e9"}'
    provider.sort_keys = False
    provider.ensure_ascii = False
    assert provider.dumps({"b": "é", "a": 1}) == '{"b": "é", "a": 1}'
    assert provider.response({"b": "é", "a": 1}).get_data(as_text=True) == (
        '{"b":"é","a":1}\n'
    )
    provider.default = lambda o: sorted(o)
    assert provider.dumps({"s": {3, 1, 2}}) == '{"s": [1, 2, 3]}'


def test_provider_extra_types(provider: DefaultJSONProvider) -> None:
    rv = provider.dumps(
        [
            decimal.Decimal("0.1"),
            uuid.UUID(int=1),
            Point(3, 4),
            datetime.date(1999, 12, 31),
        ]
    )
    assert stdlib_json.loads(rv) == [
        "0.1",
        "00000000-0000-0000-0000-000000000001",
        {"x": 3, "y": 4},
        "Fri, 31 Dec 1999 00:00:00 GMT",
    ]
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        provider.dumps({1, 2})


def test_provider_loads_and_files(provider: DefaultJSONProvider) -> None:
    assert provider.loads('{"a": 1}') == {"a": 1}
    assert provider.loads(b'{"a": 1.5}', parse_float=decimal.Decimal) == {
        "a": decimal.Decimal("1.5")
    }
    fp = io.StringIO()
    provider.dump({"b": 1, "a": Point(0, 0)}, fp)
    assert fp.getvalue() == '{"a": {"x": 0, "y": 0}, "b": 1}'
    fp.seek(0)
    assert provider.load(fp) == {"a": {"x": 0, "y": 0}, "b": 1}
    assert provider.load(io.BytesIO(b"[true]")) == [True]


@pytest.mark.parametrize(
    ("args", "kwargs", "body"),
    [
        ((), {}, "null\n"),
        (({"b": 2, "a": 1},), {}, '{"a":1,"b":2}\n'),
        (([1, 2],), {}, "[1,2]\n"),
        ((1, "two", None), {}, '[1,"two",null]\n'),
        ((), {"b": 2, "a": [1]}, '{"a":[1],"b":2}\n'),
        (("plain",), {}, '"plain"\n'),
    ],
)
def test_provider_response_arguments(
    provider: DefaultJSONProvider,
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
    body: str,
) -> None:
    rv = provider.response(*args, **kwargs)
    assert rv.mimetype == "application/json"
    assert rv.status_code == 200
    assert rv.get_data(as_text=True) == body


def test_provider_response_rejects_args_and_kwargs(
    provider: DefaultJSONProvider,
) -> None:
    with pytest.raises(TypeError, match="either args or kwargs"):
        provider.response(1, a=2)


@pytest.mark.parametrize(
    ("debug", "compact", "pretty"),
    [
        (False, None, False),
        (True, None, True),
        (True, True, False),
        (False, False, True),
    ],
)
def test_provider_response_compact_setting(
    debug: bool, compact: bool | None, pretty: bool
) -> None:
    app = FakeApp(debug=debug)
    provider = DefaultJSONProvider(app)  # type: ignore[arg-type]
    provider.compact = compact
    body = provider.response({"b": [1], "a": 1}).get_data(as_text=True)
    if pretty:
        assert body == '{\n  "a": 1,\n  "b": [\n    1\n  ]\n}\n'
    else:
        assert body == '{"a":1,"b":[1]}\n'


def test_provider_mimetype(provider: DefaultJSONProvider) -> None:
    provider.mimetype = "application/vnd.api+json"
    rv = provider.response([])
    assert rv.mimetype == "application/vnd.api+json"


def test_subclass_overriding_dumps_is_used_by_response() -> None:
    calls: list[dict[str, t.Any]] = []

    class Custom(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            calls.append(kwargs)
            return "custom"

    app = FakeApp()
    provider = Custom(app)  # type: ignore[arg-type]
    assert provider.response(1).get_data(as_text=True) == "custom\n"
    app.debug = True
    assert provider.response(1).get_data(as_text=True) == "custom\n"
    assert calls == [{"separators": (",", ":")}, {"indent": 2}]


def test_subclass_class_attributes() -> None:
    class Unsorted(DefaultJSONProvider):
        sort_keys = False
        ensure_ascii = False
        compact = False

    app = FakeApp()
    provider = Unsorted(app)  # type: ignore[arg-type]
    assert provider.dumps({"z": "ü", "a": 1}) == '{"z": "ü", "a": 1}'
    assert provider.response(z=1, a=2).get_data(as_text=True) == (
        '{\n  "z": 1,\n  "a": 2\n}\n'
    )


def test_base_provider_requires_dumps_and_loads() -> None:
    base = JSONProvider(FakeApp())  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        base.dumps(1)
    with pytest.raises(NotImplementedError):
        base.loads("1")


def test_minimal_custom_provider() -> None:
    class ReprProvider(JSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return stdlib_json.dumps(obj, separators=(",", ":"), **kwargs)

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return stdlib_json.loads(s, **kwargs)

    app = FakeApp()
    provider = ReprProvider(app)  # type: ignore[arg-type]
    rv = provider.response(1, 2)
    assert rv.mimetype == "application/json"
    assert rv.get_data(as_text=True) == "[1,2]"
    fp = io.StringIO()
    provider.dump({"a": 1}, fp)
    assert fp.getvalue() == '{"a":1}'
    assert provider.load(io.StringIO("[1]")) == [1]


def test_provider_does_not_keep_app_alive() -> None:
    app = FakeApp()
    provider = DefaultJSONProvider(app)  # type: ignore[arg-type]
    ref = weakref.ref(app)
    del app
    gc.collect()
    assert ref() is None
    with pytest.raises(ReferenceError):
        provider.response(1)


# --- through an app ------------------------------------------------------


@pytest.fixture
def app(entry: str) -> t.Any:
    app = erlen.Erlen(__name__)
    app.testing = True
    if entry == "asgi":
        app.test_client_class = AsgiClient
    return app


def test_app_has_default_provider(app: t.Any) -> None:
    assert isinstance(app.json, DefaultJSONProvider)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, None),
        (({"b": 1, "a": 2},), {}, {"a": 2, "b": 1}),
        ((1, 2, "three"), {}, [1, 2, "three"]),
        ((), {"name": "ada", "n": 1}, {"name": "ada", "n": 1}),
    ],
)
def test_jsonify_in_view(
    app: t.Any, args: tuple[t.Any, ...], kwargs: dict[str, t.Any], expected: t.Any
) -> None:
    @app.get("/")
    def index() -> t.Any:
        return ejson.jsonify(*args, **kwargs)

    rv = app.test_client().get("/")
    assert rv.status_code == 200
    assert rv.mimetype == "application/json"
    assert rv.json == expected
    assert rv.text.endswith("\n")
    assert "\n" not in rv.text[:-1]


def test_jsonify_args_and_kwargs_is_an_error(app: t.Any) -> None:
    @app.get("/")
    def index() -> t.Any:
        return ejson.jsonify(1, a=2)

    with pytest.raises(TypeError, match="not both"):
        app.test_client().get("/")


def test_jsonify_in_app_context(app: t.Any) -> None:
    with app.app_context():
        rv = ejson.jsonify([1])
    assert isinstance(rv, app.response_class)
    assert rv.get_data() == b"[1]\n"


def test_extra_types_in_views(app: t.Any) -> None:
    @app.get("/")
    def index() -> t.Any:
        return {
            "point": Point(1, 2),
            "price": decimal.Decimal("9.99"),
            "id": uuid.UUID(int=5),
            "day": datetime.date(2020, 5, 17),
            "at": datetime.datetime(2020, 5, 17, 8, 0, 1),
            "html": Markup("<br>"),
        }

    assert app.test_client().get("/").json == {
        "point": {"x": 1, "y": 2},
        "price": "9.99",
        "id": "00000000-0000-0000-0000-000000000005",
        "day": "Sun, 17 May 2020 00:00:00 GMT",
        "at": "Sun, 17 May 2020 08:00:01 GMT",
        "html": "<br>",
    }


def test_list_return_is_json(app: t.Any) -> None:
    @app.get("/")
    def index() -> t.Any:
        return [Point(0, 1)]

    rv = app.test_client().get("/")
    assert rv.mimetype == "application/json"
    assert rv.json == [{"x": 0, "y": 1}]


def test_debug_pretty_prints(app: t.Any) -> None:
    @app.get("/")
    def index() -> t.Any:
        return {"b": [1], "a": 1}

    client = app.test_client()
    assert client.get("/").text == '{"a":1,"b":[1]}\n'
    app.debug = True
    assert client.get("/").text == '{\n  "a": 1,\n  "b": [\n    1\n  ]\n}\n'
    app.json.compact = True
    assert client.get("/").text == '{"a":1,"b":[1]}\n'


def test_sort_keys_off(app: t.Any) -> None:
    @app.get("/")
    def index() -> t.Any:
        return {"z": 1, "a": 2}

    client = app.test_client()
    assert client.get("/").text == '{"a":2,"z":1}\n'
    app.json.sort_keys = False
    assert client.get("/").text == '{"z":1,"a":2}\n'
    with app.app_context():
        assert ejson.dumps({"z": 1, "a": 2}) == '{"z": 1, "a": 2}'


def test_ensure_ascii_off(app: t.Any) -> None:
    app.json.ensure_ascii = False

    @app.get("/")
    def index() -> t.Any:
        return {"text": "smörgåsbord"}

    rv = app.test_client().get("/")
    assert rv.get_data() == '{"text":"smörgåsbord"}\n'.encode()


def test_module_functions_follow_app_provider(app: t.Any) -> None:
    class Upper(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return super().dumps(obj, **kwargs).upper()

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return {"loaded": super().loads(s, **kwargs)}

    app.json = Upper(app)
    with app.app_context():
        assert ejson.dumps({"a": "b"}) == '{"A": "B"}'
        fp = io.StringIO()
        ejson.dump(["x"], fp)
        assert fp.getvalue() == '["X"]'
        assert ejson.loads("1") == {"loaded": 1}
        assert ejson.load(io.StringIO("2")) == {"loaded": 2}
        assert ejson.jsonify("q").get_data() == b'"Q"\n'
    assert ejson.dumps({"a": "b"}) == '{"a": "b"}'


def test_json_provider_class(app: t.Any) -> None:

    class Compact(DefaultJSONProvider):
        compact = True
        mimetype = "application/problem+json"

    class MyApp(erlen.Erlen):  # type: ignore[misc,name-defined]
        json_provider_class = Compact

    my_app = MyApp(__name__)
    my_app.debug = True

    @my_app.get("/")
    def index() -> t.Any:
        return {"a": 1}

    rv = my_app.test_client().get("/")
    assert rv.mimetype == "application/problem+json"
    assert rv.text == '{"a":1}\n'


def test_request_json_uses_provider(app: t.Any) -> None:

    class Decimals(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            kwargs.setdefault("parse_float", decimal.Decimal)
            return super().loads(s, **kwargs)

    app.json = Decimals(app)

    @app.post("/")
    def echo() -> t.Any:
        value = erlen.request.get_json()
        return {"type": type(value["n"]).__name__, "value": value["n"]}

    rv = app.test_client().post("/", json={"n": 1.25, "d": datetime.date(2001, 1, 1)})
    assert rv.json == {"type": "Decimal", "value": "1.25"}


def test_tojson_filter_uses_provider(app: t.Any) -> None:
    with app.app_context():
        rv = erlen.render_template_string(
            "{{ value|tojson }}", value={"z": "</script>", "a": Point(1, 2)}
        )
    assert rv == '{"a": {"x": 1, "y": 2}, "z": "\\u003c/script\\u003e"}'
