"""The sign-in screen at the start URL, in two steps (Next, then Password) or one."""

from __future__ import annotations

from playwright.sync_api import Page

from pages.dashboard import HEADING as DASHBOARD_HEADING
from pages.feedback import perform, sign_in_field
from pages.widgets import click

INVALID_CREDENTIALS = "Invalid username or password."


class SignInPage:
    """The sign-in screen. The password is typed, never returned or logged."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.username = sign_in_field(page)
        self.next = page.get_by_role("button", name="Next", exact=True)
        # A password field has no ARIA role, so it is found by its label.
        self.password = page.get_by_label("Password", exact=True)
        self.sign_in_button = page.get_by_role("button", name="Sign in", exact=True)
        self.dashboard_heading = page.get_by_role("heading", name=DASHBOARD_HEADING, exact=True)

    def open(self, start_url: str) -> None:
        """Go to the start URL and wait for the sign-in form or, if signed in, the dashboard."""
        self.page.goto(start_url)
        self.username.or_(self.dashboard_heading).filter(visible=True).first.wait_for()

    def is_shown(self) -> bool:
        """Whether the sign-in form is on screen."""
        return self.username.is_visible()

    def sign_in(self, username: str, password: str) -> None:
        """Type the credentials and submit them; returns once the dashboard shows.

        Raises BusinessError with the portal's words when it refuses them.
        """
        self.username.fill(username)
        # One-step sign-in shows the password field from the start; two-step after Next.
        self.next.or_(self.password).filter(visible=True).first.wait_for(state="visible")
        if not self.password.is_visible():
            click(self.next)
            self.password.wait_for(state="visible")
        # The password screen may be a new page: type only once its script has set the
        # form up, or what was typed can be lost and an empty password sent.
        self.page.wait_for_load_state("load")
        self.password.fill(password)
        perform(
            self.page,
            lambda: click(self.sign_in_button),
            what="signing in",
            heading=DASHBOARD_HEADING,
            sign_in_expected=True,
        )
