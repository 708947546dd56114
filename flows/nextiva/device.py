"""The device step: Generic SIP Phone (or the hire's device) with a generated password."""

from __future__ import annotations

from domain.nextiva import NewHire
from domain.steps import ALREADY_DONE, CHANGED, NoWitness, Session, StepOutcome, Witness
from flows.nextiva.navigate import open_user_page, step_errors

DEVICE = "device"


def current_device(session: Session, hire: NewHire) -> str:
    """Observe: the device the hire's Device section shows."""
    return open_user_page(session, hire).device.device()


def set_up_device(session: Session, hire: NewHire, witness: Witness | None = None) -> StepOutcome:
    """Give the hire `hire.device` (Generate a password, Save) unless it already shows."""
    witness = witness or NoWitness()
    page = session.page
    with step_errors(hire, DEVICE, session):
        section = open_user_page(session, hire).device
        before = section.device()
        if before == hire.device:
            outcome = StepOutcome(
                step=DEVICE,
                action=ALREADY_DONE,
                before={"device": before},
                after={"device": before},
            )
        else:
            generated = section.fill(hire.device, authentication_name=hire.username)
            witness.secret(generated)
            witness.before_write(page, DEVICE, f"set up {hire.device} for {hire.username}")
            section.save()
            outcome = StepOutcome(
                step=DEVICE,
                action=CHANGED,
                before={"device": before},
                after={"device": hire.device},
                detail="authentication password generated",
            )
    witness.after_step(page, outcome)
    return outcome
