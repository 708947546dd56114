"""The Xima robot's record type, screens and steps, against the Xima mock portal.

The roster row's rules are checked without a browser. The steps run in pytest-playwright's
`page` against the mock served once for the session, reset before each test, and are judged
by the mock's oracle (`/__mock__/state`), not by what the robot says it did.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page
from pydantic import ValidationError

from domain.errors import BusinessError, PortalError, SessionExpiredError, SignInError
from domain.steps import ALREADY_DONE, CHANGE, CHANGED, CREATE, CREATED, StepOutcome
from domain.xima import EmergencyAddress, XimaUser
from flows.xima.session import ensure_signed_in, sign_in
from flows.xima.users import (
    DELETE_PLAN,
    DELETE_STEP,
    DELETED,
    USER_STEP,
    delete_user,
    ensure_user,
    plan_user,
)
from mock_portal.server import PortalServer
from mock_portal.xima import XimaConfig, create_app
from pages.xima.users import COLUMNS, UsersPage

ADMIN = "admin@example.com"
NEW_ADDRESS = "1600 Glenarm Pl, Denver, CO 80202"
HQ_ADDRESS = "3300 N Triumph Blvd, Lehi, UT 84043"
PIN = "86420"


def nora(**overrides: Any) -> XimaUser:
    """A new hire for Denver with a new emergency address and no caller IDs given."""
    row: dict[str, Any] = {
        "first_name": "Nora",
        "last_name": "Quinn",
        "email": "nora.quinn@example.com",
        "extension": "209",
        "department": "Engineering",
        "site": "Denver Office",
        "emergency_address": NEW_ADDRESS,
        "scope": "Site Manager",
        "area_code": "720",
        "voicemail": "no",
        "voicemail_pin": PIN,
    }
    row.update(overrides)
    return XimaUser(**row)


# ---------- the roster row, no browser ----------


def test_a_row_is_normalised_as_the_portal_reads_it() -> None:
    """Formatted numbers become digits, yes/no booleans, the address its parts, scope its name."""
    user = nora(
        caller_id="(720) 555-0209", emergency_caller_id="+1 720-555-0210", scope="office manager"
    )
    assert user.caller_id == "7205550209" and user.emergency_caller_id == "7205550210"
    assert user.voicemail is False and user.phone_extension is True
    assert user.emergency_address == EmergencyAddress(
        street="1600 Glenarm Pl", city="Denver", state="CO", zip_code="80202"
    )
    assert user.scope == "Office Manager" and user.action == "add"
    assert user.key == "nora.quinn@example.com"
    assert "voicemail_pin" not in user.portal_values()


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"emergency_address": "1600 Glenarm Pl Denver CO 80202"}, "Street, City, ST ZIP"),
        ({"emergency_address": "1600 Glenarm Pl, Denver, Colorado"}, "2-letter state"),
        ({"extension": "12"}, "extension"),
        ({"first_name": "x" * 51}, "first_name"),
        ({"email": "nora@"}, "valid email"),
        ({"scope": "Admin"}, "scope"),
        ({"area_code": "72"}, "area_code"),
        ({"caller_id": "(801) 555-0115"}, "must be a number in area code 720"),
        ({"caller_id": "555-0115"}, "10-digit"),
        ({"voicemail": "maybe"}, "yes or no"),
        ({"voicemail_pin": "12a4"}, "Voicemail Pin must be 4 to 10 digits"),
        ({"department": ""}, "Department"),
        ({"action": "purge"}, "action"),
    ],
)
def test_a_row_the_portal_would_refuse_is_refused_before_any_browser(
    overrides: dict[str, Any], words: str
) -> None:
    """Each broken rule is refused with a message naming the field or the shape wanted."""
    with pytest.raises(ValidationError) as refused:
        nora(**overrides)
    assert words in str(refused.value)


def test_the_voicemail_pin_is_in_no_repr_or_error() -> None:
    """The PIN shows neither in the row's repr nor in the refusal of another field."""
    assert PIN not in repr(nora()) and PIN not in str(nora())
    with pytest.raises(ValidationError) as refused:
        nora(extension="x", voicemail_pin="98765432")
    assert "98765432" not in str(refused.value)


