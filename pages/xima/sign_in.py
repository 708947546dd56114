"""The Xima sign-in screen: textboxes Email and Password, button Sign In.

Credentials are typed only while the page is at the origin (scheme, host, port) the admin
trusts with them: a start URL that redirects elsewhere gets nothing typed into it.
"""

from __future__ import annotations

from playwright.sync_api import Page

from domain.errors import PortalError, SignInError
from domain.origins import origin_of
from pages.widgets import button, click, text_of
from pages.xima.answer import SIGN_IN_FIELD, perform
from pages.xima.users import HEADING as USERS_HEADING

INVALID_CREDENTIALS = "Invalid email or password."


class SignInPage:
    """The sign-in screen. The password is typed, never returned or logged."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.email = page.get_by_role("textbox", name=SIGN_IN_FIELD, exact=True)
        # A password field has no ARIA role, so it is found by its label.
        self.password = page.get_by_label("Password", exact=True)
        self.sign_in_button = button(page, "Sign In").first
        self.alert = page.get_by_role("alert")
        self.users_heading = page.get_by_role("heading", name=USERS_HEADING, exact=True)

    def open(self, start_url: str) -> None:
        """Go to the start URL and wait for the sign-in form or, when signed in, Users.

        Raises PortalError when the portal answers with a server error.
        """
        response = self.page.goto(start_url)
        if response is not None and response.status >= 500:
            raise PortalError(f"the sign-in screen answered HTTP {response.status}")
        self.email.or_(self.users_heading).filter(visible=True).first.wait_for()

    def is_shown(self) -> bool:
        """Whether the sign-in form is on screen."""
        return self.email.is_visible()

    def alert_text(self) -> str:
        """The alert the screen shows ("Invalid email or password."), or ""."""
        shown = self.alert.filter(visible=True)
        return " ".join(text_of(shown.nth(i)) for i in range(shown.count()))

    def _check_origin(self, trusted_origin: str, field: str) -> None:
        reached = origin_of(self.page.url)
        if not reached or reached != trusted_origin:
            shown = reached or self.page.url.split("?")[0][:100]
            raise SignInError(
                f"the sign-in screen is at {shown}, not at the portal's origin "
                f"{trusted_origin}: the {field} was not typed there"
            )

    def sign_in(self, email: str, password: str, trusted_origin: str) -> None:
        """Type the credentials and press Sign In; returns once Users shows.

        Each is typed only while the page is at `trusted_origin` (checked right before
        each). Raises SignInError when it is not, BusinessError with the portal's words when
        the portal refuses the credentials.
        """
        self._check_origin(trusted_origin, "email")
        self.email.fill(email)
        # Typed before the page's script has set the form up, a value can be lost.
        self.page.wait_for_load_state("load")
        self._check_origin(trusted_origin, "password")
        self.password.fill(password)
        perform(
            self.page,
            lambda: click(self.sign_in_button),
            what="signing in",
            heading=USERS_HEADING,
            sign_in_expected=True,
        )
