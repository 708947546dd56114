"""Chat With an Expert: the conversation with Nextiva Support, kept on the server.

The admin starts a chat with their email and the account's security PIN, picks Technical
Support > User Setup / Settings > Something Else, and waits for an agent. The agent joins
after a delay (a fault setting), asks to confirm name, account number and PIN, then asks
what is needed. A request for call recording is recognised by the usernames it names and
answered with a case number ("Case 01234567") and the seed's follow-up: a test call of
about 60 seconds once recording is active. Fault settings make the agent leave, or ask
something the robot cannot answer, instead.

The chat lives in the store (a reload, or another tab, shows the same conversation) and
the session remembers which chat is the admin's. The account PIN is never stored in a
message: it is replaced by "[PIN]" before it is kept.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from flask import Blueprint, jsonify, request, session
from flask.typing import ResponseReturnValue

from mock_portal.nextiva.runtime import ChatFaults, current_portal
from mock_portal.nextiva.store import Case, Chat, ChatMessage, PortalData, Store, User
from mock_portal.nextiva.web import error_response

TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("How can we help?", ("Technical Support", "Billing", "Sales")),
    ("What do you need help with?", ("User Setup / Settings", "Phones & Devices", "Call Quality")),
    ("Which setting?", ("Voicemail", "Call Forwarding", "Something Else")),
)
AGENTS = ("Jamie", "Morgan", "Riley", "Casey")

ENTER_EMAIL = "Please enter your email address."
ENTER_PIN = "Please enter your 4-digit PIN."
PIN_NOT_VERIFIED = "We could not verify that PIN."
CONNECTING = "Connecting you to an expert…"
AGENT_LEFT = "The agent has left the chat."
CHAT_ENDED = "This chat has ended. Please start a new chat."
CONFIRM_IDENTITY = "Before we start, please confirm your name, account number and PIN."
NOT_VERIFIED = (
    "I'm sorry, I could not verify those details. Please confirm your name, account number and PIN."
)
WHAT_DO_YOU_NEED = "What can I help you with today?"
WHICH_USERS = (
    "Sure, I can set up call recording. Which users should have it? "
    "Please give each user's name and username."
)
TELL_ME_MORE = "I can help with that. Could you tell me a bit more about what you need?"
UNEXPECTED = "Before I set this up, could you tell me the MAC address of each user's desk phone?"
TEST_CALL = (
    "Once it is active, please place a test call of about 60 seconds so we can check the recording."
)
ANYTHING_ELSE = "Is there anything else I can help you with?"
GOODBYE = "You're welcome. Thank you for contacting Nextiva Support. Goodbye!"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_TEXT = 2000
_SESSION_KEY = "chat_id"


def mask_pin(text: str, pin: str) -> str:
    """`text` with the account PIN, standing as a number of its own, replaced by "[PIN]"."""
    return re.sub(rf"(?<!\d){re.escape(pin)}(?!\d)", "[PIN]", text)


def _mentions(text: str, username: str) -> bool:
    # A username ends where no username character follows ("dana.smith" is not named by
    # "dana.smithers"); a full stop ending the sentence still ends it.
    pattern = rf"(?<![\w.\-:\[\]]){re.escape(username)}(?![\w\-:\[\]]|\.\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _say(chat: Chat, who: str, text: str) -> None:
    chat.messages.append(ChatMessage(who, text))


def _advance(chat: Chat) -> None:
    """Let the clock act: the waiting admin is joined by the agent once the delay is over."""
    if chat.state == "waiting" and time.monotonic() >= chat.joins_at:
        chat.state = "verify"
        _say(chat, "portal", f"{chat.agent} from Nextiva Support joined the chat.")
        _say(chat, "agent", f"Hi, I'm {chat.agent}. {CONFIRM_IDENTITY}")


def _view(chat: Chat | None) -> dict[str, Any] | None:
    if chat is None:
        return None
    prompt, choices = TOPICS[chat.level] if chat.state == "topics" else ("", ())
    return {
        "id": chat.id,
        "state": chat.state,
        "prompt": prompt,
        "choices": list(choices),
        "agent": chat.agent,
        "messages": [{"who": m.who, "text": m.text} for m in chat.messages],
    }


def _mine(store: Store) -> Chat | None:
    """The signed-in admin's chat, unless ended."""
    chat_id = session.get(_SESSION_KEY)
    chat = next((c for c in store.data.chats if c.id == chat_id), None)
    if chat is None or chat.state == "ended":
        return None
    _advance(chat)
    return chat


def current() -> ResponseReturnValue:
    """The admin's chat as it stands (the browser draws it, and asks again while waiting)."""
    store = current_portal().store
    with store.lock:
        return jsonify(chat=_view(_mine(store)))


def start() -> ResponseReturnValue:
    """Start Chat's Continue: the admin's email and the account's security PIN."""
    payload = request.get_json(silent=True) or {}
    email = str(payload.get("email", "")).strip()
    pin = str(payload.get("pin", "")).strip()
    if not email or len(email) > 80 or not _EMAIL.fullmatch(email):
        return error_response(400, ENTER_EMAIL)
    if not (len(pin) == 4 and pin.isdigit()):
        return error_response(400, ENTER_PIN)
    portal = current_portal()
    store = portal.store
    with store.lock:
        if pin != store.data.account_pin:
            return error_response(400, PIN_NOT_VERIFIED)
        # The PIN proves who is asking; like every secret it is checked, never kept.
        chat = Chat(id=secrets.token_hex(8), email=email)
        store.data.chats.append(chat)
        session[_SESSION_KEY] = chat.id
        return jsonify(chat=_view(chat))


