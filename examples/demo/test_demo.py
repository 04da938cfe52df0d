"""Tests of the erlen notes demo: through the test client, and under a real gunicorn."""

from __future__ import annotations

import re
import stat
import typing as t
from pathlib import Path

import pytest
from liveserver import Client
from liveserver import StartServer
from notes import create_app
from notes import live
from notes.cli import SAMPLE_USERS
from notes.mail import Mail
from notes.models import Comment
from notes.models import db
from notes.models import Note
from notes.models import User
from werkzeug.test import TestResponse

import erlen_migrate
from erlen import Erlen
from erlen.testing import ErlenClient
from erlen_socketio import SocketIOTestClient

DEMO = Path(__file__).parent
SAME_ORIGIN = {"Origin": "http://localhost"}
#: Cheap Argon2id: the tests check behaviour, not the cost of hashing.
FAST_HASHES = {"argon2__memory_cost": 1024, "argon2__rounds": 1}
ALICE = ("alice@example.com", "notes-alice")  # an admin
BOB = ("bob@example.com", "notes-bob")


def head_revision() -> str:
    """The newest migration: the one no other migration revises."""
    texts = [p.read_text() for p in DEMO.glob("migrations/versions/*.py")]
    revisions = {re.findall(r'^revision = "(\w+)"', s, re.M)[0] for s in texts}
    revised = {
        m for s in texts for m in re.findall(r'^down_revision = "(\w+)"', s, re.M)
    }
    (head,) = revisions - revised
    return str(head)


@pytest.fixture
def outbox() -> list[Mail]:
    return []


@pytest.fixture
def app(tmp_path: Path, outbox: list[Mail]) -> Erlen:
    """The demo with its instance folder in tmp, the sample users, 3 notes per page."""
    app = create_app(
        {
            "TESTING": True,
            "NOTES_PER_PAGE": 3,
            "NOTES_PASSWORD_HASHER": FAST_HASHES,
            "NOTES_MAIL_OUTBOX": outbox,
        },
        instance_path=tmp_path / "instance",
    )
    seed(app, 0)
    return app


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()


def seed(app: Erlen, count: int) -> str:
    result = app.test_cli_runner().invoke(args=["seed", "--count", str(count)])
    assert result.exit_code == 0, result.output
    return result.output


def add_notes(app: Erlen, count: int, author: str = "bob@example.com") -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=author))
        assert user is not None
        for number in range(count):
            db.session.add(Note(title=f"Note {number + 1}", author_id=user.id))
        db.session.commit()


def post(client: ErlenClient, url: str, **form: t.Any) -> TestResponse:
    """POST ``form`` from a page of the site, as a browser would."""
    return client.post(url, data=form, headers=SAME_ORIGIN)


def login(client: ErlenClient, account: tuple[str, str], **extra: str) -> TestResponse:
    """Log in; a successful login's greeting is read (and so gone) right away."""
    email, password = account
    response = post(client, "/auth/login", email=email, password=password, **extra)
    if response.status_code == 302:
        client.get("/auth/account")
    return response


def logged_in_as(client: ErlenClient) -> str | None:
    """The name the header shows, or ``None`` for a visitor."""
    match = re.search(r'class="who">([^<]+)<', client.get("/").text)
    return match.group(1) if match else None


def note_count(app: Erlen) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(Note)).all())


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash \w+">(.*?)</p>', html)


def errors(html: str) -> list[str]:
    return re.findall(r'<p class="error">(.*?)</p>', html)


# --- start-up, configuration, commands -----------------------------------------------


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
        assert erlen_migrate.current() == {"default": (head_revision(),)}
        erlen_migrate.check()  # the committed migrations match the models

    again = create_app({"TESTING": True}, instance_path=instance)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_migrations_go_down_and_up_again(app: Erlen) -> None:
    with app.app_context():
        erlen_migrate.downgrade(revision="base")
        assert erlen_migrate.current() == {"default": ()}
        erlen_migrate.upgrade()
        assert erlen_migrate.current() == {"default": (head_revision(),)}


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


def test_seed_runs_once_and_prints_the_logins(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "NOTES_PASSWORD_HASHER": FAST_HASHES},
        instance_path=tmp_path / "fresh",
    )
    output = seed(app, 12)
    assert "Added 2 users and 12 notes.\nLog in as:\n" in output
    assert "alice@example.com / notes-alice (admin)" in output
    assert "bob@example.com / notes-bob\n" in output
    again = seed(app, 12)
    assert again.startswith("The database has users already; nothing added.\n")
    assert "alice@example.com / notes-alice (admin)" in again
    assert note_count(app) == 12
    with app.app_context():
        assert len(db.session.scalars(db.select(Comment)).all()) == 1
    client = app.test_client()
    for email, password in ((u[1], u[2]) for u in SAMPLE_USERS):
        assert login(client, (email, password)).status_code == 302


