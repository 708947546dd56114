"""A mock of the Nextiva Voice admin portal, for developing and testing the robot.

It keeps the contract of PORTAL.md (screens, accessible names, messages) and adds an
oracle at /__mock__/ that tells tests the portal's true state and injects faults.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, get_flashed_messages, session
from flask_wtf.csrf import CSRFProtect

from mock_portal import hosts
from mock_portal.nextiva import account, auth, dashboard, errors, oracle, spa, users
from mock_portal.nextiva.config import PortalConfig
from mock_portal.nextiva.runtime import EXTENSION_KEY, MockPortal
from mock_portal.nextiva.seed import TIME_ZONES
from mock_portal.nextiva.store import format_phone
from mock_portal.nextiva.web import dom_id, dropdown_kind
from mock_portal.sessions import MemorySessionInterface

__all__ = ["PortalConfig", "create_app"]


def create_app(
    config: PortalConfig | None = None, *, clock: Callable[[], float] = time.monotonic
) -> Flask:
    """Build one portal instance; each has its own data, sessions and faults.

    `clock` times the sessions and their count, for tests. The sign-in guard reads
    `time.monotonic` itself, so a test that moves this clock must move the guard's too.
    """
    config = config or PortalConfig.from_env()
    app = Flask(__name__)
    app.config["PORTAL"] = config
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="nv_session",
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        # The session's own expiry is the only clock a form's token should obey.
        WTF_CSRF_TIME_LIMIT=None,
    )
    sessions = MemorySessionInterface(
        idle_seconds=lambda: app.extensions[EXTENSION_KEY].faults.settings.session_idle_seconds,
        clock=clock,
    )
    app.session_interface = sessions
    app.extensions[EXTENSION_KEY] = MockPortal(config, sessions)

    # A request for another host name (DNS rebinding) is refused before anything else.
    hosts.init_app(app)
    single_page = config.variant == "c"
    # The guard must run before CSRF checks: an expired session's write lands on sign-in.
    auth.init_app(app, pages=not single_page)
    csrf = CSRFProtect(app)
    csrf.exempt(oracle.bp)
    if single_page:
        # Only the shell and the JSON API: the screens' server paths of a and b are 404.
        app.register_blueprint(spa.bp)
    else:
        app.register_blueprint(dashboard.bp)
        app.register_blueprint(users.bp)
        app.register_blueprint(account.bp)
    app.register_blueprint(oracle.bp)
    errors.init_app(app)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        portal = app.extensions[EXTENSION_KEY]
        return {
            "variant": config.variant,
            "faults": portal.faults.settings,
            "admin_name": config.admin_display_name,
            "signed_in": bool(session.get("admin")),
            "dom_id": dom_id,
            "dropdown_kind": dropdown_kind,
            "format_phone": format_phone,
            "time_zone_label": lambda tz: TIME_ZONES.get(tz, tz),
            "flashes": lambda: get_flashed_messages(with_categories=True),
            "chat_active": lambda: bool(session.get("chat_id")),
        }

    return app
