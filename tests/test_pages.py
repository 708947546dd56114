"""Page objects against the mock portal: each screen found by role and accessible name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from playwright.sync_api import Page, Route, expect

from domain.errors import BusinessError, PortalError, SessionExpiredError, SignInError
from domain.nextiva import NewHire
from domain.steps import Session
from flows.nextiva.navigate import open_user_page, open_users_overview
from flows.nextiva.session import sign_in
from pages.feedback import perform, prepare
from pages.nextiva.account_menu import AccountMenu
from pages.nextiva.assign_license import AssignLicensePage
from pages.nextiva.create_user import CreateUserPage
from pages.nextiva.dashboard import DashboardPage
from pages.nextiva.licensing import LicensingPage
from pages.nextiva.my_account import MyAccountPage
from pages.nextiva.top_menu import TopMenu
from pages.nextiva.user_page import UserPage, VoicemailSettings
from pages.nextiva.users_overview import UsersOverviewPage
from pages.widgets import Dropdown, click, labelled_value
from tests.conftest import ADMIN_NAME, Portal

GRACE = NewHire(
    first_name="Grace", last_name="Kim", email="grace.kim@example.com", location="Denver Office"
)
AVA = NewHire(
    first_name="Ava", last_name="Nguyen", email="ava.nguyen@example.com", location="Phoenix HQ"
)


@pytest.mark.browser
@pytest.mark.parametrize("variant", ["a", "b", "c"])
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
def test_search_finds_a_user_on_page_two(signed_in_session: Session, portal: Portal) -> None:
    """A search with more than 10 results is paged through with Next until the user shows."""
    overview = open_users_overview(signed_in_session)
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
def test_search_lists_only_what_the_server_found(
    signed_in_session: Session, portal: Portal
) -> None:
    """The table is read only once it shows the server's results for the term."""
    overview = open_users_overview(signed_in_session)
    overview.search("dana.smith")
    listed = {user.username for user in overview.listed()}
    expected = {u["username"] for u in portal.state()["users"] if "dana.smith" in u["username"]}
    assert listed == expected == {"dana.smith", "dana.smithers"}


@pytest.mark.browser
def test_search_for_the_term_already_in_the_box_needs_no_new_request(
    signed_in_page: Page,
    signed_in_session: Session,
) -> None:
    """A box holding the term already shows its results: searching again sends nothing."""
    overview = open_users_overview(signed_in_session)
    overview.search("dana.smith")
    requests: list[str] = []
    signed_in_page.on("request", lambda request: requests.append(request.url))

    overview.search("dana.smith")

    assert requests == []
    assert {user.username for user in overview.listed()} == {"dana.smith", "dana.smithers"}


@pytest.mark.browser
def test_search_after_an_empty_result_waits_for_the_new_list(
    signed_in_session: Session, portal: Portal
) -> None:
    """From an empty list (nothing stale to wait out), the search waits for the redraw."""
    portal.set_faults("none", latency_ms=400)
    overview = open_users_overview(signed_in_session)
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
def test_profile_reads_a_half_onboarded_users_e911_status(signed_in_session: Session) -> None:
    """Profile's E911 Status reads Not confirmed for a user whose E911 was never confirmed."""
    user_page = open_user_page(signed_in_session, AVA)
    assert user_page.profile.e911_confirmed() is False
    expect(user_page.profile.confirm_e911_button.first).to_be_visible()


@pytest.mark.browser
def test_save_lands_under_the_banner_and_the_chat_bubble(
    signed_in_session: Session, portal: Portal
) -> None:
    """With the banner and an overlapping chat bubble on, the Device Save still lands."""
    portal.set_faults("none", banner=True, bubble_overlap=True)
    user_page = open_user_page(signed_in_session, GRACE)

    user_page.device.set_up("Generic SIP Phone", authentication_name="grace.kim")

    device = (portal.user("grace.kim") or {})["device"]
    assert device["type"] == "Generic SIP Phone"
    assert device["has_password"] is True


@pytest.mark.browser
def test_security_section_makes_an_authorized_user(
    signed_in_session: Session, portal: Portal
) -> None:
    """Security Information saves Authorized User with a PIN; a short PIN is refused."""
    security = open_user_page(signed_in_session, GRACE).security
    assert security.is_authorized() is False

    with pytest.raises(BusinessError) as refused:
        security.authorize("12")
    security.authorize("4821")

    assert "PIN must be 4 digits." in str(refused.value)
    user = portal.user("grace.kim") or {}
    assert user["authorized_user"] is True and user["has_pin"] is True