def test_make_admin_command(app: Erlen, client: ErlenClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["make-admin", "BOB@example.com"])
    assert result.exit_code == 0
    assert result.output == "Bob is an admin now.\n"
    login(client, BOB)
    assert logged_in_as(client) == "Bob (admin)"
    missing = runner.invoke(args=["make-admin", "nobody@example.com"])
    assert missing.exit_code == 1
    assert "There is no account with the email nobody@example.com." in missing.output


# --- accounts -----------------------------------------------------------------------


def test_register_logs_in(app: Erlen, client: ErlenClient) -> None:
    form = client.get("/auth/register")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text
    response = post(
        client,
        "/auth/register",
        name=" Carol ",
        email="Carol@Example.com",
        password="long enough",
        confirm="long enough",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").text
    assert flashes(page) == ["Welcome, Carol!"]
    assert 'class="who">Carol<' in page
    with app.app_context():
        carol = db.session.scalar(db.select(User).filter_by(name="Carol"))
        assert carol is not None
        assert carol.email == "carol@example.com"
        assert carol.password_hash is not None
        assert carol.password_hash.startswith("$argon2id$")
        assert not carol.is_admin


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "email": "d@example.com"}, "Tell the team your name."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "BOB@example.com"}, "There is already an account with this email."),
        ({"password": "short", "confirm": "short"}, "Use 8 to 200 characters."),
        ({"confirm": "something else"}, "The two passwords differ."),
    ],
)
def test_register_rejects_bad_input(
    app: Erlen, client: ErlenClient, form: dict[str, str], message: str
) -> None:
    data = {
        "name": "Dan",
        "email": "dan@example.com",
        "password": "long enough",
        "confirm": "long enough",
        **form,
    }
    response = post(client, "/auth/register", **data)
    assert response.status_code == 400
    assert message in errors(response.text)
    assert logged_in_as(client) is None


def test_login_and_logout(client: ErlenClient) -> None:
    assert logged_in_as(client) is None
    wrong = login(client, (BOB[0], "wrong password"))
    assert wrong.status_code == 400
    assert errors(wrong.text) == ["Wrong email or password."]
    unknown = login(client, ("nobody@example.com", "wrong password"))
    assert errors(unknown.text) == ["Wrong email or password."]

    response = login(client, ("  BOB@example.com ", BOB[1]))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    assert logged_in_as(client) == "Bob"

    out = post(client, "/auth/logout")
    assert out.status_code == 302
    assert flashes(client.get("/").text) == ["You are logged out."]
    assert logged_in_as(client) is None
    assert client.get("/auth/logout").status_code == 405


def test_login_page_goes_back_to_next_but_never_to_another_site(
    client: ErlenClient,
) -> None:
    redirected = client.get("/notes/new")
    assert redirected.status_code == 302
    assert redirected.headers["Location"] == "/auth/login?next=%2Fnotes%2Fnew"
    page = client.get(redirected.headers["Location"]).text
    assert flashes(page) == ["Log in to see that page."]
    assert 'name="next" type="hidden" value="/notes/new"' in page
    assert login(client, BOB, next="/notes/new").headers["Location"] == "/notes/new"

    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        other = client.application.test_client()
        assert 'value="//evil.example"' in other.get(
            "/auth/login?next=//evil.example"
        ).text.replace("&#34;", '"')
        response = login(other, BOB, next=evil)
        assert response.status_code == 302
        assert response.headers["Location"] == "/", evil


def test_failed_logins_are_throttled(client: ErlenClient) -> None:
    for _ in range(10):
        assert login(client, (BOB[0], "guess")).status_code == 400
    throttled = login(client, BOB)
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers
    assert "<h1>429 Too Many Requests</h1>" in throttled.text


