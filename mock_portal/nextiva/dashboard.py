"""The dashboard, the other top-menu areas, and the Chat With an Expert conversation."""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from mock_portal.nextiva.runtime import current_portal
from mock_portal.nextiva.web import error_response

bp = Blueprint("dashboard", __name__)

# Top-menu entries besides Users: present as a real portal's are, with nothing behind them.
AREAS: dict[str, str] = {
    "numbers": "Numbers",
    "devices": "Devices",
    "call-flows": "Call Flows",
    "reports": "Reports",
    "help-center": "Help Center",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
AGENT_REPLY = "Thanks, I have your request. We will set this up and confirm by email."


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
    return render_template("dashboard.html", tiles=tiles)


@bp.get("/area/<slug>")
def area(slug: str) -> ResponseReturnValue:
    if slug not in AREAS:
        abort(404)
    return render_template("area.html", title=AREAS[slug])


@bp.post("/api/chat")
def chat_start() -> ResponseReturnValue:
    payload = request.get_json(silent=True) or {}
    email = str(payload.get("email", "")).strip()
    pin = str(payload.get("pin", ""))
    if not _EMAIL.fullmatch(email) or len(email) > 80:
        return error_response(400, "Enter a valid email address.")
    if not (len(pin) == 4 and pin.isdigit()):
        return error_response(400, "PIN must be 4 digits.")
    store = current_portal().store
    chat_id = secrets.token_hex(8)
    with store.lock:
        # The PIN proves who is asking; like every secret it is checked, never kept.
        store.data.chats.append({"id": chat_id, "email": email, "topics": [], "messages": []})
    return jsonify(id=chat_id)


@bp.post("/api/chat/<chat_id>")
def chat_message(chat_id: str) -> ResponseReturnValue:
    payload = request.get_json(silent=True) or {}
    topic = str(payload.get("topic", "")).strip()
    text = str(payload.get("message", "")).strip()
    if len(topic) > 100 or len(text) > 2000:
        return error_response(400, "The message is too long.")
    store = current_portal().store
    with store.lock:
        chat = next((c for c in store.data.chats if c["id"] == chat_id), None)
        if chat is None:
            return error_response(404, "This chat has ended. Please start a new chat.")
        if topic:
            chat["topics"].append(topic)
        if text:
            chat["messages"].append(text)
    return jsonify(reply=AGENT_REPLY if text else None)