@pytest.mark.browser
def test_refused_save_raises_the_portals_words(
    signed_in_page: Page, signed_in_session: Session, portal: Portal
) -> None:
    """An extension already taken is refused with the portal's message; nothing is created."""
    hire = NewHire(
        first_name="Kai",
        last_name="Moreno",
        email="kai.moreno@example.com",
        location="Austin Office",
        extension="1001",
    )
    overview = open_users_overview(signed_in_session)
    overview.open_add_users()
    form = CreateUserPage(signed_in_page)
    form.fill(hire)

    with pytest.raises(BusinessError) as refused:
        form.save_and_continue()

    assert "Extension 1001 is already assigned to another user." in str(refused.value)
    assert portal.user("kai.moreno") is None


@pytest.mark.browser
def test_failed_write_raises_portal_error(signed_in_session: Session, portal: Portal) -> None:
    """A save answered with HTTP 5xx is a PortalError, and the portal kept nothing."""
    portal.set_faults("none", write_failure_rate=1.0, failure_after_apply_ratio=0.0)
    voicemail = open_user_page(signed_in_session, GRACE).voicemail
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
def test_users_overview_lists_every_column(signed_in_session: Session, portal: Portal) -> None:
    """Rows are read by column header; phone numbers show formatted, compared by digits."""
    overview: UsersOverviewPage = open_users_overview(signed_in_session)
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


# -- Freedoms PORTAL.md leaves to a portal, each on a page of its own (no server) ------------

_ROW = (
    "Dana Smith",
    "dana.smith",
    "dana.smith@example.com",
    "1001",
    "(602) 555-0101",
    "Phoenix HQ",
)
_HEADERS = ("Name", "Username", "Email", "Extension", "Phone Number", "Location")


def _table_in_capitals() -> str:
    headers = "".join(f"<th>{name}<span hidden> (sort)</span></th>" for name in _HEADERS)
    cells = f'<td><a href="#">{_ROW[0]}</a></td>' + "".join(f"<td>{c}</td>" for c in _ROW[1:])
    return f"""
    <style>th {{ text-transform: uppercase; letter-spacing: .1em; }}</style>
    <h1>Users Overview</h1>
    <table><thead><tr>{headers}</tr></thead><tbody><tr>{cells}</tr></tbody></table>
    """


def _grid_of_divs() -> str:
    headers = "".join(
        f'<div role="columnheader" class="h">{name} <i aria-hidden="true">▲</i></div>'
        for name in _HEADERS
    )
    cells = f'<div role="gridcell"><span role="link" tabindex="0">{_ROW[0]}</span></div>' + "".join(
        f'<div role="gridcell">{c}</div>' for c in _ROW[1:]
    )
    return f"""
    <style>.h {{ text-transform: uppercase; }} [role=row] {{ display: flex; gap: 1em; }}</style>
    <h1>Users Overview</h1>
    <div role="grid" aria-label="Users">
      <div role="rowgroup"><div role="row">{headers}</div></div>
      <div role="rowgroup"><div role="row">{cells}</div></div>
    </div>
    """


@pytest.mark.browser
@pytest.mark.parametrize("markup", [_table_in_capitals(), _grid_of_divs()], ids=["table", "grid"])
def test_users_table_is_read_by_its_header_names_not_as_css_shows_them(
    page: Page, markup: str
) -> None:
    """Headers styled in capitals, with hidden or decorative parts, in a <table> or an ARIA
    grid of divs: the columns are found by their names and the row read whole."""
    page.set_content(markup)
    overview = UsersOverviewPage(page)

    listed = overview.listed()

    assert [tuple(vars(user).values()) for user in listed] == [_ROW]
    assert overview.lists("dana.smith")


_SECTIONS_OF_DIVS = """
<style>
  .label { text-transform: uppercase; font-size: small; }
  .cut { display: inline-block; width: 3em; overflow: hidden; white-space: nowrap;
         text-overflow: ellipsis; }
  .pencil::before { content: "✎ "; }
  dl { display: grid; grid-template-columns: auto auto; }
</style>
<h1>Ava Nguyen</h1>
<div role="button" tabindex="0" id="t-p" onclick="toggle('p')">Profile</div>
<section id="p" aria-labelledby="t-p" hidden>
  <dl>
    <dt class="label">First Name</dt><dd>Ava</dd>
    <dt class="label">E911 Status</dt><dd><span class="cut">Not confirmed</span>
      <span style="display:none">Confirmed</span></dd>
  </dl>
</section>
<div role="button" tabindex="0" id="t-v" onclick="toggle('v')">Voicemail</div>
<section id="v" aria-labelledby="t-v" hidden>
  <p>Voicemail to email is on.</p>
  <a href="#" class="btn pencil" onclick="document.getElementById('e').hidden = false;
     return false">Edit Voicemail</a>
  <div id="e" hidden>
    <span id="l-mail" class="label">Email Address</span>
    <input type="email" aria-labelledby="l-mail" value="ava.nguyen@example.com">
    <label class="label"><input type="checkbox" checked> Send Attachment Of Message</label>
  </div>
</section>
<script>
  function toggle(id) { const s = document.getElementById(id); s.hidden = !s.hidden; }
</script>
"""


