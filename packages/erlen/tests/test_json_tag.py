"""Tagged JSON: the format of the session cookie."""

from __future__ import annotations

import json
import typing as t
from collections import OrderedDict
from datetime import datetime
from datetime import timezone
from uuid import UUID

import pytest
from markupsafe import Markup

import erlen
from erlen.json.tag import JSONTag
from erlen.json.tag import PassDict
from erlen.json.tag import TagDict
from erlen.json.tag import TaggedJSONSerializer
from erlen.json.tag import TagTuple


@pytest.fixture
def s() -> TaggedJSONSerializer:
    return TaggedJSONSerializer()


@pytest.mark.parametrize(
    "value",
    [
        {" t": (1, 2, 3)},
        {" t__": b"a"},
        {" di": " di"},
        {"x": (1, 2, 3), "y": 4},
        (1, 2, 3),
        [(1, 2, 3)],
        b"\xff\x00binary",
        Markup("<p>&amp;</p>"),
        UUID("6f1b0c3a-4d1b-4c3b-9a3e-1b2c3d4e5f60"),
        datetime(2021, 6, 1, 12, 30, 15, tzinfo=timezone.utc),
        {"nested": [{"deep": (b"x", [UUID(int=7)])}]},
        "plain",
        12,
        1.5,
        True,
        None,
        [],
        {},
        ("only",),
        {"a": {" t": [1]}},
    ],
)
def test_round_trip(s: TaggedJSONSerializer, value: t.Any) -> None:
    text = s.dumps(value)
    assert s.loads(text) == value
    assert type(s.loads(text)) is type(value)


