"""Configuration from the user's side: defaults, loaders, namespaces, attributes."""

from __future__ import annotations

import json
import os
import sys
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest

import erlen
from erlen.config import Config
from erlen.config import ConfigAttribute

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

HERE = Path(__file__).parent

# Values a module-level config object offers to ``from_object``.
TEST_KEY = "foo"
SECRET_KEY = "config"
lower_key = "ignored"

EXPECTED_DEFAULTS: dict[str, t.Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": "Lax",  # erlen: Flask's default is None
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # erlen: Flask's default is None
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
    # erlen's secure defaults (docs/security.md)
    "MAX_JSON_DEPTH": 256,
    "SECURITY_HEADERS": {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    },
    "STRICT_TRANSPORT_SECURITY": "max-age=31536000",
    "ASGI_MAX_THREADS": 40,
    "ASGI_BODY_TIMEOUT": 30,
    "WEBSOCKET_MAX_MESSAGE_SIZE": 1024 * 1024,
    "WEBSOCKET_IDLE_TIMEOUT": 300,
    "WEBSOCKET_ALLOWED_ORIGINS": None,
}


def common_object_test(app: erlen.Erlen) -> None:
    assert app.secret_key == "config"
    assert app.config["TEST_KEY"] == "foo"
    assert "lower_key" not in app.config
    assert "LOWER_KEY" not in app.config


# -- defaults -------------------------------------------------------------------------


def test_default_config_has_37_keys() -> None:
    assert len(erlen.Erlen.default_config) == 37
    assert dict(erlen.Erlen.default_config) == EXPECTED_DEFAULTS


def test_new_app_config(monkeypatch: pytest.MonkeyPatch) -> None:
    app = erlen.Erlen(__name__)
    assert isinstance(app.config, Config)
    assert dict(app.config) == {**EXPECTED_DEFAULTS, "DEBUG": False}
    assert app.debug is False
    assert app.testing is False


def test_default_config_is_immutable() -> None:
    with pytest.raises(TypeError):
        erlen.Erlen.default_config["DEBUG"] = True  # type: ignore[index]


def test_configs_are_independent() -> None:
    one = erlen.Erlen(__name__)
    two = erlen.Erlen(__name__)
    one.config["SECRET_KEY"] = "one"
    assert two.config["SECRET_KEY"] is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("anything", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("", False),
    ],
)
def test_debug_from_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", value)
    app = erlen.Erlen(__name__)
    assert app.debug is expected
    assert app.config["DEBUG"] is expected


def test_config_class_override() -> None:
    class MyConfig(Config):
        pass

    class MyApp(erlen.Erlen):
        config_class = MyConfig

    app = MyApp(__name__)
    assert isinstance(app.config, MyConfig)
    assert app.config["SESSION_COOKIE_NAME"] == "session"


def test_default_config_override_in_subclass() -> None:
    class MyApp(erlen.Erlen):
        default_config = erlen.Erlen.default_config.copy()  # type: ignore[assignment]
        default_config["SESSION_COOKIE_NAME"] = "custom"  # type: ignore[index]

    assert MyApp(__name__).config["SESSION_COOKIE_NAME"] == "custom"


# -- loaders ----------------------------------------------------------------------------


def test_from_pyfile(app: erlen.Erlen, tmp_path: Path) -> None:
    f = tmp_path / "settings.py"
    f.write_text(
        "TEST_KEY = 'foo'\nSECRET_KEY = 'config'\nlower_key = 'ignored'\n"
        "FILE = __file__\n"
    )
    app.config.root_path = str(tmp_path)
    assert app.config.from_pyfile("settings.py") is True
    common_object_test(app)
    assert app.config["FILE"] == str(f)


def test_from_pyfile_absolute_path(app: erlen.Erlen, tmp_path: Path) -> None:
    f = tmp_path / "settings.cfg"
    f.write_text("TEST_KEY = 'foo'\nSECRET_KEY = 'config'\n")
    assert app.config.from_pyfile(f) is True
    common_object_test(app)


def test_from_pyfile_missing(app: erlen.Erlen, tmp_path: Path) -> None:
    missing = tmp_path / "missing.cfg"
    with pytest.raises(OSError) as exc_info:
        app.config.from_pyfile(str(missing))
    message = str(exc_info.value)
    assert message.startswith("[Errno 2] Unable to load configuration file (")
    assert str(missing) in message
    assert not app.config.from_pyfile(str(missing), silent=True)
    assert not app.config.from_pyfile(str(tmp_path), silent=True)


