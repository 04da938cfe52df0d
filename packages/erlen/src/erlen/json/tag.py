"""Tagged JSON: a compact JSON format that round-trips a few non-JSON types.

The session cookie uses it. A value JSON cannot represent is written as an
object with one key, the tag (``" t"``, ``" b"``, ...), holding a JSON form of
the value; reading turns such objects back into the original type:

=========  ========  ======================================
Tag        Type      JSON form
=========  ========  ======================================
``" t"``   tuple     list of its (tagged) items
``" b"``   bytes     base64 string
``" m"``   Markup    the HTML string (any ``__html__`` object)
``" u"``   UUID      hex string
``" d"``   datetime  HTTP date string (second precision, UTC)
``" di"``  dict      escape for a one-key dict whose key is a tag
=========  ========  ======================================

Lists and dicts are walked so nested values are tagged too. Add a type by
subclassing :class:`JSONTag` and passing it to
:meth:`TaggedJSONSerializer.register`::

    class TagOrderedDict(JSONTag):
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)

    app.session_interface.serializer.register(TagOrderedDict, index=0)
"""

from __future__ import annotations

import json as _json
import typing as t
from base64 import b64decode
from base64 import b64encode
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date
from werkzeug.http import parse_date

from . import dumps as _dumps

__all__ = [
    "JSONTag",
    "PassDict",
    "PassList",
    "TagBytes",
    "TagDateTime",
    "TagDict",
    "TagMarkup",
    "TagTuple",
    "TagUUID",
    "TaggedJSONSerializer",
]


class JSONTag:
    """One type the :class:`TaggedJSONSerializer` knows how to write and read back.

    Subclasses set :attr:`key` and implement :meth:`check`, :meth:`to_json` and
    :meth:`to_python`. A tag with an empty key only transforms values on the
    way out (like :class:`PassDict`) and is never looked up when reading.

    :param serializer: the serializer the tag is registered with; use its
        :meth:`~TaggedJSONSerializer.tag` to tag nested values.
    """

    __slots__ = ("serializer",)

    #: The marker written as the single key of the tagged object.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """Convert ``value`` to something JSON can hold (before the tag is added)."""
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """Convert the JSON form back to the Python value."""
        raise NotImplementedError

    def tag(self, value: t.Any) -> t.Any:
        """Return ``value`` in its JSON form, wrapped as ``{key: form}``."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """Escape a one-key dict whose key is a registered tag, so it reads back as a dict.

    The key gets a ``"__"`` suffix inside a ``" di"`` object, which reading removes.
    """

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: t.Any) -> t.Any:
        ((key, item),) = value.items()
        return {f"{key}__": self.serializer.tag(item)}

    def to_python(self, value: t.Any) -> t.Any:
        ((key, item),) = value.items()
        return {key[:-2]: item}


class PassDict(JSONTag):
    """Write dicts as JSON objects with their values tagged."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return {k: tag(v) for k, v in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """Write tuples as tagged lists so they read back as tuples."""

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        return tuple(value)


class PassList(JSONTag):
    """Write lists as JSON arrays with their items tagged."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Write bytes as base64 text."""

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Write objects with an ``__html__`` method as their HTML; they read back as
    :class:`~markupsafe.Markup`."""

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        return Markup(value)


class TagUUID(JSONTag):
    """Write UUIDs as their 32-digit hex string."""

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: t.Any) -> t.Any:
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """Write datetimes as HTTP dates; they read back as aware UTC datetimes,
    truncated to the second."""

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        return parse_date(value)


_SCALARS = frozenset((str, int, float, bool, type(None)))


class TaggedJSONSerializer:
    """Serialize values to compact tagged JSON and back (see the module docs).

    Each instance has its own registry, so registering a tag on one serializer
    (for example ``app.session_interface.serializer``) does not affect another.
    """

    __slots__ = ("tags", "order", "_scalar_fast_path")

    #: The tag classes every new serializer registers, in checking order.
    default_tags: t.ClassVar[list[type[JSONTag]]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        self._scalar_fast_path = True
        for cls in self.default_tags:
            self.register(cls)

    def register(
        self,
        tag_class: type[JSONTag],
        force: bool = False,
        index: int | None = None,
    ) -> None:
        """Add a tag type to this serializer.

        :param tag_class: the :class:`JSONTag` subclass; it is instantiated with
            this serializer.
        :param force: replace a registered tag with the same key instead of
            raising ``KeyError``. The new tag takes the old one's place in the
            checking order unless ``index`` is given.
        :param index: where to insert the tag in the checking order; by default
            it is checked last. Use ``0`` to check it before the built-in tags.
        """
        tag = tag_class(self)
        key = tag.key
        position = index
        if key:
            old = self.tags.get(key)
            if old is not None:
                if not force:
                    raise KeyError(
                        f"A tag with the key {key!r} is already registered"
                        f" ({type(old).__name__}). Pass force=True to replace it."
                    )
                old_position = self.order.index(old)
                del self.order[old_position]
                if position is None:
                    position = old_position
            self.tags[key] = tag
        if position is None:
            self.order.append(tag)
        else:
            self.order.insert(position, tag)
        if tag_class not in _BUILTIN_TAGS:
            self._scalar_fast_path = False

    def tag(self, value: t.Any) -> t.Any:
        """Return ``value`` converted to JSON-compatible values, tagged where needed."""
        if self._scalar_fast_path and type(value) in _SCALARS:
            return value
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """Turn one tagged object back into its value; return other dicts unchanged.

        Nested values must already be untagged (:meth:`loads` works bottom-up).
        """
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def dumps(self, value: t.Any) -> str:
        """Return ``value`` as compact tagged JSON text."""
        return _dumps(self.tag(value), separators=(",", ":"))

    def loads(self, value: str | bytes) -> t.Any:
        """Parse tagged JSON text and restore the tagged values.

        Malformed JSON raises ``ValueError``; a well-formed object whose tag
        does not fit its content may raise other errors, so treat any exception
        as invalid input when the text comes from outside.
        """
        return _json.loads(value, object_hook=self.untag)


_BUILTIN_TAGS = frozenset(TaggedJSONSerializer.default_tags)
