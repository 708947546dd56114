"""A mock of the Xima UCaaS admin portal, for developing and testing the robot.

It keeps the Xima section of PORTAL.md (screens, accessible names, messages), enforces
every rule on the server, and adds an oracle at /__mock__/ that tells tests the account's
true state and injects the same faults as the Nextiva mock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, get_flashed_messages, session
from flask_wtf.csrf import CSRFProtect

from mock_portal.xima import areas, auth, oracle, users, web
from mock_portal.xima.config import XimaConfig
from mock_portal.xima.runtime import EXTENSION_KEY, XimaPortal
from mock_portal.xima.sessions import ADMIN_KEY

__all__ = ["XimaConfig", "create_app"]


def create_app(
    config: XimaConfig | None = None, *, clock: Callable[[], float] = time.monotonic
) -> Flask:
    """Build one Xima portal instance; each has its own data, sessions and faults.

    `clock` times the sessions and their count, for tests. The sign-in guard reads
    `time.monotonic` itself, so a test that moves this clock must move the guard's too.
    """
    config = config or XimaConfig.from_env()
    app = Flask(__name__)
    app.config["PORTAL"] = config
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="xima_session",
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        # The session's own expiry is the only clock a form's token should obey.
        WTF_CSRF_TIME_LIMIT=None,
    )
    portal = XimaPortal(config, clock)
    app.session_interface = portal.sessions
    app.extensions[EXTENSION_KEY] = portal

    # The guard must run before CSRF checks: an expired session's write lands on sign-in.
    auth.init_app(app)
    csrf = CSRFProtect(app)
    csrf.exempt(oracle.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(areas.bp)
    app.register_blueprint(oracle.bp)
    web.init_app(app)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "faults": portal.faults.settings,
            "admin_name": config.admin_display_name,
            "signed_in": bool(session.get(ADMIN_KEY)),
            "format_phone": web.format_phone,
            "flashes": lambda: get_flashed_messages(with_categories=True),
        }

    return app