def test_remember_me_survives_the_end_of_the_session(
    app: Erlen, client: ErlenClient
) -> None:
    login(client, BOB, remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    # A new browser session: the session cookie is gone, the remember-me one is not.
    client.delete_cookie("session")
    assert logged_in_as(client) == "Bob"
    rotated = client.get_cookie("remember_token")
    assert rotated is not None
    assert rotated.value != cookie.value

    # The old cookie was used up: a copy of it logs nobody in.
    thief = app.test_client()
    thief.set_cookie("remember_token", cookie.value)
    assert logged_in_as(thief) is None


def test_change_password_logs_out_other_devices(
    app: Erlen, client: ErlenClient
) -> None:
    other_device = app.test_client()
    login(other_device, BOB, remember="y")
    login(client, BOB)
    assert client.get("/auth/account").status_code == 200

    wrong = post(
        client,
        "/auth/account",
        current="not it",
        password="new password",
        confirm="new password",
    )
    assert wrong.status_code == 400
    assert errors(wrong.text) == ["That is not your current password."]

    changed = post(
        client,
        "/auth/account",
        current=BOB[1],
        password="new password",
        confirm="new password",
    )
    assert changed.status_code == 302
    page = client.get("/auth/account").text
    assert flashes(page) == ["Your password is changed; other devices are logged out."]
    assert logged_in_as(client) == "Bob"
    assert logged_in_as(other_device) is None
    assert login(app.test_client(), BOB).status_code == 400
    assert login(app.test_client(), (BOB[0], "new password")).status_code == 302


def test_logout_everywhere(app: Erlen, client: ErlenClient) -> None:
    phone = app.test_client()
    login(phone, BOB, remember="y")
    login(client, BOB)
    response = post(client, "/auth/logout-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert flashes(client.get("/auth/login").text) == [
        "You are logged out on every device."
    ]
    assert logged_in_as(client) is None
    phone.delete_cookie("session")  # even the remember-me cookie is dead
    assert logged_in_as(phone) is None
    assert client.get("/auth/account").status_code == 302


def test_reset_password_by_mail(
    app: Erlen,
    client: ErlenClient,
    outbox: list[Mail],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert client.get("/auth/forgot").status_code == 200
    unknown = post(client, "/auth/forgot", email="nobody@example.com")
    known = post(client, "/auth/forgot", email="bob@example.com")
    assert unknown.status_code == known.status_code == 302
    assert len(outbox) == 1
    mail = outbox[0]
    assert mail.to == "bob@example.com"
    assert mail.subject == "Reset your erlen notes password"
    assert "Subject: Reset your erlen notes password" in capsys.readouterr().err
    match = re.search(r"http://localhost(/auth/reset/\S+)", mail.body)
    assert match is not None
    link = match.group(1)

    assert client.get(link).status_code == 200
    short = post(client, link, password="short", confirm="short")
    assert short.status_code == 400
    done = post(client, link, password="brand new pw", confirm="brand new pw")
    assert done.status_code == 302
    assert done.headers["Location"] == "/auth/login"

    used = client.get(link)
    assert used.status_code == 400
    assert "This reset link has expired or was already used." in used.text
    assert client.get("/auth/reset/garbage").status_code == 400
    assert login(client, BOB).status_code == 400
    assert login(client, (BOB[0], "brand new pw")).status_code == 302


# --- notes --------------------------------------------------------------------------


def test_empty_index_invites_to_register(client: ErlenClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "<title>Notes - erlen notes</title>" in html
    assert "No notes yet." in html
    assert '<a href="/auth/register">Register</a> to write the first one' in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert (
        '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    )
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    css.close()


def test_create_redirects_then_flashes_once(app: Erlen, client: ErlenClient) -> None:
    login(client, BOB)
    form = client.get("/notes/new")
    assert form.status_code == 200
    assert '<form method="post" class="stack" novalidate>' in form.text

    created = post(client, "/notes/new", title="  Shopping <list>  ", body="milk")
    assert created.status_code == 302
    assert created.headers["Location"] == "/notes/1"

    page = client.get("/notes/1")
    assert flashes(page.text) == ["Created “Shopping &lt;list&gt;”."]
    assert "<h1>Shopping &lt;list&gt;</h1>" in page.text
    assert '<div class="body">milk</div>' in page.text
    assert "By Bob," in page.text
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
    login(client, BOB)
    response = post(client, "/notes/new", **form)
    assert response.status_code == 400
    assert f'<p class="error">{message}' in response.text
    assert f"{form['body'].strip()}</textarea>" in response.text
    assert note_count(app) == 0


def test_visitors_read_but_do_not_write(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 1)
    assert client.get("/notes/1").status_code == 200
    assert "Log in</a> to comment." in client.get("/notes/1").text
    for url in ("/notes/new", "/notes/1/edit", "/auth/account"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login?next=")
    for url in ("/notes/new", "/notes/1/edit", "/notes/1/delete", "/notes/1/comments"):
        assert post(client, url, title="x", body="x").status_code == 302, url
    assert note_count(app) == 1


def test_edit_changes_a_note(app: Erlen, client: ErlenClient) -> None:
    login(client, BOB)
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


def test_only_the_author_or_an_admin_changes_a_note(
    app: Erlen, client: ErlenClient
) -> None:
    add_notes(app, 2, author="alice@example.com")
    post(
        client,
        "/auth/register",
        name="Eve",
        email="eve@example.com",
        password="long enough",
        confirm="long enough",
    )
    assert ">Edit</a>" not in client.get("/notes/1").text
    assert client.get("/notes/1/edit").status_code == 403
    assert post(client, "/notes/1/edit", title="mine now").status_code == 403
    refused = post(client, "/notes/1/delete")
    assert refused.status_code == 403
    assert "Only the author of a note or an admin may delete it." in refused.text

    admin = app.test_client()
    login(admin, ALICE)
    add_notes(app, 1, author="bob@example.com")
    assert ">Edit</a>" in admin.get("/notes/3").text
    assert post(admin, "/notes/3/edit", title="Fixed by Alice").status_code == 302
    assert post(admin, "/notes/3/delete").status_code == 302
    assert note_count(app) == 2


def test_delete_removes_the_note_and_its_comments(
    app: Erlen, client: ErlenClient
) -> None:
    login(client, BOB)
    post(client, "/notes/new", title="Doomed")
    post(client, "/notes/1/comments", body="soon gone")
    deleted = post(client, "/notes/1/delete")
    assert deleted.status_code == 302
    assert deleted.headers["Location"] == "/"
    page = client.get("/").text
    assert flashes(page) == ["Created “Doomed”.", "Comment added.", "Deleted “Doomed”."]
    assert "No notes yet." in page
    assert client.get("/notes/1").status_code == 404
    assert post(client, "/notes/1/delete").status_code == 404
    assert client.get("/notes/1/delete").status_code == 405
    with app.app_context():
        assert db.session.scalars(db.select(Comment)).all() == []


def test_comments(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 1)
    login(client, ALICE)
    assert "No comments yet." in client.get("/notes/1").text
    empty = post(client, "/notes/1/comments", body="   ")
    assert empty.status_code == 400
    assert errors(empty.text) == ["Write something first."]
    added = post(client, "/notes/1/comments", body="Nice <b>work</b>")
    assert added.status_code == 302
    assert added.headers["Location"] == "/notes/1#comments"
    page = client.get("/notes/1").text
    assert flashes(page) == ["Comment added."]
    assert "Comments (1)" in page
    assert '<div class="body">Nice &lt;b&gt;work&lt;/b&gt;</div>' in page
    assert "Alice," in page
    assert post(client, "/notes/2/comments", body="where?").status_code == 404


def test_index_pages_through_the_notes(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 7)
    first = client.get("/").text
    assert "Notes 1 to 3 of 7." in first
    assert re.findall(r'<a href="/notes/(\d+)">', first) == ["7", "6", "5"]
    assert '<a href="/?page=2" rel="next">' in first
    assert 'rel="prev"' not in first

    last = client.get("/?page=3").text
    assert "Notes 7 to 7 of 7." in last
    assert re.findall(r'<a href="/notes/(\d+)">', last) == ["1"]
    assert "<strong>3</strong>" in last
    assert '<a href="/?page=2" rel="prev">' in last
    assert 'rel="next"' not in last

    for bad in ("4", "0", "-1", "abc", "9" * 40):
        response = client.get(f"/?page={bad}")
        assert response.status_code == 404, bad
        assert "<h1>Page not found</h1>" in response.text


def test_an_admin_hides_a_note(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 2)  # by Bob
    admin = app.test_client()
    login(admin, ALICE)
    assert ">Hide</button>" in admin.get("/notes/2").text
    hidden = post(admin, "/notes/2/hide")
    assert hidden.status_code == 302
    page = admin.get("/notes/2").text
    assert flashes(page) == ["Hid “Note 2”."]
    assert "<strong>Hidden</strong> by an admin." in page

    visitor = app.test_client()
    assert visitor.get("/notes/2").status_code == 404
    assert visitor.get("/api/notes/2").status_code == 404
    assert re.findall(r'<a href="/notes/(\d+)">', visitor.get("/").text) == ["1"]
    assert [n["id"] for n in visitor.get("/api/notes").json["items"]] == [1]  # type: ignore[index]

    login(client, BOB)  # the author still sees it
    assert client.get("/notes/2").status_code == 200
    assert ">Hide</button>" not in client.get("/notes/2").text
    refused = post(client, "/notes/2/hide")
    assert refused.status_code == 403
    assert re.findall(r'<a href="/notes/(\d+)">', client.get("/").text) == ["2", "1"]

    assert post(admin, "/notes/2/hide").status_code == 302
    assert flashes(admin.get("/notes/2").text) == ["Showed “Note 2”."]
    assert visitor.get("/notes/2").status_code == 200


def test_custom_error_pages(client: ErlenClient) -> None:
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
    login(client, BOB)
    response = client.post("/notes/new", data={"title": "forged"}, headers=headers)
    assert response.status_code == 400
    assert reason in response.text
    assert note_count(app) == 0
    logout = client.post("/auth/logout", headers=headers)
    assert logout.status_code == 400
    assert logged_in_as(client) == "Bob"


def test_token_is_accepted_without_origin_headers(
    app: Erlen, client: ErlenClient
) -> None:
    login(client, BOB)
    page = client.get("/notes/new").text
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
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
    assert note["title"] == "Note 3"
    assert note["author"] == "Bob"
    assert note["created"].endswith("Z")


def test_api_refuses_a_tampered_cursor(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 3)
    cursor = client.get("/api/notes?per_page=1").json["next"]  # type: ignore[index]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (tampered, "garbage"):
        response = client.get(f"/api/notes?per_page=1&cursor={bad}")
        assert response.status_code == 400, bad
        assert response.json is not None
        assert response.json["title"] == "Bad Request"
    assert client.get("/api/notes?per_page=1&cursor=").status_code == 200


def test_api_errors_are_problem_details(client: ErlenClient) -> None:
    missing = client.get("/api/notes/99")
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"
    assert missing.json == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "There is no note 99.",
        "instance": "/api/notes/99",
    }
    unknown = client.get("/api/nothing")
    assert unknown.status_code == 404
    assert unknown.content_type == "application/problem+json"
    assert unknown.json is not None
    assert unknown.json["title"] == "Not Found"
    too_many = client.get("/api/notes?per_page=51")
    assert too_many.status_code == 422
    assert too_many.json is not None
    assert too_many.json["errors"][0]["loc"] == ["query", "per_page"]
    wrong_method = client.put("/api/notes")
    assert wrong_method.status_code == 405
    assert wrong_method.content_type == "application/problem+json"


def api_token(app: Erlen, email: str = BOB[0]) -> dict[str, str]:
    """The ``Authorization`` header with a token from ``erlen api-token``."""
    result = app.test_cli_runner().invoke(args=["api-token", email])
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.output.strip()}"}


def test_api_writes_need_a_bearer_token(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 1)
    for method, url in [
        ("POST", "/api/notes"),
        ("PATCH", "/api/notes/1"),
        ("DELETE", "/api/notes/1"),
        ("POST", "/api/notes/1/comments"),
    ]:
        response = client.open(url, method=method, json={"title": "x", "body": "y"})
        assert response.status_code == 401, url
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
        assert response.content_type == "application/problem+json"
    # A logged-in browser's session cookie is not enough (the API skips CSRF checks).
    login(client, BOB)
    assert client.post("/api/notes", json={"title": "x"}).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (
        client.post("/api/notes", json={"title": "x"}, headers=bad).status_code == 401
    )
    assert client.get("/api/notes/1", headers=bad).status_code == 200


def test_api_creates_changes_and_deletes_notes(app: Erlen, client: ErlenClient) -> None:
    bob = api_token(app)
    created = client.post(
        "/api/notes", json={"title": "  From the API ", "body": "typed"}, headers=bob
    )
    assert created.status_code == 201
    note = created.json
    assert note is not None
    assert note["title"] == "From the API"
    assert note["author"] == "Bob"
    assert note["hidden"] is False
    assert note["created"].endswith("Z")
    assert created.headers["Location"] == f"/api/notes/{note['id']}"
    assert "From the API" in client.get("/").text

    changed = client.patch(
        f"/api/notes/{note['id']}", json={"body": "changed"}, headers=bob
    )
    assert changed.status_code == 200
    assert changed.json is not None
    assert (changed.json["title"], changed.json["body"]) == ("From the API", "changed")

    invalid = client.post("/api/notes", json={"title": "", "extra": 1}, headers=bob)
    assert invalid.status_code == 422
    assert invalid.json is not None
    assert {tuple(e["loc"]) for e in invalid.json["errors"]} == {
        ("body", "title"),
        ("body", "extra"),
    }
    not_json = client.post("/api/notes", data="title=x", headers=bob)
    assert not_json.status_code in (415, 422)

    alice_note = client.post(
        "/api/notes", json={"title": "Alice's"}, headers=api_token(app, ALICE[0])
    )
    assert alice_note.json is not None
    refused = client.delete(f"/api/notes/{alice_note.json['id']}", headers=bob)
    assert refused.status_code == 403
    assert (
        client.patch(
            f"/api/notes/{alice_note.json['id']}", json={"title": "mine"}, headers=bob
        ).status_code
        == 403
    )

    deleted = client.delete(f"/api/notes/{note['id']}", headers=bob)
    assert deleted.status_code == 204
    assert client.get(f"/api/notes/{note['id']}").status_code == 404
    # The admin may change anyone's note.
    admin = api_token(app, ALICE[0])
    assert (
        client.patch(
            f"/api/notes/{alice_note.json['id']}", json={"title": "t"}, headers=admin
        ).status_code
        == 200
    )


def test_api_comments(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 1)
    bob = api_token(app)
    assert client.get("/api/notes/1/comments").json == []
    created = client.post("/api/notes/1/comments", json={"body": " Nice "}, headers=bob)
    assert created.status_code == 201
    assert created.json is not None
    assert created.json["body"] == "Nice"
    assert created.json["author"] == "Bob"
    listed = client.get("/api/notes/1/comments").json
    assert listed is not None
    assert [c["body"] for c in listed] == ["Nice"]
    assert client.get("/api/notes/1").json["comments"] == 1  # type: ignore[index]
    empty = client.post("/api/notes/1/comments", json={"body": "  "}, headers=bob)
    assert empty.status_code == 422
    assert (
        client.post(
            "/api/notes/99/comments", json={"body": "x"}, headers=bob
        ).status_code
        == 404
    )
    assert client.get("/api/notes/99/comments").status_code == 404


def test_api_respects_hidden_notes(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 2)
    with app.app_context():
        note = db.session.get(Note, 2)
        assert note is not None
        note.hidden = True
        db.session.commit()
    admin = api_token(app, ALICE[0])  # the admin sees it
    assert client.get("/api/notes/2", headers=admin).json["hidden"] is True  # type: ignore[index]
    assert client.get("/api/notes/2").status_code == 404
    assert [n["id"] for n in client.get("/api/notes").json["items"]] == [1]  # type: ignore[index]
    assert client.get("/api/notes/2/comments").status_code == 404
    bob = api_token(app)  # the author sees it too
    seen = client.get("/api/notes", headers=bob).json
    assert seen is not None
    assert [n["id"] for n in seen["items"]] == [2, 1]
    post(
        client,
        "/auth/register",
        name="carol",
        email="carol@example.com",
        password="carol-password",
        confirm="carol-password",
    )
    carol_token = api_token(app, "carol@example.com")
    assert (
        client.post(
            "/api/notes/2/comments", json={"body": "x"}, headers=carol_token
        ).status_code
        == 404
    )


def test_tokens_page_makes_and_revokes_tokens(app: Erlen, client: ErlenClient) -> None:
    assert client.get("/auth/tokens").status_code == 302  # log in first
    login(client, BOB)
    page = client.get("/auth/tokens")
    assert page.status_code == 200
    assert "Make a new token" in page.text
    made = post(client, "/auth/tokens/new")
    assert made.status_code == 200
    assert "no-store" in made.headers["Cache-Control"]
    (token,) = re.findall(r'<pre class="token" id="new-token">([^<]+)</pre>', made.text)
    bearer = {"Authorization": f"Bearer {token}"}
    api = app.test_client()  # a program: no cookies
    assert (
        api.post("/api/notes", json={"title": "t"}, headers=bearer).status_code == 201
    )

    forged = client.post("/auth/tokens/new")
    assert forged.status_code == 400  # no CSRF token
    other = api_token(app, ALICE[0])["Authorization"][7:]
    refused = post(client, "/auth/tokens", token=other)
    assert refused.status_code == 400
    assert "That is not one of your valid tokens." in refused.text
    revoked = post(client, "/auth/tokens", token=token)
    assert revoked.status_code == 302
    assert (
        api.post("/api/notes", json={"title": "t"}, headers=bearer).status_code == 401
    )


def test_revoking_while_the_store_is_down_says_so(
    app: Erlen, client: ErlenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notes.auth

    from erlen_login.throttle import ThrottleStoreError

    def store_down(token: str) -> bool:
        raise ThrottleStoreError("Redis is not answering")

    monkeypatch.setattr(notes.auth, "revoke_auth_token", store_down)
    token = api_token(app)["Authorization"][7:]
    login(client, BOB)
    refused = post(client, "/auth/tokens", token=token)
    assert refused.status_code == 503
    assert "Tokens cannot be revoked right now; try again." in refused.text


def test_logout_everywhere_ends_api_tokens(app: Erlen, client: ErlenClient) -> None:
    bob = api_token(app)
    assert (
        client.post("/api/notes", json={"title": "t"}, headers=bob).status_code == 201
    )
    login(client, BOB)
    post(client, "/auth/logout-everywhere")
    assert (
        client.post("/api/notes", json={"title": "t"}, headers=bob).status_code == 401
    )


def test_api_token_command_refuses_unknown_accounts(app: Erlen) -> None:
    result = app.test_cli_runner().invoke(args=["api-token", "nobody@example.com"])
    assert result.exit_code != 0
    assert "There is no account with the email nobody@example.com." in result.output


def test_openapi_document_and_docs_page(client: ErlenClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec is not None
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "erlen notes"
    assert set(spec["paths"]) == {
        "/notes",
        "/notes/{note_id}",
        "/notes/{note_id}/comments",
    }
    assert set(spec["paths"]["/notes/{note_id}"]) == {"get", "patch", "delete"}
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert spec["paths"]["/notes"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/notes"]["get"]
    assert {"NoteIn", "NoteOut", "CommentIn", "CommentOut"} <= set(
        spec["components"]["schemas"]
    )
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "/api/openapi.json" in docs.text
    # Swagger UI's own files come from erlen-rest[docs], never from a CDN.
    script = client.get("/api/docs/swaggerui/swagger-ui-bundle.js")
    try:
        assert script.status_code == 200
        assert "SwaggerUIBundle" in script.text
    finally:
        script.close()  # the file it streamed


def test_new_notes_and_comments_are_published(app: Erlen, client: ErlenClient) -> None:
    events: list[tuple[str, dict[str, t.Any]]] = []
    live.init_app(app, lambda event, data: events.append((event, data)))
    bob = api_token(app)
    note = client.post("/api/notes", json={"title": "Live"}, headers=bob).json
    assert note is not None
    client.post(f"/api/notes/{note['id']}/comments", json={"body": "c"}, headers=bob)
    login(client, BOB)
    post(client, "/notes/new", title="From a form", body="")
    post(client, f"/notes/{note['id']}/comments", body="From a form")
    assert [(e, d.get("title") or d["body"]) for e, d in events] == [
        ("note_created", "Live"),
        ("comment_created", "c"),
        ("note_created", "From a form"),
        ("comment_created", "From a form"),
    ]
    assert events[0][1] == note


def socket_of(app: Erlen, client: ErlenClient) -> SocketIOTestClient:
    """A Socket.IO connection with ``client``'s cookies (its logged-in user)."""
    return live.socketio.test_client(app, flask_test_client=client)


def received(socket: SocketIOTestClient) -> list[tuple[str, t.Any]]:
    """The events ``socket`` got since the last call: (name, first argument)."""
    return [(e["name"], e["args"][0]) for e in socket.get_received()]


def test_the_socket_is_for_logged_in_users(app: Erlen, client: ErlenClient) -> None:
    assert not socket_of(app, client).is_connected()
    login(client, BOB)
    assert socket_of(app, client).is_connected()


def test_new_notes_arrive_live(app: Erlen, client: ErlenClient) -> None:
    login(client, BOB)
    bob = socket_of(app, client)
    alice_client = app.test_client()
    login(alice_client, ALICE)
    post(alice_client, "/notes/new", title="Fresh", body="news")
    [(event, note)] = received(bob)
    assert event == "note_created"
    assert (note["title"], note["author"], note["hidden"]) == ("Fresh", "Alice", False)
    assert client.get(f"/notes/{note['id']}").status_code == 200


def test_hidden_notes_and_their_comments_are_not_sent(
    app: Erlen, client: ErlenClient
) -> None:
    add_notes(app, 1, author=ALICE[0])
    alice_client = app.test_client()
    login(alice_client, ALICE)
    post(alice_client, "/notes/1/hide")
    login(client, BOB)
    bob, alice = socket_of(app, client), socket_of(app, alice_client)
    assert bob.emit("watch", 1, callback=True) is False  # bob may not see note 1
    assert alice.emit("watch", 1, callback=True) is True
    post(alice_client, "/notes/1/comments", body="Only for admins")
    assert received(bob) == []
    assert [(e, c["body"]) for e, c in received(alice)] == [
        ("comment_created", "Only for admins")
    ]
    with app.test_request_context():  # a note hidden from the start stays unsent
        live.publish("note_created", {"id": 1, "title": "Secret", "hidden": True})
    assert received(bob) == [] and received(alice) == []


def test_comments_go_to_the_notes_watchers(app: Erlen, client: ErlenClient) -> None:
    add_notes(app, 2)
    login(client, BOB)
    watcher, elsewhere = socket_of(app, client), socket_of(app, client)
    assert watcher.emit("watch", 1, callback=True) is True
    assert watcher.emit("watch", "1; drop", callback=True) is False
    post(client, "/notes/1/comments", body="Hello")
    assert [(e, c["body"]) for e, c in received(watcher)] == [
        ("comment_created", "Hello")
    ]
    assert received(elsewhere) == []


def test_the_pages_listen_with_the_local_client(
    app: Erlen, client: ErlenClient
) -> None:
    add_notes(app, 1)
    assert "socket.io.min.js" not in client.get("/").text  # visitors: no socket
    login(client, BOB)
    for page in ("/", "/notes/1"):
        assert '/static/socket.io.min.js"' in client.get(page).text
    script = client.get("/static/socket.io.min.js")
    try:
        assert "Socket.IO v4" in script.text
    finally:
        script.close()


# --- through the ASGI entry -----------------------------------------------------------


def test_the_same_app_answers_through_asgi(app: Erlen) -> None:
    """What ``nox -s demo -- --asgi`` (uvicorn) serves: pages, forms, login and the API."""
    add_notes(app, 2)
    client = app.test_client(asgi=True)
    index = client.get("/")
    assert index.status_code == 200
    assert re.findall(r'<a href="/notes/(\d+)">', index.text) == ["2", "1"]
    assert client.get("/notes/1").status_code == 200
    assert client.get("/auth/login").status_code == 200
    assert client.get("/notes/99").status_code == 404
    assert login(client, BOB).status_code == 302
    created = post(client, "/notes/new", title="Over ASGI", body="uvicorn")
    assert created.status_code == 302
    assert "Over ASGI" in client.get("/").text

    api = app.test_client(asgi=True)
    listing = api.get("/api/notes").json
    assert listing is not None
    assert [n["title"] for n in listing["items"]][0] == "Over ASGI"
    bob = api_token(app)
    note = api.post("/api/notes", json={"title": "API over ASGI"}, headers=bob)
    assert note.status_code == 201
    assert api.post("/api/notes", json={"title": "x"}).status_code == 401
    assert api.get("/api/notes/99").content_type == "application/problem+json"
    assert api.get("/api/openapi.json").status_code == 200
    assert api.get("/api/docs").status_code == 200


# --- under gunicorn ------------------------------------------------------------------


def register_over_http(browser: Client, name: str, origin: str) -> None:
    """Register ``name`` (``<name>@example.com``, password ``<name>-password``)."""
    response = browser.post(
        "/auth/register",
        form={
            "name": name,
            "email": f"{name}@example.com",
            "password": f"{name}-password",
            "confirm": f"{name}-password",
        },
        headers={"Origin": origin},
    )
    assert response.status == 302, response.text


@pytest.mark.server
def test_served_by_gunicorn(serve_example: StartServer, tmp_path: Path) -> None:
    instance = tmp_path / "served-instance"
    server = serve_example(
        f"notes:create_app(instance_path={str(instance)!r})", cwd=DEMO
    )
    browser = server.client()
    assert "No notes yet." in browser.get("/").text

    origin = {"Origin": server.url}
    register_over_http(browser, "served", server.url)
    created = browser.post(
        "/notes/new", form={"title": "Served", "body": "by gunicorn"}, headers=origin
    )
    assert created.status == 302
    assert created.headers["Location"] == "/notes/1"

    listing = browser.get("/")
    assert flashes(listing.text) == ["Welcome, served!", "Created “Served”."]
    assert '<a href="/notes/1">Served</a>' in listing.text
    view = browser.get("/notes/1")
    assert view.status == 200
    assert '<div class="body">by gunicorn</div>' in view.text
    assert browser.get("/api/notes/1").json()["title"] == "Served"

    forged = browser.post("/notes/new", form={"title": "forged"})
    assert forged.status == 400
    assert (instance / "notes.db").is_file()
    assert (instance / "secret_key").is_file()
    assert "Traceback" not in server.log()
