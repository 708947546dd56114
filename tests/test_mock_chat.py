"""The mock's Chat With an Expert, account summary and call-recording cases, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from mock_portal.nextiva import chat as agent
from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from tests.test_mock_http import ADMIN, PASSWORD, Admin, faults, state, user_in

ACCOUNT_NUMBER = "4820117"
ACCOUNT_PIN = "0739"
TOPICS = ("Technical Support", "User Setup / Settings", "Something Else")
IDENTITY = f"Alex Admin, account number {ACCOUNT_NUMBER}, PIN {ACCOUNT_PIN}"


@pytest.fixture
def app() -> Flask:
    return create_app(
        PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, admin_display_name="Alex Admin")
    )


@pytest.fixture
def admin(app: Flask) -> Admin:
    signed_in = Admin(app)
    signed_in.sign_in()
    return signed_in


def call(admin: Admin, path: str, payload: dict[str, Any] | None = None) -> TestResponse:
    headers = {"X-CSRFToken": admin.csrf, "Accept": "application/json"}
    if payload is None:
        return admin.client.get(path, headers=headers)
    return admin.client.post(path, json=payload, headers=headers)


def start(admin: Admin, pin: str = ACCOUNT_PIN) -> TestResponse:
    return call(admin, "/api/chat", {"email": "alex@example.com", "pin": pin})


def to_agent(admin: Admin) -> dict[str, Any]:
    """Start a chat and choose the three topics; the chat as it then stands."""
    chat = start(admin).get_json()["chat"]
    for topic in TOPICS:
        answer = call(admin, f"/api/chat/{chat['id']}", {"topic": topic})
        assert answer.status_code == 200, answer.get_json()
        chat = answer.get_json()["chat"]
    return chat


def say(admin: Admin, chat_id: str, text: str) -> dict[str, Any]:
    answer = call(admin, f"/api/chat/{chat_id}", {"message": text})
    assert answer.status_code == 200, answer.get_json()
    chat: dict[str, Any] = answer.get_json()["chat"]
    return chat


def texts(chat: dict[str, Any]) -> list[str]:
    return [message["text"] for message in chat["messages"]]


@pytest.mark.parametrize(
    ("email", "pin", "message"),
    [
        ("", ACCOUNT_PIN, agent.ENTER_EMAIL),
        ("alex@example.com", "12", agent.ENTER_PIN),
        ("alex@example.com", "", agent.ENTER_PIN),
        ("alex@example.com", "1234", agent.PIN_NOT_VERIFIED),
    ],
)
def test_start_chat_refuses_a_missing_email_or_a_wrong_pin(
    admin: Admin, app: Flask, email: str, pin: str, message: str
) -> None:
    """Continue without an email, a 4-digit PIN or the account's PIN starts no chat."""
    answer = call(admin, "/api/chat", {"email": email, "pin": pin})
    assert answer.status_code == 400 and answer.get_json()["error"] == message
    assert state(app)["chats"] == []


def test_the_agent_joins_after_the_delay_and_the_chat_survives_a_reload(
    admin: Admin, app: Flask
) -> None:
    """After the topics the admin waits; the agent joins once the delay is over."""
    faults(app, chat_agent_delay_ms=60_000)
    chat = to_agent(admin)
    assert chat["state"] == "waiting" and texts(chat) == [agent.CONNECTING]
    # A page load asks the server again and finds the same conversation.
    assert call(admin, "/api/chat").get_json()["chat"]["id"] == chat["id"]
    faults(app, chat_agent_delay_ms=0)
    fresh = Admin(app)
    fresh.sign_in()
    joined = to_agent(fresh)
    assert joined["state"] == "verify"
    assert f"{joined['agent']} from Nextiva Support joined the chat." in texts(joined)
    assert "confirm your name, account number and PIN" in texts(joined)[-1]


def test_a_verified_request_naming_users_files_one_case_and_fulfil_turns_recording_on(
    admin: Admin, app: Flask
) -> None:
    """Name, account number and PIN verify; the usernames named make the case; Support does it."""
    faults(app, chat_agent_delay_ms=0)
    chat = to_agent(admin)
    chat = say(admin, chat["id"], "Alex Admin, account 4820117, PIN 0000")
    assert texts(chat)[-1] == agent.NOT_VERIFIED
    chat = say(admin, chat["id"], IDENTITY)
    assert chat["state"] == "talk" and texts(chat)[-1] == agent.WHAT_DO_YOU_NEED
    chat = say(admin, chat["id"], "Please set up call recording for two new users.")
    assert texts(chat)[-1] == agent.WHICH_USERS
    assert state(app)["cases"] == []
    chat = say(
        admin,
        chat["id"],
        "Please set up call recording for Dana Smith (dana.smith) and Miguel Alvarez "
        "(miguel.alvarez).",
    )
    [case] = state(app)["cases"]
    assert case["usernames"] == ["dana.smith", "miguel.alvarez"] and case["status"] == "open"
    assert any(f"Case {case['number']}" in text for text in texts(chat))
    assert len(case["number"]) == 8 and case["number"].isdigit()
    assert agent.TEST_CALL in texts(chat)
    [kept] = state(app)["chats"]
    assert all(ACCOUNT_PIN not in text for text in texts(kept))
    assert f"Alex Admin, account number {ACCOUNT_NUMBER}, PIN [PIN]" in texts(kept)
    assert user_in(app, "dana.smith")["call_recording"] is False  # type: ignore[index]

    fulfilled = app.test_client().post("/__mock__/fulfil", json={}).get_json()["fulfilled"]
    assert fulfilled == [{"number": case["number"], "usernames": case["usernames"]}]
    assert user_in(app, "dana.smith")["call_recording"] is True  # type: ignore[index]
    assert user_in(app, "dana.smithers")["call_recording"] is False  # type: ignore[index]
    assert state(app)["cases"][0]["status"] == "done"


