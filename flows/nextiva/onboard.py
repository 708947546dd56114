"""Onboarding one hire end to end, and planning it without writing anything.

`onboard_user` runs the steps in the procedure's order (seed 000); each observes first and
acts only on what differs, so running it again changes nothing. `plan_user` observes the
same things and says what each step would do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from playwright.sync_api import Page

from domain.nextiva import NewHire
from domain.steps import (
    ALREADY_DONE,
    BLOCKED,
    CHANGE,
    CONFLICT,
    CREATE,
    StepOutcome,
    StepPlan,
    Witness,
)
from flows.nextiva.device import DEVICE, set_up_device
from flows.nextiva.licensing import LICENSE, assign_license, observe_license
from flows.nextiva.navigate import differences, find_user, open_user_page, step_errors
from flows.nextiva.users import CREATE_USER, E911_ADDRESS, NumberClaims, confirm_e911, create_user
from flows.nextiva.voicemail import VOICEMAIL, same, set_voicemail, wanted_settings

LATER_STEPS = (E911_ADDRESS, DEVICE, VOICEMAIL, LICENSE)
Step = Callable[[Page, NewHire, Witness | None], StepOutcome]


StepCall = Callable[[], StepOutcome]
Attempt = Callable[[str, StepCall], StepOutcome]


def _once(_step: str, call: StepCall) -> StepOutcome:
    return call()


def onboard_user(
    page: Page,
    hire: NewHire,
    witness: Witness | None = None,
    *,
    attempt: Attempt = _once,
    defer_license: bool = False,
    numbers: NumberClaims | None = None,
) -> list[StepOutcome]:
    """Run every step for `hire`; returns what each did. Raises the first step's error.

    `attempt(step, call)` runs one step: the runner passes one that retries a step after a
    transient failure. Every step starts by observing, so calling it again is safe. With
    `defer_license` the licence step is left out, for `assign_licenses` to do for several
    hires at once. `numbers`: the free numbers other workers of the run have chosen.
    """
    steps: list[tuple[str, Step]] = [
        (CREATE_USER, functools.partial(create_user, numbers=numbers)),
        (E911_ADDRESS, confirm_e911),
        (DEVICE, set_up_device),
        (VOICEMAIL, set_voicemail),
        (LICENSE, assign_license),
    ]
    if defer_license:
        steps = steps[:-1]
    return [attempt(name, functools.partial(step, page, hire, witness)) for name, step in steps]


def plan_user(page: Page, hire: NewHire) -> list[StepPlan]:
    """What `onboard_user` would do for `hire`, step by step. Observes only, saves nothing."""
    with step_errors(hire, CREATE_USER, page):
        _, row = find_user(page, hire)
    if row is None:
        return [StepPlan(CREATE_USER, CREATE, f"add {hire.username}")] + [
            StepPlan(step, BLOCKED, "after create user") for step in LATER_STEPS
        ]
    mismatch = differences(row, hire)
    if mismatch:
        detail = f"{hire.username} belongs to someone else: " + "; ".join(mismatch)
        return [StepPlan(CREATE_USER, CONFLICT, detail)] + [
            StepPlan(step, BLOCKED, "username conflict") for step in LATER_STEPS
        ]
    plans = [StepPlan(CREATE_USER, ALREADY_DONE, f"{hire.username} exists")]
    # One visit to the user's page serves the three sections observed next.
    with step_errors(hire, E911_ADDRESS, page):
        user_page = open_user_page(page, hire)
        confirmed = user_page.profile.e911_confirmed()
    plans.append(
        StepPlan(E911_ADDRESS, ALREADY_DONE, "Confirmed")
        if confirmed
        else StepPlan(E911_ADDRESS, CHANGE, "Not confirmed -> Confirmed")
    )
    with step_errors(hire, DEVICE, page):
        device = user_page.device.device()
    plans.append(
        StepPlan(DEVICE, ALREADY_DONE, device)
        if device == hire.device
        else StepPlan(DEVICE, CHANGE, f"{device or 'none'} -> {hire.device}")
    )
    with step_errors(hire, VOICEMAIL, page):
        voicemail = user_page.voicemail.settings()
    wanted = wanted_settings(hire)
    plans.append(
        StepPlan(VOICEMAIL, ALREADY_DONE, voicemail.email)
        if same(voicemail, wanted)
        else StepPlan(
            VOICEMAIL,
            CHANGE,
            f"email {voicemail.email or 'none'} -> {wanted.email}, "
            f"attachment {voicemail.send_attachment} -> {wanted.send_attachment}",
        )
    )
    plans.append(_plan_license(page, hire))
    return plans


def _plan_license(page: Page, hire: NewHire) -> StepPlan:
    if hire.license is None:
        return StepPlan(LICENSE, ALREADY_DONE, "no licence requested")
    with step_errors(hire, LICENSE, page):
        state, _ = observe_license(page, hire, hire.license)
    if state.held:
        return StepPlan(LICENSE, ALREADY_DONE, hire.license)
    if state.held is None:
        return StepPlan(LICENSE, BLOCKED, f"the Assign screen does not list {hire.username}")
    if state.seats is not None and state.seats[0] >= state.seats[1]:
        used, total = state.seats
        return StepPlan(LICENSE, BLOCKED, f"no {hire.license} seat left ({used} of {total} used)")
    return StepPlan(LICENSE, CHANGE, f"assign {hire.license}")
