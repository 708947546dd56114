"""Business-step flows against the mock portal: onboarding converges and never overwrites."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pytest
from playwright.sync_api import Page

from domain.errors import BusinessError, ConflictError, PortalError, SessionExpiredError
from domain.nextiva import NewHire
from domain.steps import STEPS, Session, StepOutcome
from flows.nextiva.device import set_up_device
from flows.nextiva.licensing import assign_license, assign_licenses
from flows.nextiva.onboard import onboard_user, plan_user
from flows.nextiva.session import ensure_signed_in
from flows.nextiva.users import create_user
from mock_portal.server import PortalServer
from tests.conftest import Portal

NIA = NewHire(
    first_name="Nia", last_name="Okafor", email="nia.okafor@example.com", location="Denver Office"
)
AVA = NewHire(
    first_name="Ava", last_name="Nguyen", email="ava.nguyen@example.com", location="Phoenix HQ"
)


class RecordingWitness:
    """Keeps what the flows told it, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def before_write(self, page: Page, step: str, description: str) -> None:
        self.events.append(("write", step))

    def after_step(self, page: Page, outcome: StepOutcome) -> None:
        self.events.append((outcome.action, outcome.step))

    def secret(self, value: str) -> None:
        """Keep nothing: these tests do not record evidence."""


def assert_onboarded(user: dict[str, Any] | None, hire: NewHire) -> None:
    """The oracle shows every step of the procedure done for `hire`."""
    assert user is not None
    assert (user["first_name"], user["last_name"], user["email"]) == (
        hire.first_name,
        hire.last_name,
        hire.email,
    )
    assert user["e911_confirmed"] is True
    assert user["device"]["type"] == "Generic SIP Phone"
    assert user["device"]["has_password"] is True
    assert user["voicemail"] == {"email": hire.email, "send_attachment": True}
    assert user["voicemail_to_email"] is True


def holds(portal: Portal, license_name: str, username: str) -> bool:
    licence = next(x for x in portal.state()["licenses"] if x["name"] == license_name)
    return username in licence["assigned"]


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["a", "b", "c"])
def test_onboarding_a_new_hire_completes_every_step(
    signed_in_session: Session, portal_of_variant: Portal
) -> None:
    """A new hire ends created, E911 confirmed, with device, voicemail and licence."""
    witness = RecordingWitness()

    outcomes = onboard_user(signed_in_session, NIA, witness)

    assert [(o.step, o.action) for o in outcomes] == [
        ("create user", "created"),
        ("E911 address", "changed"),
        ("device", "changed"),
        ("voicemail", "changed"),
        ("license", "changed"),
    ]
    assert_onboarded(portal_of_variant.user("nia.okafor"), NIA)
    assert holds(portal_of_variant, "NextOS Pro Plus Upgrade", "nia.okafor")
    # Evidence is taken before every write, and once after every step.
    assert witness.events == [
        event
        for step in STEPS
        for event in (("write", step), ("created" if step == "create user" else "changed", step))
    ]


@pytest.mark.browser
def test_second_run_changes_nothing(signed_in_session: Session, portal: Portal) -> None:
    """Onboarding the same hire again saves nothing and reports every step already done."""
    onboard_user(signed_in_session, NIA)
    before = portal.state()["counters"]

    again = onboard_user(signed_in_session, NIA)
    plans = plan_user(signed_in_session, NIA)

    after = portal.state()["counters"]
    # `saves` counts every accepted save, also one that re-saves identical settings.
    assert (after["saves"], after["writes"]) == (before["saves"], before["writes"])
    assert [o.action for o in again] == ["already done"] * len(STEPS)
    assert [(p.step, p.action) for p in plans] == [(step, "already done") for step in STEPS]


@pytest.mark.browser
def test_plan_for_a_new_hire_is_create_then_blocked(
    signed_in_session: Session, portal: Portal
) -> None:
    """Planning a hire not yet in the portal says create, and blocked for every later step."""
    plans = plan_user(signed_in_session, NIA)

    assert [(p.step, p.action) for p in plans] == [("create user", "create")] + [
        (step, "blocked") for step in STEPS[1:]
    ]
    assert all(p.detail == "after create user" for p in plans[1:])
    assert portal.state()["counters"]["writes"] == 0


@pytest.mark.browser
def test_username_of_another_person_is_a_conflict(
    signed_in_session: Session, portal: Portal
) -> None:
    """A username held by someone else raises ConflictError and leaves that user untouched."""
    namesake = NewHire(
        first_name="Dana",
        last_name="Smythe",
        username="dana.smith",
        email="dana.smythe@example.com",
        location="Phoenix HQ",
    )
    before = portal.user("dana.smith")

    with pytest.raises(ConflictError) as conflict:
        onboard_user(signed_in_session, namesake)

    assert "dana.smith" in str(conflict.value) and "create user" in str(conflict.value)
    assert portal.user("dana.smith") == before
    assert portal.state()["counters"]["writes"] == 0


