"""Variant c of the mock portal, the single-page app: its server, its JSON API and the
freedoms it takes in the browser (ARIA tables, portalled listboxes, passing confirmations)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer

PASSWORD = "spa-correct-horse"
ADMIN = "admin@example.com"
EXPIRED = "Your session has expired. Please sign in again."
API = "/api/v2"


@pytest.fixture
def app() -> Flask:
    return create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, variant="c"))


class SpaAdmin:
    """The single-page app's requests, as its script sends them, through Flask's test client."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = self.client.get(API + "/session").get_json()["csrf"]

    def post(self, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        headers = {"X-CSRFToken": self.csrf if token is None else token}
        return self.client.post(API + path, json=body, headers=headers)

    def sign_in(self, password: str = PASSWORD) -> Any:
        step = self.post("/sign-in", {"username": ADMIN})
        assert step.get_json() == {"step": "password", "pending_username": ADMIN}
        response = self.post("/sign-in", {"password": password})
        if response.status_code == 200:
            self.csrf = response.get_json()["csrf"]
        return response


@pytest.fixture
def admin(app: Flask) -> SpaAdmin:
    handle = SpaAdmin(app)
    assert handle.sign_in().status_code == 200
    return handle


def state(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/__mock__/state").get_json()


def user_in(app: Flask, username: str) -> dict[str, Any] | None:
    return next((u for u in state(app)["users"] if u["username"] == username), None)


NEW_USER = {
    "first_name": "Riley",
    "last_name": "Moss",
    "username": "riley.moss",
    "email": "riley.moss@example.com",
    "location": "Phoenix HQ",
    "phone_number": "6025550100",
    "extension": "0100",
    "package": "NextOSAdditionalLineLocal",
    "voicemail_to_email": True,
}


# ---------- the server: one shell, no server screens ----------


@pytest.mark.parametrize("path", ["/users", "/users/new", "/dashboard", "/users/1", "/account/"])
def test_guessed_server_urls_answer_404_signed_in_or_not(
    app: Flask, admin: SpaAdmin, path: str
) -> None:
    """The screens' paths of variants a and b are not on this server, for anybody."""
    assert app.test_client().get(path).status_code == 404
    assert admin.client.get(path).status_code == 404


def test_the_shell_is_served_at_the_start_url_and_the_apps_own_routes(app: Flask) -> None:
    """One HTML page, with no screen in it: the browser draws them from the API."""
    client = app.test_client()
    for path in ("/", "/app/home", "/app/people/new"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "spa.js" in page.text and "Username or Email" not in page.text


def test_class_prefix_changes_on_every_start() -> None:
    """Two starts of the portal give their ids and classes different prefixes."""
    keys = []
    for _ in range(2):
        shell = create_app(PortalConfig(variant="c")).test_client().get("/").text
        found = re.search(r'data-app="([a-z0-9]+)"', shell)
        assert found
        keys.append(found.group(1))
    assert keys[0] != keys[1]
    other = create_app(PortalConfig(variant="c")).test_client()
    assert other.get(f"/assets/{keys[0]}.css").status_code == 404


# ---------- the API: the same rules, guard and token as the other variants ----------


def test_api_signs_in_in_two_steps_and_refuses_a_wrong_password(app: Flask) -> None:
    """Username, then password; a wrong one is the contract's alert text and no session."""
    wrong = SpaAdmin(app).sign_in(password="not-it")
    assert wrong.status_code == 401
    assert wrong.get_json()["error"] == "Invalid username or password."
    assert state(app)["counters"]["sign_ins"] == 0
    assert SpaAdmin(app).sign_in().status_code == 200
    assert state(app)["counters"]["sign_ins"] == 1


def test_signed_out_api_calls_get_401(app: Flask) -> None:
    """Nothing but the session, sign-in and the shell answers a signed-out browser."""
    client = app.test_client()
    for path in ("/dashboard", "/users", "/users/1", "/licenses", "/locations/numbers"):
        assert client.get(API + path).status_code == 401, path


def test_api_enforces_the_create_user_rules(admin: SpaAdmin, app: Flask) -> None:
    """A taken username and a short PIN are refused with the portal's words; nothing saved."""
    response = admin.post(
        "/users", {**NEW_USER, "username": "Dana.Smith", "authorized_user": True, "pin": "12"}
    )
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert errors["username"] == "Username already exists. Please choose a different username."
    assert errors["pin"] == "PIN must be 4 digits."
    assert state(app)["counters"]["writes"] == 0
    created = admin.post("/users", NEW_USER)
    assert created.status_code == 201
    user = user_in(app, "riley.moss")
    assert user is not None and user["id"] == created.get_json()["id"]
    assert user["e911_confirmed"] is False and user["voicemail_to_email"] is True


def test_api_writes_need_the_form_token(admin: SpaAdmin, app: Flask) -> None:
    """A write without the session's token (a forged request) is refused and changes nothing."""
    response = admin.post("/users", NEW_USER, token="forged")
    assert response.status_code == 400
    assert user_in(app, "riley.moss") is None


def test_api_licence_assign_refuses_a_full_licence(admin: SpaAdmin, app: Flask) -> None:
    """All 10 Call Recording seats are used: the exact message, and nothing changes."""
    before = state(app)["licenses"][1]
    response = admin.post(
        "/licenses/1/assign", {"shown": ["dana.smith"], "selected": ["dana.smith"]}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == (
        "No licenses available. All 10 NextOS Call Recording licenses are assigned."
    )
    assert state(app)["licenses"][1] == before


def test_injected_failures_apply_to_the_api(admin: SpaAdmin, app: Flask) -> None:
    """Faults set through the oracle reach variant c's writes: applied, then answered 500."""
    oracle = app.test_client()
    oracle.post("/__mock__/faults", json={"write_failure_rate": 1, "failure_after_apply_ratio": 1})
    user_id = user_in(app, "grace.kim")["id"]  # type: ignore[index]
    response = admin.post(f"/users/{user_id}/voicemail", {"voicemail_email": "g@example.com"})
    assert response.status_code == 500
    assert response.get_json()["error"] == "Something went wrong. Please try again."
    assert user_in(app, "grace.kim")["voicemail"]["email"] == "g@example.com"  # type: ignore[index]


def test_expired_session_answers_401_and_the_sign_in_screen_says_why(
    admin: SpaAdmin, app: Flask
) -> None:
    """After the idle limit, a save gets 401 with the alert text and is not applied."""
    app.test_client().post("/__mock__/faults", json={"session_idle_seconds": 0})
    user_id = user_in(app, "dana.smith")["id"]  # type: ignore[index]
    response = admin.post(
        f"/users/{user_id}/security", {"authorized_user": True, "security_pin": "4821"}
    )
    assert response.status_code == 401 and response.get_json()["error"] == EXPIRED
    assert user_in(app, "dana.smith")["authorized_user"] is False  # type: ignore[index]
    session = admin.client.get(API + "/session").get_json()
    assert session["signed_in"] is False and session["alert"] == EXPIRED


def test_sign_out_through_the_api_ends_the_session(admin: SpaAdmin, app: Flask) -> None:
    """A cookie saved before Sign out saves nothing afterwards."""
    saved = admin.client.get_cookie("nv_session")
    assert saved is not None
    assert admin.post("/sign-out", {}).get_json()["notice"] == "You have signed out."
    replay = app.test_client()
    replay.set_cookie("nv_session", saved.value)
    user_id = user_in(app, "grace.kim")["id"]  # type: ignore[index]
    response = replay.post(
        f"{API}/users/{user_id}/voicemail",
        json={"voicemail_email": "stolen@example.com"},
        headers={"X-CSRFToken": admin.csrf},
    )
    assert response.status_code == 401
    assert user_in(app, "grace.kim")["voicemail"]["email"] != "stolen@example.com"  # type: ignore[index]


# ---------- in the browser ----------


@pytest.fixture
def spa_page(browser: Browser, portal_server_c: PortalServer) -> Iterator[Page]:
    """A fresh browser context on variant c, the portal reset to its seed with no faults."""
    oracle = portal_server_c.app.test_client()
    oracle.post("/__mock__/reset", json={})
    context = browser.new_context(base_url=portal_server_c.url)
    try:
        yield context.new_page()
    finally:
        context.close()
        oracle.post("/__mock__/faults", json={"profile": "none"})


def spa_sign_in(page: Page, server: PortalServer) -> None:
    config: PortalConfig = server.app.config["PORTAL"]
    page.goto("/")
    page.get_by_role("textbox", name="Username or Email").fill(config.admin_username)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("textbox", name="Password").fill(config.admin_password)
    # A role=button element answers the keyboard as a <button> does.
    page.get_by_role("button", name="Sign in").press("Enter")
    expect(page.get_by_role("heading", name="Nextiva Voice Admin Dashboard")).to_be_visible()


@pytest.mark.browser
def test_users_grid_names_its_columns_by_text_while_css_shows_capitals(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """Column headers read "Name", "Username"… as text; only their styling is in capitals."""
    spa_sign_in(spa_page, portal_server_c)
    spa_page.get_by_role("navigation").get_by_role("menuitem", name="Users", exact=True).click()
    spa_page.get_by_role("menuitem", name="Manage Users").click()
    grid = spa_page.get_by_role("grid", name="Users")
    headers = grid.get_by_role("columnheader")
    expect(headers).to_have_count(6)
    assert headers.all_text_contents() == [
        "Name",
        "Username",
        "Email",
        "Extension",
        "Phone Number",
        "Location",
    ]
    assert headers.first.inner_text() == "NAME"
    assert spa_page.locator("table").count() == 0
    expect(grid.get_by_role("columnheader", name="Phone Number", exact=True)).to_be_visible()


@pytest.mark.browser
def test_search_is_answered_after_a_pause_and_pages_hold_ten(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """The grid pages by ten; typing narrows it once the debounce has passed."""
    spa_sign_in(spa_page, portal_server_c)
    spa_page.goto("/app/people")  # a deep link into the app loads the shell and its screen
    rows = spa_page.get_by_role("row")
    expect(rows).to_have_count(11)
    spa_page.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(1 + 16 - 10)
    expect(spa_page.get_by_role("button", name="Next")).to_be_disabled()
    spa_page.get_by_role("textbox", name="Search users").fill("dana")
    expect(rows).to_have_count(3)
    spa_page.get_by_role("link", name="Dana Smithers").click()
    expect(spa_page.get_by_role("heading", name="Dana Smithers")).to_be_visible()


@pytest.mark.browser
def test_dropdown_lists_sit_at_the_end_of_the_document(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """A combobox's listbox is a child of <body>, not of its field; a native select is too."""
    spa_sign_in(spa_page, portal_server_c)
    spa_page.get_by_role("link", name="Add", exact=True).click()
    expect(spa_page.get_by_role("heading", name="Create User")).to_be_visible()
    location = spa_page.get_by_role("combobox", name="Location", exact=True)
    location.click()
    listbox = spa_page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    assert listbox.evaluate("e => e.parentElement === document.body")
    spa_page.get_by_role("option", name="Austin Office").click()
    expect(location).to_have_text("Austin Office")
    time_zone = spa_page.get_by_role("combobox", name="Time Zone")
    assert time_zone.evaluate("e => e.tagName") == "SELECT"
    expect(time_zone).to_have_value("America/Chicago")
    phone = spa_page.get_by_role("combobox", name="Phone Number")
    expect(phone).to_be_enabled()
    phone.click()
    spa_page.get_by_role("option", name="(512) 555-0300").click()
    expect(spa_page.get_by_role("textbox", name="Extension")).to_have_value("0300")


@pytest.mark.browser
def test_a_confirmation_goes_away_after_a_few_seconds(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """A section's "Changes saved." is a status that disappears on its own."""
    spa_sign_in(spa_page, portal_server_c)
    spa_page.get_by_role("menuitem", name="Users", exact=True).hover()
    spa_page.get_by_role("menuitem", name="Manage Users").click()
    spa_page.get_by_role("textbox", name="Search users").fill("grace")
    spa_page.get_by_role("link", name="Grace Kim").click()
    spa_page.get_by_role("button", name="Voicemail", exact=True).click()
    voicemail = spa_page.get_by_role("region", name="Voicemail")
    voicemail.get_by_role("button", name="Edit Voicemail").click()
    voicemail.get_by_role("checkbox", name="Send Attachment Of Message").check()
    voicemail.get_by_role("button", name="Save", exact=True).click()
    status = voicemail.get_by_role("status")
    expect(status).to_have_text("Changes saved.")
    expect(status).to_have_count(0, timeout=15_000)


@pytest.mark.browser
def test_expired_session_lands_on_sign_in_with_the_alert(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """A save after the session expired lands on sign-in with the alert; nothing is saved."""
    spa_sign_in(spa_page, portal_server_c)
    oracle = portal_server_c.app.test_client()
    dana = next(
        u
        for u in oracle.get("/__mock__/state").get_json()["users"]
        if u["username"] == "dana.smith"
    )
    spa_page.goto(f"/app/people/{dana['id']}")
    spa_page.get_by_role("button", name="Security Information").click()
    oracle.post("/__mock__/faults", json={"session_idle_seconds": 0})
    security = spa_page.get_by_role("region", name="Security Information")
    security.get_by_role("checkbox", name="Authorized User").check()
    security.get_by_role("textbox", name="Security PIN").fill("4821")
    security.get_by_role("button", name="Save", exact=True).click()
    expect(spa_page.get_by_role("alert")).to_have_text(EXPIRED)
    expect(spa_page.get_by_role("textbox", name="Username or Email")).to_be_visible()
    after = next(
        u
        for u in oracle.get("/__mock__/state").get_json()["users"]
        if u["username"] == "dana.smith"
    )
    assert after["authorized_user"] is False
    oracle.post("/__mock__/faults", json={"profile": "none"})
    spa_sign_in(spa_page, portal_server_c)


@pytest.mark.browser
def test_banner_and_greeting_faults_show_and_the_greeting_covers_save(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """With the flaky profile's banner and overlap, close and Dismiss message clear the way."""
    portal_server_c.app.test_client().post(
        "/__mock__/faults", json={"banner": True, "bubble_overlap": True}
    )
    spa_sign_in(spa_page, portal_server_c)
    spa_page.get_by_role("link", name="Add", exact=True).click()
    save = spa_page.get_by_role("button", name="Save & Continue")
    dismiss = spa_page.get_by_role("button", name="Dismiss message")
    expect(dismiss).to_be_visible()
    covered = save.evaluate(
        "e => { e.scrollIntoView(); const s = e.getBoundingClientRect();"
        " return !e.contains(document.elementFromPoint(s.x + s.width / 2, s.y + s.height / 2)); }"
    )
    assert covered
    dismiss.click()
    save.click(trial=True)
    expect(spa_page.get_by_text("You are using an unsupported browser.")).to_be_visible()
    spa_page.get_by_role("button", name="close", exact=True).click()
    expect(spa_page.get_by_text("You are using an unsupported browser.")).to_have_count(0)


@pytest.mark.browser
def test_chat_with_an_expert_carries_a_request(
    spa_page: Page, portal_server_c: PortalServer
) -> None:
    """Start Chat, identify, pick the topics by keyboard, send a message: the portal has it."""
    spa_sign_in(spa_page, portal_server_c)
    spa_page.get_by_role("button", name="Chat With an Expert").click()
    chat = spa_page.get_by_role("dialog", name="Chat With an Expert")
    chat.get_by_role("button", name="Start Chat").click()
    chat.get_by_role("textbox", name="Email").fill("alex@example.com")
    chat.get_by_role("textbox", name="PIN").fill("12")
    chat.get_by_role("button", name="Continue").click()
    expect(chat.get_by_role("alert")).to_have_text("Please enter your 4-digit PIN.")
    chat.get_by_role("textbox", name="PIN").fill("0739")  # the account's security PIN
    chat.get_by_role("button", name="Continue").click()
    for choice in ("Technical Support", "User Setup / Settings", "Something Else"):
        chat.get_by_role("button", name=choice).press(" ")
    chat.get_by_role("textbox", name="Message").fill("Please set up call recording for pat.quinn")
    chat.get_by_role("button", name="Send").click()
    expect(chat.get_by_role("log")).to_contain_text("Please set up call recording for pat.quinn")
    chat.get_by_role("button", name="Minimize chat").click()
    expect(chat).to_be_hidden()
    [record] = portal_server_c.app.test_client().get("/__mock__/state").get_json()["chats"]
    assert record["email"] == "alex@example.com"
    assert record["topics"] == ["Technical Support", "User Setup / Settings", "Something Else"]
    assert {"who": "you", "text": "Please set up call recording for pat.quinn"} in record[
        "messages"
    ]