@pytest.mark.browser
def test_sections_of_role_button_divs_and_styled_labels_are_read_as_the_page_gives_them(
    page: Page,
) -> None:
    """Section toggles that are role=button divs, labels in capitals by CSS, a value cut by a
    CSS ellipsis, hidden text beside it, a pencil link styled as a button, fields labelled by
    aria-labelledby and by a wrapping label: all read as the page's text gives them."""
    page.set_content(_SECTIONS_OF_DIVS)
    user_page = UserPage(page, "Ava Nguyen")

    assert user_page.profile.value("E911 Status") == "Not confirmed"
    assert user_page.profile.e911_confirmed() is False
    assert user_page.voicemail.settings() == VoicemailSettings(
        email="ava.nguyen@example.com", send_attachment=True
    )


_PORTALLED_LISTBOX = """
<style>
  [role=option], .value { text-transform: uppercase; }
  [role=listbox] { position: absolute; top: 4em; left: 0; background: white; }
</style>
<form>
  <span id="l-loc">Location</span>
  <div role="combobox" tabindex="0" aria-labelledby="l-loc" aria-expanded="false"
       aria-controls="menu-7" class="value">Select a location</div>
</form>
<script>
  const box = document.querySelector("[role=combobox]");
  box.addEventListener("click", () => {
    // Rendered at the end of the document when opened, as client-side frameworks do.
    const list = document.createElement("ul");
    list.id = "menu-7";
    list.setAttribute("role", "listbox");
    for (const name of ["Select a location", "Phoenix HQ", "Denver Office", "Austin Office"]) {
      const option = document.createElement("li");
      option.setAttribute("role", "option");
      option.textContent = name;
      option.addEventListener("click", () => {
        box.textContent = name;
        box.setAttribute("aria-expanded", "false");
        list.remove();
      });
      list.appendChild(option);
    }
    document.body.appendChild(list);
    box.setAttribute("aria-expanded", "true");
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      document.getElementById("menu-7")?.remove();
      box.setAttribute("aria-expanded", "false");
    }
  });
</script>
"""


@pytest.mark.browser
def test_a_listbox_rendered_at_the_end_of_the_document_is_read_and_chosen_as_named(
    page: Page,
) -> None:
    """Options in capitals by CSS, in a listbox appended to <body> on opening: offered as
    named, chosen, and the choice read back as named."""
    page.set_content(_PORTALLED_LISTBOX)
    location = Dropdown(page, "Location")

    assert location.options() == [
        "Select a location",
        "Phoenix HQ",
        "Denver Office",
        "Austin Office",
    ]
    location.choose("Denver Office")

    assert location.value() == "Denver Office"


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["native", "aria"])
def test_choosing_a_value_the_dropdown_does_not_offer_is_a_business_error_at_once(
    page: Page, kind: str
) -> None:
    """Asked for "Tampa", a dropdown offering three offices says so, naming them, without
    waiting for an option that never comes."""
    if kind == "native":
        page.set_content(
            '<label for="l">Location</label><select id="l"><option value="">Select…</option>'
            "<option value='1'>Phoenix HQ</option><option value='2'>Denver Office</option>"
            "<option value='3'>Austin Office</option></select>"
        )
    else:
        page.set_content(_PORTALLED_LISTBOX)
    page.set_default_timeout(15_000)

    with pytest.raises(BusinessError) as refused:
        Dropdown(page, "Location").choose("Tampa")

    assert str(refused.value) == (
        'location: "Tampa" is not offered by the portal '
        "(offered: Phoenix HQ, Denver Office, Austin Office)"
    )


_ANSWER_IN_CAPITALS = """
<style>.shout { text-transform: uppercase; }</style>
<h1>Ava Nguyen</h1>
<div role="button" tabindex="0" id="save">Save</div>
<div role="status" class="shout" id="status"></div>
<script>
  document.getElementById("save").addEventListener("click", () => {
    document.getElementById("status").innerHTML =
      'Changes saved.<span style="display:none">debug: request 42</span>';
  });
</script>
"""

_SIGN_IN_IN_CAPITALS = """
<style>label { text-transform: uppercase; }</style>
<h1>Ava Nguyen</h1>
<button id="save">Save</button>
<script>
  document.getElementById("save").addEventListener("click", () => {
    document.body.innerHTML = '<h1>Sign in</h1><label>Username or Email <input></label>';
  });
</script>
"""