@pytest.mark.browser
def test_username_taken_outside_the_account_is_a_conflict(
    signed_in_session: Session, portal: Portal
) -> None:
    """A username the Users list lacks but the portal holds elsewhere is refused, as a conflict."""
    sam = NewHire(
        first_name="Sam", last_name="Taylor", email="sam.taylor@example.com", location="Phoenix HQ"
    )

    with pytest.raises(ConflictError) as conflict:
        onboard_user(signed_in_session, sam)

    assert "Username already exists. Please choose a different username." in str(conflict.value)
    assert portal.user("sam.taylor") is None


@pytest.mark.browser
def test_rerun_finishes_a_user_left_at_e911_not_confirmed(
    signed_in_session: Session, portal: Portal
) -> None:
    """A user created but never E911-confirmed is finished, not created again."""
    plans = plan_user(signed_in_session, AVA)
    assert [(p.step, p.action) for p in plans][:2] == [
        ("create user", "already done"),
        ("E911 address", "change"),
    ]

    outcomes = onboard_user(signed_in_session, AVA)

    assert [(o.step, o.action) for o in outcomes][:2] == [
        ("create user", "already done"),
        ("E911 address", "changed"),
    ]
    assert_onboarded(portal.user("ava.nguyen"), AVA)
    assert [u["username"] for u in portal.state()["users"]].count("ava.nguyen") == 1


@pytest.mark.browser
def test_write_answered_with_an_error_is_re_observed_on_retry(
    signed_in_session: Session, portal: Portal
) -> None:
    """A save the portal applied but answered with HTTP 5xx is found done when retried."""
    grace = NewHire(
        first_name="Grace", last_name="Kim", email="grace.kim@example.com", location="Denver Office"
    )
    portal.set_faults("none", write_failure_rate=1.0, failure_after_apply_ratio=1.0)
    with pytest.raises(PortalError) as failed:
        set_up_device(signed_in_session, grace)
    assert "grace.kim / device" in str(failed.value)
    portal.set_faults("none")

    retried = set_up_device(signed_in_session, grace)

    assert retried.action == "already done"
    assert (portal.user("grace.kim") or {})["device"]["type"] == "Generic SIP Phone"


@pytest.mark.browser
def test_expired_session_is_reported_and_signing_in_again_resumes(
    signed_in_page: Page, signed_in_session: Session, portal: Portal
) -> None:
    """An expired session raises SessionExpiredError; after signing in again the step runs."""
    portal.set_faults("none", session_idle_seconds=0)
    with pytest.raises(SessionExpiredError):
        set_up_device(signed_in_session, AVA)
    portal.set_faults("none")

    assert ensure_signed_in(signed_in_page, portal.url, portal.username, portal.password)
    outcome = set_up_device(signed_in_session, AVA)

    assert outcome.action == "changed"
    assert (portal.user("ava.nguyen") or {})["device"]["type"] == "Generic SIP Phone"


@pytest.mark.browser
def test_no_seat_left_is_a_business_error(signed_in_session: Session, portal: Portal) -> None:
    """Assigning a licence with every seat taken raises the portal's own message."""
    dana = NewHire(
        first_name="Dana",
        last_name="Smith",
        email="dana.smith@example.com",
        location="Phoenix HQ",
        license="NextOS Call Recording",
    )

    with pytest.raises(BusinessError) as refused:
        assign_license(signed_in_session, dana)

    assert "No licenses available." in str(refused.value)
    assert not holds(portal, "NextOS Call Recording", "dana.smith")


def test_hire_without_a_licence_skips_the_licence_step() -> None:
    """A hire who needs no licence is done with that step without opening any screen."""
    hire = NIA.model_copy(update={"license": None})
    untouched = Session(cast(Page, object()))  # any use of the page would fail

    outcome = assign_license(untouched, hire)

    assert (outcome.step, outcome.action) == ("license", "already done")