def _chat_or_error(store: Store, chat_id: str) -> Chat | ResponseReturnValue:
    chat = _mine(store)
    if chat is None or chat.id != chat_id:
        return error_response(404, CHAT_ENDED)
    return chat


def post(chat_id: str) -> ResponseReturnValue:
    """A topic chosen, or a message sent; the agent answers at once once it has joined."""
    payload = request.get_json(silent=True) or {}
    topic = str(payload.get("topic", "")).strip()
    text = str(payload.get("message", "")).strip()
    if len(topic) > 100 or len(text) > _MAX_TEXT:
        return error_response(400, "The message is too long.")
    portal = current_portal()
    store = portal.store
    with store.lock:
        found = _chat_or_error(store, chat_id)
        if not isinstance(found, Chat):
            return found
        chat = found
        if topic:
            if chat.state != "topics" or topic not in TOPICS[chat.level][1]:
                return error_response(400, "Please choose one of the options shown.")
            chat.topics.append(topic)
            chat.level += 1
            if chat.level == len(TOPICS):
                chat.state = "waiting"
                chat.agent = AGENTS[(len(store.data.chats) - 1) % len(AGENTS)]
                delay = portal.chat_faults.chat_agent_delay_ms / 1000
                chat.joins_at = time.monotonic() + delay
                _say(chat, "portal", CONNECTING)
                _advance(chat)
        elif text:
            if chat.state == "topics":
                return error_response(400, "Please choose one of the options shown.")
            if chat.state == "left":
                return error_response(409, AGENT_LEFT)
            _say(chat, "you", mask_pin(text, store.data.account_pin))
            _answer(chat, text, store.data, portal.chat_faults, portal.config.admin_display_name)
        return jsonify(chat=_view(chat))


def end(chat_id: str) -> ResponseReturnValue:
    """End Chat, confirmed: the conversation is over (and kept for the oracle)."""
    store = current_portal().store
    with store.lock:
        found = _chat_or_error(store, chat_id)
        if not isinstance(found, Chat):
            return found
        _say(found, "portal", "You ended the chat.")
        found.state = "ended"
        session.pop(_SESSION_KEY, None)
        return jsonify(chat=None)


def _verified(text: str, data: PortalData, admin_name: str) -> bool:
    words = set(re.findall(r"[\w'-]+", text.casefold()))
    named = any(part.casefold() in words for part in admin_name.split())
    number = re.search(rf"(?<!\d){data.account_number}(?!\d)", text) is not None
    pin = re.search(rf"(?<!\d){data.account_pin}(?!\d)", text) is not None
    return named and number and pin


def _answer(chat: Chat, text: str, data: PortalData, faults: ChatFaults, admin: str) -> None:
    """What the agent says to the admin's message `text` (the raw one, PIN and all)."""
    if chat.state == "waiting":
        return  # nobody there yet; the agent reads it on joining, and asks to verify anyway
    if chat.state == "verify":
        if _verified(text, data, admin):
            chat.state = "talk"
            _say(chat, "agent", f"Thank you, {admin.split()[0]}. You are verified.")
            _say(chat, "agent", WHAT_DO_YOU_NEED)
        else:
            _say(chat, "agent", NOT_VERIFIED)
        return
    wants_recording = "recording" in text.casefold()
    named: list[User] = [u for u in data.users if _mentions(text, u.username)]
    if not wants_recording:
        if re.search(r"\b(no|that's all|that is all|thanks|thank you)\b", text, re.IGNORECASE):
            _say(chat, "agent", GOODBYE)
        else:
            _say(chat, "agent", TELL_ME_MORE)
        return
    if faults.chat_agent_leaves:
        chat.state = "left"
        _say(chat, "portal", AGENT_LEFT)
        return
    if faults.chat_agent_unexpected:
        _say(chat, "agent", UNEXPECTED)
        return
    if not named:
        _say(chat, "agent", WHICH_USERS)
        return
    number = f"{data.next_case:08d}"
    data.next_case += 1
    data.cases.append(Case(number, [u.username for u in named], chat.id))
    names = ", ".join(f"{u.full_name} ({u.username})" for u in named)
    _say(chat, "agent", f"I have opened Case {number} to set up call recording for {names}.")
    _say(chat, "agent", TEST_CALL)
    _say(chat, "agent", ANYTHING_ELSE)


def fulfil(store: Store) -> list[dict[str, Any]]:
    """Support does every open case: call recording on for its users. Returns the cases."""
    done = []
    with store.lock:
        for case in store.data.cases:
            if case.status != "open":
                continue
            for username in case.usernames:
                user = store.user_named(username)
                if user is not None:
                    user.call_recording = True
            case.status = "done"
            done.append({"number": case.number, "usernames": list(case.usernames)})
    return done


def account_pin() -> ResponseReturnValue:
    """Show PIN on the dashboard: the account's security PIN, sent only when asked for."""
    store = current_portal().store
    with store.lock:
        return jsonify(pin=store.data.account_pin)


def register(bp: Blueprint, prefix: str) -> None:
    """Put the chat's and Show PIN's endpoints on `bp` under `prefix` ("/api", "/api/v2")."""
    bp.add_url_rule(f"{prefix}/chat", "chat_current", current, methods=["GET"])
    bp.add_url_rule(f"{prefix}/chat", "chat_start", start, methods=["POST"])
    bp.add_url_rule(f"{prefix}/chat/<chat_id>", "chat_post", post, methods=["POST"])
    bp.add_url_rule(f"{prefix}/chat/<chat_id>/end", "chat_end", end, methods=["POST"])
    bp.add_url_rule(f"{prefix}/account/pin", "account_pin", account_pin, methods=["GET"])
