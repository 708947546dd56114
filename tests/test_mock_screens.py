"""The mock portal's screens in a real browser, driven only by role and accessible name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer

pytestmark = pytest.mark.browser

WENT_WRONG = "Something went wrong. Please try again."


def choose(page: Page, scope: Page | Locator, name: str, option: str) -> None:
    """Pick an option from a dropdown, whether it is a native <select> or an ARIA combobox."""
    box = scope.get_by_role("combobox", name=name, exact=True)
    expect(box).to_be_enabled()
    if box.evaluate("e => e.tagName") == "SELECT":
        box.select_option(label=option)
    else:
        box.click()
        page.get_by_role("option", name=option, exact=True).click()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/")
    page.get_by_role("textbox", name="Username or Email").fill(username)
    password_box = page.get_by_role("textbox", name="Password")
    next_button = page.get_by_role("button", name="Next")
    # One portal asks for the password on a second screen, another on the same one.
    expect(password_box.or_(next_button)).to_be_visible()
    if next_button.is_visible():
        next_button.click()
    password_box.fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Nextiva Voice Admin Dashboard")).to_be_visible()


def open_add_users(page: Page) -> None:
    users = page.get_by_role("navigation").get_by_role("menuitem", name="Users", exact=True)
    if users.count() == 0:
        users = page.get_by_role("navigation").get_by_role("link", name="Users", exact=True)
    users.hover()
    page.get_by_role("navigation").get_by_text("Add Users", exact=True).click()
    expect(page.get_by_role("heading", name="Create User")).to_be_visible()


def save_section(page: Page, region: Locator) -> str:
    """Click the region's Save and return the confirmation or error that comes back."""
    region.get_by_role("button", name="Save", exact=True).click()
    outcome = region.get_by_role("status").or_(region.get_by_role("alert"))
    expect(outcome).to_be_visible()
    return outcome.inner_text()


def onboard_walk(
    page: Page,
    username: str,
    password: str,
    *,
    retry_saves: bool = False,
    greeting: bool = False,
) -> None:
    """The acceptance walk: create, confirm E911, device, voicemail, licence.

    `greeting`: the overlap fault is on, so the chat's greeting card pops up and is
    dismissed first, as a person would.
    """
    sign_in(page, username, password)
    if greeting:
        page.get_by_role("button", name="Dismiss message").click()
    open_add_users(page)
    page.get_by_role("textbox", name="First Name").fill("Pat")
    page.get_by_role("textbox", name="Last Name").fill("Quinn")
    page.get_by_role("textbox", name="Username").fill("pat.quinn")
    page.get_by_role("textbox", name="Email", exact=True).fill("pat.quinn@example.com")
    page.get_by_role("checkbox", name="Enable Voicemail to Email").check()
    choose(page, page, "Location", "Denver Office")
    expect(page.get_by_role("combobox", name="Time Zone")).to_contain_text("Mountain")
    choose(page, page, "Phone Number", "(303) 555-0201")
    expect(page.get_by_role("textbox", name="Extension")).to_have_value("0201")
    choose(page, page, "Package", "NextOSAdditionalLineLocal")
    page.get_by_role("button", name="Save & Continue").click()

    expect(page.get_by_role("heading", name="E911 Address")).to_be_visible()
    expect(page.get_by_role("textbox", name="Street Address")).to_have_value("1600 Broadway")
    page.get_by_role("button", name="Save & Continue").click()
    expect(page.get_by_role("heading", name="Pat Quinn")).to_be_visible()

    page.get_by_role("button", name="Device", exact=True).click()
    device = page.get_by_role("region", name="Device")
    choose(page, device, "Available Devices", "Generic SIP Phone")
    device.get_by_role("button", name="Generate").click()
    expect(device.get_by_role("textbox", name="Authentication Password")).not_to_have_value("")
    assert save_section(page, device) == "Changes saved."

    page.get_by_role("button", name="Voicemail", exact=True).click()
    voicemail = page.get_by_role("region", name="Voicemail")
    voicemail.get_by_role("button", name="Edit Voicemail").click()
    voicemail.get_by_role("checkbox", name="Send Attachment Of Message").check()
    outcome = save_section(page, voicemail)
    if retry_saves and outcome == WENT_WRONG:
        outcome = save_section(page, voicemail)
    assert outcome == "Changes saved."
    expect(voicemail.get_by_text("Yes", exact=True)).to_be_visible()

    page.get_by_role("banner").get_by_role("button", name="Alex Admin").click()
    page.get_by_role("menuitem", name="My Account").click()
    expect(page.get_by_role("heading", name="My Account Overview")).to_be_visible()
    page.get_by_role("link", name="Licensing").click()
    row = page.get_by_role("row").filter(has_text="NextOS Pro Plus Upgrade")
    expect(row).to_contain_text("5 of 60")
    row.get_by_role("button", name="Assign").click()
    page.get_by_role("textbox", name="Search").fill("Quinn")
    expect(page.get_by_role("checkbox")).to_have_count(1)
    page.get_by_role("checkbox", name="Pat Quinn (pat.quinn)").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(page.get_by_role("checkbox", name="Pat Quinn (pat.quinn)")).to_be_checked()


