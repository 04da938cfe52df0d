"""Behaviour that depends on the database: run on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import collections.abc as cabc
import datetime
import threading
import typing as t
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
