from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_typed_models_pass_mypy_strict() -> None:
    pytest.importorskip("mypy")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            str(HERE / "type_check"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_typed_models_run() -> None:
    sys.path.insert(0, str(HERE / "type_check"))
    try:
        import typed_models as m
    finally:
        sys.path.pop(0)
    app = m.create_app()
    with app.app_context():
        m.db.create_all()
        user = m.add_user("ada")
        assert m.find(user.id) == "ada"
        assert m.names() == ["ada"]
        assert [u.name for u in m.page()] == ["ada"]
    app.extensions["sqlalchemy"].engines[None].dispose()
