from __future__ import annotations

from erlen import Erlen

app1 = Erlen("app1")
app2 = Erlen("app2")
