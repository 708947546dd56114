"""The mock portal at the HTTP level: its rules, faults, sessions and oracle, without a browser."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.nextiva.runtime import current_portal

PASSWORD = "correct-horse-battery"
ADMIN = "admin@example.com"
EXPIRED = "Your session has expired. Please sign in again."
WENT_WRONG = "Something went wrong. Please try again."


def _token(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page carries no CSRF token"
    return found.group(1)


class _AlertText(HTMLParser):
    """Collects the text inside role=alert elements."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth or ("role", "alert") in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _alerts(html: str) -> str:
    """The text of every role=alert element on a page, whitespace collapsed."""
    parser = _AlertText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


class Admin:
    """A signed-in admin driving the portal through Flask's test client."""

    def __init__(self, app: Flask, client: FlaskClient | None = None) -> None:
        self.app = app
        self.client = client or app.test_client()
        self.csrf = ""

    def sign_in(self, password: str = PASSWORD) -> TestResponse:
        self.csrf = _token(self.client.get("/").text)
        self.client.post("/", data={"csrf_token": self.csrf, "username": ADMIN})
        page = self.client.post(
            "/", data={"csrf_token": self.csrf, "password": password}, follow_redirects=True
        )
        # Signing in starts a fresh session, and with it a fresh form token.
        self.csrf = _token(page.text)
        return page

    def refresh_token(self) -> None:
        self.csrf = _token(self.client.get("/dashboard").text)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
        return self.client.post(path, data={"csrf_token": self.csrf, **data}, **kwargs)

    def save(self, path: str, data: dict[str, Any]) -> TestResponse:
        """A section save as the page's fetch() sends it."""
        return self.client.post(
            path, data=data, headers={"X-CSRFToken": self.csrf, "X-Requested-With": "fetch"}
        )

    def create(self, **overrides: str) -> TestResponse:
        return self.post("/users/new", new_user_form(**overrides))


def new_user_form(**overrides: str) -> dict[str, str]:
    form = {
        "first_name": "Riley",
        "last_name": "Moss",
        "username": "riley.moss",
        "email": "riley.moss@example.com",
        "location": "Phoenix HQ",
        "phone_number": "6025550100",
        "extension": "0100",
        "package": "NextOSAdditionalLineLocal",
        "voicemail_to_email": "on",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def state(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/__mock__/state").get_json()


def user_in(app: Flask, username: str) -> dict[str, Any] | None:
    return next((u for u in state(app)["users"] if u["username"] == username), None)


def faults(app: Flask, profile: str = "none", **overrides: Any) -> dict[str, Any]:
    response = app.test_client().post("/__mock__/faults", json={"profile": profile, **overrides})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def app() -> Flask:
    return create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD))


@pytest.fixture
def admin(app: Flask) -> Admin:
    handle = Admin(app)
    assert "Nextiva Voice Admin Dashboard" in handle.sign_in().text
    return handle


# ---------- signing in ----------


def test_signed_out_visitor_reaches_only_sign_in_and_static_files(app: Flask) -> None:
    """Every page but sign-in sends a signed-out visitor to sign-in; fetch() calls get 401."""
    client = app.test_client()
    for path in ("/dashboard", "/users", "/users/new", "/users/1", "/account/licensing", "/x"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == "/", path
    assert client.get("/api/locations/numbers?location=Phoenix%20HQ").status_code == 401
    assert client.get("/static/portal.js").status_code == 200
    assert "Username or Email" in client.get("/").text


def test_sign_in_takes_two_steps_and_is_counted(app: Flask) -> None:
    """Username then Next, Password then Sign in opens the dashboard; sign-ins are not writes."""
    admin = Admin(app)
    first = admin.client.get("/").text
    assert "Password" not in first and ">Next<" in first
    page = admin.sign_in()
    assert "Nextiva Voice Admin Dashboard" in page.text
    assert state(app)["counters"] == {"sign_ins": 1, "writes": 0, "errors_injected": 0, "saves": 0}
    assert admin.client.get("/").location == "/dashboard"


def test_wrong_password_is_refused_with_an_alert(app: Flask) -> None:
    """A wrong password shows the alert and signs nobody in."""
    admin = Admin(app)
    page = admin.sign_in(password="not-it")
    assert _alerts(page.text) == "Invalid username or password."
    assert admin.client.get("/dashboard").status_code == 302
    assert state(app)["counters"]["sign_ins"] == 0


def test_variant_b_asks_for_both_fields_on_one_screen() -> None:
    """Variant b signs in in one step and still reaches the dashboard."""
    app = create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, variant="b"))
    client = app.test_client()
    page = client.get("/").text
    assert "Username or Email" in page and "Password" in page and ">Next<" not in page
    response = client.post(
        "/",
        data={"csrf_token": _token(page), "username": ADMIN, "password": PASSWORD},
        follow_redirects=True,
    )
    assert "Nextiva Voice Admin Dashboard" in response.text


