"""The sign-in screen at the start URL, in two steps (Next, then Password) or one.

Credentials are typed only on a page whose origin (scheme, host, port) is one the admin
trusts with them: the portal's own, or one allowed for single sign-on. A start URL that
redirects elsewhere, or to plain HTTP, gets nothing typed into it.
"""

from __future__ import annotations

from collections.abc import Collection

from playwright.sync_api import Page

from domain.errors import PortalError, SignInError
from domain.origins import origin_of
from pages.feedback import perform, sign_in_field
from pages.nextiva.dashboard import HEADING as DASHBOARD_HEADING
from pages.widgets import button, click

INVALID_CREDENTIALS = "Invalid username or password."


class SignInPage:
    """The sign-in screen. The password is typed, never returned or logged."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.username = sign_in_field(page)
        self.next = button(page, "Next").first
        # A password field has no ARIA role, so it is found by its label.
        self.password = page.get_by_label("Password", exact=True)
        self.sign_in_button = button(page, "Sign in").first
        self.dashboard_heading = page.get_by_role("heading", name=DASHBOARD_HEADING, exact=True)

    def open(self, start_url: str, *, timeout_ms: float | None = None) -> None:
        """Go to the start URL and wait for the sign-in form or, if signed in, the dashboard.

        Raises PortalError when the portal answers with a server error (nothing to wait
        for); Playwright's TimeoutError when the screen does not show within `timeout_ms`.
        """
        response = self.page.goto(start_url, timeout=timeout_ms)
        if response is not None and response.status >= 500:
            raise PortalError(f"the sign-in screen answered HTTP {response.status}")
        self.username.or_(self.dashboard_heading).filter(visible=True).first.wait_for(
            timeout=timeout_ms
        )

    def is_shown(self) -> bool:
        """Whether the sign-in form is on screen."""
        return self.username.is_visible()

    def _check_origin(self, trusted: Collection[str], field: str) -> None:
        """Raise SignInError unless the page is at a trusted origin (before typing `field`)."""
        reached = origin_of(self.page.url)
        if not reached or reached not in trusted:
            shown = reached or self.page.url.split("?")[0][:100]
            raise SignInError(
                f"the sign-in screen is at {shown}, not at the portal's origin or one allowed "
                f"for single sign-on (SSO_ORIGINS): the {field} was not typed there"
            )

    def sign_in(self, username: str, password: str, trusted: Collection[str]) -> None:
        """Type the credentials and submit them; returns once the dashboard shows.

        Each is typed only while the page's origin is in `trusted` (checked right before
        each, since the page may change between the two steps). Raises SignInError when
        it is not, BusinessError with the portal's words when it refuses the credentials.
        """
        self._check_origin(trusted, "username")
        self.username.fill(username)
        # One-step sign-in shows the password field from the start; two-step after Next.
        self.next.or_(self.password).filter(visible=True).first.wait_for(state="visible")
        if not self.password.is_visible():
            click(self.next)
            self.password.wait_for(state="visible")
        # The password screen may be a new page: type only once its script has set the
        # form up, or what was typed can be lost and an empty password sent.
        self.page.wait_for_load_state("load")
        self._check_origin(trusted, "password")
        self.password.fill(password)
        perform(
            self.page,
            lambda: click(self.sign_in_button),
            what="signing in",
            heading=DASHBOARD_HEADING,
            sign_in_expected=True,
        )
