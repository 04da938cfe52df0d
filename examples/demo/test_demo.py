"""Tests of the erlen notes demo: through the test client, and under a real gunicorn."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from liveserver import StartServer
from notes import create_app
from notes.models import db
from notes.models import Note
from werkzeug.test import TestResponse

import erlen_migrate
from erlen import Erlen
from erlen.testing import ErlenClient

DEMO = Path(__file__).parent
SAME_ORIGIN = {"Origin": "http://localhost"}
HEAD_REVISION = next(DEMO.glob("migrations/versions/*.py")).name.partition("_")[0]


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    """The demo with its instance folder in tmp and three notes per page."""
    return create_app(
        {"TESTING": True, "NOTES_PER_PAGE": 3}, instance_path=tmp_path / "instance"
    )


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()


def post(client: ErlenClient, url: str, **form: str) -> TestResponse:
    """POST ``form`` from a page of the site, as a browser would."""
    return client.post(url, data=form, headers=SAME_ORIGIN)


def add_notes(app: Erlen, count: int) -> None:
    result = app.test_cli_runner().invoke(args=["seed", "--count", str(count)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Added {count} sample notes.\n"


def note_count(app: Erlen) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(Note)).all())


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash \w+">(.*?)</p>', html)


# --- start-up and configuration ------------------------------------------------------


def test_first_start_migrates_the_database_and_creates_a_secret_key(
    app: Erlen, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    assert app.instance_path == str(instance)
    assert (instance / "notes.db").is_file()
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) == 64

    with app.app_context():
        assert erlen_migrate.current() == {"default": (HEAD_REVISION,)}
        erlen_migrate.check()  # the committed migrations match the models

    again = create_app({"TESTING": True}, instance_path=instance)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_config_comes_from_instance_file_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'SECRET_KEY = "from-file"\nNOTES_PER_PAGE = 2\n'
    )
    monkeypatch.setenv("ERLEN_NOTES_PER_PAGE", "4")
    app = create_app(instance_path=instance)
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["NOTES_PER_PAGE"] == 4
    assert not (instance / "secret_key").exists()


# --- HTML pages ----------------------------------------------------------------------


def test_empty_index_invites_to_write_a_note(client: ErlenClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "<title>Notes - erlen notes</title>" in html
    assert "No notes yet." in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    css.close()


def test_create_redirects_then_flashes_once(app: Erlen, client: ErlenClient) -> None:
    form = client.get("/notes/new")
    assert form.status_code == 200
    assert '<form method="post" class="note-form" novalidate>' in form.text

    created = post(client, "/notes/new", title="  Shopping <list>  ", body="milk")
    assert created.status_code == 302
    assert created.headers["Location"] == "/notes/1"

    page = client.get("/notes/1")
    assert flashes(page.text) == ["Created “Shopping &lt;list&gt;”."]
    assert "<h1>Shopping &lt;list&gt;</h1>" in page.text
    assert '<div class="body">milk</div>' in page.text
    assert flashes(client.get("/notes/1").text) == []

    listing = client.get("/").text
    assert '<a href="/notes/1">Shopping &lt;list&gt;</a>' in listing
    assert "Notes 1 to 1 of 1." in listing
    assert note_count(app) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"title": "   ", "body": "kept"}, "Give the note a title."),
        (
            {"title": "x" * 201, "body": ""},
            "Keep the title to 200 characters or fewer.",
        ),
        ({"title": "ok", "body": "y" * 10_001}, "Keep the text to 10,000 characters"),
    ],
)
def test_create_rejects_bad_input_on_the_same_page(
    app: Erlen, client: ErlenClient, form: dict[str, str], message: str
) -> None:
    response = post(client, "/notes/new", **form)
    assert response.status_code == 400
    assert f'<p class="error">{message}' in response.text
    assert f"{form['body'].strip()}</textarea>" in response.text
    assert note_count(app) == 0


def test_edit_changes_a_note(app: Erlen, client: ErlenClient) -> None:
    post(client, "/notes/new", title="Draft", body="first")
    form = client.get("/notes/1/edit").text
    assert "<h1>Edit “Draft”</h1>" in form
    assert 'value="Draft"' in form
    assert "first</textarea>" in form

    invalid = post(client, "/notes/1/edit", title="", body="second")
    assert invalid.status_code == 400
    assert "Give the note a title." in invalid.text
    assert "second</textarea>" in invalid.text

    saved = post(client, "/notes/1/edit", title="Final", body="second")
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/notes/1"
    page = client.get("/notes/1").text
    assert flashes(page) == ["Saved “Final”."]
    assert '<div class="body">second</div>' in page
    assert client.get("/notes/2/edit").status_code == 404


def test_delete_removes_the_note(app: Erlen, client: ErlenClient) -> None:
    post(client, "/notes/new", title="Doomed")
    client.get("/notes/1")
    deleted = post(client, "/notes/1/delete")
    assert deleted.status_code == 302
    assert deleted.headers["Location"] == "/"
    page = client.get("/").text
    assert flashes(page) == ["Deleted “Doomed”."]
    assert "No notes yet." in page
    assert "Notes you open appear here." in page
    assert client.get("/notes/1").status_code == 404
    assert post(client, "/notes/1/delete").status_code == 404
    assert client.get("/notes/1/delete").status_code == 405


def test_index_pages_through_the_notes(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 7)
    first = client.get("/").text
    assert "Notes 1 to 3 of 7." in first
    assert len(re.findall(r'<a href="/notes/\d+">', first)) == 3
    assert '<a href="/?page=2" rel="next">' in first
    assert 'rel="prev"' not in first

    last = client.get("/?page=3").text
    assert "Notes 7 to 7 of 7." in last
    assert "<strong>3</strong>" in last
    assert '<a href="/?page=2" rel="prev">' in last
    assert 'rel="next"' not in last

    for bad in ("4", "0", "-1", "abc", "9" * 40):
        response = client.get(f"/?page={bad}")
        assert response.status_code == 404, bad
        assert "<h1>Page not found</h1>" in response.text


def test_recently_viewed_notes_live_in_the_session(
    app: Erlen, client: ErlenClient
) -> None:
    add_notes(app, 7)
    for note_id in (1, 2, 3, 4, 5, 6, 2):
        assert client.get(f"/notes/{note_id}").status_code == 200
    sidebar = client.get("/").text.partition("Recently viewed")[2]
    assert re.findall(r'href="/notes/(\d+)"', sidebar) == ["2", "6", "5", "4", "3"]

    stranger = app.test_client()
    assert "Notes you open appear here." in stranger.get("/").text


def test_custom_404_page(client: ErlenClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<title>Not Found - erlen notes</title>" in response.text
    assert "<h1>Page not found</h1>" in response.text
    missing_note = client.get("/notes/42")
    assert missing_note.status_code == 404
    assert "There is no note 42." in missing_note.text
    for too_big in ("9223372036854775808", "9" * 40):
        assert client.get(f"/notes/{too_big}").status_code == 404
        assert client.get(f"/api/notes/{too_big}").status_code == 404


# --- CSRF protection (erlen-forms) ---------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "The CSRF token is missing."),
        ({"Origin": "https://evil.example"}, "sent by a page of another origin"),
        ({"Origin": "null"}, "sent by a page of another origin"),
        ({"Origin": "http://[broken"}, "sent by a page of another origin"),
        ({"Referer": "https://evil.example/localhost"}, "The CSRF token is missing."),
        (
            {"Origin": "http://localhost.evil.example"},
            "sent by a page of another origin",
        ),
        ({"Sec-Fetch-Site": "cross-site"}, "sent by a page of another site"),
    ],
)
def test_cross_origin_post_is_refused(
    app: Erlen, client: ErlenClient, headers: dict[str, str], reason: str
) -> None:
    response = client.post("/notes/new", data={"title": "forged"}, headers=headers)
    assert response.status_code == 400
    assert reason in response.text
    assert note_count(app) == 0


def test_token_is_accepted_without_origin_headers(
    app: Erlen, client: ErlenClient
) -> None:
    page = client.get("/notes/new").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    response = client.post(
        "/notes/new",
        data={"title": "ok", "csrf_token": match.group(1)},
        headers={"Referer": "http://localhost/notes/new"},
    )
    assert response.status_code == 302
    assert note_count(app) == 1


def test_listing_sets_no_session_cookie(client: ErlenClient) -> None:
    assert "Set-Cookie" not in client.get("/").headers


# --- JSON API ------------------------------------------------------------------------


def test_api_pages_with_a_keyset_cursor(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 5)
    seen: list[int] = []
    cursors: list[str] = []
    url = "/api/notes?per_page=2"
    for _ in range(5):
        page = client.get(url).json
        assert page is not None
        seen += [item["id"] for item in page["items"]]
        if page["next"] is None:
            break
        cursors.append(page["next"])
        url = f"/api/notes?per_page=2&cursor={page['next']}"
    assert seen == [5, 4, 3, 2, 1]
    assert len(cursors) == 2

    last = client.get(url).json
    assert last is not None
    back = client.get(f"/api/notes?per_page=2&cursor={last['prev']}").json
    assert back is not None
    assert [item["id"] for item in back["items"]] == [3, 2]

    note = client.get("/api/notes/3").json
    assert note is not None
    assert note["id"] == 3
    assert note["title"] == "Blueprints"
    assert note["created"].endswith("Z")


def test_api_refuses_a_tampered_cursor(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 3)
    cursor = client.get("/api/notes?per_page=1").json["next"]  # type: ignore[index]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (tampered, "garbage", ""):
        response = client.get(f"/api/notes?per_page=1&cursor={bad}")
        if bad == "":
            assert response.status_code == 200
            continue
        assert response.status_code == 400, bad
        assert response.json is not None
        assert response.json["error"] == "Bad Request"


def test_api_errors_are_json(client: ErlenClient) -> None:
    missing = client.get("/api/notes/99")
    assert missing.status_code == 404
    assert missing.json == {"error": "Not Found", "description": "There is no note 99."}
    unknown = client.get("/api/nothing")
    assert unknown.status_code == 404
    assert unknown.json is not None
    assert unknown.json["error"] == "Not Found"


# --- under gunicorn ------------------------------------------------------------------


@pytest.mark.server
def test_served_by_gunicorn(serve_example: StartServer, tmp_path: Path) -> None:
    instance = tmp_path / "served-instance"
    server = serve_example(
        f"notes:create_app(instance_path={str(instance)!r})", cwd=DEMO
    )
    browser = server.client()
    assert "No notes yet." in browser.get("/").text

    origin = {"Origin": server.url}
    created = browser.post(
        "/notes/new", form={"title": "Served", "body": "by gunicorn"}, headers=origin
    )
    assert created.status == 302
    assert created.headers["Location"] == "/notes/1"

    listing = browser.get("/")
    assert flashes(listing.text) == ["Created “Served”."]
    assert '<a href="/notes/1">Served</a>' in listing.text
    view = browser.get("/notes/1")
    assert view.status == 200
    assert flashes(view.text) == []
    assert '<div class="body">by gunicorn</div>' in view.text
    assert browser.get("/api/notes/1").json()["title"] == "Served"

    forged = browser.post("/notes/new", form={"title": "forged"})
    assert forged.status == 400
    assert (instance / "notes.db").is_file()
    assert (instance / "secret_key").is_file()
