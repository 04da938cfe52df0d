from __future__ import annotations

from erlen import Erlen


def create_app() -> Erlen:
    return Erlen("app")


def create_app2(foo: str, bar: str) -> Erlen:
    return Erlen("_".join(["app2", foo, bar]))


def no_app() -> None:
    pass
