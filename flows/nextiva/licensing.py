"""The licence step: My Account > Licensing > Assign, tick the hire, Save.

The Assign screen takes many checkboxes in one Save (seed 002: "Select the checkbox(es)
next to the user(s) > Save"), so `assign_licenses` serves several hires with one visit and
one Save. A checkbox is a state, not an action: ticking a box already ticked, or saving
again after a crash, assigns nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.errors import BusinessError
from domain.nextiva import NewHire
from domain.steps import (
    ALREADY_DONE,
    CHANGED,
    BatchWitness,
    NoBatchWitness,
    NoWitness,
    Session,
    StepOutcome,
    Witness,
)
from flows.nextiva.navigate import menus_at_hand, named_errors, step_errors
from pages.nextiva.account_menu import AccountMenu
from pages.nextiva.assign_license import AssignLicensePage
from pages.nextiva.licensing import LicensingPage
from pages.nextiva.my_account import MyAccountPage

LICENSE = "license"


@dataclass(frozen=True)
class LicenseState:
    """What the Licensing screens show for one hire and licence."""

    held: bool | None  # None: the Assign search does not list the user
    seats: tuple[int, int] | None  # (used, total)


def open_assign(
    session: Session, license_name: str | None
) -> tuple[LicensingPage, AssignLicensePage]:
    """Account menu > My Account > Licensing, waiting for `license_name`'s row (any licence's
    without one); the Assign screen is opened by the caller."""
    page = session.page
    menus_at_hand(session, MyAccountPage(page).heading)
    AccountMenu(page).open_my_account()
    MyAccountPage(page).open_licensing(license_name)
    licensing = LicensingPage(page)
    return licensing, AssignLicensePage(page)


def observe_license(
    session: Session, hire: NewHire, license_name: str
) -> tuple[LicenseState, AssignLicensePage]:
    """Observe: whether the hire holds the licence, and the seats; ends on the Assign screen."""
    licensing, assign = open_assign(session, license_name)
    seats = licensing.seats(license_name)
    licensing.open_assign(license_name)
    assign.search(hire.username)
    return LicenseState(held=assign.holds_license(hire.username), seats=seats), assign


def assign_license(session: Session, hire: NewHire, witness: Witness | None = None) -> StepOutcome:
    """Assign the hire's licence unless they hold it; skipped when the hire needs none."""
    witness = witness or NoWitness()
    page = session.page
    if hire.license is None:
        outcome = StepOutcome(step=LICENSE, action=ALREADY_DONE, detail="no licence requested")
        witness.after_step(page, outcome)
        return outcome
    with step_errors(hire, LICENSE, session):
        state, assign = observe_license(session, hire, hire.license)
        if state.held is None:
            raise BusinessError(
                f"The Assign screen of {hire.license} does not list {hire.username}."
            )
        if state.held:
            action = ALREADY_DONE
        else:
            assign.tick(hire.username)
            witness.before_write(page, LICENSE, f"assign {hire.license} to {hire.username}")
            assign.save()
            action = CHANGED
        outcome = StepOutcome(
            step=LICENSE,
            action=action,
            before={"license": hire.license, "assigned": state.held},
            after={"license": hire.license, "assigned": True},
        )
    witness.after_step(page, outcome)
    return outcome


@dataclass
class LicenseBatch:
    """What one Save on the Assign screen did for several hires."""

    done: dict[str, StepOutcome] = field(default_factory=dict)  # by username
    # Not listed before searching, or refused together (too few seats for all of them):
    # each is assigned on its own, where the portal's answer names them alone.
    one_by_one: list[NewHire] = field(default_factory=list)


def assign_licenses(
    session: Session,
    license_name: str,
    hires: Sequence[NewHire],
    witness: BatchWitness | None = None,
) -> LicenseBatch:
    """Tick every hire's checkbox on the Assign screen of `license_name` and Save once.

    Observes first, with the search cleared so that every user is listed: a hire already
    holding the licence is left as is, so a batch rerun after a crash saves only what is
    missing. Raises PortalError (naming the hires) when the portal fails on the way; the
    caller retries the whole batch, which observes again.
    """
    witness = witness or NoBatchWitness()
    page = session.page
    batch = LicenseBatch()
    who = ", ".join(hire.username for hire in hires)
    with named_errors(who, LICENSE, session):
        licensing, assign = open_assign(session, license_name)
        licensing.open_assign(license_name)
        assign.search("")
        held = {hire.username: assign.holds_license(hire.username) for hire in hires}
    to_tick = [hire for hire in hires if held[hire.username] is False]
    batch.one_by_one = [hire for hire in hires if held[hire.username] is None]
    for hire in hires:
        if held[hire.username]:
            batch.done[hire.username] = _license_outcome(license_name, ALREADY_DONE, held=True)
    if to_tick:
        try:
            with named_errors(who, LICENSE, session):
                for hire in to_tick:
                    assign.tick(hire.username)
                names = [hire.username for hire in to_tick]
                witness.before_write(
                    page, LICENSE, f"assign {license_name} to {', '.join(names)}", names
                )
                assign.save()
        except BusinessError:
            batch.one_by_one.extend(to_tick)
        else:
            for hire in to_tick:
                batch.done[hire.username] = _license_outcome(license_name, CHANGED, held=False)
    if batch.done:
        witness.after_steps(page, batch.done)
    return batch


def _license_outcome(license_name: str, action: str, *, held: bool) -> StepOutcome:
    return StepOutcome(
        step=LICENSE,
        action=action,
        before={"license": license_name, "assigned": held},
        after={"license": license_name, "assigned": True},
    )
