"""Page objects against the mock portal: each screen found by role and accessible name."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from flows.navigate import open_user_page, open_users_overview
from flows.session import sign_in
from pages.account_menu import AccountMenu
from pages.assign_license import AssignLicensePage
from pages.create_user import CreateUserPage
from pages.dashboard import DashboardPage
from pages.licensing import LicensingPage
from pages.my_account import MyAccountPage
from pages.top_menu import TopMenu
from pages.users_overview import UsersOverviewPage
from pages.widgets import Dropdown, labelled_value
from robots.errors import BusinessError, PortalError, SignInError
from robots.hire import NewHire
from tests.conftest import ADMIN_NAME, Portal

GRACE = NewHire(
    first_name="Grace", last_name="Kim", email="grace.kim@example.com", location="Denver Office"
)
AVA = NewHire(
    first_name="Ava", last_name="Nguyen", email="ava.nguyen@example.com", location="Phoenix HQ"
)


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["a", "b"])
def test_sign_in_reaches_the_dashboard_of_either_sign_in_kind(signed_in_page: Page) -> None:
    """Two-step (a) and one-step (b) sign-in both end on the dashboard with the admin's menu."""
    expect(DashboardPage(signed_in_page).heading).to_be_visible()
    assert AccountMenu(signed_in_page).display_name() == ADMIN_NAME


@pytest.mark.browser
def test_wrong_password_is_refused_once_without_echoing_it(page: Page, portal: Portal) -> None:
    """A refused sign-in raises SignInError in the portal's words and never shows the password."""
    wrong = "not-the-password-1234"
    with pytest.raises(SignInError) as refused:
        sign_in(page, portal.url, portal.username, wrong)
    assert "Invalid username or password." in str(refused.value)
    assert wrong not in str(refused.value)
    assert portal.state()["counters"]["sign_ins"] == 0


@pytest.mark.browser
def test_search_finds_a_user_on_page_two(signed_in_page: Page, portal: Portal) -> None:
    """A search with more than 10 results is paged through with Next until the user shows."""
    overview = open_users_overview(signed_in_page)
    overview.search("example.com")
    first_page = [user.username for user in overview.listed()]
    assert len(first_page) == 10
    assert "dana.smithers" not in first_page

    found = overview.find("dana.smithers", term="example.com")

    expected = portal.user("dana.smithers")
    assert found is not None and expected is not None
    assert found.username == "dana.smithers"
    assert found.email == expected["email"]
    assert found.extension == expected["extension"]


@pytest.mark.browser
def test_search_lists_only_what_the_server_found(signed_in_page: Page, portal: Portal) -> None:
    """The table is read only once it shows the server's results for the term."""
    overview = open_users_overview(signed_in_page)
    overview.search("dana.smith")
    listed = {user.username for user in overview.listed()}
    expected = {u["username"] for u in portal.state()["users"] if "dana.smith" in u["username"]}
    assert listed == expected == {"dana.smith", "dana.smithers"}


@pytest.mark.browser
def test_search_for_the_term_already_in_the_box_needs_no_new_request(
    signed_in_page: Page,
) -> None:
    """A box holding the term already shows its results: searching again sends nothing."""
    overview = open_users_overview(signed_in_page)
    overview.search("dana.smith")
    requests: list[str] = []
    signed_in_page.on("request", lambda request: requests.append(request.url))

    overview.search("dana.smith")

    assert requests == []
    assert {user.username for user in overview.listed()} == {"dana.smith", "dana.smithers"}


@pytest.mark.browser
def test_search_after_an_empty_result_waits_for_the_new_list(
    signed_in_page: Page, portal: Portal
) -> None:
    """From an empty list (nothing stale to wait out), the search waits for the redraw."""
    portal.set_faults("none", latency_ms=400)
    overview = open_users_overview(signed_in_page)
    overview.search("nobody.by.that.name")
    assert overview.listed() == []

    overview.search("grace.kim")

    assert [user.username for user in overview.listed()] == ["grace.kim"]


# A list filtered in the browser, a moment after typing, with no request at all.
_FILTERED_IN_THE_BROWSER = """
<label for="q">Search</label> <input id="q" type="text">
<fieldset><legend>Users</legend>
  <div><input type="checkbox" id="a"><label for="a">Dana Smith (dana.smith)</label></div>
  <div><input type="checkbox" id="b" checked><label for="b">Grace Kim (grace.kim)</label></div>
  <div><input type="checkbox" id="c"><label for="c">Ava Nguyen (ava.nguyen)</label></div>
</fieldset>
<script>
  const box = document.getElementById("q");
  box.addEventListener("input", () => setTimeout(() => {
    for (const row of document.querySelectorAll("fieldset div")) {
      row.hidden = !row.textContent.includes(box.value);
    }
  }, 300));
</script>
"""


@pytest.mark.browser
def test_search_of_a_list_filtered_in_the_browser_needs_no_request(page: Page) -> None:
    """The Assign search waits on the listed users, so a portal filtering them locally works."""
    page.set_content(_FILTERED_IN_THE_BROWSER)
    assign = AssignLicensePage(page)

    assign.search("grace.kim")

    assert assign.holds_license("grace.kim") is True
    assert assign.holds_license("dana.smith") is None


