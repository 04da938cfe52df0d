"""Behaviour that depends on the database: run on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import collections.abc as cabc
import datetime
import threading
import typing as t
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.exceptions import NotFound

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.testing import isolate

db = SQLAlchemy()


class Post(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    created: Mapped[datetime.datetime]


class Scored(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    score: Mapped[int | None]


class Item(db.Model):
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


@pytest.fixture
def real_app(database_url: str, tmp_path: Path) -> cabc.Iterator[Erlen]:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="k")
    db.init_app(app)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _add_posts(n: int) -> list[Post]:
    start = datetime.datetime(2026, 1, 1)
    posts = [
        Post(title=f"p{i}", created=start + datetime.timedelta(hours=i // 2))
        for i in range(n)
    ]
    db.session.add_all(posts)
    db.session.commit()
    return posts


def test_crud(real_app: Erlen) -> None:
    with real_app.app_context():
        (post,) = _add_posts(1)
        post.title = "changed"
        db.session.commit()
        post_id = post.id
    with real_app.app_context():
        loaded = db.get_or_404(Post, post_id)
        assert loaded.title == "changed"
        # Out of range for PostgreSQL's integer: a 404, and the transaction
        # is not aborted by a failed query.
        with pytest.raises(NotFound):
            db.get_or_404(Post, 2**31)
        db.session.delete(loaded)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(Post.id))) == 0


def test_get_or_404_converts_url_idents(real_app: Erlen) -> None:
    with real_app.app_context():
        (post,) = _add_posts(1)
        item = Item()
        db.session.add(item)
        db.session.commit()
        post_id, item_id = post.id, item.id

    @real_app.get("/post/<ident>")
    def post_view(ident: str) -> t.Any:
        return {"title": db.get_or_404(Post, ident).title}

    @real_app.get("/postq/<ident>")
    def post_query_view(ident: str) -> t.Any:
        return {"title": Post.query.get_or_404(ident).title}

    @real_app.get("/item/<ident>")
    def item_view(ident: str) -> t.Any:
        return {"id": str(db.get_or_404(Item, ident).id)}

    client = real_app.test_client()
    for prefix in ("/post/", "/postq/"):
        assert client.get(f"{prefix}{post_id}").json == {"title": "p0"}
        for bad in ("abc", "1.5", "0x10", "%C2%B9", "99999999999999999999", "-"):
            assert client.get(prefix + bad).status_code == 404, (prefix, bad)
    assert client.get(f"/item/{item_id}").json == {"id": str(item_id)}
    assert client.get(f"/item/{item_id.hex.upper()}").json == {"id": str(item_id)}
    assert client.get("/item/abc").status_code == 404
    assert client.get(f"/item/{uuid.uuid4()}").status_code == 404
    with real_app.app_context():
        for entity, bad in ((Post, "abc"), (Post, "1.5"), (Item, "not-a-uuid")):
            with pytest.raises(NotFound):
                db.get_or_404(entity, bad)
        # No failed query: the session (and its transaction) is still usable.
        assert db.get_or_404(Post, str(post_id)).title == "p0"
        assert db.get_or_404(Item, str(item_id)).id == item_id
        assert db.get_or_404(Item, item_id).id == item_id
        assert db.session.scalar(sa.select(sa.func.count(Item.id))) == 1


def test_offset_pagination(real_app: Erlen) -> None:
    with real_app.app_context():
        _add_posts(45)
        page = db.paginate(sa.select(Post).order_by(Post.id), page=3, per_page=20)
        assert page.total == 45 and page.pages == 3
        assert [p.title for p in page] == ["p40", "p41", "p42", "p43", "p44"]


def test_keyset_pagination_walk(real_app: Erlen) -> None:
    with real_app.app_context():
        _add_posts(25)

    @real_app.get("/posts")
    def posts() -> t.Any:
        page = db.keyset_paginate(
            sa.select(Post), order_by=[Post.created.desc(), Post.id.desc()]
        )
        return {
            "titles": [p.title for p in page],
            "next": page.next_cursor,
            "prev": page.prev_cursor,
        }

    client = real_app.test_client()
    seen: list[str] = []
    pages: list[dict[str, t.Any]] = []
    url = "/posts?per_page=10"
    for _ in range(5):
        data = client.get(url).json
        pages.append(data)
        seen.extend(data["titles"])
        if data["next"] is None:
            break
        url = f"/posts?per_page=10&cursor={data['next']}"
    expected = sorted(
        (f"p{i}" for i in range(25)), key=lambda s: (-(int(s[1:]) // 2), -int(s[1:]))
    )
    assert seen == expected
    assert [len(p["titles"]) for p in pages] == [10, 10, 5]
    assert pages[0]["prev"] is None
    back = client.get(f"/posts?per_page=10&cursor={pages[2]['prev']}").json
    assert back["titles"] == pages[1]["titles"]
    first = client.get(f"/posts?per_page=10&cursor={back['prev']}").json
    assert first["titles"] == pages[0]["titles"]
    assert first["prev"] is None


# (order_by, expected order as a Python sort key over (score, id)); NULLs
# sort last unless nulls_first() says otherwise, on every database.
_NULL_ORDERS: dict[str, tuple[t.Any, t.Any]] = {
    "asc": (
        lambda: [Scored.score, Scored.id],
        lambda r: (r[0] is None, r[0] or 0, r[1]),
    ),
    "desc": (
        lambda: [Scored.score.desc(), Scored.id.desc()],
        lambda r: (r[0] is None, -(r[0] or 0), -r[1]),
    ),
    "desc-nulls-first": (
        lambda: [Scored.score.desc().nulls_first(), Scored.id],
        lambda r: (r[0] is not None, -(r[0] or 0), r[1]),
    ),
    "asc-nulls-first": (
        lambda: [Scored.score.nulls_first(), Scored.id.desc()],
        lambda r: (r[0] is not None, r[0] or 0, -r[1]),
    ),
    "desc-nulls-last": (
        lambda: [sa.nulls_last(Scored.score.desc()), Scored.id.asc()],
        lambda r: (r[0] is None, -(r[0] or 0), r[1]),
    ),
}


@pytest.mark.parametrize("order", list(_NULL_ORDERS))
def test_keyset_walk_with_nulls(real_app: Erlen, order: str) -> None:
    order_by, sort_key = _NULL_ORDERS[order]
    scores = [None, 2, 1, None, 2, 0, None, 1, 2, 0, None, None, 1, 3]
    with real_app.app_context():
        db.session.add_all(Scored(id=i + 1, score=s) for i, s in enumerate(scores))
        db.session.commit()

    @real_app.get("/scored")
    def scored() -> t.Any:
        page = db.keyset_paginate(sa.select(Scored), order_by=order_by())
        return {
            "ids": [s.id for s in page],
            "next": page.next_cursor,
            "prev": page.prev_cursor,
        }

    expected = [
        i for _, i in sorted(((s, i + 1) for i, s in enumerate(scores)), key=sort_key)
    ]
    client = real_app.test_client()
    pages = [client.get("/scored?per_page=3").json]
    for _ in range(10):
        if pages[-1]["next"] is None:
            break
        pages.append(client.get(f"/scored?per_page=3&cursor={pages[-1]['next']}").json)
    assert [i for page in pages for i in page["ids"]] == expected
    assert [len(page["ids"]) for page in pages] == [3, 3, 3, 3, 2]
    back = pages[-1]
    for previous in reversed(pages[:-1]):
        back = client.get(f"/scored?per_page=3&cursor={back['prev']}").json
        assert back["ids"] == previous["ids"]
    assert back["prev"] is None


def test_isolation(real_app: Erlen) -> None:
    with real_app.app_context():
        _add_posts(1)

    @real_app.post("/posts")
    def create() -> t.Any:
        db.session.add(Post(title="via client", created=datetime.datetime(2026, 2, 1)))
        db.session.commit()
        return {"ok": True}

    with isolate(db, real_app):
        assert real_app.test_client().post("/posts").status_code == 200
        with real_app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(Post.id))) == 2
            _add_posts(3)
            with db.session.begin_nested():
                db.session.add(
                    Post(title="inner", created=datetime.datetime(2026, 3, 1))
                )
            nested = db.session.begin_nested()
            db.session.add(Post(title="dropped", created=datetime.datetime(2026, 3, 1)))
            nested.rollback()
            titles = db.session.scalars(sa.select(Post.title)).all()
            assert "inner" in titles and "dropped" not in titles
            assert len(titles) == 6
            db.session.rollback()  # back to the last commit, in _add_posts
            assert db.session.scalar(sa.select(sa.func.count(Post.id))) == 5
    with real_app.app_context():
        assert db.session.scalars(sa.select(Post.title)).all() == ["p0"]


def test_isolation_with_threads(real_app: Erlen) -> None:
    with real_app.app_context():
        _add_posts(1)

    @real_app.post("/posts/<title>")
    def create(title: str) -> t.Any:
        db.session.add(Post(title=title, created=datetime.datetime(2026, 2, 1)))
        db.session.flush()
        if title.endswith("-undo"):
            db.session.rollback()
            return {"undone": True}, 409
        db.session.commit()
        return {"count": db.session.scalar(sa.select(sa.func.count(Post.id)))}

    client = real_app.test_client()
    results: list[t.Any] = []

    def work(n: int) -> None:
        for title in (f"t{n}a", f"t{n}-undo", f"t{n}b"):
            try:
                results.append(client.post(f"/posts/{title}").status_code)
            except BaseException as e:  # pragma: no cover - reported below
                results.append(e)

    with isolate(db, real_app), real_app.app_context():
        assert client.post("/posts/before").status_code == 200
        # The test's own session has an open transaction while the threads run.
        assert db.session.scalar(sa.select(sa.func.count(Post.id))) == 2
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(map(str, results)) == sorted(["200", "409", "200"] * 4)
        db.session.commit()
        titles = set(db.session.scalars(sa.select(Post.title)))
        assert titles == {"p0", "before"} | {f"t{n}{x}" for n in range(4) for x in "ab"}
        assert client.post("/posts/after").status_code == 200
    with real_app.app_context():
        assert db.session.scalars(sa.select(Post.title)).all() == ["p0"]


def test_threads_use_their_own_session(real_app: Erlen) -> None:
    errors: list[BaseException] = []
    sessions: list[int] = []

    def work(n: int) -> None:
        try:
            with real_app.app_context():
                sessions.append(id(db.session()))
                db.session.add(
                    Post(title=f"t{n}", created=datetime.datetime(2026, 1, 1))
                )
                db.session.commit()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(set(sessions)) == 4
    with real_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Post.id))) == 4
