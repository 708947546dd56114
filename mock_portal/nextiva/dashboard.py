"""The dashboard, the other top-menu areas, and the Chat With an Expert conversation."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from mock_portal.nextiva import chat
from mock_portal.nextiva.runtime import current_portal

bp = Blueprint("dashboard", __name__)

# Top-menu entries besides Users: present as a real portal's are, with nothing behind them.
AREAS: dict[str, str] = {
    "numbers": "Numbers",
    "devices": "Devices",
    "call-flows": "Call Flows",
    "reports": "Reports",
    "help-center": "Help Center",
}


@bp.get("/dashboard")
def index() -> ResponseReturnValue:
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
    return render_template("dashboard.html", tiles=tiles, account_number=account_number)


@bp.get("/area/<slug>")
def area(slug: str) -> ResponseReturnValue:
    if slug not in AREAS:
        abort(404)
    return render_template("area.html", title=AREAS[slug])


# Chat With an Expert and the account summary's Show PIN.
chat.register(bp, "/api")
