"""Authorized users and their security PIN: on Create User, through Security Information,
never rewritten by a rerun, removed by `no`, and never shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from pydantic import ValidationError

from domain.nextiva import NewHire
from domain.steps import ALREADY_DONE, CHANGE, CHANGED, Session, StepOutcome
from flows.nextiva.authorized import observe_authorized, set_authorized
from flows.nextiva.users import create_user
from tests.conftest import Portal

PIN = "4821"
DANA = {
    "first_name": "Dana",
    "last_name": "Smith",
    "email": "dana.smith@example.com",
    "location": "Phoenix HQ",
}


def hire(authorized: bool | None) -> NewHire:
    """Dana Smith of the seed, with the roster's authorized_user (and the PIN when yes)."""
    return NewHire.model_validate(
        {**DANA, "authorized_user": authorized, "pin": PIN if authorized else None}
    )


class SecretWitness:
    """Keeps the secrets it is told and what was about to be written."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.writes: list[str] = []
        self.outcomes: list[StepOutcome] = []

    def before_write(self, page: Page, step: str, description: str) -> None:
        self.writes.append(description)

    def after_step(self, page: Page, outcome: StepOutcome) -> None:
        self.outcomes.append(outcome)

    def secret(self, value: str) -> None:
        self.secrets.append(value)


def test_a_pin_is_required_for_yes_four_digits_and_never_echoed() -> None:
    """The roster row is refused without its PIN or with a bad one, and the PIN is not shown."""
    with pytest.raises(ValidationError, match="pin: is required"):
        NewHire.model_validate({**DANA, "authorized_user": True})
    with pytest.raises(ValidationError) as refused:
        NewHire.model_validate({**DANA, "authorized_user": "yes", "pin": "98765"})
    assert "PIN must be 4 digits." in str(refused.value) and "98765" not in str(refused.value)
    made = hire(True)
    assert PIN not in repr(made) and PIN not in str(made.model_dump())
    assert hire(None).authorized_user is None


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["a", "c"])
def test_a_new_hire_is_authorized_on_create_user_and_the_step_then_writes_nothing(
    signed_in_session: Session, portal_of_variant: Portal
) -> None:
    """Create User ticks Authorized User with the PIN; the step after it finds it done."""
    nia = NewHire.model_validate(
        {
            "first_name": "Nia",
            "last_name": "Okafor",
            "email": "nia.okafor@example.com",
            "location": "Denver Office",
            "authorized_user": True,
            "pin": PIN,
        }
    )
    witness = SecretWitness()
    create_user(signed_in_session, nia, witness)
    user = portal_of_variant.user("nia.okafor")
    assert user is not None and user["authorized"] is True and user["pin_set"] is True
    assert witness.secrets == [PIN]
    saves = portal_of_variant.state()["counters"]["saves"]
    outcome = set_authorized(signed_in_session, nia, witness)
    assert outcome.action == ALREADY_DONE
    assert portal_of_variant.state()["counters"]["saves"] == saves


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["b"])
def test_an_existing_user_is_authorized_once_and_a_rerun_writes_nothing(
    signed_in_session: Session, portal_of_variant: Portal
) -> None:
    """Security Information gets the box and the PIN; the second run only looks."""
    dana = hire(True)
    session = signed_in_session
    assert observe_authorized(session, dana).action == CHANGE
    witness = SecretWitness()
    first = set_authorized(session, dana, witness)
    assert first.action == CHANGED and witness.secrets == [PIN]
    user = portal_of_variant.user("dana.smith")
    assert user is not None and (user["authorized"], user["pin_set"]) == (True, True)
    assert PIN in portal_of_variant.secrets()
    saves = portal_of_variant.state()["counters"]["saves"]

    again = set_authorized(signed_in_session, dana, witness)
    assert again.action == ALREADY_DONE
    assert observe_authorized(signed_in_session, dana).action == ALREADY_DONE
    assert portal_of_variant.state()["counters"]["saves"] == saves
    for outcome in (first, again):
        assert PIN not in f"{outcome.before} {outcome.after} {outcome.detail}"


@pytest.mark.browser
def test_no_removes_the_authorization_and_empty_leaves_it(
    signed_in_session: Session, portal: Portal
) -> None:
    """`no` unticks Authorized User (the PIN goes with it); empty changes nothing."""
    session = signed_in_session
    set_authorized(session, hire(True))
    saves = portal.state()["counters"]["saves"]
    assert set_authorized(session, hire(None)).action == ALREADY_DONE
    assert portal.state()["counters"]["saves"] == saves
    removed = set_authorized(session, hire(False))
    assert removed.action == CHANGED
    user = portal.user("dana.smith")
    assert user is not None and (user["authorized"], user["pin_set"]) == (False, False)
    assert set_authorized(session, hire(False)).action == ALREADY_DONE