def test_from_pyfile_error_in_file_propagates(app: erlen.Erlen, tmp_path: Path) -> None:
    f = tmp_path / "broken.py"
    f.write_text("A = 1 / 0\n")
    with pytest.raises(ZeroDivisionError):
        app.config.from_pyfile(str(f), silent=True)


def test_from_envvar(
    app: erlen.Erlen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "settings.py"
    f.write_text("TEST_KEY = 'foo'\nSECRET_KEY = 'config'\nlower_key = 'x'\n")
    monkeypatch.setenv("A_CONFIG_SETTINGS", str(f))
    assert app.config.from_envvar("A_CONFIG_SETTINGS") is True
    common_object_test(app)


def test_from_envvar_unset(app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("A_CONFIG_UNSET", raising=False)
    with pytest.raises(RuntimeError) as exc_info:
        app.config.from_envvar("A_CONFIG_UNSET")
    assert "'A_CONFIG_UNSET' is not set" in str(exc_info.value)
    assert app.config.from_envvar("A_CONFIG_UNSET", silent=True) is False


def test_from_envvar_missing_file(
    app: erlen.Erlen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.cfg"
    monkeypatch.setenv("A_CONFIG_MISSING", str(missing))
    with pytest.raises(OSError) as exc_info:
        app.config.from_envvar("A_CONFIG_MISSING")
    assert "Unable to load configuration file" in str(exc_info.value)
    assert str(missing) in str(exc_info.value)
    assert app.config.from_envvar("A_CONFIG_MISSING", silent=True) is False


def test_from_object_module(app: erlen.Erlen) -> None:
    app.config.from_object(sys.modules[__name__])
    common_object_test(app)


def test_from_object_import_string(app: erlen.Erlen) -> None:
    app.config.from_object(__name__)
    common_object_test(app)


def test_from_object_class_and_instance(app: erlen.Erlen) -> None:
    class Base:
        TEST_KEY = "foo"
        lower_key = "ignored"

    class Settings(Base):
        SECRET_KEY = "config"

        @property
        def COMPUTED(self) -> str:
            return "computed"

    app.config.from_object(Settings)
    common_object_test(app)
    app.config.from_object(Settings())
    assert app.config["COMPUTED"] == "computed"


def test_from_object_bad_import_string(app: erlen.Erlen) -> None:
    with pytest.raises(ImportError):
        app.config.from_object("a_config_no_such_module.Settings")


def test_from_file_json(app: erlen.Erlen) -> None:
    assert app.config.from_file(str(HERE / "static" / "a_config.json"), json.load)
    common_object_test(app)


def test_from_file_relative_to_root_path(app: erlen.Erlen) -> None:
    assert app.config.root_path == str(HERE)
    assert app.config.from_file("static/a_config.json", json.load)
    common_object_test(app)


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_from_file_toml(app: erlen.Erlen) -> None:
    assert app.config.from_file(
        "static/a_config.toml",
        tomllib.load,  # type: ignore[union-attr]
        text=False,
    )
    common_object_test(app)
    assert app.config["NESTED"] == {"VALUE": 1}


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_from_file_toml_needs_binary(app: erlen.Erlen) -> None:
    with pytest.raises(TypeError):
        app.config.from_file("static/a_config.toml", tomllib.load)  # type: ignore[union-attr]


def test_from_file_missing(app: erlen.Erlen, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(OSError) as exc_info:
        app.config.from_file(str(missing), json.load)
    message = str(exc_info.value)
    assert message.startswith("[Errno 2] Unable to load configuration file (")
    assert str(missing) in message
    assert not app.config.from_file(str(missing), json.load, silent=True)


def test_from_mapping(app: erlen.Erlen) -> None:
    expected = {"SECRET_KEY": "config", "TEST_KEY": "foo", "lower_key": "ignored"}
    assert app.config.from_mapping(expected) is True
    common_object_test(app)

    app = erlen.Erlen(__name__)
    app.config.from_mapping(list(expected.items()))  # type: ignore[arg-type]
    common_object_test(app)

    app = erlen.Erlen(__name__)
    app.config.from_mapping(**expected)
    common_object_test(app)

    app = erlen.Erlen(__name__)
    app.config.from_mapping(
        {"SECRET_KEY": "wrong"}, SECRET_KEY="config", TEST_KEY="foo"
    )
    common_object_test(app)


def test_get_namespace() -> None:
    config = Config("")
    config.update(
        {
            "FOO_OPTION_1": "foo option 1",
            "FOO_OPTION_2": "foo option 2",
            "BAR_STUFF_1": "bar stuff 1",
            "BAR_STUFF_2": "bar stuff 2",
        }
    )
    assert config.get_namespace("FOO_") == {
        "option_1": "foo option 1",
        "option_2": "foo option 2",
    }
    assert config.get_namespace("FOO_", lowercase=False) == {
        "OPTION_1": "foo option 1",
        "OPTION_2": "foo option 2",
    }
    assert config.get_namespace("BAR_", trim_namespace=False) == {
        "bar_stuff_1": "bar stuff 1",
        "bar_stuff_2": "bar stuff 2",
    }
    assert config.get_namespace("BAR_", lowercase=False, trim_namespace=False) == {
        "BAR_STUFF_1": "bar stuff 1",
        "BAR_STUFF_2": "bar stuff 2",
    }
    assert config.get_namespace("NONE_") == {}


def test_config_repr_and_root_path(app: erlen.Erlen) -> None:
    config = Config("/some/path", {"A": 1})
    assert config.root_path == "/some/path"
    assert repr(config) == "<Config {'A': 1}>"
    assert config["A"] == 1


# -- from_prefixed_env ---------------------------------------------------------------------


def test_from_prefixed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_STRING", "value")
    monkeypatch.setenv("ERLEN_BOOL", "true")
    monkeypatch.setenv("ERLEN_INT", "1")
    monkeypatch.setenv("ERLEN_FLOAT", "1.2")
    monkeypatch.setenv("ERLEN_LIST", "[1, 2]")
    monkeypatch.setenv("ERLEN_DICT", '{"k": "v"}')
    monkeypatch.setenv("ERLEN_NULL", "null")
    monkeypatch.setenv("ERLEN_QUOTED", '"123"')
    monkeypatch.setenv("ERLEN_lower", "kept as is")
    monkeypatch.setenv("NOT_ERLEN_OTHER", "other")
    monkeypatch.setenv("ERLENX_OTHER", "other")

    config = Config(os.getcwd())
    assert config.from_prefixed_env() is True
    assert config["STRING"] == "value"
    assert config["BOOL"] is True
    assert config["INT"] == 1
    assert config["FLOAT"] == 1.2
    assert config["LIST"] == [1, 2]
    assert config["DICT"] == {"k": "v"}
    assert config["NULL"] is None
    assert config["QUOTED"] == "123"
    assert config["lower"] == "kept as is"
    assert "OTHER" not in config


def test_from_prefixed_env_on_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_SECRET_KEY", "from env")
    monkeypatch.setenv("ERLEN_PERMANENT_SESSION_LIFETIME", "60")
    app = erlen.Erlen(__name__)
    app.config.from_prefixed_env()
    assert app.secret_key == "from env"
    assert app.permanent_session_lifetime == timedelta(seconds=60)


def test_from_prefixed_env_custom_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_A", "a")
    monkeypatch.setenv("MYAPP_A", "b")
    config = Config(os.getcwd())
    config.from_prefixed_env("MYAPP")
    assert config["A"] == "b"


def test_from_prefixed_env_custom_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_A", "a")
    monkeypatch.setenv("ERLEN_B", "1")
    config = Config(os.getcwd())
    config.from_prefixed_env(loads=lambda value: f"<{value}>")
    assert config["A"] == "<a>"
    assert config["B"] == "<1>"


def test_from_prefixed_env_loads_errors_keep_the_string(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def loads(value: str) -> t.Any:
        if value == "bad":
            raise ValueError("cannot parse")
        return int(value)

    monkeypatch.setenv("ERLEN_GOOD", "3")
    monkeypatch.setenv("ERLEN_BAD", "bad")
    config = Config(os.getcwd())
    config.from_prefixed_env(loads=loads)
    assert config["GOOD"] == 3
    assert config["BAD"] == "bad"


def test_from_prefixed_env_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_EXIST__ok", "other")
    monkeypatch.setenv("ERLEN_EXIST__inner__ik", "2")
    monkeypatch.setenv("ERLEN_EXIST__new__more", '{"k": false}')
    monkeypatch.setenv("ERLEN_NEW__K", "v")

    config = Config(os.getcwd())
    config["EXIST"] = {"ok": "value", "flag": True, "inner": {"ik": 1}}
    config.from_prefixed_env()
    assert config["EXIST"] == {
        "ok": "other",
        "flag": True,
        "inner": {"ik": 2},
        "new": {"more": {"k": False}},
    }
    assert config["NEW"] == {"K": "v"}


# -- attributes bound to config keys -----------------------------------------------------------


def test_config_attributes(app: erlen.Erlen) -> None:
    app.testing = False
    assert app.config["TESTING"] is False
    app.config["TESTING"] = True
    assert app.testing is True

    app.secret_key = "secret"
    assert app.config["SECRET_KEY"] == "secret"
    app.config["SECRET_KEY"] = b"bytes"
    assert app.secret_key == b"bytes"


def test_permanent_session_lifetime(app: erlen.Erlen) -> None:
    assert app.permanent_session_lifetime == timedelta(days=31)
    app.config["PERMANENT_SESSION_LIFETIME"] = 42
    assert app.permanent_session_lifetime == timedelta(seconds=42)
    app.permanent_session_lifetime = timedelta(hours=1)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=1)
    app.permanent_session_lifetime = 7  # type: ignore[assignment]
    assert app.permanent_session_lifetime == timedelta(seconds=7)


def test_permanent_session_lifetime_int_sets_cookie_expiry(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = 3600

    @app.route("/")
    def index() -> str:
        erlen.session.permanent = True
        erlen.session["a"] = 1
        return ""

    before = datetime.now(timezone.utc)
    client.get("/")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    expires_in = (cookie.expires - before).total_seconds()
    assert 3590 <= expires_in <= 3610


def test_config_attribute_descriptor_on_class() -> None:
    assert isinstance(erlen.Erlen.testing, ConfigAttribute)


def test_custom_config_attribute() -> None:
    class MyApp(erlen.Erlen):
        page_size = ConfigAttribute[int]("PAGE_SIZE", get_converter=int)

    app = MyApp(__name__)
    app.config["PAGE_SIZE"] = "20"
    assert app.page_size == 20
    app.page_size = 5
    assert app.config["PAGE_SIZE"] == 5


def test_debug_property(app: erlen.Erlen) -> None:
    assert app.debug is False
    app.debug = True
    assert app.config["DEBUG"] is True
    assert app.debug is True
    app.config["DEBUG"] = False
    assert app.debug is False


def test_debug_setter_updates_template_auto_reload(app: erlen.Erlen) -> None:
    assert app.jinja_env.auto_reload is False
    app.debug = True
    assert app.jinja_env.auto_reload is True
    app.debug = False
    assert app.jinja_env.auto_reload is False


def test_debug_setter_keeps_explicit_auto_reload(app: erlen.Erlen) -> None:
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    assert app.jinja_env.auto_reload is False
    app.debug = True
    assert app.jinja_env.auto_reload is False


def test_templates_auto_reload_follows_debug_at_creation() -> None:
    app = erlen.Erlen(__name__)
    app.debug = True
    assert app.jinja_env.auto_reload is True
    app = erlen.Erlen(__name__)
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    assert app.jinja_env.auto_reload is True


def test_config_in_templates(app: erlen.Erlen) -> None:
    app.config["SITE_NAME"] = "Erlen"
    with app.app_context():
        assert erlen.render_template_string("{{ config.SITE_NAME }}") == "Erlen"


def test_current_app_config(app: erlen.Erlen) -> None:
    app.config["A_SETTING"] = 1
    with app.app_context():
        assert erlen.current_app.config["A_SETTING"] == 1


def test_from_prefixed_env_nested_after_whole_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERLEN_DB", '{"HOST": "a", "PORT": 1}')
    monkeypatch.setenv("ERLEN_DB__PORT", "2")
    config = Config(os.getcwd())
    config.from_prefixed_env()
    assert config["DB"] == {"HOST": "a", "PORT": 2}


def test_from_object_import_string_with_attribute(app: erlen.Erlen) -> None:
    app.config.from_object(f"{__name__}:ImportableSettings")
    assert app.config["IMPORTED"] == "yes"
    app.config.from_object(f"{__name__}.ImportableSettings")
    assert app.config["IMPORTED"] == "yes"


class ImportableSettings:
    IMPORTED = "yes"