def assert_onboarded(user: dict[str, Any] | None, licenses: list[dict[str, Any]]) -> None:
    assert user is not None
    assert user["phone_number"] == "3035550201" and user["extension"] == "0201"
    assert user["location"] == "Denver Office" and user["time_zone"] == "America/Denver"
    assert user["package"] == "NextOSAdditionalLineLocal" and user["e911_confirmed"] is True
    assert user["device"] == {
        "type": "Generic SIP Phone",
        "auth_name": "pat.quinn",
        "has_password": True,
    }
    assert user["voicemail_to_email"] is True
    assert user["voicemail"] == {"email": "pat.quinn@example.com", "send_attachment": True}
    pro = next(lic for lic in licenses if lic["name"] == "NextOS Pro Plus Upgrade")
    assert "pat.quinn" in pro["assigned"]


def test_acceptance_walk_onboards_a_user(page: Page, portal: Any) -> None:
    """Sign in, create, confirm E911, Generic SIP Phone, attachment, licence: the oracle has it."""
    onboard_walk(page, portal.username, portal.password)
    snapshot = portal.state()
    assert_onboarded(portal.user("pat.quinn"), snapshot["licenses"])
    assert snapshot["counters"]["writes"] == 5 and snapshot["counters"]["errors_injected"] == 0


def test_flaky_walk_meets_banner_greeting_and_a_failed_save(page: Page, portal: Any) -> None:
    """Under `flaky` (seed 98: the 4th write applies, then fails) the walk sees it and recovers."""
    portal.set_faults("flaky", seed=98, latency_ms=0)
    onboard_walk(page, portal.username, portal.password, retry_saves=True, greeting=True)
    expect(page.get_by_text("You are using an unsupported browser.")).to_be_visible()
    page.get_by_role("button", name="close", exact=True).click()
    expect(page.get_by_text("You are using an unsupported browser.")).to_have_count(0)
    snapshot = portal.state()
    assert_onboarded(portal.user("pat.quinn"), snapshot["licenses"])
    assert snapshot["counters"]["errors_injected"] == 1


def test_variant_b_walk_onboards_a_user(browser: Browser) -> None:
    """The same walk works on variant b: one-step sign-in, link menu, swapped dropdowns."""
    config = PortalConfig(admin_password="variant-b-password", variant="b")
    with PortalServer(create_app(config)) as server:
        context = browser.new_context(base_url=server.url)
        try:
            page = context.new_page()
            onboard_walk(page, config.admin_username, config.admin_password)
            with server.app.test_client() as client:
                snapshot = client.get("/__mock__/state").get_json()
        finally:
            context.close()
    user = next(u for u in snapshot["users"] if u["username"] == "pat.quinn")
    assert_onboarded(user, snapshot["licenses"])


def test_variant_c_walk_onboards_a_user(browser: Browser, portal_server_c: PortalServer) -> None:
    """The same walk, by role and name only, works on the single-page variant c."""
    config: PortalConfig = portal_server_c.app.config["PORTAL"]
    oracle = portal_server_c.app.test_client()
    oracle.post("/__mock__/reset", json={})
    context = browser.new_context(base_url=portal_server_c.url)
    try:
        onboard_walk(context.new_page(), config.admin_username, config.admin_password)
    finally:
        context.close()
    snapshot = oracle.get("/__mock__/state").get_json()
    user = next(u for u in snapshot["users"] if u["username"] == "pat.quinn")
    assert_onboarded(user, snapshot["licenses"])
    assert snapshot["counters"]["writes"] == 5 and snapshot["counters"]["errors_injected"] == 0


def test_variant_c_flaky_walk_meets_banner_greeting_and_a_failed_save(
    browser: Browser, portal_server_c: PortalServer
) -> None:
    """Variant c under `flaky` (seed 98: the 4th write applies, then fails) as a and b."""
    config: PortalConfig = portal_server_c.app.config["PORTAL"]
    oracle = portal_server_c.app.test_client()
    oracle.post("/__mock__/reset", json={})
    oracle.post("/__mock__/faults", json={"profile": "flaky", "seed": 98, "latency_ms": 0})
    context = browser.new_context(base_url=portal_server_c.url)
    try:
        page = context.new_page()
        onboard_walk(
            page, config.admin_username, config.admin_password, retry_saves=True, greeting=True
        )
        expect(page.get_by_text("You are using an unsupported browser.")).to_be_visible()
    finally:
        context.close()
        snapshot = oracle.get("/__mock__/state").get_json()
        oracle.post("/__mock__/faults", json={"profile": "none"})
    user = next(u for u in snapshot["users"] if u["username"] == "pat.quinn")
    assert_onboarded(user, snapshot["licenses"])
    assert snapshot["counters"]["errors_injected"] == 1


