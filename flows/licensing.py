"""The licence step: My Account > Licensing > Assign, tick the hire, Save."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page

from flows.navigate import menus_at_hand, step_errors
from flows.steps import ALREADY_DONE, CHANGED, NoWitness, StepOutcome, Witness
from pages.account_menu import AccountMenu
from pages.assign_license import AssignLicensePage
from pages.licensing import LicensingPage
from pages.my_account import MyAccountPage
from robots.errors import BusinessError
from robots.hire import NewHire

LICENSE = "license"


@dataclass(frozen=True)
class LicenseState:
    """What the Licensing screens show for one hire and licence."""

    held: bool | None  # None: the Assign search does not list the user
    seats: tuple[int, int] | None  # (used, total)


def open_assign(page: Page, license_name: str) -> tuple[LicensingPage, AssignLicensePage]:
    """Account menu > My Account > Licensing (the Assign screen is opened by the caller)."""
    menus_at_hand(page, MyAccountPage(page).heading)
    AccountMenu(page).open_my_account()
    MyAccountPage(page).open_licensing(license_name)
    licensing = LicensingPage(page)
    return licensing, AssignLicensePage(page)


def observe_license(
    page: Page, hire: NewHire, license_name: str
) -> tuple[LicenseState, AssignLicensePage]:
    """Observe: whether the hire holds the licence, and the seats; ends on the Assign screen."""
    licensing, assign = open_assign(page, license_name)
    seats = licensing.seats(license_name)
    licensing.open_assign(license_name)
    assign.search(hire.username)
    return LicenseState(held=assign.holds_license(hire.username), seats=seats), assign


def assign_license(page: Page, hire: NewHire, witness: Witness | None = None) -> StepOutcome:
    """Assign the hire's licence unless they hold it; skipped when the hire needs none."""
    witness = witness or NoWitness()
    if hire.license is None:
        outcome = StepOutcome(step=LICENSE, action=ALREADY_DONE, detail="no licence requested")
        witness.after_step(page, outcome)
        return outcome
    with step_errors(hire, LICENSE, page):
        state, assign = observe_license(page, hire, hire.license)
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