def test_admin_password_never_appears_in_pages_or_oracle(admin: Admin, app: Flask) -> None:
    """Neither the portal's pages nor its oracle ever echo the admin password."""
    failed = Admin(app).sign_in(password=PASSWORD + "x")
    assert PASSWORD not in failed.text
    for path in ("/dashboard", "/users/new", "/users/1", "/account/"):
        assert PASSWORD not in admin.client.get(path).text
    assert PASSWORD not in app.test_client().get("/__mock__/state").text


# ---------- CSRF and bad requests ----------


def test_form_post_without_csrf_token_is_refused_and_changes_nothing(
    admin: Admin, app: Flask
) -> None:
    """A Create User post without the form's token gets 400 with an alert; no user appears."""
    response = admin.client.post("/users/new", data=new_user_form())
    assert response.status_code == 400
    assert "did not come from the portal" in _alerts(response.text)
    assert user_in(app, "riley.moss") is None
    assert state(app)["counters"]["writes"] == 0


def test_fetch_save_with_forged_csrf_header_is_refused(admin: Admin, app: Flask) -> None:
    """A section save with a forged X-CSRFToken header gets a 400 JSON error."""
    response = admin.client.post(
        "/api/users/1/security",
        data={"authorized_user": "on", "security_pin": "1234"},
        headers={"X-CSRFToken": "forged", "X-Requested-With": "fetch"},
    )
    assert response.status_code == 400 and "error" in response.get_json()
    assert user_in(app, "dana.smith")["authorized_user"] is False


def test_unknown_user_is_404_with_an_alert(admin: Admin) -> None:
    """Unknown ids answer 404: a page with an alert, or JSON for fetch()."""
    page = admin.client.get("/users/999")
    assert page.status_code == 404 and _alerts(page.text) == "User not found."
    api = admin.save("/api/users/999/device", {"device": "Generic SIP Phone"})
    assert api.status_code == 404 and api.get_json()["error"] == "User not found."


def test_oversized_request_is_refused_without_touching_state(admin: Admin, app: Flask) -> None:
    """A request body over the portal's limit gets 413 and leaves the data alone."""
    response = admin.create(first_name="x" * 70_000)
    assert response.status_code == 413
    assert user_in(app, "riley.moss") is None


def test_oversized_field_gets_its_rule_message(admin: Admin, app: Flask) -> None:
    """A first name far over 30 characters is a rule failure, not a crash."""
    response = admin.create(first_name="x" * 5000)
    assert response.status_code == 400
    assert "First name must be 30 characters or fewer." in _alerts(response.text)
    assert user_in(app, "riley.moss") is None


# ---------- Create User rules ----------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "riley moss"}, "Username contains invalid characters."),
        ({"username": "riley@moss"}, "Username contains invalid characters."),
        ({"username": ""}, "Username is required."),
        ({"first_name": ""}, "First name is required."),
        ({"last_name": "L" * 31}, "Last name must be 30 characters or fewer."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"email": "a" * 70 + "@example.com"}, "Email must be 80 characters or fewer."),
        ({"extension": "1"}, "Extension must be 2 to 6 digits."),
        ({"extension": "1234567"}, "Extension must be 2 to 6 digits."),
        ({"extension": "12a4"}, "Extension must be 2 to 6 digits."),
        ({"extension": "911"}, "Extension 911 is reserved for service codes."),
        ({"extension": "1001"}, "Extension 1001 is already assigned to another user."),
        ({"location": ""}, "Location is required."),
        ({"location": "Mars Base"}, "Choose a location from the list."),
        ({"package": ""}, "Package is required."),
        ({"package": "Gold"}, "Choose a package from the list."),
        (
            {"phone_number": "3035550200"},
            "Phone number (303) 555-0200 is not available at Phoenix HQ.",
        ),
        ({"authorized_user": "on", "pin": "12"}, "PIN must be 4 digits."),
        ({"authorized_user": "on", "pin": "abcd"}, "PIN must be 4 digits."),
        ({"unreachable_number": "555"}, "Primary number unreachable must be a 10-digit number."),
    ],
)
def test_create_user_refuses_each_broken_rule(
    admin: Admin, app: Flask, overrides: dict[str, str], message: str
) -> None:
    """Each rule is refused with its message beside the field and in the alert; nothing is saved."""
    before = state(app)
    response = admin.create(**overrides)
    assert response.status_code == 400
    assert message in _alerts(response.text)
    assert 'class="field-error" id="' in response.text and message in response.text
    after = state(app)
    assert after["users"] == before["users"] and after["counters"]["writes"] == 0


