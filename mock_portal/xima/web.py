"""How the Xima mock answers: page or JSON, and the errors it shows.

Kept here rather than borrowed from the Nextiva mock's `web.py` and `errors.py`, whose
answers follow Nextiva's variants; Xima's wording and pages are its own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

SOMETHING_WENT_WRONG = "Something went wrong. Please try again."
FORGED_FORM = (
    "This form has expired or did not come from the portal. Reload the page and try again."
)
_MESSAGES = {
    400: "The request could not be understood. Reload the page and try again.",
    403: "You do not have access to this page.",
    404: "Page not found.",
    405: "That action is not available here.",
    413: "The request is too large.",
}


class InjectedFailure(Exception):
    """A write the fault profile answers with HTTP 500."""


def wants_json() -> bool:
    """Whether the request came from the portal's own fetch() calls rather than navigation."""
    return (
        request.path.startswith(("/api/", "/__mock__/"))
        or request.headers.get("X-Requested-With") == "fetch"
        or request.accept_mimetypes.best == "application/json"
    )


def wants_fragment() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def format_phone(number: str | None) -> str:
    """'8015550143' -> '(801) 555-0143', as the portal shows numbers."""
    if not number or len(number) != 10:
        return number or ""
    return f"({number[:3]}) {number[3:6]}-{number[6:]}"


def error_response(status: int, message: str, **extra: Any) -> ResponseReturnValue:
    """An error as JSON for fetch() or as a page with the message in an alert."""
    if wants_json():
        return jsonify(error=message, **extra), status
    return render_template("error.html", message=message, status=status), status


def _csrf(_: CSRFError) -> ResponseReturnValue:
    return error_response(400, FORGED_FORM)


def _http(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    # abort(404, description=...) carries a message written for the admin; the defaults don't.
    default = type(error).description
    message = error.description if error.description != default else None
    return error_response(status, message or _MESSAGES.get(status, SOMETHING_WENT_WRONG))


def _injected(_: InjectedFailure) -> ResponseReturnValue:
    return error_response(500, SOMETHING_WENT_WRONG)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(InjectedFailure, _injected)
