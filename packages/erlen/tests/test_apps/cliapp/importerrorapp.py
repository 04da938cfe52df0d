from __future__ import annotations

from erlen import Erlen

raise ImportError("importerrorapp could not import its dependency")

testapp = Erlen("testapp")
