"""Names tools import from Flask exist under erlen too."""

from __future__ import annotations

import subprocess
import sys


def test_cli_is_an_attribute_after_import_erlen() -> None:
    code = "import erlen; print(erlen.cli.AppGroup.__name__, erlen.cli.main.__name__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["AppGroup", "main"]


def test_unknown_attribute_is_an_attribute_error() -> None:
    import erlen

    assert not hasattr(erlen, "no_such_name")


def test_session_json_serializer() -> None:
    from erlen.json.tag import TaggedJSONSerializer
    from erlen.sessions import SecureCookieSessionInterface
    from erlen.sessions import session_json_serializer

    assert isinstance(session_json_serializer, TaggedJSONSerializer)
    assert SecureCookieSessionInterface.serializer is session_json_serializer
    data = {"t": (1, 2), "b": b"x"}
    assert session_json_serializer.loads(session_json_serializer.dumps(data)) == data
