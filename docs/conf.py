"""Sphinx configuration for the erlen documentation (guides in Markdown via MyST)."""

from __future__ import annotations

import importlib.metadata
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from sphinx.application import Sphinx

project = "erlen"
author = "The erlen developers"
copyright = "the erlen developers"

try:
    release = importlib.metadata.version("erlen")
except importlib.metadata.PackageNotFoundError:
    release = "dev"
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "requirements.txt", ".*"]

# MyST: fenced directives with ::: and definition lists; anchors for ## and ###
# headings so guides can link to sections as [text](page.md#anchor).
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Autodoc: the code is fully typed with postponed annotations; signatures stay
# readable without the types, and docstrings say what a caller must know.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
nitpicky = False


html_theme = "furo"
html_title = f"erlen {version}"
html_theme_options = {
    "navigation_with_keys": True,
}
pygments_style = "friendly"
pygments_dark_style = "monokai"


# The guides of the official extensions (sql.md, login.md, ...) are written by
# each package's authors. index.md has a marker where the ones that exist are
# listed, so a package whose guide is not written yet does not break the build
# (a toctree entry or glob that matches no file is a warning, and warnings are
# errors here).
DOCS = Path(__file__).parent
EXTENSION_GUIDES = ("sql", "migrate", "login", "forms", "rest", "socketio")
EXTENSION_MARKER = (
    "<!-- official-extension-guides: conf.py lists here the guides that exist -->"
)


def _extension_toctree() -> str:
    present = [name for name in EXTENSION_GUIDES if (DOCS / f"{name}.md").is_file()]
    if not present:
        return ""
    entries = "\n".join(present)
    return (
        "```{toctree}\n:caption: Official extensions\n:maxdepth: 2\n\n"
        f"{entries}\n```\n"
    )


def _fill_extension_guides(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname == root_doc:
        source[0] = source[0].replace(EXTENSION_MARKER, _extension_toctree())


def _reread_root(
    app: Sphinx, env: t.Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Re-read index.md on every build, so a guide added since the last one is listed."""
    return [root_doc]


def setup(app: Sphinx) -> None:
    app.connect("source-read", _fill_extension_guides)
    app.connect("env-get-outdated", _reread_root)
