"""The login signals, sent with the app as sender (same names as Flask-Login)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A user logged in with :func:`login_user`; receives ``user``.
user_logged_in = _signals.signal("logged-in")

#: A user logged out with :func:`logout_user`; receives ``user``.
user_logged_out = _signals.signal("logged-out")

#: A user was loaded from the remember-me cookie; receives ``user``.
user_loaded_from_cookie = _signals.signal("loaded-from-cookie")

#: A user was loaded by the request loader or a bearer token; receives ``user``.
user_loaded_from_request = _signals.signal("loaded-from-request")

#: :func:`confirm_login` marked the session fresh again.
user_login_confirmed = _signals.signal("login-confirmed")

#: ``unauthorized()`` ran: a visitor reached a page that needs a login.
user_unauthorized = _signals.signal("unauthorized")

#: ``needs_refresh()`` ran: a page needs a fresh login.
user_needs_refresh = _signals.signal("needs-refresh")

#: The user was loaded for this request (the first use of ``current_user``).
user_accessed = _signals.signal("accessed")

#: Session protection found a different client identifier.
session_protected = _signals.signal("session-protected")