class RecordingBatchWitness:
    """Keeps what the licence batch told it, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def before_write(
        self, page: Page, step: str, description: str, usernames: Sequence[str]
    ) -> None:
        self.events.append(("write", step, *usernames))

    def after_steps(self, page: Page, outcomes: Mapping[str, StepOutcome]) -> None:
        self.events.extend((o.action, o.step, name) for name, o in outcomes.items())


def seeded_hires(portal: Portal, usernames: Sequence[str], license_name: str) -> list[NewHire]:
    """Hires for users the seed already holds, wanting `license_name`."""
    hires = []
    for username in usernames:
        user = portal.user(username)
        assert user is not None, username
        hires.append(
            NewHire(
                first_name=user["first_name"],
                last_name=user["last_name"],
                email=user["email"],
                location=user["location"],
                username=username,
                license=license_name,
            )
        )
    return hires


def seats_used(portal: Portal, license_name: str) -> int:
    licence = next(x for x in portal.state()["licenses"] if x["name"] == license_name)
    return len(licence["assigned"])


def unassigned(portal: Portal, license_name: str, count: int) -> list[str]:
    """`count` people of the seed without `license_name` (not the Conference Room and such)."""
    licence = next(x for x in portal.state()["licenses"] if x["name"] == license_name)
    return [
        u["username"]
        for u in portal.state()["users"]
        if u["username"] not in licence["assigned"] and "." in u["username"]
    ][:count]


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["a", "b", "c"])
def test_one_save_assigns_the_licence_to_a_whole_batch(
    signed_in_session: Session, portal_of_variant: Portal
) -> None:
    """Three hires lacking the licence and one holding it: one Save, all four hold it."""
    portal = portal_of_variant
    pro = "NextOS Pro Plus Upgrade"
    names = ["dana.smith", *unassigned(portal, pro, 3)]
    hires = seeded_hires(portal, names, pro)
    saves = portal.state()["counters"]["saves"]
    witness = RecordingBatchWitness()

    batch = assign_licenses(signed_in_session, pro, hires, witness)

    assert batch.one_by_one == []
    assert {name: o.action for name, o in batch.done.items()} == {
        "dana.smith": "already done",
        **{name: "changed" for name in names[1:]},
    }
    assert all(holds(portal, pro, name) for name in names)
    assert portal.state()["counters"]["saves"] == saves + 1, "one Save for the batch"
    assert witness.events[0] == ("write", "license", *names[1:])


@pytest.mark.browser
def test_a_batch_again_saves_nothing(signed_in_session: Session, portal: Portal) -> None:
    """A batch whose hires all hold the licence (a rerun after a crash) writes nothing."""
    pro = "NextOS Pro Plus Upgrade"
    hires = seeded_hires(portal, unassigned(portal, pro, 2), pro)
    assign_licenses(signed_in_session, pro, hires)
    saves = portal.state()["counters"]["saves"]
    witness = RecordingBatchWitness()

    batch = assign_licenses(signed_in_session, pro, hires, witness)

    assert {o.action for o in batch.done.values()} == {"already done"}
    assert portal.state()["counters"]["saves"] == saves
    assert [event[0] for event in witness.events] == ["already done", "already done"]


@pytest.mark.browser
def test_a_batch_larger_than_the_free_seats_is_left_for_one_by_one(
    signed_in_session: Session, portal: Portal, portal_server: PortalServer
) -> None:
    """The portal refuses the whole Save when seats run short: nothing is assigned, and
    every hire of the batch is handed back to be assigned alone."""
    essential = "NextOS Voice Essential"
    store = portal_server.app.extensions["mock_portal"].store
    with store.lock:
        next(x for x in store.data.licenses if x.name == essential).seats_total = 2
    hires = seeded_hires(portal, unassigned(portal, essential, 3), essential)

    batch = assign_licenses(signed_in_session, essential, hires)

    assert batch.done == {}
    assert batch.one_by_one == hires
    assert seats_used(portal, essential) == 0


@pytest.mark.browser
def test_a_free_number_taken_before_the_save_is_retried_with_another(
    signed_in_session: Session, portal: Portal, portal_server: PortalServer
) -> None:
    """The number the form offered is gone when Create User is saved (another admin, another
    worker): a transient failure, and the step redone takes a number still free."""
    from tests.test_reliability import _create_user, at_first_request

    store = portal_server.app.extensions["mock_portal"].store
    denver = next(x for x in store.data.locations if x.name == NIA.location)
    taken: list[str] = []

    def someone_takes_the_first_free_number() -> None:
        with store.lock:
            taken.append(denver.free_numbers.pop(0))

    with (
        at_first_request(portal_server, _create_user, someone_takes_the_first_free_number),
        pytest.raises(PortalError, match="taken meanwhile"),
    ):
        create_user(signed_in_session, NIA)
    assert portal.user(NIA.username) is None

    outcome = create_user(signed_in_session, NIA)

    assert outcome.action == "created"
    user = portal.user(NIA.username)
    assert user is not None
    assert taken and user["phone_number"] != taken[0]