@pytest.mark.parametrize("taken", ["dana.smith", "Dana.Smith", "sam.taylor"])
def test_username_must_be_unique_across_the_whole_portal(
    admin: Admin, app: Flask, taken: str
) -> None:
    """A username held here (any case) or in another account is refused."""
    response = admin.create(username=taken)
    assert "Username already exists. Please choose a different username." in _alerts(response.text)
    assert sum(1 for u in state(app)["users"] if u["username"].lower() == taken.lower()) <= 1


def test_created_user_takes_a_number_and_a_line_and_awaits_e911(admin: Admin, app: Flask) -> None:
    """The first Save & Continue creates the user (E911 unconfirmed), uses its number and a line."""
    response = admin.create()
    assert response.status_code == 302 and response.location.endswith("/e911")
    snapshot = state(app)
    user = user_in(app, "riley.moss")
    assert user is not None
    assert user["phone_number"] == "6025550100" and user["extension"] == "0100"
    assert user["time_zone"] == "America/Phoenix" and user["e911_confirmed"] is False
    assert user["voicemail_to_email"] is True
    phoenix = next(loc for loc in snapshot["locations"] if loc["name"] == "Phoenix HQ")
    assert "6025550100" not in phoenix["free_numbers"]
    local = next(p for p in snapshot["packages"] if p["name"] == "NextOSAdditionalLineLocal")
    assert local["lines_left"] == 59
    assert snapshot["counters"]["writes"] == 1


def test_e911_confirmation_is_a_second_separate_save(admin: Admin, app: Flask) -> None:
    """E911 Address is pre-filled with the location's address and its save confirms it."""
    location = admin.create().location
    page = admin.client.get(location)
    assert "E911 Address" in page.text and "2 N Central Ave" in page.text
    response = admin.post(
        location,
        {"street": "2 N Central Ave", "city": "Phoenix", "state": "AZ", "zip_code": "85004"},
    )
    assert response.status_code == 302
    user = user_in(app, "riley.moss")
    assert user["e911_confirmed"] is True
    assert user["e911_address"] == "2 N Central Ave, Phoenix, AZ 85004"
    assert state(app)["counters"]["writes"] == 2
    assert "Changes saved." in admin.client.get(response.location).text


def test_exhausted_number_pool_names_the_location(admin: Admin, app: Flask) -> None:
    """With Denver's pool empty, asking for a Denver number names the location."""
    with app.app_context():
        current_portal().store.location("Denver Office").free_numbers.clear()
    response = admin.create(location="Denver Office", phone_number="3035550200", extension="0200")
    assert "No phone numbers are available at Denver Office." in _alerts(response.text)
    assert user_in(app, "riley.moss") is None


def test_exhausted_package_names_the_package(admin: Admin, app: Flask) -> None:
    """The toll-free package has two lines; the third user asking for it is refused by name."""
    for n in range(2):
        response = admin.create(
            username=f"tf{n}",
            phone_number=f"60255501{10 + n}",
            extension=f"01{10 + n}",
            package="NextOSAdditionalLineTollFree",
        )
        assert response.status_code == 302
    response = admin.create(package="NextOSAdditionalLineTollFree")
    assert "No lines left in package NextOSAdditionalLineTollFree." in _alerts(response.text)
    assert user_in(app, "riley.moss") is None


def test_parallel_creates_of_one_username_make_exactly_one_user(app: Flask) -> None:
    """Eight admins racing to create the same user leave exactly one."""
    admins = [Admin(app) for _ in range(8)]
    for handle in admins:
        handle.sign_in()
    statuses: list[int] = []
    lock = threading.Lock()

    def create(handle: Admin) -> None:
        code = handle.create().status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=create, args=(h,)) for h in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] + [400] * 7
    assert sum(1 for u in state(app)["users"] if u["username"] == "riley.moss") == 1


def test_seed_extensions_never_collide_with_free_numbers(app: Flask) -> None:
    """A free number's last four digits are never an extension already in use."""
    snapshot = state(app)
    extensions = {u["extension"] for u in snapshot["users"]}
    free = [n for loc in snapshot["locations"] for n in loc["free_numbers"]]
    assert len(free) >= 3 * 40
    assert not {n[-4:] for n in free} & extensions
    assert {"Conference Room", "Front Desk", "Dana Smith"} <= {
        f"{u['first_name']} {u['last_name']}" for u in snapshot["users"]
    }


