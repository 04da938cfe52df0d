"""The ``auth`` blueprint: register, log in and out, passwords; and the login manager."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from erlen import abort
from erlen import Blueprint
from erlen import Erlen
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import url_for
from erlen_login import authenticate
from erlen_login import current_user
from erlen_login import get_next_url
from erlen_login import login_required
from erlen_login import login_user
from erlen_login import LoginManager
from erlen_login import logout_everywhere
from erlen_login import logout_user
from erlen_login import make_auth_token
from erlen_login import make_reset_token
from erlen_login import PasswordHasher
from erlen_login import revoke_auth_token
from erlen_login import user_loaded_from_cookie
from erlen_login import verify_reset_token
from erlen_login.throttle import ThrottleStoreError
from erlen_login.tokens import load_auth_token

from .forms import ChangePasswordForm
from .forms import ForgotPasswordForm
from .forms import LoginForm
from .forms import RegisterForm
from .forms import ResetPasswordForm
from .forms import RevokeTokenForm
from .mail import send_mail
from .models import db
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: Set in ``g`` when erlen-login changed the user during the request (a
#: remember-me token used and replaced); ``create_app`` then commits.
LOGIN_CHANGED = "notes_login_changed"


def init_login(app: Erlen) -> LoginManager:
    """Give ``app`` its login manager: where to log in, how to load a user.

    ``NOTES_PASSWORD_HASHER`` (a dict of passlib options) makes hashing
    cheaper in tests; by default passwords get erlen-login's Argon2id.
    """
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Log in to see that page."
    manager.login_message_category = "info"
    options = app.config.get("NOTES_PASSWORD_HASHER")
    if options:
        manager.password_hasher = PasswordHasher(**options)

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            return db.session.get(User, int(user_id))
        except (ValueError, OverflowError):
            return None

    @user_loaded_from_cookie.connect_via(app)
    def remember_token_used(sender: Erlen, **extra: t.Any) -> None:
        setattr(g, LOGIN_CHANGED, True)

    return manager


def find_user(email: str) -> User | None:
    """Return the user with this email address (case does not matter), or ``None``."""
    return db.session.scalar(sa.select(User).where(User.email == email.lower()))


@bp.route("/register", methods=["GET", "POST"])
def register() -> t.Any:
    """Create an account and log in with it."""
    form = RegisterForm()
    if form.validate_on_submit():
        assert form.email.data is not None and form.password.data is not None
        if find_user(form.email.data) is not None:
            form.email.errors = ["There is already an account with this email."]
        else:
            user = User(email=form.email.data.lower(), name=form.name.data or "")
            user.set_password(form.password.data)
            db.session.add(user)
            db.session.commit()
            login_user(user)
            db.session.commit()
            flash(f"Welcome, {user.name}!", "success")
            return redirect(url_for("notes.index"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login() -> t.Any:
    """Log in; go back to ``next`` if it is a page of this site."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        assert form.email.data is not None and form.password.data is not None
        user = find_user(form.email.data)
        if authenticate(user, form.password.data, account=form.email.data.lower()):
            assert user is not None
            login_user(user, remember=bool(form.remember.data))
            db.session.commit()  # an upgraded hash, the remember-me token
            flash(f"Hello, {user.name}.", "success")
            return redirect(get_next_url(url_for("notes.index")))
        form.password.errors = ["Wrong email or password."]
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout() -> t.Any:
    """Log out of this browser (CSRFProtect checked the form's token)."""
    logout_user()
    db.session.commit()
    flash("You are logged out.", "info")
    return redirect(url_for("notes.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> t.Any:
    """The account page: change the password, log out everywhere."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = t.cast(User, current_user._get_current_object())
        assert form.current.data is not None and form.password.data is not None
        if not user.check_password(form.current.data):
            form.current.errors = ["That is not your current password."]
        else:
            user.set_password(form.password.data)  # ends every other session
            login_user(user)
            db.session.commit()
            flash("Your password is changed; other devices are logged out.", "success")
            return redirect(url_for("auth.account"))
    status = 400 if form.errors else 200
    return render_template("auth/account.html", form=form), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> t.Any:
    """The API tokens page: make a bearer token for the JSON API, or revoke one.

    Tokens last ``LOGIN_TOKEN_MAX_AGE`` (30 days); "log out everywhere" and a
    new password end them all at once.
    """
    form = RevokeTokenForm()
    if form.validate_on_submit():
        assert form.token.data is not None
        user = load_auth_token(form.token.data)
        if user is None or user.id != current_user.id:
            form.token.errors = ["That is not one of your valid tokens."]
        else:
            try:
                revoke_auth_token(form.token.data)
            except ThrottleStoreError:  # Redis is down: say so, do not pretend
                form.token.errors = ["Tokens cannot be revoked right now; try again."]
                return render_template("auth/tokens.html", form=form), 503
            flash("The token is revoked.", "success")
            return redirect(url_for("auth.tokens"))
    status = 400 if form.errors else 200
    return render_template("auth/tokens.html", form=form), status


@bp.post("/tokens/new")
@login_required
def new_token() -> t.Any:
    """Make a bearer token and show it once (CSRFProtect checked the form's token)."""
    token = make_auth_token(current_user._get_current_object())
    page = render_template("auth/tokens.html", form=RevokeTokenForm(), new_token=token)
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/logout-everywhere")
@login_required
def logout_all() -> t.Any:
    """End every session and remember-me cookie of this user, this one included."""
    logout_everywhere(current_user._get_current_object())
    db.session.commit()
    flash("You are logged out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> t.Any:
    """Mail a password-reset link; the answer is the same for unknown addresses."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        assert form.email.data is not None
        user = find_user(form.email.data)
        if user is not None:
            link = url_for("auth.reset", token=make_reset_token(user), _external=True)
            send_mail(
                user.email,
                "Reset your erlen notes password",
                f"Hello {user.name},\n\nopen this link within an hour to choose"
                f" a new password:\n\n{link}\n\nIf you did not ask for it, ignore"
                " this mail.",
            )
        flash("If an account uses that address, a reset link is on its way.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> t.Any:
    """Choose a new password with the link from the mail; the link works once."""
    user = verify_reset_token(token)
    if not isinstance(user, User):
        abort(400, "This reset link has expired or was already used.")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        assert form.password.data is not None
        user.set_password(form.password.data)
        db.session.commit()
        flash("Your password is changed. Log in with it.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if form.errors else 200
