"""The first two steps: create the user (Users > Add Users) and confirm their E911 address.

The user exists from the moment the Create User form's Save & Continue succeeds; the E911
confirmation is a second save. A run stopped between the two leaves the user with E911
"Not confirmed", which the next run's `confirm_e911` finishes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from domain.errors import BusinessError, ConflictError, PortalError
from domain.nextiva import NewHire, digits
from domain.steps import ALREADY_DONE, CHANGED, CREATED, NoWitness, Session, StepOutcome, Witness
from flows.nextiva.authorized import authorize_on_create
from flows.nextiva.navigate import (
    conflict,
    differences,
    find_user,
    open_user_page,
    remember_user_page,
    step_errors,
)
from pages.nextiva.create_user import CreateUserPage
from pages.nextiva.e911_address import E911AddressPage

CREATE_USER = "create user"
E911_ADDRESS = "E911 address"
USERNAME_TAKEN = "Username already exists"

# The session's note of the user whose E911 Address screen `create_user` left open: the
# next step confirms it there instead of going round through Users Overview.
_E911_OPEN_FOR = "E911 address open for"


class NumberClaims:
    """The free numbers already chosen for hires of this run, shared by its workers.

    Two workers filling Create User for the same location at once are offered the same
    free numbers; each takes the first that no other has chosen, instead of both taking
    the first and one being refused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chosen: set[str] = set()

    def pick(self, offered: Sequence[str]) -> str:
        """The first offered number nobody in this run has chosen (else the first)."""
        with self._lock:
            for number in offered:
                if digits(number) not in self._chosen:
                    self._chosen.add(digits(number))
                    return number
        return offered[0]


def create_user(
    session: Session,
    hire: NewHire,
    witness: Witness | None = None,
    *,
    numbers: NumberClaims | None = None,
) -> StepOutcome:
    """Create the hire's user unless it exists; a username held by someone else is a conflict.

    Ends on the E911 Address screen after creating (confirm_e911 continues from there).
    Raises ConflictError, BusinessError (the portal's words), PortalError. A free number
    chosen for the hire but taken by somebody else before the Save is a PortalError: the
    step, redone, is offered the numbers still free.
    """
    witness = witness or NoWitness()
    page = session.page
    with step_errors(hire, CREATE_USER, session):
        session.notes.pop(_E911_OPEN_FOR, None)
        overview, row = find_user(session, hire)
        if row is not None:
            if differences(row, hire):
                raise conflict(row, hire)
            outcome = StepOutcome(
                step=CREATE_USER,
                action=ALREADY_DONE,
                before=_listed(row.username, row.extension, digits(row.phone_number)),
                after=_listed(row.username, row.extension, digits(row.phone_number)),
                detail=f"{hire.username} exists",
            )
        else:
            overview.open_add_users()
            form = CreateUserPage(page)
            saved = form.fill(hire, numbers.pick) if numbers else form.fill(hire)
            authorize_on_create(form, hire, witness)
            witness.before_write(page, CREATE_USER, f"Create User {hire.username}")
            try:
                form.save_and_continue()
            except BusinessError as refused:
                if USERNAME_TAKEN.lower() in refused.message.lower():
                    # Taken elsewhere in the portal, outside this account's Users list.
                    raise ConflictError(refused.message) from refused
                if not hire.phone_number and saved.phone_number in digits(refused.message):
                    # The number was free when the form offered it: someone took it since.
                    raise PortalError(
                        f"the free number chosen was taken meanwhile ({refused.message})"
                    ) from refused
                raise
            session.notes[_E911_OPEN_FOR] = hire.username
            outcome = StepOutcome(
                step=CREATE_USER,
                action=CREATED,
                before={},
                after=_listed(hire.username, saved.extension, saved.phone_number),
                detail=f"created {hire.username}",
            )
    witness.after_step(page, outcome)
    return outcome


def _listed(username: str, extension: str, phone_number: str) -> dict[str, object]:
    return {"username": username, "extension": extension, "phone number": phone_number}


def e911_confirmed(session: Session, hire: NewHire) -> bool:
    """Observe: whether the hire's profile says E911 Status Confirmed."""
    return open_user_page(session, hire).profile.e911_confirmed()


def confirm_e911(session: Session, hire: NewHire, witness: Witness | None = None) -> StepOutcome:
    """Confirm the hire's E911 address unless the profile already says Confirmed."""
    witness = witness or NoWitness()
    page = session.page
    with step_errors(hire, E911_ADDRESS, session):
        screen = E911AddressPage(page)
        if session.notes.pop(_E911_OPEN_FOR, None) == hire.username and screen.is_shown():
            # Straight on from Create User, as the procedure does.
            witness.before_write(page, E911_ADDRESS, f"confirm E911 address of {hire.username}")
            screen.confirm(hire.full_name)
            remember_user_page(session, hire)
            action = CHANGED
        else:
            profile = open_user_page(session, hire).profile
            if profile.e911_confirmed():
                action = ALREADY_DONE
            else:
                profile.open_e911_confirmation()
                witness.before_write(page, E911_ADDRESS, f"confirm E911 address of {hire.username}")
                screen.confirm(hire.full_name)
                remember_user_page(session, hire)
                action = CHANGED
        outcome = StepOutcome(
            step=E911_ADDRESS,
            action=action,
            before={"E911 status": "Confirmed" if action == ALREADY_DONE else "Not confirmed"},
            after={"E911 status": "Confirmed"},
        )
    witness.after_step(page, outcome)
    return outcome
