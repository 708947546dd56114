"""Variant c: the portal as a single-page application.

The server sends one page shell (at the start URL and at the browser's own routes under
/app/, so that a reload or a bookmark works) and answers JSON under /api/v2/. Every screen
is drawn in the browser by static/spa.js. The JSON API goes through the same rules, store,
faults, session guard and CSRF protection as variants a and b, so the oracle sees the same
portal; only what PORTAL.md leaves free differs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from mock_portal.nextiva import account, auth, chat, users
from mock_portal.nextiva.runtime import current_portal
from mock_portal.nextiva.seed import DEVICE_MODELS, TIME_ZONES
from mock_portal.nextiva.store import User, format_phone
from mock_portal.nextiva.web import CHANGES_SAVED, SESSION_EXPIRED, error_response
from mock_portal.sessions import regenerate

bp = Blueprint("spa", __name__)

API = "/api/v2"
PAGE_SIZE = users.PAGE_SIZE
_MAX_QUERY = 100
_MAX_FIELD = 200
_STYLESHEET = Path(__file__).parent / "static" / "spa.css"


# ---------- the shell and its stylesheet ----------


@bp.get("/")
@bp.get("/app/")
@bp.get("/app/<path:route>")
def shell(route: str = "") -> ResponseReturnValue:
    """The one HTML page; the browser draws whichever screen its address names."""
    return render_template("spa.html", key=current_portal().ui_key)


@bp.get("/assets/<key>.css")
def stylesheet(key: str) -> ResponseReturnValue:
    """spa.css with this start's class prefix: class names change on every start."""
    portal = current_portal()
    if key != portal.ui_key:
        abort(404)
    css = _STYLESHEET.read_text(encoding="utf-8").replace("__K__", portal.ui_key)
    return Response(css, mimetype="text/css")


def _payload() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _form(payload: Mapping[str, Any]) -> dict[str, str]:
    """A JSON body as the rules read a form: text values, ticked boxes as "on"."""
    form: dict[str, str] = {}
    for key, value in payload.items():
        if isinstance(value, bool):
            form[key] = "on" if value else ""
        elif isinstance(value, str | int | float):
            form[key] = str(value)
    return form


def _fresh_csrf() -> str:
    # A new session id means a new token; the one cached for this request is the old one's.
    g.pop("csrf_token", None)
    return generate_csrf()


# ---------- signing in and out ----------


@bp.get(API + "/session")
def session_info() -> ResponseReturnValue:
    """Who is signed in, the form token, and what the sign-in screen must say."""
    portal = current_portal()
    settings = portal.faults.settings
    expired = session.pop("expired", False)
    signed_in = bool(session.get("admin"))
    return jsonify(
        signed_in=signed_in,
        admin_name=portal.config.admin_display_name if signed_in else None,
        pending_username=None if signed_in else session.get("pending_username"),
        alert=SESSION_EXPIRED if expired else None,
        csrf=generate_csrf(),
        banner=settings.banner,
        bubble_overlap=settings.bubble_overlap,
    )


@bp.post(API + "/sign-in")
def sign_in() -> ResponseReturnValue:
    """Step one takes the username, step two the password; both at once also works."""
    payload = _payload()
    username = str(payload.get("username") or "").strip()
    password = str(payload.get("password") or "")
    if len(username) > _MAX_FIELD or len(password) > _MAX_FIELD:
        return jsonify(error=auth.INVALID_CREDENTIALS), 400
    if session.get("admin"):
        return jsonify(signed_in=True, csrf=generate_csrf())
    if username and "password" not in payload:
        session["pending_username"] = username
        return jsonify(step="password", pending_username=username)
    username = username or str(session.get("pending_username") or "")
    if not username:
        return jsonify(error="Enter your username or email.", step="username"), 400
    if not password:
        session["pending_username"] = username
        return jsonify(error="Enter your password.", step="password"), 400
    if not auth.credentials_match(username, password):
        session["pending_username"] = username
        return jsonify(error=auth.INVALID_CREDENTIALS, step="password"), 401
    auth.start_admin_session()
    return jsonify(
        signed_in=True,
        admin_name=current_portal().config.admin_display_name,
        csrf=_fresh_csrf(),
    )


@bp.post(API + "/sign-in/restart")
def restart() -> ResponseReturnValue:
    session.pop("pending_username", None)
    return jsonify(step="username")


@bp.post(API + "/sign-out")
def sign_out() -> ResponseReturnValue:
    regenerate(session)
    return jsonify(notice=auth.SIGNED_OUT, csrf=_fresh_csrf())


# ---------- dashboard ----------


@bp.get(API + "/dashboard")
def dashboard_tiles() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        data = store.data
        tiles = {
            "users": len(data.users),
            "locations": len(data.locations),
            "free_numbers": sum(len(loc.free_numbers) for loc in data.locations),
            "devices": sum(1 for u in data.users if u.device),
        }
        account_number = data.account_number
    return jsonify(tiles=tiles, account={"number": account_number})


# The chat, Show PIN and the free numbers answer as in the other variants.
chat.register(bp, API)
bp.add_url_rule(API + "/locations/numbers", view_func=users.location_numbers)


# ---------- users ----------


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.full_name,
        "username": user.username,
        "email": user.email,
        "extension": user.extension,
        "phone_number": format_phone(user.phone_number),
        "location": user.location,
    }


