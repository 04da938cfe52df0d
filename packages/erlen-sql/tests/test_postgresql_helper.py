"""The throwaway PostgreSQL helpers in erlen_sql.testing and their pytest fixtures."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from erlen_sql.testing import postgresql_database
from erlen_sql.testing import postgresql_server
from erlen_sql.testing import PostgreSQLUnavailable

pytest_plugins = ["pytester"]


def _refuses_connections(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(5)
        return sock.connect_ex((host, port)) != 0


@pytest.mark.postgres
def test_server_starts_and_is_removed(postgresql_url: str) -> None:
    """A second server runs next to the session's and leaves nothing behind."""
    with postgresql_server(driver="psycopg") as server:
        assert server.host == "127.0.0.1"
        assert (
            server.url
            == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"
        )
        assert server.url != postgresql_url
        engine = sa.create_engine(server.url, poolclass=sa.NullPool)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SHOW listen_addresses")) == "127.0.0.1"
            assert conn.scalar(sa.text("SHOW server_encoding")) == "UTF8"
        assert server.directory.is_dir()
        assert "ready to accept connections" in server.log
    assert not server.directory.exists()
    assert _refuses_connections(server.host, server.port)


@pytest.mark.postgres
def test_url_names_the_driver(postgresql_url: str) -> None:
    with postgresql_server(driver="psycopg2") as server:
        assert server.url.startswith("postgresql+psycopg2://postgres@127.0.0.1:")
    assert not server.directory.exists()


@pytest.mark.postgres
def test_database_created_and_dropped(postgresql_url: str) -> None:
    """The database exists inside the block and is dropped even with open connections."""
    admin = sa.create_engine(postgresql_url, poolclass=sa.NullPool)

    def names() -> set[str]:
        with admin.connect() as conn:
            return set(conn.scalars(sa.text("SELECT datname FROM pg_database")))

    with postgresql_database(postgresql_url, name="Mixed Case") as url:
        assert sa.make_url(url).database == "Mixed Case"
        assert "Mixed Case" in names()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY)"))
        still_open = engine.connect()
        assert still_open.scalar(sa.text("SELECT count(*) FROM note")) == 0
    assert "Mixed Case" not in names()
    still_open.invalidate()
    engine.dispose()
    admin.dispose()


@pytest.mark.postgres
def test_database_fixture_is_empty_and_fresh(postgresql_database_url: str) -> None:
    engine = sa.create_engine(postgresql_database_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
        assert conn.scalar(sa.text("SELECT current_database()")).startswith("test_")
    engine.dispose()


def test_missing_programs(tmp_path: Path) -> None:
    with pytest.raises(PostgreSQLUnavailable, match="No 'initdb' and 'pg_ctl' in"):
        with postgresql_server(bindir=tmp_path):
            pass  # pragma: no cover
    assert not list(tmp_path.iterdir())


_NO_POSTGRESQL = """
    from pathlib import Path

    import pytest

    pytest_plugins = ["erlen_sql.pytest_plugin"]


    @pytest.fixture(scope="session", autouse=True)
    def _hide_postgresql(tmp_path_factory):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("erlen_sql.testing._DEBIAN_BINDIRS", Path("/nonexistent"))
            mp.setenv("PATH", str(tmp_path_factory.mktemp("empty")))
            yield
"""


@pytest.mark.parametrize(
    ("ci", "outcome", "message"),
    [
        (None, {"skipped": 1}, "SKIPPED *PostgreSQL server programs were not found*"),
        (
            "false",
            {"skipped": 1},
            "SKIPPED *PostgreSQL server programs were not found*",
        ),
        ("true", {"errors": 1}, "*CI=true: the PostgreSQL tests must run*"),
    ],
)
def test_fixture_without_postgresql(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    ci: str | None,
    outcome: dict[str, int],
    message: str,
) -> None:
    """Missing PostgreSQL skips the tests, except under CI=true where they fail."""
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(_NO_POSTGRESQL)
    pytester.makepyfile(
        """
        def test_uses_postgresql(postgresql_database_url):
            raise AssertionError("must not run")
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines([message])
