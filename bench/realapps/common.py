"""The TechEmpower test types, their data and the checks every stack's answers pass.

Rules followed (TechEmpower Framework Benchmarks, "test types"): ``/json`` builds
a new ``{"message": "Hello, World!"}`` per request; ``/db`` reads one random
``World`` row (ids 1..10,000); ``/queries?queries=N`` reads N random rows one
query each, N clamped to 1..500 (not a number: 1); ``/fortunes`` reads all 12
``Fortune`` rows, adds one at request time, sorts by message and renders an
HTML table with escaping; ``/updates?queries=N`` reads N random rows one query
each, gives each a new random number and writes them; ``/plaintext`` answers
``Hello, World!``.
"""

from __future__ import annotations

import json
import random
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa

WORLD_ROWS = 10_000
HELLO = "Hello, World!"
ADDED_FORTUNE = "Additional fortune added at request time."
#: The 12 rows of the standard ``Fortune`` table.
FORTUNES: tuple[str, ...] = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal points, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
)
TEMPLATE = "fortunes.html"

# The schema, in lower case as TechEmpower's PostgreSQL setup creates it.
metadata = sa.MetaData()
world = sa.Table(
    "world",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("randomnumber", sa.Integer, nullable=False),
)
fortune = sa.Table(
    "fortune",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("message", sa.String(2048), nullable=False),
)

#: Core statements shared by the Core stacks (bound parameters, cached compiled).
SELECT_WORLD = sa.select(world.c.id, world.c.randomnumber).where(
    world.c.id == sa.bindparam("id")
)
UPDATE_WORLD = (
    sa.update(world)
    .where(world.c.id == sa.bindparam("wid"))
    .values(randomnumber=sa.bindparam("rn"))
)
SELECT_FORTUNES = sa.select(fortune.c.id, fortune.c.message)
#: The same as plain SQL for asyncpg.
SQL_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
SQL_UPDATE = "UPDATE world SET randomnumber = $2 WHERE id = $1"
SQL_FORTUNES = "SELECT id, message FROM fortune"


def random_id() -> int:
    """A random ``World`` id."""
    return random.randint(1, WORLD_ROWS)


def query_count(value: str | None) -> int:
    """The ``queries`` parameter as the rules read it: 1..500, 1 when not a number."""
    try:
        count = int(value or 1)
    except ValueError:
        return 1
    return min(max(count, 1), 500)


def world_dict(row: t.Any) -> dict[str, int]:
    """``{"id": ..., "randomNumber": ...}`` from a row or model with those values."""
    return {"id": row[0], "randomNumber": row[1]}


def sorted_fortunes(rows: t.Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """The rows plus the one added at request time, sorted by message."""
    result = [(r[0], r[1]) for r in rows]
    result.append((0, ADDED_FORTUNE))
    result.sort(key=lambda r: r[1])
    return result


def seed(url: str, rows: int = WORLD_ROWS) -> None:
    """Create and fill the ``world`` and ``fortune`` tables (drop them first)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    rng = random.Random(18)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            metadata.create_all(conn)
            conn.execute(
                world.insert(),
                [
                    {"id": i, "randomnumber": rng.randint(1, WORLD_ROWS)}
                    for i in range(1, rows + 1)
                ],
            )
            conn.execute(
                fortune.insert(),
                [{"id": i, "message": m} for i, m in enumerate(FORTUNES, 1)],
            )
    finally:
        engine.dispose()


@dataclass(frozen=True)
class TestType:
    """One measured request: its path and what a correct answer looks like.

    :param name: the column name in the report.
    :param title: the TechEmpower test type it is.
    """

    name: str
    title: str
    path: str
    content_type: str
    database: bool

    def check(
        self, status: int, headers: t.Iterable[tuple[str, str]], body: bytes
    ) -> str | None:
        """Return what is wrong with an answer, or ``None`` when it is right."""
        if status != 200:
            return f"status {status}, expected 200: {body[:200]!r}"
        types = [v for k, v in headers if k.lower() == "content-type"]
        if not types or not types[0].replace(" ", "").lower().startswith(
            self.content_type
        ):
            return f"content type {types}, expected {self.content_type}"
        try:
            return _CHECKS[self.name.rstrip("0123456789")](self, body)
        except (ValueError, KeyError, TypeError) as e:
            return f"{type(e).__name__}: {e}: {body[:200]!r}"

    @property
    def count(self) -> int:
        """The ``queries`` parameter of the path (1 when it has none)."""
        return query_count(self.path.partition("queries=")[2] or None)


def _world_ok(item: t.Any) -> str | None:
    if not isinstance(item, dict) or set(item) != {"id", "randomNumber"}:
        return f"not a World object: {item!r}"
    if not 1 <= item["id"] <= WORLD_ROWS or not 1 <= item["randomNumber"] <= WORLD_ROWS:
        return f"values out of range: {item!r}"
    return None


def _check_json(test: TestType, body: bytes) -> str | None:
    return None if json.loads(body) == {"message": HELLO} else f"body {body!r}"


def _check_plaintext(test: TestType, body: bytes) -> str | None:
    return None if body == HELLO.encode() else f"body {body!r}"


def _check_db(test: TestType, body: bytes) -> str | None:
    return _world_ok(json.loads(body))


def _check_list(test: TestType, body: bytes) -> str | None:
    items = json.loads(body)
    if not isinstance(items, list) or len(items) != test.count:
        return f"expected a list of {test.count} World objects"
    for item in items:
        problem = _world_ok(item)
        if problem is not None:
            return problem
    return None


def _check_fortunes(test: TestType, body: bytes) -> str | None:
    text = body.decode("utf-8")
    if text.count("<tr>") != len(FORTUNES) + 2:
        return f"expected {len(FORTUNES) + 1} rows and the header"
    for needed in (
        "&lt;script&gt;alert(&#34;This should not be displayed",
        ADDED_FORTUNE,
        "フレームワークのベンチマーク",
    ):
        if needed not in text and needed.replace("&#34;", "&quot;") not in text:
            return f"{needed!r} is missing (escaping or encoding)"
    if text.index("<td>11</td>") > text.index("<td>0</td>"):
        return "rows are not sorted by message"
    return None


_CHECKS: dict[str, t.Callable[[TestType, bytes], str | None]] = {
    "json": _check_json,
    "plaintext": _check_plaintext,
    "db": _check_db,
    "queries": _check_list,
    "updates": _check_list,
    "fortunes": _check_fortunes,
}

TEST_TYPES: tuple[TestType, ...] = (
    TestType("json", "JSON serialization", "/json", "application/json", False),
    TestType("db", "single query", "/db", "application/json", True),
    TestType(
        "queries1",
        "multiple queries, 1",
        "/queries?queries=1",
        "application/json",
        True,
    ),
    TestType(
        "queries20",
        "multiple queries, 20",
        "/queries?queries=20",
        "application/json",
        True,
    ),
    TestType("fortunes", "fortunes", "/fortunes", "text/html", True),
    TestType(
        "updates20", "updates, 20", "/updates?queries=20", "application/json", True
    ),
    TestType("plaintext", "plaintext", "/plaintext", "text/plain", False),
)
TEST_TYPES_BY_NAME = {test.name: test for test in TEST_TYPES}
