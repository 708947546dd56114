"""How the portal answers what goes wrong: forged forms, unknown pages, injected failures."""

from __future__ import annotations

from flask import Flask
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mock_portal.nextiva.runtime import InjectedFailure
from mock_portal.nextiva.web import SOMETHING_WENT_WRONG, error_response

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