def test_a_delete_row_needs_only_the_email() -> None:
    """A delete row is valid with its email alone; an add row without fields is not."""
    assert XimaUser(email="dana.smith@example.com", action="delete").action == "delete"
    with pytest.raises(ValidationError, match="First Name"):
        XimaUser(email="dana.smith@example.com")


def test_differences_compare_as_the_portal_matches() -> None:
    """Email and address case aside; empty caller IDs accept the area code's number held."""
    user = nora()
    shown: dict[str, str | bool] = {
        **user.portal_values(),
        "email": "Nora.Quinn@Example.com",
        "emergency_address": "1600 GLENARM PL, denver, CO 80202",
        "caller_id": "7205550209",
        "emergency_caller_id": "7205550209",
    }
    assert user.differences(shown) == {}
    moved = {**shown, "caller_id": "8015550115", "emergency_caller_id": "8015550115"}
    assert set(user.differences(moved)) == {"caller_id", "emergency_caller_id"}
    assert user.differences({**shown, "last_name": "Quinn-Hart"}) == {
        "last_name": ("Quinn-Hart", "Quinn")
    }


# ---------- the steps on the mock portal ----------


class Oracle:
    """The running Xima mock as tests see it: its URL, admin account and oracle."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.password = password

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + "__mock__/" + path,
            data=None if body is None else json.dumps(body).encode(),
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def state(self) -> dict[str, Any]:
        return self.call("state")

    def counters(self) -> dict[str, Any]:
        return self.state()["counters"]

    def users_with(self, email: str) -> list[dict[str, Any]]:
        return [u for u in self.state()["users"] if u["email"].casefold() == email.casefold()]

    def faults(self, profile: str = "none", **overrides: Any) -> None:
        self.call("faults", {"profile": profile, **overrides})


class Recorder:
    """A witness that keeps what the steps tell it."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []
        self.outcomes: list[StepOutcome] = []
        self.secrets: list[str] = []

    def before_write(self, page: Page, step: str, description: str) -> None:
        self.writes.append((step, description))

    def after_step(self, page: Page, outcome: StepOutcome) -> None:
        self.outcomes.append(outcome)

    def secret(self, value: str) -> None:
        self.secrets.append(value)


@pytest.fixture(scope="session")
def xima_server() -> Iterator[PortalServer]:
    config = XimaConfig(admin_email=ADMIN, admin_password=secrets.token_urlsafe(16))
    with PortalServer(create_app(config)) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(xima_server: PortalServer) -> str:
    """pytest-playwright's base URL: the Xima mock (no other portal is started for these)."""
    return xima_server.url


@pytest.fixture
def xima(xima_server: PortalServer) -> Oracle:
    """The Xima mock, back to its seed with no faults."""
    oracle = Oracle(
        xima_server.url, xima_server.app.extensions["mock_portal"].config.admin_password
    )
    oracle.call("reset", {})
    oracle.faults("none")
    return oracle


@pytest.fixture
def signed_in(page: Page, xima: Oracle) -> Page:
    sign_in(page, xima.url, ADMIN, xima.password)
    return page


def seeded(xima: Oracle, email: str, **overrides: Any) -> XimaUser:
    """The roster row that matches a seeded user as the oracle has them."""
    held = xima.users_with(email)[0]
    row = {
        name: held[name]
        for name in (
            "first_name",
            "last_name",
            "email",
            "extension",
            "department",
            "site",
            "emergency_address",
            "scope",
            "caller_id",
            "emergency_caller_id",
        )
    }
    row.update(
        area_code=held["caller_id"][:3],
        voicemail="yes" if held["voicemail"] else "no",
        phone_extension="yes" if held["phone_extension"] else "no",
    )
    row.update(overrides)
    return XimaUser(**row)


