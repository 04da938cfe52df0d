from __future__ import annotations

from erlen import Erlen

testapp = Erlen("testapp")