# ---------- lists and look-ups ----------


def test_users_overview_pages_ten_rows_and_searches_on_the_server(admin: Admin) -> None:
    """Ten rows a page, Next/Previous, and a fetch() search that returns only matches."""
    page = admin.client.get("/users").text
    assert page.count("<tr>") == 11  # header + 10
    second = admin.client.get("/users?page=2", headers={"X-Requested-With": "fetch"}).text
    assert "<html" not in second and 1 <= second.count("<tr>") - 1 <= 10
    found = admin.client.get("/users?q=dana", headers={"X-Requested-With": "fetch"}).text
    assert "dana.smith" in found and "dana.smithers" in found and "miguel" not in found
    none = admin.client.get("/users?q=zzzz", headers={"X-Requested-With": "fetch"}).text
    assert none.count("<tr>") == 1 and "No users found" in none


def test_numbers_of_a_location_arrive_formatted(admin: Admin, app: Flask) -> None:
    """The number list for a location is its free pool, shown like (602) 555-0100."""
    faults(app, numbers_delay_ms=0)
    body = admin.client.get("/api/locations/numbers?location=Phoenix%20HQ").get_json()
    assert body["time_zone"] == "America/Phoenix"
    assert body["numbers"][0] == {"value": "6025550100", "label": "(602) 555-0100"}
    assert len(body["numbers"]) == 60
    assert admin.client.get("/api/locations/numbers?location=Nowhere").status_code == 404


# ---------- the user's page ----------


