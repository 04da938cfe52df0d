"""The app's forms, as erlen-forms ``ErlenForm`` classes (WTForms fields and validators)."""

from __future__ import annotations

from wtforms import BooleanField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Regexp

from erlen_forms import ErlenForm

from .models import BODY_MAX
from .models import COMMENT_MAX
from .models import EMAIL_MAX
from .models import NAME_MAX
from .models import TITLE_MAX

PASSWORD_MIN = 8
PASSWORD_MAX = 200
#: Something, an @, something with a dot: the mail itself is the real check.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _strip(value: str | None) -> str | None:
    """Drop the spaces around what was typed."""
    return value.strip() if isinstance(value, str) else value


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired("Choose a password."),
            Length(
                PASSWORD_MIN,
                PASSWORD_MAX,
                f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            ),
        ],
    )


class NoteForm(ErlenForm):
    """Write or change a note."""

    title = StringField(
        "Title",
        filters=[_strip],
        validators=[
            DataRequired("Give the note a title."),
            Length(
                max=TITLE_MAX,
                message=f"Keep the title to {TITLE_MAX} characters or fewer.",
            ),
        ],
    )
    body = TextAreaField(
        "Text",
        filters=[_strip],
        validators=[
            Length(
                max=BODY_MAX,
                message=f"Keep the text to {BODY_MAX:,} characters or fewer.",
            )
        ],
    )


class CommentForm(ErlenForm):
    """Comment on a note."""

    body = TextAreaField(
        "Comment",
        filters=[_strip],
        validators=[
            DataRequired("Write something first."),
            Length(
                max=COMMENT_MAX,
                message=f"Keep comments to {COMMENT_MAX:,} characters or fewer.",
            ),
        ],
    )


class RegisterForm(ErlenForm):
    """Create an account."""

    name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Tell the team your name."), Length(max=NAME_MAX)],
    )
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
            Length(max=EMAIL_MAX),
        ],
    )
    password = _new_password("Password")
    confirm = PasswordField(
        "Repeat the password",
        validators=[EqualTo("password", "The two passwords differ.")],
    )


class LoginForm(ErlenForm):
    """Log in; ``next`` carries the page to go back to."""

    email = EmailField(
        "Email", filters=[_strip], validators=[DataRequired("Enter your email.")]
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password.")]
    )
    remember = BooleanField("Remember me on this device")
    next = HiddenField()


class ChangePasswordForm(ErlenForm):
    """Change the password, knowing the current one."""

    current = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    password = _new_password("New password")
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("password", "The two passwords differ.")],
    )


class ForgotPasswordForm(ErlenForm):
    """Ask for a password-reset link."""

    email = EmailField(
        "Email", filters=[_strip], validators=[DataRequired("Enter your email.")]
    )


class ResetPasswordForm(ErlenForm):
    """Choose a new password from a reset link."""

    password = _new_password("New password")
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("password", "The two passwords differ.")],
    )


class RevokeTokenForm(ErlenForm):
    """End one API token before it expires."""

    token = StringField(
        "Token",
        filters=[_strip],
        validators=[InputRequired("Paste the token to revoke."), Length(max=1000)],
    )
