"""The authorized-user step: Security Information's Authorized User and security PIN (seed 003).

A saved PIN is never shown again, so the step converges on what it can see: a user who is
authorized and whose section says "A PIN is set." is done, and a rerun never rewrites the
PIN (it could not tell the roster's PIN from another). `authorized_user` yes on a user not
authorized, or authorized without a PIN, ticks the box, types the PIN and saves; no on an
authorized user clears the box and saves (the portal removes the PIN); empty leaves the
portal's setting alone. New hires get it on Create User (`authorize_on_create`).

The PIN is a secret: the witness is told before it is typed, and no outcome, plan or error
carries it.
"""

from __future__ import annotations

from domain.errors import BusinessError
from domain.nextiva import NewHire
from domain.steps import (
    ALREADY_DONE,
    CHANGE,
    CHANGED,
    NoWitness,
    Session,
    StepOutcome,
    StepPlan,
    Witness,
)
from flows.nextiva.navigate import open_user_page, step_errors
from pages.nextiva.create_user import CreateUserPage
from pages.nextiva.user_page import SecurityState

AUTHORIZED_USER = "authorized user"


def wants_authorization(hire: NewHire) -> bool:
    """Whether the roster says anything about the hire's authorization (yes or no)."""
    return hire.authorized_user is not None


def _shown(state: SecurityState) -> dict[str, object]:
    return {"authorized user": state.authorized, "PIN set": state.pin_set}


def _done(hire: NewHire, state: SecurityState) -> bool:
    if hire.authorized_user is None:
        return True
    if hire.authorized_user:
        return state.authorized and state.pin_set
    return not state.authorized


def _change(hire: NewHire, state: SecurityState) -> str:
    if not hire.authorized_user:
        return "remove the authorization (and its PIN)"
    if state.authorized:
        return "set the security PIN (authorized, but no PIN is set)"
    return "authorize with the roster's security PIN"


def observe_security(session: Session, hire: NewHire) -> SecurityState:
    """Observe: what the hire's Security Information shows."""
    with step_errors(hire, AUTHORIZED_USER, session):
        return open_user_page(session, hire).security.state()


def observe_authorized(session: Session, hire: NewHire) -> StepPlan:
    """What `set_authorized` would do for `hire`. Saves nothing."""
    if hire.authorized_user is None:
        return StepPlan(AUTHORIZED_USER, ALREADY_DONE, "left as the portal has it")
    state = observe_security(session, hire)
    if _done(hire, state):
        detail = "authorized, a PIN is set" if hire.authorized_user else "not authorized"
        return StepPlan(AUTHORIZED_USER, ALREADY_DONE, detail)
    return StepPlan(AUTHORIZED_USER, CHANGE, _change(hire, state))


def set_authorized(session: Session, hire: NewHire, witness: Witness | None = None) -> StepOutcome:
    """Make Security Information say what the roster says; equal settings are left unsaved.

    Raises BusinessError (the portal's words, e.g. "PIN must be 4 digits."), PortalError.
    """
    witness = witness or NoWitness()
    page = session.page
    with step_errors(hire, AUTHORIZED_USER, session):
        if hire.authorized_user is None:
            outcome = StepOutcome(
                step=AUTHORIZED_USER, action=ALREADY_DONE, detail="left as the portal has it"
            )
        else:
            section = open_user_page(session, hire).security
            before = section.state()
            if _done(hire, before):
                outcome = StepOutcome(
                    step=AUTHORIZED_USER,
                    action=ALREADY_DONE,
                    before=_shown(before),
                    after=_shown(before),
                )
            else:
                detail = _change(hire, before)
                if hire.authorized_user:
                    if hire.pin is None:  # the roster refuses this; a caller might not
                        raise BusinessError("authorized_user is yes but the roster gives no PIN")
                    pin = hire.pin.get_secret_value()
                    witness.secret(pin)
                    section.fill_authorized(pin)
                else:
                    section.fill_not_authorized()
                witness.before_write(page, AUTHORIZED_USER, f"{detail} for {hire.username}")
                section.save()
                wanted = bool(hire.authorized_user)
                outcome = StepOutcome(
                    step=AUTHORIZED_USER,
                    action=CHANGED,
                    before=_shown(before),
                    after=_shown(SecurityState(authorized=wanted, pin_set=wanted)),
                    detail=detail,
                )
    witness.after_step(page, outcome)
    return outcome


def authorize_on_create(form: CreateUserPage, hire: NewHire, witness: Witness) -> None:
    """On a filled Create User form: tick Authorized User and type the PIN when the roster
    says yes (the witness told first). Call it after `form.fill` and before the Save, so
    the authorized-user step that follows finds it done."""
    if hire.authorized_user and hire.pin is not None:
        pin = hire.pin.get_secret_value()
        witness.secret(pin)
        form.set_authorized(pin)
