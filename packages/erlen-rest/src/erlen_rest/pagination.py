"""Offset and cursor pagination with ``Link`` headers (RFC 8288).

:func:`paginate` pages a list, an erlen-sql query (anything with
``.paginate``) or a SQLAlchemy ``select`` when erlen-sql is registered on the
app (its ``db.paginate`` runs the ``LIMIT``/``COUNT``). :func:`cursor_paginate`
pages a sorted sequence with opaque cursors. Both read their arguments from
the query string and return a page whose :meth:`~Page.headers` carry the
``Link`` (and ``X-Total-Count``) headers.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc as cabc
import dataclasses
import json
import typing as t
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from erlen import current_app
from erlen import request
from erlen import url_for

from .errors import abort

__all__ = ["CursorPage", "Page", "cursor_paginate", "paginate"]


def _page_url(**changes: t.Any) -> str:
    """The current URL with ``changes`` in its query string.

    The client's query arguments are copied into the query string, never
    passed to ``url_for`` as keywords (``?_external=1`` or ``?_anchor=x``
    would reach its options); repeated arguments stay repeated.
    """
    args = MultiDict(request.args)
    for key, value in changes.items():
        args.setlist(key, [str(value)])
    assert request.endpoint is not None
    path = url_for(request.endpoint, **(request.view_args or {}))
    query = urlencode(list(args.items(multi=True)))
    return f"{path}?{query}" if query else path


def _link(rels: dict[str, str]) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in rels.items())


def _positive_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        abort(400, f"The {name!r} query argument must be a positive integer.")
    return int(raw)


@dataclasses.dataclass
class Page:
    """One page of results (offset pagination)."""

    items: list[t.Any]
    page: int
    per_page: int
    total: int | None

    @property
    def pages(self) -> int | None:
        """The number of pages (``None`` when the total is unknown)."""
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        """Whether a next page exists."""
        pages = self.pages
        return (
            pages is None
            and len(self.items) == self.per_page
            or (pages is not None and self.page < pages)
        )

    def links(self) -> dict[str, str]:
        """The ``first``/``prev``/``next``/``last`` URLs, by relation."""
        rels = {"first": _page_url(page=1, per_page=self.per_page)}
        if self.page > 1:
            rels["prev"] = _page_url(page=self.page - 1, per_page=self.per_page)
        if self.has_next:
            rels["next"] = _page_url(page=self.page + 1, per_page=self.per_page)
        if self.pages is not None:
            rels["last"] = _page_url(page=self.pages, per_page=self.per_page)
        return rels

    def headers(self) -> dict[str, str]:
        """``Link`` and ``X-Total-Count`` headers for the response."""
        headers = {"Link": _link(self.links())}
        if self.total is not None:
            headers["X-Total-Count"] = str(self.total)
        return headers


def paginate(
    source: t.Any,
    *,
    page: int | None = None,
    per_page: int | None = None,
    max_per_page: int = 100,
    default_per_page: int = 20,
) -> Page:
    """Return one page of ``source``; ``page``/``per_page`` default to the query string.

    Bad values are a 400 with a message, never a 500; ``per_page`` is capped at ``max_per_page``.
    """
    page = page or _positive_int("page", 1)
    per_page = min(
        per_page or _positive_int("per_page", default_per_page), max_per_page
    )
    if hasattr(source, "paginate"):
        result = source.paginate(
            page=page, per_page=per_page, max_per_page=max_per_page, error_out=False
        )
        return Page(list(result.items), page, per_page, result.total)
    if not isinstance(source, cabc.Sequence):
        state = current_app.extensions.get("sqlalchemy")
        if state is None:
            raise TypeError(
                "paginate() takes a sequence, an object with .paginate(), or a"
                " SQLAlchemy select when erlen-sql is registered on the app."
            )
        result = state.db.paginate(
            source,
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=False,
        )
        return Page(list(result.items), page, per_page, result.total)
    start = (page - 1) * per_page
    return Page(list(source[start : start + per_page]), page, per_page, len(source))


@dataclasses.dataclass
class CursorPage:
    """One page of results (cursor pagination)."""

    items: list[t.Any]
    next_cursor: str | None
    limit: int

    def headers(self) -> dict[str, str]:
        """A ``Link`` header with ``rel="next"`` when there is more."""
        if self.next_cursor is None:
            return {}
        return {
            "Link": _link(
                {"next": _page_url(cursor=self.next_cursor, limit=self.limit)}
            )
        }


def encode_cursor(value: t.Any) -> str:
    """Make an opaque cursor from a JSON-able key."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> t.Any:
    """Read a cursor made by :func:`encode_cursor`; a bad one is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(
            base64.urlsafe_b64decode(padded.encode()),
            parse_constant=_reject_constant,
        )
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        abort(400, "The 'cursor' query argument is not a valid cursor.")


def _reject_constant(name: str) -> t.NoReturn:
    """``NaN`` and ``Infinity`` are not JSON, and never in a cursor we made."""
    raise ValueError(f"{name} is not valid JSON")


def cursor_paginate(
    items: cabc.Iterable[t.Any],
    key: t.Callable[[t.Any], t.Any],
    *,
    limit: int | None = None,
    max_limit: int = 100,
    default_limit: int = 20,
) -> CursorPage:
    """Return the items after ``?cursor=`` (by ``key``, ascending), at most ``?limit=`` of them."""
    limit = min(limit or _positive_int("limit", default_limit), max_limit)
    raw = request.args.get("cursor")
    after = decode_cursor(raw) if raw else None
    selected: list[t.Any] = []
    more = False
    for item in items:
        item_key = key(item)
        if after is not None:
            try:
                if not item_key > after:
                    continue
            except TypeError:
                abort(400, "The 'cursor' query argument does not fit this collection.")
        if len(selected) == limit:
            more = True
            break
        selected.append(item)
    next_cursor = encode_cursor(key(selected[-1])) if more and selected else None
    return CursorPage(selected, next_cursor, limit)