@pytest.mark.parametrize(
    ("setting", "last_words"),
    [("chat_agent_leaves", agent.AGENT_LEFT), ("chat_agent_unexpected", agent.UNEXPECTED)],
)
def test_an_agent_that_leaves_or_asks_something_else_files_nothing(
    admin: Admin, app: Flask, setting: str, last_words: str
) -> None:
    """With the fault on, the request gets no case: the agent leaves or asks something else."""
    overrides: dict[str, Any] = {"chat_agent_delay_ms": 0, setting: True}
    faults(app, "none", **overrides)
    chat = to_agent(admin)
    say(admin, chat["id"], IDENTITY)
    chat = say(admin, chat["id"], "Please set up call recording for Dana Smith (dana.smith).")
    assert texts(chat)[-1] == last_words
    assert state(app)["cases"] == []


def test_after_the_agent_left_nothing_more_can_be_sent_but_the_chat_can_be_ended(
    admin: Admin, app: Flask
) -> None:
    """A message to an agent who left is refused; End Chat ends the conversation."""
    faults(app, chat_agent_delay_ms=0, chat_agent_leaves=True)
    chat = to_agent(admin)
    say(admin, chat["id"], IDENTITY)
    say(admin, chat["id"], "Call recording for dana.smith, please.")
    refused = call(admin, f"/api/chat/{chat['id']}", {"message": "Hello?"})
    assert refused.status_code == 409 and refused.get_json()["error"] == agent.AGENT_LEFT
    assert call(admin, f"/api/chat/{chat['id']}/end", {}).status_code == 200
    assert call(admin, "/api/chat").get_json()["chat"] is None
    assert state(app)["chats"][0]["state"] == "ended"


def test_show_pin_needs_a_signed_in_admin_and_the_pin_stays_out_of_the_state(
    admin: Admin, app: Flask
) -> None:
    """The dashboard shows the account number and dots; Show PIN asks for the PIN."""
    page = admin.client.get("/dashboard").text
    assert "Account Number" in page and ACCOUNT_NUMBER in page and "Show PIN" in page
    assert ACCOUNT_PIN not in page
    assert call(admin, "/api/account/pin").get_json() == {"pin": ACCOUNT_PIN}
    assert app.test_client().get("/api/account/pin").status_code == 401
    snapshot = state(app)
    assert snapshot["account_number"] == ACCOUNT_NUMBER
    assert ACCOUNT_PIN not in str(snapshot)
    assert ACCOUNT_PIN in app.test_client().get("/__mock__/secrets").get_json()["secrets"]


def test_users_in_the_oracle_say_authorized_pin_set_and_call_recording(
    admin: Admin, app: Flask
) -> None:
    """Security Information's save shows in the oracle as authorized and pin_set."""
    path = f"/api/users/{user_in(app, 'dana.smith')['id']}/security"  # type: ignore[index]
    assert admin.save(path, {"authorized_user": "on", "security_pin": "4821"}).status_code == 200
    dana = user_in(app, "dana.smith")
    assert dana is not None
    assert (dana["authorized"], dana["pin_set"], dana["call_recording"]) == (True, True, False)
    assert admin.save(path, {"authorized_user": "on", "security_pin": ""}).status_code == 200
    assert user_in(app, "dana.smith")["pin_set"] is True  # type: ignore[index]
    assert admin.save(path, {"security_pin": ""}).status_code == 200
    dana = user_in(app, "dana.smith")
    assert dana is not None and (dana["authorized"], dana["pin_set"]) == (False, False)


def test_chat_faults_are_set_and_reset_with_the_others(app: Flask) -> None:
    """The chat's settings come back with the others; a bad one is refused."""
    settings = faults(app, chat_agent_delay_ms=50, chat_agent_leaves=True)
    assert settings["chat_agent_delay_ms"] == 50 and settings["chat_agent_leaves"] is True
    client = app.test_client()
    assert client.post("/__mock__/faults", json={"chat_agent_leaves": "yes"}).status_code == 400
    reset = client.post("/__mock__/reset", json={}).get_json()["faults"]
    assert reset["chat_agent_leaves"] is False and reset["chat_agent_delay_ms"] == 1500