@pytest.mark.browser
def test_add_with_a_new_address_and_free_numbers_then_a_second_run_writes_nothing(
    signed_in: Page, xima: Oracle
) -> None:
    """Add User with Add Address and the first free number sets every field; run two is a look."""
    witness = Recorder()
    outcome = ensure_user(signed_in, nora(), witness)

    assert outcome.action == CREATED and outcome.step == USER_STEP
    [held] = xima.users_with("nora.quinn@example.com")
    assert {k: held[k] for k in ("first_name", "last_name", "extension", "department")} == {
        "first_name": "Nora",
        "last_name": "Quinn",
        "extension": "209",
        "department": "Engineering",
    }
    assert held["site"] == "Denver Office" and held["scope"] == "Site Manager"
    assert held["emergency_address"] == NEW_ADDRESS
    # 720 555-0209 is the area code's first free number; the emergency caller ID follows it.
    assert held["caller_id"] == "7205550209" and held["emergency_caller_id"] == "7205550209"
    assert held["voicemail"] is False and held["phone_extension"] is True
    assert held["voicemail_pin_set"] is True and held["password_set"] is False
    assert [step for step, _ in witness.writes] == [USER_STEP, USER_STEP]
    assert witness.secrets == [PIN]
    assert PIN not in repr(witness.outcomes) and PIN not in repr(witness.writes)
    counters = xima.counters()
    assert counters["users_added"] == 1 and counters["addresses_added"] == 1

    again = ensure_user(signed_in, nora(), witness)

    assert again.action == ALREADY_DONE and "Voicemail Pin left as it is" in again.detail
    assert xima.counters()["writes"] == counters["writes"]
    assert xima.counters()["saves"] == counters["saves"]
    assert len(witness.writes) == 2 and len(xima.users_with("nora.quinn@example.com")) == 1


@pytest.mark.browser
def test_edit_changes_only_the_field_that_differs(signed_in: Page, xima: Oracle) -> None:
    """A new last name is the one change saved; plan named it first and wrote nothing."""
    before = xima.users_with("dana.smith@example.com")[0]
    wanted = seeded(xima, "dana.smith@example.com", last_name="Smith-Ortega")

    [plan] = plan_user(signed_in, wanted)
    assert plan.action == CHANGE and plan.detail == "Last Name: 'Smith' -> 'Smith-Ortega'"
    assert xima.counters()["saves"] == 0

    outcome = ensure_user(signed_in, wanted, Recorder())

    assert outcome.action == CHANGED
    assert outcome.before == {"last_name": "Smith"}
    assert outcome.after == {"last_name": "Smith-Ortega"}
    after = xima.users_with("dana.smith@example.com")[0]
    assert after == {**before, "last_name": "Smith-Ortega"}
    assert xima.counters()["users_updated"] == 1 and xima.counters()["writes"] == 1


@pytest.mark.browser
def test_delete_then_delete_again_is_already_done(signed_in: Page, xima: Oracle) -> None:
    """Delete confirms in the dialog naming the user (banner up); the second delete is a look."""
    xima.faults("none", banner=True)
    gone = XimaUser(email="Marcus.Brown@example.com", action="delete")
    assert [p.action for p in plan_user(signed_in, gone)] == [DELETE_PLAN]

    first = delete_user(signed_in, gone, Recorder())
    second = delete_user(signed_in, gone, Recorder())

    assert (first.step, first.action) == (DELETE_STEP, DELETED)
    assert first.before["name"] == "Marcus Brown"
    assert second.action == ALREADY_DONE
    assert xima.users_with("marcus.brown@example.com") == []
    assert xima.counters()["users_deleted"] == 1 and xima.counters()["writes"] == 1
    assert [p.action for p in plan_user(signed_in, gone)] == [ALREADY_DONE]


@pytest.mark.browser
def test_a_taken_extension_is_a_business_error_in_the_portals_words(
    signed_in: Page, xima: Oracle
) -> None:
    """Marcus Brown holds 204: the add is refused naming the user and step; nothing is added."""
    with pytest.raises(BusinessError) as refused:
        ensure_user(signed_in, nora(extension="204", emergency_address=HQ_ADDRESS))

    assert not isinstance(refused.value, PortalError)
    assert refused.value.message == "Extension 204 is already in use."
    assert refused.value.user == "nora.quinn@example.com" and refused.value.step == USER_STEP
    assert xima.users_with("nora.quinn@example.com") == []
    assert xima.counters()["writes"] == 0