def test_device_needs_a_password_that_never_comes_back(admin: Admin, app: Flask) -> None:
    """Saving a device without a password is refused; the saved one is never sent back."""
    user_id = state(app)["users"][6]["id"]  # Grace Kim, no device
    refused = admin.save(
        f"/api/users/{user_id}/device", {"device": "Generic SIP Phone", "auth_name": "grace.kim"}
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "Authentication password is required."
    secret = "Gen3rated-Secret-99"
    saved = admin.save(
        f"/api/users/{user_id}/device",
        {"device": "Generic SIP Phone", "auth_name": "grace.kim", "auth_password": secret},
    )
    assert saved.get_json()["message"] == "Changes saved."
    assert secret not in saved.text and secret not in admin.client.get(f"/users/{user_id}").text
    assert secret not in app.test_client().get("/__mock__/state").text
    assert user_in(app, "grace.kim")["device"] == {
        "type": "Generic SIP Phone",
        "auth_name": "grace.kim",
        "has_password": True,
    }


def test_voicemail_save_with_an_email_turns_voicemail_to_email_on(admin: Admin, app: Flask) -> None:
    """Saving an email address and Send Attachment turns voicemail-to-email on."""
    user_id = user_in(app, "sofia.rossi")["id"]
    response = admin.save(
        f"/api/users/{user_id}/voicemail",
        {"voicemail_email": "sofia@example.com", "send_attachment": "on"},
    )
    assert response.get_json()["message"] == "Changes saved."
    user = user_in(app, "sofia.rossi")
    assert user["voicemail_to_email"] is True
    assert user["voicemail"] == {"email": "sofia@example.com", "send_attachment": True}
    bad = admin.save(f"/api/users/{user_id}/voicemail", {"voicemail_email": "nope"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "Enter a valid email address."


def test_security_pin_must_be_four_digits_and_stays_secret(admin: Admin, app: Flask) -> None:
    """Authorized User needs a 4-digit PIN; the oracle says only that one is set."""
    path = f"/api/users/{user_in(app, 'dana.smith')['id']}/security"
    bad = admin.save(path, {"authorized_user": "on", "security_pin": "12345"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "PIN must be 4 digits."
    good = admin.save(path, {"authorized_user": "on", "security_pin": "4821"})
    assert good.get_json()["message"] == "Changes saved."
    user = user_in(app, "dana.smith")
    assert user["authorized_user"] is True and user["has_pin"] is True
    assert "4821" not in app.test_client().get("/__mock__/state").text


def test_identical_save_is_accepted_but_is_not_a_write(admin: Admin, app: Flask) -> None:
    """Saving settings the user already has counts as a save, not as a change."""
    user_id = user_in(app, "dana.smith")["id"]
    form = {"voicemail_email": "dana.smith@example.com", "send_attachment": "on"}
    assert admin.save(f"/api/users/{user_id}/voicemail", form).status_code == 200
    counters = state(app)["counters"]
    assert counters["saves"] == 1 and counters["writes"] == 0


# ---------- licences ----------


def test_assigning_and_unassigning_a_licence(admin: Admin, app: Flask) -> None:
    """Checking a user assigns the licence; unchecking a shown holder removes it."""
    response = admin.post(
        "/account/licensing/0/assign",
        {"shown": ["dana.smith", "ben.carter"], "selected": ["ben.carter"]},
    )
    assert response.status_code == 302
    pro = state(app)["licenses"][0]
    assert pro["name"] == "NextOS Pro Plus Upgrade"
    assert "ben.carter" in pro["assigned"] and "dana.smith" not in pro["assigned"]
    assert "miguel.alvarez" in pro["assigned"]  # not shown, so untouched
    assert "Changes saved." in admin.client.get(response.location).text


def test_full_licence_refuses_another_seat_with_the_exact_message(admin: Admin, app: Flask) -> None:
    """All 10 Call Recording seats are used: one more is refused by the portal's message."""
    before = state(app)["licenses"][1]
    assert len(before["assigned"]) == before["seats_total"] == 10
    response = admin.post(
        "/account/licensing/1/assign", {"shown": ["dana.smith"], "selected": ["dana.smith"]}
    )
    assert response.status_code == 400
    assert _alerts(response.text) == (
        "No licenses available. All 10 NextOS Call Recording licenses are assigned."
    )
    assert state(app)["licenses"][1] == before


def test_licensing_lists_seats_used_of_total(admin: Admin) -> None:
    """The Licensing table shows seats like '5 of 60'."""
    page = admin.client.get("/account/licensing").text
    assert "NextOS Pro Plus Upgrade" in page and "5 of 60" in page and "10 of 10" in page


def test_assign_with_unknown_username_is_refused(admin: Admin, app: Flask) -> None:
    """A forged username on the Assign form gets 400 and changes nothing."""
    before = state(app)["licenses"]
    response = admin.post(
        "/account/licensing/0/assign", {"shown": ["ghost"], "selected": ["ghost"]}
    )
    assert response.status_code == 400 and _alerts(response.text)
    assert state(app)["licenses"] == before
    assert admin.client.get("/account/licensing/9/assign").status_code == 404


# ---------- faults ----------


def test_injected_failure_before_apply_changes_nothing(admin: Admin, app: Flask) -> None:
    """With every write failing before it applies, a create answers 500 and no user appears."""
    faults(app, write_failure_rate=1.0, failure_after_apply_ratio=0.0)
    response = admin.create()
    assert response.status_code == 500 and _alerts(response.text) == WENT_WRONG
    assert user_in(app, "riley.moss") is None
    counters = state(app)["counters"]
    assert counters["errors_injected"] == 1 and counters["writes"] == 0


def test_injected_failure_after_apply_really_applied_the_change(admin: Admin, app: Flask) -> None:
    """With every write failing after it applies, the 500 hides a change that did happen."""
    faults(app, write_failure_rate=1.0, failure_after_apply_ratio=1.0)
    response = admin.create()
    assert response.status_code == 500
    assert user_in(app, "riley.moss") is not None
    path = f"/api/users/{user_in(app, 'grace.kim')['id']}/voicemail"
    api = admin.save(path, {"voicemail_email": "g@example.com"})
    assert api.status_code == 500 and api.get_json()["error"] == WENT_WRONG
    assert user_in(app, "grace.kim")["voicemail"]["email"] == "g@example.com"
    counters = state(app)["counters"]
    assert counters["errors_injected"] == 2 and counters["writes"] == 2


def test_flaky_profile_is_reproducible_with_a_seed(app: Flask) -> None:
    """The same seed gives the same sequence of injected failures."""
    from mock_portal.faults import Faults

    def run() -> list[str]:
        handle = Faults("flaky")
        handle.configure("flaky", {"seed": 7})
        return [handle.roll_write().value for _ in range(200)]

    first = run()
    assert first == run()
    assert 5 <= sum(v != "ok" for v in first) <= 40


def test_faults_endpoint_reports_effective_settings_and_refuses_nonsense(app: Flask) -> None:
    """Profiles and overrides come back as effective settings; bad ones get 400."""
    settings = faults(app, "flaky", latency_ms=0)
    assert settings["profile"] == "flaky" and settings["latency_ms"] == 0
    assert settings["write_failure_rate"] == 0.1 and settings["session_max_requests"] == 60
    assert settings["banner"] is True and settings["bubble_overlap"] is True
    client = app.test_client()
    assert client.post("/__mock__/faults", json={"profile": "chaos"}).status_code == 400
    assert client.post("/__mock__/faults", json={"write_failure_rate": 2}).status_code == 400
    assert client.post("/__mock__/faults", json={"banana": 1}).status_code == 400
    bad_json = client.post("/__mock__/faults", data="x", content_type="application/json")
    assert bad_json.status_code == 400


def test_banner_and_overlap_faults_show_on_pages(admin: Admin, app: Flask) -> None:
    """The unsupported-browser banner and the chat greeting come with their faults."""
    assert "unsupported browser" not in admin.client.get("/dashboard").text
    faults(app, banner=True, bubble_overlap=True)
    page = admin.client.get("/dashboard").text
    assert "You are using an unsupported browser." in page and ">close<" in page
    assert 'data-greeting="on"' in page and "Dismiss message" in page


# ---------- sessions ----------


def test_idle_session_expires_and_its_write_is_not_applied(admin: Admin, app: Flask) -> None:
    """After the idle limit, a Create User post lands on sign-in with the alert; no user."""
    faults(app, session_idle_seconds=0)
    response = admin.create()
    assert response.status_code == 302 and response.location == "/"
    assert _alerts(admin.client.get("/").text) == EXPIRED
    assert user_in(app, "riley.moss") is None
    assert admin.client.get("/dashboard").status_code == 302


def test_session_expires_after_its_request_budget(admin: Admin, app: Flask) -> None:
    """With session_max_requests=3, the fourth request of the session is sent to sign-in."""
    faults(app, session_max_requests=3)
    # The dashboard shown right after signing in was the session's first request.
    for _ in range(2):
        assert admin.client.get("/dashboard").status_code == 200
    assert admin.client.get("/dashboard").location == "/"
    assert _alerts(admin.client.get("/").text) == EXPIRED
    assert "Nextiva Voice Admin Dashboard" in admin.sign_in().text


def test_expired_session_answers_fetch_with_401(admin: Admin, app: Flask) -> None:
    """A section save from an expired session gets 401 JSON pointing at sign-in; nothing saved."""
    faults(app, session_idle_seconds=0)
    path = f"/api/users/{user_in(app, 'dana.smith')['id']}/security"
    response = admin.save(path, {"authorized_user": "on", "security_pin": "1234"})
    assert response.status_code == 401
    assert response.get_json() == {"error": EXPIRED, "sign_in": "/"}
    assert user_in(app, "dana.smith")["authorized_user"] is False


def test_sign_out_ends_the_session(admin: Admin) -> None:
    """Sign out returns to sign-in with a confirmation; the old session opens nothing."""
    response = admin.post("/sign-out", {}, follow_redirects=True)
    assert "You have signed out." in response.text
    assert admin.client.get("/dashboard").status_code == 302


def test_a_cookie_saved_before_sign_out_opens_nothing_after(admin: Admin, app: Flask) -> None:
    """Sign out ends the session on the server: a copy of its cookie can no longer save."""
    saved = admin.client.get_cookie("nv_session")
    assert saved is not None
    admin.post("/sign-out", {})
    replay = app.test_client()
    replay.set_cookie("nv_session", saved.value)
    user_id = user_in(app, "grace.kim")["id"]
    response = replay.post(
        f"/api/users/{user_id}/voicemail",
        data={"voicemail_email": "stolen@example.com"},
        headers={"X-CSRFToken": admin.csrf, "X-Requested-With": "fetch"},
    )
    assert response.status_code == 401
    assert replay.get("/dashboard").status_code == 302
    assert user_in(app, "grace.kim")["voicemail"]["email"] != "stolen@example.com"


def test_anonymous_requests_leave_the_session_table_small(app: Flask) -> None:
    """A thousand cookie-less visitors leave a bounded table; pages that need none make none."""
    sessions = app.extensions["mock_portal"].sessions
    visitor = app.test_client(use_cookies=False)
    for path in ("/dashboard", "/users", "/static/portal.js", "/nowhere", "/__mock__/state"):
        for _ in range(50):
            visitor.get(path)
    assert len(sessions) == 0
    for _ in range(1000):
        assert visitor.get("/").status_code == 200
    assert 0 < len(sessions) <= 256


def test_signed_in_admins_survive_a_flood_of_anonymous_visitors(admin: Admin, app: Flask) -> None:
    """Anonymous sessions are evicted among themselves, never a signed-in admin's."""
    visitor = app.test_client(use_cookies=False)
    for _ in range(600):
        visitor.get("/")
    assert admin.client.get("/dashboard").status_code == 200


def test_idle_sessions_are_evicted_from_the_table() -> None:
    """Sessions idle past their lifetime are dropped from memory, not only refused."""
    from mock_portal.sessions import MemorySessionInterface

    now = [1000.0]
    sessions = MemorySessionInterface(idle_seconds=lambda: 60, clock=lambda: now[0])
    app = create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD))
    app.session_interface = sessions
    admin = Admin(app)
    admin.sign_in()
    app.test_client().get("/")  # an anonymous visitor, holding a sign-in form's token
    assert len(sessions) == 2
    now[0] += 60 + 5 * 60 + 1
    app.test_client().get("/")  # a new visitor's session sweeps the table
    assert len(sessions) == 2  # the two visitors; the admin's idle session is gone
    assert admin.client.get("/dashboard").status_code == 302
    now[0] += 15 * 60 + 1
    app.test_client().get("/")
    assert len(sessions) == 1


def test_session_cookie_holds_only_an_id(admin: Admin) -> None:
    """The session cookie is an opaque id: no signed payload, no admin flag."""
    cookie = admin.client.get_cookie("nv_session")
    assert cookie is not None
    assert re.fullmatch(r"[A-Za-z0-9_\-]{40,}", cookie.value)


# ---------- oracle ----------


def test_reset_restores_seed_counters_and_configured_faults() -> None:
    """Reset brings back the seed, zero counters and the app's own fault profile."""
    app = create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, faults="slow"))
    handle = Admin(app)
    handle.sign_in()
    faults(app, "flaky", latency_ms=0, write_failure_rate=0)
    handle.refresh_token()
    handle.create()
    assert user_in(app, "riley.moss") is not None
    seed_users = 16
    response = app.test_client().post("/__mock__/reset", json={})
    assert response.get_json()["faults"]["profile"] == "slow"
    snapshot = state(app)
    assert len(snapshot["users"]) == seed_users and user_in(app, "riley.moss") is None
    assert snapshot["counters"] == {"sign_ins": 0, "writes": 0, "errors_injected": 0, "saves": 0}


def test_oracle_has_the_promised_shape(app: Flask) -> None:
    """The state JSON carries every documented key with the documented types."""
    snapshot = state(app)
    assert {"locations", "packages", "users", "licenses", "counters"} <= snapshot.keys()
    location = snapshot["locations"][0]
    assert {"name", "time_zone", "area_code", "address", "free_numbers"} <= location.keys()
    assert all(re.fullmatch(r"\d{10}", n) for n in location["free_numbers"])
    assert snapshot["packages"][0].keys() == {"name", "lines_left"}
    user = next(u for u in snapshot["users"] if u["username"] == "dana.smith")
    assert {
        "username",
        "first_name",
        "last_name",
        "email",
        "extension",
        "phone_number",
        "location",
        "time_zone",
        "package",
        "voicemail_to_email",
        "authorized_user",
        "e911_confirmed",
        "device",
        "voicemail",
    } <= user.keys()
    assert user["device"] == {
        "type": "Generic SIP Phone",
        "auth_name": "dana.smith",
        "has_password": True,
    }
    assert user["voicemail"].keys() == {"email", "send_attachment"}
    assert snapshot["licenses"][0].keys() == {"name", "seats_total", "assigned"}
    assert "seed-sip" not in app.test_client().get("/__mock__/state").text


def test_oracle_answers_loopback_clients_only(app: Flask) -> None:
    """A request to the oracle from another machine gets 403."""
    remote = app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert remote.get("/__mock__/state").status_code == 403
    assert remote.post("/__mock__/reset").status_code == 403
    assert app.test_client().get("/__mock__/state").status_code == 200


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        # A form on another site can send these content types without asking first.
        ("/__mock__/reset", {"data": {"x": "1"}}),
        ("/__mock__/reset", {"data": '{"x": 1}', "content_type": "text/plain"}),
        ("/__mock__/faults", {"data": "profile=flaky", "content_type": "multipart/form-data"}),
        # JSON, but it says it comes from another site.
        ("/__mock__/reset", {"json": {}, "headers": {"Origin": "http://evil.example"}}),
        ("/__mock__/reset", {"json": {}, "headers": {"Sec-Fetch-Site": "cross-site"}}),
        ("/__mock__/faults", {"json": {"banner": True}, "headers": {"Origin": "null"}}),
        (
            "/__mock__/faults",
            {"json": {"banner": True}, "headers": {"Sec-Fetch-Site": "same-site"}},
        ),
    ],
)
def test_oracle_writes_refuse_what_another_site_could_send(
    admin: Admin, app: Flask, path: str, kwargs: dict[str, Any]
) -> None:
    """A form or page of another site cannot reset the portal or set its faults."""
    admin.create()
    assert user_in(app, "riley.moss") is not None
    response = app.test_client().post(path, **kwargs)
    assert response.status_code in (403, 415)
    assert user_in(app, "riley.moss") is not None
    assert state(app)["counters"]["writes"] == 1
    assert app.test_client().get("/dashboard").status_code == 302  # still no banner fault set
    assert "unsupported browser" not in admin.client.get("/dashboard").text


