"""The test oracle at /__mock__/: read the portal's true state, reset it, set its faults.

Loopback clients only, and no sign-in or CSRF token: it is for the tests and robots
running on the same machine, never for a browser. A browser on this machine is still a
loopback client, so the writing endpoints also refuse what a page of another site could
send them: anything but a JSON body (a cross-site form cannot send one without a CORS
preflight, which the portal never grants) and any request that says it comes from
another site. The Host check of `hosts` keeps out pages that rebind their own name to
this machine.
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from mock_portal.nextiva import chat
from mock_portal.nextiva.runtime import CHAT_SETTINGS, ChatFaults, current_portal

bp = Blueprint("oracle", __name__, url_prefix="/__mock__")


@bp.before_request
def loopback_only() -> None:
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        abort(403, description="The mock portal's oracle answers loopback clients only.")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype != "application/json":
        abort(415, description="The oracle takes JSON only (Content-Type: application/json).")
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        abort(403, description="The oracle refuses requests from other sites.")
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        abort(403, description="The oracle refuses requests from other sites.")


@bp.get("/state")
def state() -> ResponseReturnValue:
    return jsonify(current_portal().store.snapshot())


@bp.get("/secrets")
def secrets() -> ResponseReturnValue:
    """The users' secrets, kept out of /state, for leak tests on this machine."""
    return jsonify(secrets=current_portal().store.secrets())


@bp.get("/sessions")
def sessions() -> ResponseReturnValue:
    """Signed-in sessions live now, and the most live at once since start or reset."""
    return jsonify(current_portal().sessions.counter.counts())


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    portal = current_portal()
    portal.reset()
    return jsonify(ok=True, faults={**portal.faults.describe(), **portal.chat_faults.describe()})


@bp.post("/faults")
def faults() -> ResponseReturnValue:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error='Send a JSON object such as {"profile": "flaky"}.'), 400
    profile = str(payload.pop("profile", "none"))
    # The chat's agent has settings of its own; like the others, a profile resets them.
    chat_overrides = {name: payload.pop(name) for name in CHAT_SETTINGS if name in payload}
    portal = current_portal()
    chat_faults = ChatFaults.for_profile(profile)
    try:
        chat_faults.configure(chat_overrides)
        settings = portal.faults.configure(profile, payload)
    except ValueError as e:
        return jsonify(error=str(e)), 400
    portal.chat_faults = chat_faults
    return jsonify({**settings, **chat_faults.describe()})


@bp.post("/fulfil")
def fulfil() -> ResponseReturnValue:
    """Support's side: every open case done, its users' call recording turned on."""
    return jsonify(fulfilled=chat.fulfil(current_portal().store))
