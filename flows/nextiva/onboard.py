"""Nextiva's steps as data, in the procedure's order (seed 000), and one hire end to end.

`STEPS` lists the steps once: create the user, confirm the E911 address, set up the device,
voicemail to email, the authorized user and security PIN (seed 003; for hires whose roster
row says yes or no), the licence (batched on the Assign screen, which one worker of a run
uses at a time), and call recording: asked of Nextiva Support once per run, after every
other step, in one Chat With an Expert naming every hire who wants it. Each observes first
and acts only on what differs, so running them again changes nothing; `observe` says what
`apply` would do without saving anything.
`onboard_user` and `plan_user` are the generic loop of `domain.steps` over this list.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.nextiva import NewHire
from domain.steps import (
    ALREADY_DONE,
    BLOCKED,
    CHANGE,
    CONFLICT,
    CREATE,
    BatchOutcome,
    BatchWitness,
    FlowRunStep,
    FlowStep,
    Session,
    Step,
    StepOutcome,
    StepPlan,
    Witness,
    apply_steps,
    plan_steps,
)
from flows.nextiva.authorized import (
    AUTHORIZED_USER,
    observe_authorized,
    set_authorized,
    wants_authorization,
)
from flows.nextiva.call_recording import (
    CALL_RECORDING,
    apply_call_recording,
    observe_call_recording,
)
from flows.nextiva.device import DEVICE, set_up_device
from flows.nextiva.licensing import LICENSE, assign_license, assign_licenses, observe_license
from flows.nextiva.navigate import differences, find_user, open_user_page, step_errors
from flows.nextiva.users import CREATE_USER, E911_ADDRESS, NumberClaims, confirm_e911, create_user
from flows.nextiva.voicemail import VOICEMAIL, same, set_voicemail, wanted_settings


def _numbers(session: Session) -> NumberClaims | None:
    shared = session.shared
    return shared if isinstance(shared, NumberClaims) else None


# -- create user ----------------------------------------------------------------------
def _observe_create(session: Session, hire: NewHire) -> StepPlan:
    with step_errors(hire, CREATE_USER, session):
        _, row = find_user(session, hire)
    if row is None:
        return StepPlan(CREATE_USER, CREATE, f"add {hire.username}")
    mismatch = differences(row, hire)
    if mismatch:
        detail = f"{hire.username} belongs to someone else: " + "; ".join(mismatch)
        return StepPlan(CREATE_USER, CONFLICT, detail)
    return StepPlan(CREATE_USER, ALREADY_DONE, f"{hire.username} exists")


def _create(session: Session, hire: NewHire, witness: Witness) -> StepOutcome:
    return create_user(session, hire, witness, numbers=_numbers(session))


# -- the user's page: E911, device, voicemail --------------------------------------------
# One visit to the user's page serves the three observations: `open_user_page` keeps the
# page the robot loaded while nothing failed since.
def _observe_e911(session: Session, hire: NewHire) -> StepPlan:
    with step_errors(hire, E911_ADDRESS, session):
        confirmed = open_user_page(session, hire).profile.e911_confirmed()
    if confirmed:
        return StepPlan(E911_ADDRESS, ALREADY_DONE, "Confirmed")
    return StepPlan(E911_ADDRESS, CHANGE, "Not confirmed -> Confirmed")


def _observe_device(session: Session, hire: NewHire) -> StepPlan:
    with step_errors(hire, DEVICE, session):
        device = open_user_page(session, hire).device.device()
    if device == hire.device:
        return StepPlan(DEVICE, ALREADY_DONE, device)
    return StepPlan(DEVICE, CHANGE, f"{device or 'none'} -> {hire.device}")


def _observe_voicemail(session: Session, hire: NewHire) -> StepPlan:
    with step_errors(hire, VOICEMAIL, session):
        voicemail = open_user_page(session, hire).voicemail.settings()
    wanted = wanted_settings(hire)
    if same(voicemail, wanted):
        return StepPlan(VOICEMAIL, ALREADY_DONE, voicemail.email)
    return StepPlan(
        VOICEMAIL,
        CHANGE,
        f"email {voicemail.email or 'none'} -> {wanted.email}, "
        f"attachment {voicemail.send_attachment} -> {wanted.send_attachment}",
    )


# -- licence --------------------------------------------------------------------------
def _observe_license(session: Session, hire: NewHire) -> StepPlan:
    if hire.license is None:
        return StepPlan(LICENSE, ALREADY_DONE, "no licence requested")
    with step_errors(hire, LICENSE, session):
        state, _ = observe_license(session, hire, hire.license)
    if state.held:
        return StepPlan(LICENSE, ALREADY_DONE, hire.license)
    if state.held is None:
        return StepPlan(LICENSE, BLOCKED, f"the Assign screen does not list {hire.username}")
    if state.seats is not None and state.seats[0] >= state.seats[1]:
        used, total = state.seats
        return StepPlan(LICENSE, BLOCKED, f"no {hire.license} seat left ({used} of {total} used)")
    return StepPlan(LICENSE, CHANGE, f"assign {hire.license}")


def _assign_batch(
    session: Session, hires: Sequence[NewHire], witness: BatchWitness
) -> BatchOutcome[NewHire]:
    """One visit to the Assign screen and one Save per licence for the waiting hires; a hire
    the batch cannot serve (no licence wanted, not listed, refused together) is left to be
    assigned on their own."""
    result: BatchOutcome[NewHire] = BatchOutcome()
    by_license: dict[str, list[NewHire]] = {}
    for hire in hires:
        if hire.license is None:
            result.one_by_one.append(hire)
        else:
            by_license.setdefault(hire.license, []).append(hire)
    for license_name, group in by_license.items():
        batch = assign_licenses(session, license_name, group, witness)
        result.done.update(batch.done)
        result.one_by_one.extend(batch.one_by_one)
    return result


STEPS: tuple[Step[NewHire], ...] = (
    FlowStep(CREATE_USER, _observe_create, _create, blocks_later=True),
    FlowStep(E911_ADDRESS, _observe_e911, confirm_e911),
    FlowStep(DEVICE, _observe_device, set_up_device),
    FlowStep(VOICEMAIL, _observe_voicemail, set_voicemail),
    FlowStep(AUTHORIZED_USER, observe_authorized, set_authorized, when=wants_authorization),
    # The Assign screen saves the state of every checkbox it lists, not just the ones
    # ticked: two workers saving it at once would each undo the other's new licences.
    FlowStep(
        LICENSE,
        _observe_license,
        assign_license,
        batch_with=_assign_batch,
        exclusive=True,
    ),
    # Only Support turns call recording on: one chat per run names every hire who wants it.
    FlowRunStep(
        CALL_RECORDING,
        observe_call_recording,
        apply_call_recording,
        when=lambda hire: hire.call_recording,
    ),
)


def onboard_user(
    session: Session, hire: NewHire, witness: Witness | None = None
) -> list[StepOutcome]:
    """Run every step for `hire` on the session's page; returns what each did. Raises the
    first step's error. The session's `shared` holds the free numbers other workers of the
    run have chosen."""
    return apply_steps(STEPS, session, hire, witness)


def plan_user(session: Session, hire: NewHire) -> list[StepPlan]:
    """What `onboard_user` would do for `hire`, step by step. Observes only, saves nothing."""
    return plan_steps(STEPS, session, hire)