def test_oracle_writes_accept_json_from_this_machine(app: Flask) -> None:
    """The tests' own calls (JSON, no Origin, or the portal's own origin) still work."""
    client = app.test_client()
    assert client.post("/__mock__/reset", json={}).status_code == 200
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/__mock__/faults", json={"banner": True}, headers=own).status_code == 200


@pytest.mark.parametrize("variant", ["a", "c"])
@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "localhost:8080", "127.0.0.1.nip.io", "[::2]"]
)
def test_portal_refuses_requests_for_another_host_name(variant: str, host: str) -> None:
    """DNS rebinding: a request whose Host is not this server's own is refused everywhere."""
    app = create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, variant=variant))
    client = app.test_client()
    headers = {"Host": host}
    assert client.get("/__mock__/state", headers=headers).status_code == 421
    assert client.get("/__mock__/secrets", headers=headers).status_code == 421
    reset = client.post("/__mock__/reset", json={}, headers=headers)
    assert reset.status_code == 421
    assert client.get("/", headers=headers).status_code == 421
    for own in ("localhost", "127.0.0.1", "localhost:80", "[::1]"):
        assert client.get("/__mock__/state", headers={"Host": own}).status_code == 200, own


def test_the_real_server_answers_its_loopback_address_and_no_other_name(portal: Any) -> None:
    """Over HTTP the portal answers at 127.0.0.1:<port> and localhost:<port> only."""
    import http.client
    from urllib.parse import urlsplit

    port = urlsplit(portal.url).port
    for host, expected in (
        (f"127.0.0.1:{port}", 200),
        (f"localhost:{port}", 200),
        (f"rebound.example:{port}", 421),
    ):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/__mock__/state", headers={"Host": host})
        assert connection.getresponse().status == expected, host
        connection.close()