def test_wire_format(s: TaggedJSONSerializer) -> None:
    assert s.dumps((1, "a")) == '{" t":[1,"a"]}'
    assert s.dumps(b"hi") == '{" b":"aGk="}'
    assert s.dumps(Markup("<b>")) == '{" m":"<b>"}'
    assert s.dumps(UUID(int=255)) == '{" u":"000000000000000000000000000000ff"}'
    assert s.dumps(datetime(2000, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == (
        '{" d":"Sun, 02 Jan 2000 03:04:05 GMT"}'
    )
    assert s.dumps({" t": 1}) == '{" di":{" t__":1}}'
    assert s.dumps({"b": 1, "a": [2]}) == '{"b":1,"a":[2]}'


def test_dumps_is_compact_ascii(s: TaggedJSONSerializer) -> None:
    assert s.dumps({"k": "é", "l": [1, 2]}) == '{"k":"\\u00e9","l":[1,2]}'


def test_markup_from_html_objects(s: TaggedJSONSerializer) -> None:
    class Widget:
        def __html__(self) -> str:
            return "<i>w</i>"

    rv = s.loads(s.dumps(Widget()))
    assert rv == Markup("<i>w</i>")
    assert isinstance(rv, Markup)


def test_datetime_reads_back_as_utc_to_the_second(s: TaggedJSONSerializer) -> None:
    naive = datetime(2022, 3, 4, 5, 6, 7, 891011)
    assert s.loads(s.dumps(naive)) == datetime(2022, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def test_loads_accepts_bytes_and_leaves_unknown_objects(
    s: TaggedJSONSerializer,
) -> None:
    assert s.loads(b'{" x":1}') == {" x": 1}
    assert s.loads('{" t":[1],"other":2}') == {" t": [1], "other": 2}


def test_loads_rejects_malformed_json(s: TaggedJSONSerializer) -> None:
    with pytest.raises(ValueError):
        s.loads("{not json")


def test_untag_directly(s: TaggedJSONSerializer) -> None:
    assert s.untag({" t": [1]}) == (1,)
    assert s.untag({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert s.untag({"nope": 1}) == {"nope": 1}


def test_tag_leaves_unknown_values(s: TaggedJSONSerializer) -> None:
    marker = object()
    assert s.tag(marker) is marker
    with pytest.raises(TypeError):
        s.dumps(marker)


class TagOrderedDict(JSONTag):
    __slots__ = ()
    key = " od"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, OrderedDict)

    def to_json(self, value: t.Any) -> t.Any:
        return [[k, self.serializer.tag(v)] for k, v in value.items()]

    def to_python(self, value: t.Any) -> t.Any:
        return OrderedDict(value)


def test_register_custom_tag_first(s: TaggedJSONSerializer) -> None:
    s.register(TagOrderedDict, index=0)
    value = OrderedDict([("b", (1,)), ("a", 2)])
    text = s.dumps(value)
    assert json.loads(text) == {" od": [["b", {" t": [1]}], ["a", 2]]}
    rv = s.loads(text)
    assert rv == value
    assert isinstance(rv, OrderedDict)
    assert list(rv) == ["b", "a"]


def test_register_custom_tag_last_is_shadowed_by_dict(
    s: TaggedJSONSerializer,
) -> None:
    s.register(TagOrderedDict)
    assert s.order[-1].key == " od"
    assert s.dumps(OrderedDict(a=1)) == '{"a":1}'


def test_register_duplicate_key(s: TaggedJSONSerializer) -> None:
    with pytest.raises(KeyError, match="' t' is already registered.*force=True"):
        s.register(TagTuple)


def test_register_force_replaces_in_place(s: TaggedJSONSerializer) -> None:
    class ListyTuple(TagTuple):
        __slots__ = ()

        def to_python(self, value: t.Any) -> t.Any:
            return ("replaced", *value)

    position = [tag.key for tag in s.order].index(" t")
    s.register(ListyTuple, force=True)
    assert isinstance(s.tags[" t"], ListyTuple)
    assert isinstance(s.order[position], ListyTuple)
    assert sum(isinstance(tag, TagTuple) for tag in s.order) == 1
    assert s.loads(s.dumps((1,))) == ("replaced", 1)


def test_register_force_with_index(s: TaggedJSONSerializer) -> None:
    class FirstTuple(TagTuple):
        __slots__ = ()

    s.register(FirstTuple, force=True, index=0)
    assert isinstance(s.order[0], FirstTuple)
    assert sum(isinstance(tag, TagTuple) for tag in s.order) == 1


def test_custom_tag_can_claim_plain_values(s: TaggedJSONSerializer) -> None:
    class TagUpper(JSONTag):
        __slots__ = ()
        key = " up"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: t.Any) -> t.Any:
            return value.lower()

        def to_python(self, value: t.Any) -> t.Any:
            return value.upper()

    s.register(TagUpper, index=0)
    assert s.dumps(["ABC", "abc"]) == '[{" up":"abc"},"abc"]'
    assert s.loads('[{" up":"abc"},"abc"]') == ["ABC", "abc"]


def test_registries_are_per_instance() -> None:
    one = TaggedJSONSerializer()
    two = TaggedJSONSerializer()
    one.register(TagOrderedDict)
    assert " od" in one.tags
    assert " od" not in two.tags


def test_keyless_tag_registers_without_key(s: TaggedJSONSerializer) -> None:
    count = len(s.tags)
    s.register(PassDict, index=0)
    assert len(s.tags) == count
    assert isinstance(s.order[0], PassDict)


def test_base_tag_is_abstract(s: TaggedJSONSerializer) -> None:
    tag = JSONTag(s)
    for method in (tag.check, tag.to_json, tag.to_python):
        with pytest.raises(NotImplementedError):
            method(1)


def test_tag_dict_only_escapes_single_tag_keys(s: TaggedJSONSerializer) -> None:
    tag = TagDict(s)
    assert tag.check({" t": 1})
    assert not tag.check({" t": 1, "x": 2})
    assert not tag.check({"t": 1})
    assert not tag.check([" t"])


def test_uses_app_json_inside_app_context(s: TaggedJSONSerializer) -> None:
    app = erlen.Erlen(__name__)
    app.json.sort_keys = False
    with app.app_context():
        assert s.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'
        app.json.sort_keys = True
        assert s.dumps({"b": 1, "a": 2}) == '{"a":2,"b":1}'
