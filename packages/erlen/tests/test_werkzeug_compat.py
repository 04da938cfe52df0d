"""One test per private Werkzeug or itsdangerous name erlen uses (all reached
through ``erlen._werkzeug_compat``): each fails loudly when a release changes it."""

from __future__ import annotations

import inspect
import io
import json
import typing as t

import itsdangerous
from itsdangerous.url_safe import URLSafeSerializerMixin
from werkzeug.datastructures import Headers
from werkzeug.routing import Map
from werkzeug.routing import MapAdapter
from werkzeug.routing import Rule
from werkzeug.test import Client
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response
from werkzeug.wsgi import LimitedStream

from erlen import _werkzeug_compat as compat


def test_headers_list() -> None:
    headers = Headers([("A", "1")])
    pairs = compat.header_pairs(headers)
    assert type(getattr(headers, "_list", None)) is list
    assert pairs is headers._list  # type: ignore[attr-defined]
    compat.append_valid_headers(headers, [("B", "2")])
    assert headers.get("B") == "2"
    assert list(headers.items()) == [("A", "1"), ("B", "2")]


def test_limited_stream_limit_is_max_and_stream() -> None:
    source = io.BytesIO(b"abcdef")
    known = LimitedStream(source, 3)
    chunked = LimitedStream(source, 3, is_max=True)
    assert compat.limit_is_max(known) is False
    assert compat.limit_is_max(chunked) is True
    assert compat.underlying_stream(chunked) is source


def test_request_cached_json() -> None:
    request = Request(
        EnvironBuilder(json={"a": 1}).get_environ()  # type: ignore[arg-type]
    )
    assert compat.get_cached_json(request) == (Ellipsis, Ellipsis)
    assert request.get_json() == {"a": 1}
    assert compat.get_cached_json(request) == ({"a": 1}, {"a": 1})
    compat.set_cached_json(request, ("x", "y"))
    assert request.get_json() == "x"
    assert request.get_json(silent=True) == "y"


def test_request_methods_erlen_overrides() -> None:
    for name in compat.OVERRIDDEN_REQUEST_METHODS:
        assert callable(getattr(Request, name, None)), name
    parameters = list(inspect.signature(Request._get_file_stream).parameters)
    assert parameters == [
        "self",
        "total_content_length",
        "content_type",
        "filename",
        "content_length",
    ]
    calls: list[str] = []

    class Recording(Request):
        def _load_form_data(self) -> None:
            calls.append("load")
            super()._load_form_data()

        def _get_file_stream(self, *args: t.Any, **kwargs: t.Any) -> t.IO[bytes]:
            calls.append("file")
            return super()._get_file_stream(*args, **kwargs)

    builder = EnvironBuilder(method="POST", data={"f": (io.BytesIO(b"x"), "f.txt")})
    request = Recording(builder.get_environ())  # type: ignore[arg-type]
    builder.close()
    assert request.files["f"].read() == b"x"
    request.close()
    assert calls == ["load", "file"]


def test_response_on_close() -> None:
    response = Response("x")
    assert compat.close_callbacks(response) == []
    response.call_on_close(print)
    assert compat.close_callbacks(response) == [print]


def test_map_adapter_positional_constructor() -> None:
    parameters = list(inspect.signature(MapAdapter.__init__).parameters)
    assert parameters == ["self", *compat.MAP_ADAPTER_PARAMETERS]
    url_map = Map([Rule("/a/", endpoint="a")])
    adapter = compat.new_map_adapter(
        url_map, "example.com", "/root", "", "https", "/a/", "GET", "q=1"
    )
    assert adapter.match() == ("a", {})
    assert adapter.build("a", force_external=True) == "https://example.com/root/a/"
    expected = url_map.bind(
        "example.com",
        script_name="/root",
        subdomain="",
        url_scheme="https",
        default_method="GET",
        path_info="/a/",
        query_args="q=1",
    )
    for name in compat.MAP_ADAPTER_PARAMETERS[1:]:
        assert getattr(adapter, name) == getattr(expected, name), name


def test_client_cookie_internals() -> None:
    def app(environ: t.Any, start_response: t.Any) -> t.Any:
        response = Response(environ.get("HTTP_COOKIE", ""))
        return response(environ, start_response)

    client = Client(app)
    assert compat.client_cookies_enabled(client)
    assert not compat.client_cookies_enabled(Client(app, use_cookies=False))
    compat.update_client_cookies(client, "localhost", "/", ["a=1; Path=/"])
    environ = EnvironBuilder("/").get_environ()
    compat.add_client_cookies(client, environ)
    assert environ["HTTP_COOKIE"] == "a=1"
    assert client.get("/").data == b"a=1"


def test_itsdangerous_mixin_skip() -> None:
    serializer = itsdangerous.URLSafeTimedSerializer("key")
    assert URLSafeSerializerMixin in type(serializer).__mro__
    payload = {"a": "b" * 500}  # long and compressible: the mixin would zlib it
    raw = compat.dump_payload_uncompressed(serializer, payload)
    assert json.loads(raw) == payload
    assert serializer.dump_payload(payload).startswith(b".")
