"""Call recording through Chat With an Expert: one request per run naming every hire, the
request ledger, an agent who leaves or asks something else, and a run that dies between
sending the request and reading its case number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from pydantic import SecretStr

from domain.nextiva import NewHire
from domain.steps import ALREADY_DONE, CHANGE, Session
from flows.nextiva.call_recording import (
    CASE_UNKNOWN,
    NEEDS_A_PERSON,
    REQUESTED,
    CallRecordingResult,
    ChatSettings,
    plan_call_recording,
    request_call_recording,
)
from flows.nextiva.requests import NEEDS_PERSON, SENT, UNKNOWN, RequestLedger
from pages.nextiva.chat import ExpertChat
from tests.conftest import Portal

ADMIN_EMAIL = "alex.admin@example.com"


def seeded(first: str, last: str, location: str, *, wants: bool = True) -> NewHire:
    username = f"{first}.{last}".lower()
    return NewHire.model_validate(
        {
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.com",
            "location": location,
            "call_recording": wants,
        }
    )


DANA = seeded("Dana", "Smith", "Phoenix HQ")
MIGUEL = seeded("Miguel", "Alvarez", "Denver Office")
PRIYA = seeded("Priya", "Patel", "Austin Office", wants=False)
HIRES = [DANA, MIGUEL, PRIYA]


class Secrets:
    """The secrets a run was told, as the evidence recorder would keep them."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def __call__(self, value: str) -> None:
        self.told.append(value)


def settings(tmp_path: Path, **overrides: Any) -> ChatSettings:
    values: dict[str, Any] = {
        "admin_email": ADMIN_EMAIL,
        "agent_patience_s": 20,
        "reply_patience_s": 10,
        "run_id": "run-1",
        "transcripts": tmp_path / "transcripts",
        **overrides,
    }
    return ChatSettings(**values)