@bp.get(API + "/users")
def user_list() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:_MAX_QUERY]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    store = current_portal().store
    with store.lock:
        found = store.search_users(query)
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        page = min(page, pages)
        rows = [_user_row(u) for u in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return jsonify(
        rows=rows,
        query=query,
        page=page,
        pages=pages,
        total=len(found),
        first=(page - 1) * PAGE_SIZE + 1,
    )


@bp.get(API + "/users/form")
def create_form() -> ResponseReturnValue:
    """What Create User offers: locations with their time zones, time zones, packages."""
    store = current_portal().store
    with store.lock:
        data = store.data
        return jsonify(
            locations=[{"name": loc.name, "time_zone": loc.time_zone} for loc in data.locations],
            time_zones=[{"value": tz, "label": label} for tz, label in TIME_ZONES.items()],
            packages=[p.name for p in data.packages],
        )


@bp.post(API + "/users")
def create() -> ResponseReturnValue:
    user, errors = users.create_user(_form(_payload()))
    if user is None:
        return error_response(400, " ".join(errors.values()), errors=errors)
    return jsonify(id=user.id), 201


def _user_or_404(user_id: int) -> User:
    user = current_portal().store.user(user_id)
    if user is None:
        abort(404, description="User not found.")
    return user


def _user_view(user: User) -> dict[str, Any]:
    """The user's page as the browser draws it; no secret, only whether one is set."""
    return {
        "id": user.id,
        "name": user.full_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "extension": user.extension,
        "phone_number": format_phone(user.phone_number),
        "unreachable_number": format_phone(user.unreachable_number),
        "location": user.location,
        "time_zone": TIME_ZONES.get(user.time_zone, user.time_zone),
        "package": user.package,
        "voicemail_to_email": user.voicemail_to_email,
        "authorized_user": user.authorized_user,
        "has_pin": bool(user.pin),
        "call_recording": user.call_recording,
        "e911_confirmed": user.e911_confirmed,
        "e911_address": str(user.e911_address) if user.e911_address else None,
        "device": (
            {
                "type": user.device.type,
                "auth_name": user.device.auth_name,
                "has_password": bool(user.device.auth_password),
            }
            if user.device
            else None
        ),
        "voicemail": {
            "email": user.voicemail.email,
            "send_attachment": user.voicemail.send_attachment,
        },
        "devices": list(DEVICE_MODELS),
    }


@bp.get(API + "/users/<int:user_id>")
def user_detail(user_id: int) -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        return jsonify(user=_user_view(_user_or_404(user_id)))


@bp.get(API + "/users/<int:user_id>/e911")
def e911(user_id: int) -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        user = _user_or_404(user_id)
        location = store.location(user.location)
        address = user.e911_address or (location.address if location else None)
        return jsonify(
            user={"id": user.id, "name": user.full_name, "username": user.username},
            address=(
                {
                    "street": address.street,
                    "city": address.city,
                    "state": address.state,
                    "zip_code": address.zip_code,
                }
                if address
                else None
            ),
        )


@bp.post(API + "/users/<int:user_id>/e911")
def e911_save(user_id: int) -> ResponseReturnValue:
    errors = users.confirm_e911(user_id, _form(_payload()))
    if errors:
        return error_response(400, " ".join(errors.values()), errors=errors)
    return jsonify(message=CHANGES_SAVED)


@bp.post(API + "/users/<int:user_id>/<any(device, voicemail, security):section>")
def save_section(user_id: int, section: str) -> ResponseReturnValue:
    user, errors = users.apply_section(user_id, section, _form(_payload()))
    store = current_portal().store
    with store.lock:
        view = _user_view(user)
    if errors:
        return error_response(400, " ".join(errors.values()), errors=errors, user=view)
    return jsonify(message=CHANGES_SAVED, user=view)


# ---------- My Account and licences ----------


@bp.get(API + "/account")
def account_overview() -> ResponseReturnValue:
    return jsonify(admin_name=current_portal().config.admin_display_name)


@bp.get(API + "/licenses")
def licenses() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        rows = [
            {"index": i, "name": lic.name, "used": lic.seats_used, "total": lic.seats_total}
            for i, lic in enumerate(store.data.licenses)
        ]
    return jsonify(licenses=rows)


def _assign_view(index: int, query: str) -> dict[str, Any]:
    store = current_portal().store
    with store.lock:
        license_ = store.license_at(index)
        if license_ is None:
            abort(404, description="License not found.")
        held = set(license_.assigned)
        return {
            "license": {
                "name": license_.name,
                "used": license_.seats_used,
                "total": license_.seats_total,
            },
            "query": query,
            "users": [
                {"username": u.username, "label": u.license_label, "checked": u.username in held}
                for u in store.search_users(query)
            ],
        }


@bp.get(API + "/licenses/<int:index>/assign")
def assign(index: int) -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:_MAX_QUERY]
    return jsonify(_assign_view(index, query))


def _names(value: object) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


@bp.post(API + "/licenses/<int:index>/assign")
def assign_save(index: int) -> ResponseReturnValue:
    payload = _payload()
    query = str(payload.get("q") or "").strip()[:_MAX_QUERY]
    shown = _names(payload.get("shown"))
    selected = _names(payload.get("selected"))
    alert = account.assign_licence(index, shown, selected)
    if alert:
        return error_response(400, alert, **_assign_view(index, query))
    return jsonify(message=CHANGES_SAVED, **_assign_view(index, query))
