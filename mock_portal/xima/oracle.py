"""The test oracle at /__mock__/: read the account's true state, reset it, set its faults.

For tests and robots on this machine, never for a browser: it answers loopback clients
only, addressed by a loopback host name (a page that rebinds its own name to 127.0.0.1
is refused), sent without the headers every browser adds (Origin, Sec-Fetch-Site), and
its writes take a JSON object only (a form posted from another site is refused).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from mock_portal.xima.runtime import current_portal

bp = Blueprint("oracle", __name__, url_prefix="/__mock__")

_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    if host.casefold() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name() -> str:
    host = request.host
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0]


@bp.before_request
def protect() -> None:
    if not _is_loopback(request.remote_addr or ""):
        abort(403, description="The mock portal's oracle answers loopback clients only.")
    if not _is_loopback(_host_name()):
        abort(403, description="The mock portal's oracle answers loopback host names only.")
    if "Origin" in request.headers or "Sec-Fetch-Site" in request.headers:
        abort(403, description="The mock portal's oracle does not answer browsers.")


def _json_object() -> dict[str, Any] | None:
    if not request.is_json:
        return None
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else None


@bp.get("/state")
def state() -> ResponseReturnValue:
    return jsonify(current_portal().snapshot())


@bp.get("/secrets")
def secrets() -> ResponseReturnValue:
    """The users' secrets and the admin password, kept out of /state, for leak tests."""
    portal = current_portal()
    return jsonify(secrets=[*portal.store.secrets(), portal.config.admin_password])


@bp.get("/sessions")
def sessions() -> ResponseReturnValue:
    """Signed-in sessions live now, and the most live at once since start or reset."""
    return jsonify(current_portal().sessions.counter.counts())


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    if _json_object() is None:
        return jsonify(error="Send a JSON object, such as {}."), 415
    portal = current_portal()
    portal.reset()
    return jsonify(ok=True, faults=portal.faults.describe())


@bp.post("/faults")
def faults() -> ResponseReturnValue:
    payload = _json_object()
    if payload is None:
        return jsonify(error='Send a JSON object such as {"profile": "flaky"}.'), 415
    profile = payload.pop("profile", "none")
    try:
        settings = current_portal().faults.configure(str(profile), payload)
    except ValueError as e:
        return jsonify(error=str(e)), 400
    return jsonify(settings)