def assert_no_pin(portal: Portal, tmp_path: Path, result: CallRecordingResult) -> None:
    """Neither the account PIN nor any other secret is in the ledger, the transcript, the
    outcomes or the oracle's chats."""
    found = [str(o) for o in result.outcomes.values()] + result.transcript
    files = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    chats = str(portal.state()["chats"])
    for secret in portal.secrets():
        assert all(secret not in text for text in found)
        assert all(secret.encode() not in data for data in files)
        assert secret not in chats


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["a", "c"])
def test_one_chat_files_one_case_for_every_hire_and_a_second_run_files_nothing(
    signed_in_session: Session, portal_of_variant: Portal, tmp_path: Path
) -> None:
    """Both hires in one request, one case; then the ledger holds it; after fulfil, done."""
    portal = portal_of_variant
    # Long enough that the robot is always there before the agent, even on a loaded
    # machine: the test checks that the robot says it is waiting.
    portal.set_faults("none", chat_agent_delay_ms=2500)
    ledger = RequestLedger(tmp_path / "requests.sqlite3")
    plans = plan_call_recording(signed_in_session, HIRES, ledger)
    assert {name: plan.action for name, plan in plans.items()} == {
        "dana.smith": CHANGE,
        "miguel.alvarez": CHANGE,
    }
    told = Secrets()
    waits: list[str] = []
    result = request_call_recording(
        signed_in_session, HIRES, ledger, settings(tmp_path), secret=told, on_wait=waits.append
    )
    [case] = portal.state()["cases"]
    assert sorted(case["usernames"]) == ["dana.smith", "miguel.alvarez"]
    assert result.case_number == case["number"]
    assert {o.action for o in result.outcomes.values()} == {REQUESTED}
    assert set(result.outcomes) == {"dana.smith", "miguel.alvarez"}
    assert "test call of about 60 seconds" in result.outcomes["dana.smith"].detail
    [row] = ledger.requests()
    assert (row.state, row.case_number) == (SENT, case["number"])
    assert "0739" in told.told and any("waiting for an agent" in w for w in waits)
    assert any("[PIN]" in line for line in result.transcript)
    [chat] = portal.state()["chats"]
    assert chat["state"] == "ended"
    assert_no_pin(portal, tmp_path, result)

    again = request_call_recording(signed_in_session, HIRES, ledger, settings(tmp_path))
    assert {o.action for o in again.outcomes.values()} == {REQUESTED}
    assert len(portal.state()["cases"]) == 1 and len(portal.state()["chats"]) == 1

    portal._call("__mock__/fulfil", {})
    plans = plan_call_recording(signed_in_session, HIRES, ledger)
    assert {plan.action for plan in plans.values()} == {ALREADY_DONE}
    done = request_call_recording(signed_in_session, HIRES, ledger, settings(tmp_path))
    assert {o.action for o in done.outcomes.values()} == {ALREADY_DONE}
    assert ledger.requests()[0].state == "done"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("variant", "fault", "said"),
    [
        ("a", "chat_agent_leaves", "The agent has left the chat."),
        ("b", "chat_agent_unexpected", "MAC address"),
    ],
)
def test_an_agent_who_leaves_or_asks_something_else_needs_a_person(
    signed_in_session: Session, portal_of_variant: Portal, tmp_path: Path, fault: str, said: str
) -> None:
    """Nothing is guessed: the chat ends, the users need a person, the next run asks again."""
    portal = portal_of_variant
    portal.set_faults("none", chat_agent_delay_ms=100, **{fault: True})
    ledger = RequestLedger(tmp_path / "requests.sqlite3")
    result = request_call_recording(signed_in_session, HIRES, ledger, settings(tmp_path))
    assert {o.action for o in result.outcomes.values()} == {NEEDS_A_PERSON}
    assert "the next run asks again" in result.outcomes["miguel.alvarez"].detail
    assert any(said in line for line in result.transcript)
    assert result.transcript_path is not None and said in result.transcript_path.read_text()
    assert portal.state()["cases"] == []
    assert portal.state()["chats"][0]["state"] == "ended"
    assert [row.state for row in ledger.requests()] == [NEEDS_PERSON]
    assert_no_pin(portal, tmp_path, result)
    plans = plan_call_recording(signed_in_session, HIRES, ledger)
    assert {plan.action for plan in plans.values()} == {CHANGE}


@pytest.mark.browser
def test_a_run_killed_after_sending_files_no_second_request(
    signed_in_page: Page,
    signed_in_session: Session,
    portal: Portal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The request reached Support but the run died before the case number: the rerun
    files nothing, says the case number is unknown, and the admin can clear it."""
    portal.set_faults("none", chat_agent_delay_ms=100)
    ledger = RequestLedger(tmp_path / "requests.sqlite3")
    send = ExpertChat.send

    def send_then_die(chat: ExpertChat, text: str) -> None:
        send(chat, text)
        if "call recording" in text:
            raise KeyboardInterrupt("killed between sending and reading the case number")

    monkeypatch.setattr(ExpertChat, "send", send_then_die)
    pin = SecretStr("0739")
    with pytest.raises(KeyboardInterrupt):
        request_call_recording(
            signed_in_session, HIRES, ledger, settings(tmp_path, account_pin=pin)
        )
    monkeypatch.setattr(ExpertChat, "send", send)
    assert len(portal.state()["cases"]) == 1
    [row] = ledger.requests()
    assert row.state == "sending"

    signed_in_page.reload()
    rerun = request_call_recording(signed_in_session, HIRES, ledger, settings(tmp_path))
    assert {o.action for o in rerun.outcomes.values()} == {CASE_UNKNOWN}
    assert "case number unknown" in rerun.outcomes["dana.smith"].detail
    assert len(portal.state()["cases"]) == 1 and len(portal.state()["chats"]) == 1
    assert [row.state for row in ledger.requests()] == [UNKNOWN]
    assert_no_pin(portal, tmp_path, rerun)

    assert ledger.clear(["dana.smith"]) == 1
    plans = plan_call_recording(signed_in_session, HIRES, ledger)
    assert {plan.action for plan in plans.values()} == {CHANGE}
