"""The TechEmpower views written once against the Flask API, for Flask and erlen.

:func:`build_orm` uses the extension's ``db.session`` and models (Flask-SQLAlchemy
or erlen-sql, whose APIs match); :func:`build_core` runs the shared Core
statements on an engine's connections. Only the modules passed in differ, so a
difference between two stacks is the framework's and the extension's alone.
"""

from __future__ import annotations

import os
import typing as t

import sqlalchemy as sa

from realapps import common

_HERE = os.path.dirname(os.path.abspath(__file__))


def _app(framework: t.Any, app_class: t.Any) -> t.Any:
    app = app_class(__name__, root_path=_HERE, template_folder="templates")
    request = framework.request

    def json_view() -> t.Any:
        return framework.jsonify(message=common.HELLO)

    def plaintext() -> t.Any:
        return common.HELLO, 200, {"Content-Type": "text/plain"}

    app.add_url_rule("/json", "json", json_view)
    app.add_url_rule("/plaintext", "plaintext", plaintext)
    app.config["DB_QUERIES"] = lambda: common.query_count(request.args.get("queries"))
    return app


def build_orm(framework: t.Any, app_class: t.Any, extension: t.Any, url: str) -> t.Any:
    """Return an app whose database views use ``extension``'s session and models.

    :param extension: the ``SQLAlchemy`` class of Flask-SQLAlchemy or erlen-sql.
    """
    app = _app(framework, app_class)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db = extension()
    jsonify = framework.jsonify
    render_template = framework.render_template
    queries = app.config["DB_QUERIES"]

    class World(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "world"
        id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
        randomnumber = sa.Column(sa.Integer, nullable=False)

    class Fortune(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "fortune"
        id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
        message = sa.Column(sa.String(2048), nullable=False)

    def single() -> t.Any:
        world = db.session.get(World, common.random_id())
        return jsonify(id=world.id, randomNumber=world.randomnumber)

    def multiple() -> t.Any:
        get = db.session.get
        worlds = [get(World, common.random_id()) for _ in range(queries())]
        return jsonify([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds])

    def fortunes() -> t.Any:
        rows = db.session.scalars(sa.select(Fortune)).all()
        data = common.sorted_fortunes((f.id, f.message) for f in rows)
        return render_template(common.TEMPLATE, fortunes=[_Row(*r) for r in data])

    def updates() -> t.Any:
        get = db.session.get
        ids = sorted(common.random_id() for _ in range(queries()))
        worlds = [get(World, i) for i in ids]
        for world in worlds:
            world.randomnumber = common.random_id()
        db.session.commit()
        return jsonify([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds])

    _database_rules(app, single, multiple, fortunes, updates)
    db.init_app(app)
    return app


def build_core(
    framework: t.Any, app_class: t.Any, engine: t.Callable[[], sa.Engine], url: str
) -> t.Any:
    """Return an app whose database views run Core statements on ``engine()``.

    :param engine: returns the engine (``lambda: db.engine`` for erlen-sql, a
        module-level engine for plain SQLAlchemy).
    """
    app = _app(framework, app_class)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    jsonify = framework.jsonify
    render_template = framework.render_template
    queries = app.config["DB_QUERIES"]
    select_world = common.SELECT_WORLD

    def single() -> t.Any:
        with engine().connect() as conn:
            row = conn.execute(select_world, {"id": common.random_id()}).one()
        return jsonify(id=row[0], randomNumber=row[1])

    def multiple() -> t.Any:
        with engine().connect() as conn:
            execute = conn.execute
            rows = [
                execute(select_world, {"id": common.random_id()}).one()
                for _ in range(queries())
            ]
        return jsonify([{"id": r[0], "randomNumber": r[1]} for r in rows])

    def fortunes() -> t.Any:
        with engine().connect() as conn:
            rows = conn.execute(common.SELECT_FORTUNES).all()
        data = common.sorted_fortunes(rows)
        return render_template(common.TEMPLATE, fortunes=[_Row(*r) for r in data])

    def updates() -> t.Any:
        ids = sorted(common.random_id() for _ in range(queries()))
        with engine().begin() as conn:
            execute = conn.execute
            worlds = [
                {"id": i, "randomNumber": execute(select_world, {"id": i}).one()[1]}
                for i in ids
            ]
            for world in worlds:
                world["randomNumber"] = common.random_id()
            execute(
                common.UPDATE_WORLD,
                [{"wid": w["id"], "rn": w["randomNumber"]} for w in worlds],
            )
        return jsonify(worlds)

    _database_rules(app, single, multiple, fortunes, updates)
    return app


class _Row(t.NamedTuple):
    id: int
    message: str


def _database_rules(app: t.Any, *views: t.Callable[[], t.Any]) -> None:
    single, multiple, fortunes, updates = views
    app.add_url_rule("/db", "db", single)
    app.add_url_rule("/queries", "queries", multiple)
    app.add_url_rule("/fortunes", "fortunes", fortunes)
    app.add_url_rule("/updates", "updates", updates)
