"""Run the code blocks of the guides that form a complete app, so docs cannot drift.

A guide marks a fenced block with an HTML comment on the line before it
(invisible on GitHub and in the built docs)::

    <!-- docs-test: file=hello.py -->      write the block to hello.py
    <!-- docs-test: append=hello.py -->    append the block to hello.py
    <!-- docs-test: run=hello.py -->       write it, then run ``python hello.py``
    <!-- docs-test: pytest=test_x.py -->   write it, then run pytest on it
    <!-- docs-test: append+pytest=t.py --> append it, then run pytest on the file

Each page gets its own empty folder; its marked blocks are handled in order
there, with that folder on ``sys.path``, so a test block can import the app a
previous block saved. ``nox -s docs`` runs this file; by hand:
``pytest docs/test_docs_code.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parent
MARKER = re.compile(
    r"<!--\s*docs-test:\s*(file|append|run|pytest|append\+pytest)=(\S+)\s*-->"
)
FENCE = re.compile(r"^(`{3,}|~{3,})")


def marked_blocks(text: str) -> list[tuple[str, str, str]]:
    """``(action, file name, code)`` for every marked block of a page, in order."""
    lines = text.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        match = MARKER.fullmatch(line.strip())
        if match is None:
            continue
        fence = FENCE.match(lines[index + 1]) if index + 1 < len(lines) else None
        if fence is None:
            raise AssertionError(
                f"line {index + 1}: a docs-test marker must be followed by a code block"
            )
        end = index + 2
        while not lines[end].startswith(fence.group(1)):
            end += 1
        blocks.append(
            (match.group(1), match.group(2), "\n".join(lines[index + 2 : end]) + "\n")
        )
    return blocks


PAGES = sorted(p for p in DOCS.glob("*.md") if marked_blocks(p.read_text("utf-8")))


def test_pages_are_marked() -> None:
    """The check must not pass by finding nothing."""
    assert {p.name for p in PAGES} >= {"quickstart.md", "extensions.md"}


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("ERLEN_APP", None)
    ran = 0
    for action, name, code in marked_blocks(page.read_text("utf-8")):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if action.startswith("append"):
            assert target.exists(), (
                f"{page.name}: append to {name} before it is written"
            )
            code = target.read_text("utf-8") + "\n\n" + code
        target.write_text(code, "utf-8")
        if action != "file" and action != "append":
            command = (
                [sys.executable, name]
                if action == "run"
                else [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    name,
                ]
            )
            result = subprocess.run(
                command,
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, (
                f"{page.name}: {' '.join(command[1:])} failed\n{result.stdout}\n{result.stderr}"
            )
            ran += 1
    assert ran, f"{page.name} has marked blocks but none is run"
