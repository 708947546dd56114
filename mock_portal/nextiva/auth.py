"""Sign-in, sign-out and the guard that keeps everything else behind a live session."""

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

from mock_portal.nextiva.runtime import current_portal
from mock_portal.nextiva.web import SESSION_EXPIRED, start_url, wants_json
from mock_portal.sessions import regenerate

bp = Blueprint("auth", __name__)

INVALID_CREDENTIALS = "Invalid username or password."
SIGNED_OUT = "You have signed out."
_PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.sign_in",
        "auth.sign_in_post",
        "auth.restart",
        "static",
        # Variant c: the page shell, its stylesheet and the sign-in API.
        "spa.shell",
        "spa.stylesheet",
        "spa.session_info",
        "spa.sign_in",
    }
)
# Where an expired session's browser lands and learns why.
_LANDINGS = frozenset({"auth.sign_in", "spa.shell", "spa.session_info"})
_MAX_FIELD = 200


def _expired_or_signed_out(message: str | None) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=message or "Please sign in.", sign_in=start_url()), 401
    return redirect(start_url())


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
    if session.get("admin"):
        now = time.monotonic()
        count = int(session.get("requests", 0)) + 1
        idle = now - float(session.get("last_seen", now))
        too_many = settings.session_max_requests and count > settings.session_max_requests
        if idle > settings.session_idle_seconds or too_many:
            regenerate(session)
            session["expired"] = True
            if request.endpoint in _LANDINGS and request.method == "GET":
                return None
            return _expired_or_signed_out(SESSION_EXPIRED)
        session["last_seen"] = now
        session["requests"] = count
        return None
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return None
    if request.endpoint is None and portal.variant == "c":
        # A single-page portal's screens live in the browser: a guessed server path is
        # simply not there, signed in or not.
        return None
    return _expired_or_signed_out(None)


def init_app(app: Flask, *, pages: bool = True) -> None:
    """The guard for every request; `pages` adds the server-rendered sign-in screens."""
    app.before_request(guard)
    if pages:
        app.register_blueprint(bp)


def _render(step: str, *, alert: str | None = None, status: int = 200) -> ResponseReturnValue:
    portal = current_portal()
    if portal.variant == "b":
        step = "both"
    notices = get_flashed_messages()
    return (
        render_template(
            "sign_in.html",
            step=step,
            alert=alert,
            notices=notices,
            pending_username=session.get("pending_username", ""),
        ),
        status,
    )


@bp.get("/")
def sign_in() -> ResponseReturnValue:
    if session.get("admin"):
        return redirect(url_for("dashboard.index"))
    alert = SESSION_EXPIRED if session.pop("expired", False) else None
    step = "password" if session.get("pending_username") else "username"
    return _render(step, alert=alert)


@bp.get("/sign-in/restart")
def restart() -> ResponseReturnValue:
    session.pop("pending_username", None)
    return redirect(url_for("auth.sign_in"))


@bp.post("/")
def sign_in_post() -> ResponseReturnValue:
    if session.get("admin"):
        return redirect(url_for("dashboard.index"))
    portal = current_portal()
    form = request.form
    if len(form.get("username", "")) > _MAX_FIELD or len(form.get("password", "")) > _MAX_FIELD:
        return _render("username", alert=INVALID_CREDENTIALS, status=400)
    if "username" in form and "password" not in form and portal.variant == "a":
        username = form["username"].strip()
        if not username:
            return _render("username", alert="Enter your username or email.", status=400)
        session["pending_username"] = username
        return redirect(url_for("auth.sign_in"))
    username = (form.get("username") or session.get("pending_username") or "").strip()
    password = form.get("password", "")
    if not username:
        return _render("username", alert="Enter your username or email.", status=400)
    if not password:
        session["pending_username"] = username
        return _render("password", alert="Enter your password.", status=400)
    if not credentials_match(username, password):
        session["pending_username"] = username
        return _render("password", alert=INVALID_CREDENTIALS, status=401)
    start_admin_session()
    return redirect(url_for("dashboard.index"))


def credentials_match(username: str, password: str) -> bool:
    """Whether these are the admin's credentials, in the same time whichever is wrong."""
    config = current_portal().config
    # Both comparisons always run, so the answer takes as long for a wrong name as for a
    # wrong password.
    name_ok = secrets.compare_digest(username.casefold(), config.admin_username.casefold())
    password_ok = secrets.compare_digest(password.encode(), config.admin_password.encode())
    return name_ok and password_ok


def start_admin_session() -> None:
    """Sign the admin in under a fresh session id, and count the sign-in."""
    portal = current_portal()
    regenerate(session)
    session["admin"] = True
    session["last_seen"] = time.monotonic()
    session["requests"] = 0
    with portal.store.lock:
        portal.store.data.counters.sign_ins += 1


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    regenerate(session)
    flash(SIGNED_OUT)
    return redirect(url_for("auth.sign_in"))
