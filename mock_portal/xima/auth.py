"""Sign In, Sign Out, and the guard that keeps every other screen behind a live session."""

from __future__ import annotations

import secrets
import time

from flask import (
    Blueprint,
    Flask,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from mock_portal.sessions import regenerate
from mock_portal.xima.runtime import current_portal
from mock_portal.xima.sessions import ADMIN_KEY, LAST_SEEN_KEY
from mock_portal.xima.web import wants_json

bp = Blueprint("auth", __name__)

INVALID_CREDENTIALS = "Invalid email or password."
SESSION_EXPIRED = "Your session has expired."
SIGNED_OUT = "You have signed out."
_PUBLIC_ENDPOINTS = frozenset({"auth.sign_in", "auth.sign_in_post", "static"})
_MAX_FIELD = 200


def _to_sign_in(message: str | None) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=message or "Please sign in.", sign_in=url_for("auth.sign_in")), 401
    return redirect(url_for("auth.sign_in"))


def guard() -> ResponseReturnValue | None:
    """Runs before every request: latency, session expiry, and the signed-out wall.

    Registered before CSRF protection so that an expired session's write lands on
    sign-in (and is not applied) rather than being refused as a forgery.
    """
    if request.blueprint == "oracle":
        return None
    portal = current_portal()
    settings = portal.faults.settings
    portal.pause(settings.latency_ms)
    if request.endpoint == "static":
        return None
    if session.get(ADMIN_KEY):
        now = time.monotonic()
        count = int(session.get("requests", 0)) + 1
        idle = now - float(session.get(LAST_SEEN_KEY, now))
        too_many = settings.session_max_requests and count > settings.session_max_requests
        if idle > settings.session_idle_seconds or too_many:
            regenerate(session)
            session["expired"] = True
            if request.endpoint == "auth.sign_in" and request.method == "GET":
                return None
            return _to_sign_in(SESSION_EXPIRED)
        session[LAST_SEEN_KEY] = now
        session["requests"] = count
        return None
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return None
    return _to_sign_in(None)


def init_app(app: Flask) -> None:
    app.before_request(guard)
    app.register_blueprint(bp)


def _render(*, alert: str | None = None, email: str = "", status: int = 200) -> ResponseReturnValue:
    return (
        render_template("sign_in.html", alert=alert, notices=get_flashed_messages(), email=email),
        status,
    )


@bp.get("/")
def sign_in() -> ResponseReturnValue:
    if session.get(ADMIN_KEY):
        return redirect(url_for("users.users"))
    return _render(alert=SESSION_EXPIRED if session.pop("expired", False) else None)


@bp.post("/")
def sign_in_post() -> ResponseReturnValue:
    if session.get(ADMIN_KEY):
        return redirect(url_for("users.users"))
    portal = current_portal()
    config = portal.config
    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    if len(email) > _MAX_FIELD or len(password) > _MAX_FIELD:
        return _render(alert=INVALID_CREDENTIALS, status=400)
    if not email or not password:
        return _render(alert="Enter your email and password.", email=email, status=400)
    # Both comparisons always run, so the answer takes as long for a wrong email as for a
    # wrong password.
    email_ok = secrets.compare_digest(email.casefold(), config.admin_email.casefold())
    password_ok = secrets.compare_digest(password.encode(), config.admin_password.encode())
    if not (email_ok and password_ok):
        return _render(alert=INVALID_CREDENTIALS, email=email, status=401)
    regenerate(session)
    session[ADMIN_KEY] = config.admin_email
    session[LAST_SEEN_KEY] = time.monotonic()
    session["requests"] = 0
    with portal.store.lock:
        portal.store.data.counters.sign_ins += 1
    return redirect(url_for("users.users"))


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    regenerate(session)
    flash(SIGNED_OUT)
    return redirect(url_for("auth.sign_in"))
