"""Helpers every blueprint shares: telling fetch() calls from page loads, answering errors."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mock_portal.nextiva.runtime import current_portal

SOMETHING_WENT_WRONG = "Something went wrong. Please try again."
SESSION_EXPIRED = "Your session has expired. Please sign in again."
CHANGES_SAVED = "Changes saved."

# Which dropdowns are ARIA comboboxes in each variant; the others are native <select>s.
_ARIA_DROPDOWNS = {
    "a": frozenset({"location", "phone_number"}),
    "b": frozenset({"package", "time_zone", "device"}),
    "c": frozenset(),
}


def wants_json() -> bool:
    """Whether the request came from the portal's own fetch() calls rather than navigation."""
    return (
        request.path.startswith("/api/")
        or request.headers.get("X-Requested-With") == "fetch"
        or request.accept_mimetypes.best == "application/json"
    )


def wants_fragment() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def dropdown_kind(field: str) -> str:
    """'aria' or 'native' for a dropdown field in this portal's variant."""
    return "aria" if field in _ARIA_DROPDOWNS[current_portal().variant] else "native"


def dom_id(name: str) -> str:
    """An element id; variant b spells them differently so nothing can lean on ids."""
    if current_portal().variant == "a":
        return name.replace("_", "-")
    if current_portal().variant == "c":
        return f"{current_portal().ui_key}-{name}"
    return "nx-" + hashlib.blake2s(name.encode(), digest_size=5).hexdigest()


def start_url() -> str:
    """The start URL, where signing in happens, whichever kind of portal this is."""
    if "auth" in current_app.blueprints:
        return url_for("auth.sign_in")
    return url_for("spa.shell")


def error_response(status: int, message: str, **extra: Any) -> ResponseReturnValue:
    """An error as JSON for fetch() or as a page with the message in an alert."""
    if wants_json():
        return jsonify(error=message, **extra), status
    if current_portal().variant == "c":
        # The single-page portal's server has no screens of its own, only this bare page.
        return render_template("spa_error.html", message=message, status=status), status
    return render_template("error.html", message=message, status=status), status