@pytest.mark.browser
def test_a_confirmation_styled_in_capitals_is_the_portals_answer(page: Page) -> None:
    """ "Changes saved." shown in capitals by CSS, with hidden text beside it, is a save."""
    page.set_content(_ANSWER_IN_CAPITALS)
    prepare(page, 3_000)

    answer = perform(
        page, lambda: click(page.get_by_role("button", name="Save")), what="saving", saved=True
    )

    assert (answer.kind, answer.text) == ("status", "Changes saved.")


@pytest.mark.browser
def test_a_sign_in_field_labelled_in_capitals_means_the_session_ended(page: Page) -> None:
    """The sign-in field, its wrapping label styled in capitals, is seen as the sign-in
    screen: the session expired, not a portal that gave no answer."""
    page.set_content(_SIGN_IN_IN_CAPITALS)
    prepare(page, 3_000)

    with pytest.raises(SessionExpiredError):
        perform(
            page, lambda: click(page.get_by_role("button", name="Save")), what="saving", saved=True
        )


# -- Signing in: what is safe to retry, and where the password may be typed ----------------


@pytest.mark.browser
@pytest.mark.parametrize("first_load", ["hangs", "fails"])
def test_a_sign_in_screen_that_does_not_load_at_first_is_loaded_again(
    page: Page, portal: Portal, first_load: str
) -> None:
    """The start URL's first load never answers (a busy machine) or answers 503: nothing was
    typed yet, so the robot loads it again and signs in, once."""
    loads: list[str] = []

    def first_load_goes_wrong(route: Route) -> None:
        loads.append(route.request.url)
        if len(loads) > 1:
            route.continue_()
        elif first_load == "fails":
            route.fulfill(status=503, body="Service Unavailable")
        # "hangs": the first request is left unanswered.

    page.route(portal.url, first_load_goes_wrong)

    sign_in(page, portal.url, portal.username, portal.password, timeout_ms=2_000)

    expect(DashboardPage(page).heading).to_be_visible()
    assert len(loads) >= 2, "the start URL was loaded again"
    assert portal.state()["counters"]["sign_ins"] == 1


class _Recorder(BaseHTTPRequestHandler):
    """A stand-in for a host the portal's start URL should never lead to: it serves a
    one-step sign-in form and keeps every request body it receives."""

    bodies: ClassVar[list[bytes]] = []
    redirect_to: ClassVar[str] = ""

    def do_GET(self) -> None:
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        self._page(
            '<form method="post"><label>Username or Email <input name="u"></label>'
            '<label>Password <input type="password" name="p"></label>'
            "<button>Sign in</button></form>"
        )

    def do_POST(self) -> None:
        type(self).bodies.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
        self._page("<h1>Nextiva Voice Admin Dashboard</h1>")

    def _page(self, body: str) -> None:
        data = f"<!doctype html><title>Sign in</title>{body}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def _recorder(redirect_to: str = "") -> type[_Recorder]:
    """A recorder class of its own (its own bodies), redirecting to `redirect_to` if given."""

    class Recorder(_Recorder):
        bodies: ClassVar[list[bytes]] = []

    Recorder.redirect_to = redirect_to
    return Recorder


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_the_password_is_never_typed_on_a_host_the_start_url_redirects_to(page: Page) -> None:
    """The start URL redirects to another origin (another port on this machine, plain HTTP):
    the robot stops with an error naming that origin, and nothing it typed reaches it."""
    password = "never-here-7f3a"
    elsewhere = _recorder()
    with _serving(elsewhere) as other_url:
        start = _recorder(redirect_to=other_url)
        with _serving(start) as start_url, pytest.raises(SignInError) as stopped:
            sign_in(page, start_url, "admin@example.com", password, timeout_ms=5_000)

    other_origin = other_url.rstrip("/")
    assert other_origin in str(stopped.value)
    assert "not at the portal's origin" in str(stopped.value)
    assert password not in str(stopped.value)
    assert elsewhere.bodies == []
    assert page.get_by_label("Password").input_value() == ""


@pytest.mark.browser
def test_an_origin_allowed_for_single_sign_on_is_typed_into(page: Page) -> None:
    """The same redirect to an origin the admin allowed (SSO_ORIGINS) signs in there."""
    elsewhere = _recorder()
    with _serving(elsewhere) as other_url:
        start = _recorder(redirect_to=other_url)
        with _serving(start) as start_url:
            sign_in(
                page,
                start_url,
                "admin@example.com",
                "sso-password-1",
                timeout_ms=5_000,
                sso_origins=[other_url],
            )

    assert len(elsewhere.bodies) == 1 and b"sso-password-1" in elsewhere.bodies[0]