def test_the_conftest_server_answers_the_oracle_over_http(portal: Any) -> None:
    """The session's real HTTP server serves the oracle and resets to the seed."""
    snapshot = portal.state()
    assert any(u["username"] == "dana.smith" for u in snapshot["users"])
    assert snapshot["counters"]["writes"] == 0


# ---------- configuration ----------


def test_config_reads_the_admin_account_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MOCK_ADMIN_* set the account; the password never shows in the config's repr."""
    monkeypatch.setenv("MOCK_ADMIN_USERNAME", "ops@example.com")
    monkeypatch.setenv("MOCK_ADMIN_PASSWORD", "s3cret-from-env")
    monkeypatch.setenv("MOCK_ADMIN_NAME", "Olive Ops")
    config = PortalConfig.from_env(faults="flaky", variant="b")
    assert (config.admin_username, config.admin_display_name) == ("ops@example.com", "Olive Ops")
    assert config.admin_password == "s3cret-from-env"
    assert (config.faults, config.variant) == ("flaky", "b")
    assert "s3cret-from-env" not in repr(config) and config.secret_key not in repr(config)
    assert PortalConfig().secret_key != PortalConfig().secret_key
    with pytest.raises(ValueError, match="variant"):
        PortalConfig(variant="d")


def test_variant_b_spells_ids_differently_and_swaps_dropdown_kinds(admin: Admin) -> None:
    """Variant b keeps the names but changes ids and which dropdowns are native."""
    app_b = create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, variant="b"))
    other = Admin(app_b)
    other.client.post(
        "/",
        data={
            "csrf_token": _token(other.client.get("/").text),
            "username": ADMIN,
            "password": PASSWORD,
        },
    )
    page_a = admin.client.get("/users/new").text
    page_b = other.client.get("/users/new").text
    assert 'id="first-name"' in page_a and 'id="first-name"' not in page_b
    assert re.search(r'<select[^>]*name="package"', page_a)
    assert not re.search(r'<select[^>]*name="package"', page_b)
    assert not re.search(r'<select[^>]*name="location"', page_a)
    assert re.search(r'<select[^>]*name="location"', page_b)
    assert 'role="menubar"' in admin.client.get("/dashboard").text
    assert 'role="menubar"' not in other.client.get("/dashboard").text