@pytest.mark.browser
def test_dropdowns_of_both_kinds_are_chosen_and_read_back(signed_in_page: Page) -> None:
    """Location (an ARIA combobox here) and Package (a native select here) choose alike."""
    TopMenu(signed_in_page).open_add_users()
    form = CreateUserPage(signed_in_page)
    kinds = {
        label: Dropdown(signed_in_page, label).control.evaluate("(e) => e.tagName")
        for label in ("Location", "Package")
    }
    assert kinds["Package"] == "SELECT" and kinds["Location"] != "SELECT"

    form.location.choose("Denver Office")
    numbers = form.free_numbers()
    form.package.choose("NextOSAdditionalLineLocal")

    assert form.location.value() == "Denver Office"
    assert form.package.value() == "NextOSAdditionalLineLocal"
    assert "Mountain" in Dropdown(signed_in_page, "Time Zone").value()
    assert numbers and all(number.startswith("(303)") for number in numbers)


@pytest.mark.browser
def test_profile_reads_a_half_onboarded_users_e911_status(signed_in_page: Page) -> None:
    """Profile's E911 Status reads Not confirmed for a user whose E911 was never confirmed."""
    user_page = open_user_page(signed_in_page, AVA)
    assert user_page.profile.e911_confirmed() is False
    expect(user_page.profile.confirm_e911_button.first).to_be_visible()


@pytest.mark.browser
def test_save_lands_under_the_banner_and_the_chat_bubble(
    signed_in_page: Page, portal: Portal
) -> None:
    """With the banner and an overlapping chat bubble on, the Device Save still lands."""
    portal.set_faults("none", banner=True, bubble_overlap=True)
    user_page = open_user_page(signed_in_page, GRACE)

    user_page.device.set_up("Generic SIP Phone", authentication_name="grace.kim")

    device = (portal.user("grace.kim") or {})["device"]
    assert device["type"] == "Generic SIP Phone"
    assert device["has_password"] is True


@pytest.mark.browser
def test_security_section_makes_an_authorized_user(signed_in_page: Page, portal: Portal) -> None:
    """Security Information saves Authorized User with a PIN; a short PIN is refused."""
    security = open_user_page(signed_in_page, GRACE).security
    assert security.is_authorized() is False

    with pytest.raises(BusinessError) as refused:
        security.authorize("12")
    security.authorize("4821")

    assert "PIN must be 4 digits." in str(refused.value)
    user = portal.user("grace.kim") or {}
    assert user["authorized_user"] is True and user["has_pin"] is True


@pytest.mark.browser
def test_refused_save_raises_the_portals_words(signed_in_page: Page, portal: Portal) -> None:
    """An extension already taken is refused with the portal's message; nothing is created."""
    hire = NewHire(
        first_name="Kai",
        last_name="Moreno",
        email="kai.moreno@example.com",
        location="Austin Office",
        extension="1001",
    )
    overview = open_users_overview(signed_in_page)
    overview.open_add_users()
    form = CreateUserPage(signed_in_page)
    form.fill(hire)

    with pytest.raises(BusinessError) as refused:
        form.save_and_continue()

    assert "Extension 1001 is already assigned to another user." in str(refused.value)
    assert portal.user("kai.moreno") is None


@pytest.mark.browser
def test_failed_write_raises_portal_error(signed_in_page: Page, portal: Portal) -> None:
    """A save answered with HTTP 5xx is a PortalError, and the portal kept nothing."""
    portal.set_faults("none", write_failure_rate=1.0, failure_after_apply_ratio=0.0)
    voicemail = open_user_page(signed_in_page, GRACE).voicemail
    wanted = voicemail.settings().__class__(email="grace.k@example.com", send_attachment=True)

    with pytest.raises(PortalError):
        voicemail.change(wanted)

    assert (portal.user("grace.kim") or {})["voicemail"]["email"] == "grace.kim@example.com"


@pytest.mark.browser
def test_licensing_shows_seats_and_who_holds_a_licence(signed_in_page: Page) -> None:
    """Licensing reads seats used of total; Assign tells who holds the licence."""
    AccountMenu(signed_in_page).open_my_account()
    MyAccountPage(signed_in_page).open_licensing("NextOS Call Recording")
    licensing = LicensingPage(signed_in_page)
    assert licensing.seats("NextOS Call Recording") == (10, 10)

    licensing.open_assign("NextOS Call Recording")
    assign = AssignLicensePage(signed_in_page)
    assign.search("grace.kim")
    assert assign.holds_license("grace.kim") is True
    assign.search("dana.smith")
    assert assign.holds_license("dana.smith") is False
    assert assign.holds_license("grace.kim") is None


@pytest.mark.browser
def test_users_overview_lists_every_column(signed_in_page: Page, portal: Portal) -> None:
    """Rows are read by column header; phone numbers show formatted, compared by digits."""
    overview: UsersOverviewPage = open_users_overview(signed_in_page)
    row = overview.find("dana.smith")
    expected = portal.user("dana.smith")
    assert row is not None and expected is not None
    assert row.name == "Dana Smith"
    assert row.location == expected["location"]
    assert "".join(ch for ch in row.phone_number if ch.isdigit()) == expected["phone_number"]


@pytest.mark.parametrize(
    "text",
    [
        "First Name: Ava\nE911 Status: Not confirmed\nConfirm E911 Address",
        "First Name\nAva\nE911 Status\nNot confirmed\nConfirm E911 Address",
        "First Name\tAva\nE911 Status\tNot confirmed",
    ],
)
def test_profile_values_are_read_whatever_the_layout(text: str) -> None:
    """Label/value text reads the same as 'Label: value', two lines, or tab-separated."""
    assert labelled_value(text, "E911 Status") == "Not confirmed"
    assert labelled_value(text, "First Name") == "Ava"
    assert labelled_value(text, "Security PIN") is None