@pytest.mark.browser
def test_a_save_failing_after_it_applied_is_retried_without_a_duplicate(
    signed_in: Page, xima: Oracle
) -> None:
    """HTTP 500 after the portal added the user is transient; the retry finds the user."""
    xima.faults("none", write_failure_rate=1.0, failure_after_apply_ratio=1.0)
    hire = nora(emergency_address=HQ_ADDRESS)

    with pytest.raises(PortalError) as failed:
        ensure_user(signed_in, hire)
    assert failed.value.user == "nora.quinn@example.com"

    xima.faults("none")
    retried = ensure_user(signed_in, hire)

    assert retried.action == ALREADY_DONE
    assert len(xima.users_with("nora.quinn@example.com")) == 1
    assert xima.counters()["users_added"] == 1 and xima.counters()["errors_injected"] == 1


@pytest.mark.browser
def test_an_expired_session_is_reported_and_signing_in_again_resumes(
    signed_in: Page, xima: Oracle
) -> None:
    """The portal's expiry is a SessionExpiredError; after signing in again the add goes on."""
    xima.faults("none", session_idle_seconds=0)
    with pytest.raises(SessionExpiredError):
        ensure_user(signed_in, nora(emergency_address=HQ_ADDRESS))
    assert xima.counters()["writes"] == 0

    xima.faults("none")
    assert ensure_signed_in(signed_in, xima.url, ADMIN, xima.password) is True
    assert ensure_user(signed_in, nora(emergency_address=HQ_ADDRESS)).action == CREATED
    assert ensure_signed_in(signed_in, xima.url, ADMIN, xima.password) is False


@pytest.mark.browser
def test_plan_reports_create_change_and_delete_without_writing(
    signed_in: Page, xima: Oracle
) -> None:
    """Plan looks only: a missing user is a create, a differing one a change, a delete a delete."""
    plans = [
        plan_user(signed_in, nora()),
        plan_user(signed_in, seeded(xima, "jordan.lee@example.com", scope="Site Manager")),
        plan_user(signed_in, XimaUser(email="hannah.kim@example.com", action="delete")),
        plan_user(signed_in, seeded(xima, "priya.patel@example.com")),
    ]

    assert [[p.action for p in plan] for plan in plans] == [
        [CREATE],
        [CHANGE],
        [DELETE_PLAN],
        [ALREADY_DONE],
    ]
    assert "User's Scope: 'Basic User' -> 'Site Manager'" in plans[1][0].detail
    assert xima.counters()["saves"] == 0 and xima.counters()["errors_injected"] == 0


@pytest.mark.browser
def test_users_headers_styled_in_capitals_are_read_as_their_text(
    signed_in: Page, xima: Oracle
) -> None:
    """The headers show in capitals through CSS; the robot reads the contract's names."""
    users = UsersPage(signed_in)
    transform = users.column_headers.first.evaluate("(e) => getComputedStyle(e).textTransform")
    assert transform == "uppercase"

    assert users.headers()[: len(COLUMNS)] == list(COLUMNS)
    listed = users.listed()
    assert len(listed) == 25
    assert listed[0].email == xima.state()["users"][0]["email"]


class _Redirect(http.server.BaseHTTPRequestHandler):
    """Sends every request on to another origin."""

    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.browser
def test_the_password_is_not_typed_when_the_start_url_leads_to_another_origin(
    page: Page, xima: Oracle
) -> None:
    """A start URL redirecting to the portal on another port gets neither email nor password."""
    handler = type("Redirect", (_Redirect,), {"target": xima.url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        start = f"http://127.0.0.1:{server.server_address[1]}/"
        with pytest.raises(SignInError) as stopped:
            sign_in(page, start, ADMIN, xima.password)
    finally:
        server.shutdown()
        server.server_close()

    assert "was not typed there" in stopped.value.message
    assert xima.password not in str(stopped.value)
    assert page.get_by_label("Password", exact=True).input_value() == ""
    assert page.get_by_role("textbox", name="Email", exact=True).input_value() == ""
    assert xima.counters()["sign_ins"] == 0


@pytest.mark.browser
def test_wrong_credentials_are_a_sign_in_error_in_the_portals_words(
    page: Page, xima: Oracle
) -> None:
    """A wrong password is refused once with the portal's alert, and the error holds no secret."""
    wrong = xima.password + "-wrong"
    with pytest.raises(SignInError) as refused:
        sign_in(page, xima.url, ADMIN, wrong)

    assert "Invalid email or password." in refused.value.message
    assert wrong not in str(refused.value) and refused.value.__cause__ is None
    assert xima.counters()["sign_ins"] == 0