def test_expired_session_sends_a_section_save_to_sign_in(page: Page, portal: Any) -> None:
    """A save from a session past its request budget lands on sign-in; nothing is saved."""
    sign_in(page, portal.username, portal.password)
    dana = portal.user("dana.smith")
    page.goto(f"/users/{dana['id']}")
    portal.set_faults("none", session_max_requests=2)
    page.get_by_role("button", name="Security Information").click()
    security = page.get_by_role("region", name="Security Information")
    security.get_by_role("checkbox", name="Authorized User").check()
    security.get_by_role("textbox", name="Security PIN").fill("4821")
    security.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your session has expired. Please sign in again."
    )
    expect(page.get_by_role("textbox", name="Username or Email")).to_be_visible()
    assert portal.user("dana.smith")["authorized_user"] is False


def test_users_overview_searches_pages_and_says_when_nothing_matches(
    page: Page, portal: Any
) -> None:
    """Search narrows the table on the server, Next pages, and no match is a message, not a row."""
    sign_in(page, portal.username, portal.password)
    page.goto("/users")
    expect(page.get_by_role("heading", name="Users Overview")).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows).to_have_count(11)
    page.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(1 + len(portal.state()["users"]) - 10)
    search = page.get_by_role("textbox", name="Search users")
    search.fill("dana")
    expect(rows).to_have_count(3)
    search.fill("nobody-here")
    expect(page.get_by_text("No users found")).to_be_visible()
    expect(rows).to_have_count(1)
    search.fill("Dana Smith")
    page.get_by_role("link", name="Dana Smith", exact=True).click()
    expect(page.get_by_role("heading", name="Dana Smith")).to_be_visible()


def test_create_user_shows_rule_errors_beside_fields_and_in_an_alert(
    page: Page, portal: Any
) -> None:
    """A taken username and a PIN too short are refused where a person would see them."""
    sign_in(page, portal.username, portal.password)
    page.goto("/users/new")
    page.get_by_role("textbox", name="First Name").fill("Dana")
    page.get_by_role("textbox", name="Last Name").fill("Smith")
    page.get_by_role("textbox", name="Username").fill("dana.smith")
    page.get_by_role("textbox", name="Email", exact=True).fill("dana2@example.com")
    choose(page, page, "Location", "Phoenix HQ")
    choose(page, page, "Phone Number", "(602) 555-0100")
    choose(page, page, "Package", "NextOSAdditionalLineLocal")
    page.get_by_role("checkbox", name="Authorized User").check()
    page.get_by_role("textbox", name="PIN").fill("12")
    page.get_by_role("button", name="Save & Continue").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Username already exists. Please choose a different username.")
    expect(alert).to_contain_text("PIN must be 4 digits.")
    expect(page.get_by_role("textbox", name="Username")).to_have_attribute("aria-invalid", "true")
    assert len(portal.state()["users"]) == 16


def test_chat_with_an_expert_carries_a_request(page: Page, portal: Any) -> None:
    """Start Chat, identify, pick the topics, send a message, minimize: the portal has it."""
    sign_in(page, portal.username, portal.password)
    page.get_by_role("button", name="Chat With an Expert").click()
    chat = page.get_by_role("dialog", name="Chat With an Expert")
    chat.get_by_role("button", name="Start Chat").click()
    chat.get_by_role("textbox", name="Email").fill("alex@example.com")
    chat.get_by_role("textbox", name="PIN").fill("0739")  # the account's security PIN
    chat.get_by_role("button", name="Continue").click()
    for choice in ("Technical Support", "User Setup / Settings", "Something Else"):
        chat.get_by_role("button", name=choice).click()
    chat.get_by_role("textbox", name="Message").fill("Please set up call recording for pat.quinn")
    chat.get_by_role("button", name="Send").click()
    expect(chat.get_by_text("Please set up call recording for pat.quinn")).to_be_visible()
    chat.get_by_role("button", name="Minimize chat").click()
    expect(chat).to_be_hidden()
    [record] = portal.state()["chats"]
    assert record["email"] == "alex@example.com"
    assert record["topics"] == ["Technical Support", "User Setup / Settings", "Something Else"]
    assert {"who": "you", "text": "Please set up call recording for pat.quinn"} in record[
        "messages"
    ]


def test_greeting_card_covers_save_until_dismissed(page: Page, portal: Any) -> None:
    """With bubble_overlap on, the greeting blocks Save & Continue until Dismiss message."""
    portal.set_faults("none", bubble_overlap=True)
    sign_in(page, portal.username, portal.password)
    page.goto("/users/new")
    save = page.get_by_role("button", name="Save & Continue")
    expect(page.get_by_role("button", name="Dismiss message")).to_be_visible()
    with pytest.raises(PlaywrightTimeoutError):
        save.click(trial=True, timeout=1500)
    page.get_by_role("button", name="Dismiss message").click()
    save.click(trial=True)


@pytest.fixture(autouse=True)
def _no_stray_faults(portal: Any) -> Iterator[None]:
    """Leave the shared portal without faults for whoever runs next."""
    yield
    portal.set_faults("none")
