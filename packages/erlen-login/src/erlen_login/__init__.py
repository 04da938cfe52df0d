"""erlen-login: Flask-Login's API for erlen, with the security it leaves to each app.

.. code-block:: python

    from erlen_login import LoginManager, UserMixin, login_user, current_user

    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id):
        return db.session.get(User, int(user_id))
"""

from __future__ import annotations

from .config import COOKIE_DURATION as COOKIE_DURATION
from .config import COOKIE_HTTPONLY as COOKIE_HTTPONLY
from .config import COOKIE_NAME as COOKIE_NAME
from .config import COOKIE_SAMESITE as COOKIE_SAMESITE
from .config import COOKIE_SECURE as COOKIE_SECURE
from .config import ID_ATTRIBUTE as ID_ATTRIBUTE
from .config import LOGIN_MESSAGE as LOGIN_MESSAGE
from .config import LOGIN_MESSAGE_CATEGORY as LOGIN_MESSAGE_CATEGORY
from .config import REFRESH_MESSAGE as REFRESH_MESSAGE
from .config import REFRESH_MESSAGE_CATEGORY as REFRESH_MESSAGE_CATEGORY
from .login_manager import LoginManager as LoginManager
from .mixins import AnonymousUserMixin as AnonymousUserMixin
from .mixins import RoleMixin as RoleMixin
from .mixins import UserMixin as UserMixin
from .passwords import hash_password as hash_password
from .passwords import PasswordHasher as PasswordHasher
from .passwords import verify_password as verify_password
from .roles import permission_required as permission_required
from .roles import roles_accepted as roles_accepted
from .roles import roles_required as roles_required
from .signals import session_protected as session_protected
from .signals import user_accessed as user_accessed
from .signals import user_loaded_from_cookie as user_loaded_from_cookie
from .signals import user_loaded_from_request as user_loaded_from_request
from .signals import user_logged_in as user_logged_in
from .signals import user_logged_out as user_logged_out
from .signals import user_login_confirmed as user_login_confirmed
from .signals import user_needs_refresh as user_needs_refresh
from .signals import user_unauthorized as user_unauthorized
from .test_client import ErlenLoginClient as ErlenLoginClient
from .throttle import LoginThrottled as LoginThrottled
from .throttle import MemoryThrottleStore as MemoryThrottleStore
from .throttle import RedisThrottleStore as RedisThrottleStore
from .tokens import make_auth_token as make_auth_token
from .tokens import make_confirm_token as make_confirm_token
from .tokens import make_reset_token as make_reset_token
from .tokens import revoke_auth_token as revoke_auth_token
from .tokens import verify_confirm_token as verify_confirm_token
from .tokens import verify_reset_token as verify_reset_token
from .utils import authenticate as authenticate
from .utils import confirm_login as confirm_login
from .utils import current_user as current_user
from .utils import decode_cookie as decode_cookie
from .utils import encode_cookie as encode_cookie
from .utils import fresh_login_required as fresh_login_required
from .utils import get_next_url as get_next_url
from .utils import login_exempt as login_exempt
from .utils import login_fresh as login_fresh
from .utils import login_remembered as login_remembered
from .utils import login_required as login_required
from .utils import login_url as login_url
from .utils import login_user as login_user
from .utils import logout_everywhere as logout_everywhere
from .utils import logout_user as logout_user
from .utils import make_next_param as make_next_param
from .utils import set_login_view as set_login_view

__version__ = "0.1.0"
