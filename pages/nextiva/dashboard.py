"""The Nextiva Voice Admin Dashboard: the screen a signed-in admin starts from.

Besides the menus and the Users tile it holds the account summary (seed 000: "The account
number and PIN can be found on the Nextiva homepage"): the labelled values Account Number
and Security PIN, the PIN shown as dots until Show PIN is pressed.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import PortalError
from pages.feedback import open_screen
from pages.nextiva.account_menu import AccountMenu
from pages.nextiva.top_menu import TopMenu
from pages.widgets import button, click, labelled_value, named, text_lines, with_text_of

HEADING = "Nextiva Voice Admin Dashboard"
ACCOUNT_NUMBER = "Account Number"
SECURITY_PIN = "Security PIN"
_ACCOUNT_NUMBER_VALUE = re.compile(r"\d[\d\s-]*\d|\d")
_PIN_VALUE = re.compile(r"(?<!\d)\d{4}(?!\d)")

# Whether the text beside "Security PIN" (on its line or the next) shows four digits yet:
# Show PIN may ask the server first, so the digits come a moment after the press.
_PIN_SHOWN_JS = with_text_of("""
(main) => { /*TEXT_OF*/
  const lines = textOf(main, true).split('\\n').map((l) => l.trim()).filter(Boolean);
  const at = lines.findIndex((l) => l.startsWith('Security PIN'));
  if (at < 0) return false;
  const near = lines[at].slice('Security PIN'.length) + ' ' + (lines[at + 1] || '');
  return /(^|[^0-9])[0-9]{4}([^0-9]|$)/.test(near);
}
""")


class DashboardPage:
    """The dashboard: top menu, account menu, the Users tile and the account summary."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        self.top_menu = TopMenu(page)
        self.account_menu = AccountMenu(page)
        # The Users tile's Add is the dashboard's only link named exactly "Add".
        self.users_tile_add = page.get_by_role("link", name="Add", exact=True).first
        # The account summary is part of the main content; the chat panel is not.
        self.main = page.get_by_role("main")
        self.show_pin = button(self.main, named("Show PIN")).first
        self.hide_pin = button(self.main, named("Hide PIN")).first

    def open(self, start_url: str) -> None:
        """Go to the start URL, which shows the dashboard to a signed-in admin."""
        open_screen(
            self.page, lambda: self.page.goto(start_url), HEADING, what="opening the dashboard"
        )

    def is_shown(self) -> bool:
        """Whether the dashboard is on screen."""
        return self.heading.is_visible()

    def add_user_from_tile(self) -> None:
        """The Users tile's Add link: opens Create User."""
        open_screen(
            self.page, lambda: click(self.users_tile_add), "Create User", what="opening Add"
        )

    def _summary_value(self, label: str) -> str | None:
        return labelled_value(text_lines(self.main), label)

    def account_number(self) -> str:
        """The account summary's Account Number (its digits as shown)."""
        self.heading.wait_for(state="visible")
        shown = self._summary_value(ACCOUNT_NUMBER)
        found = _ACCOUNT_NUMBER_VALUE.search(shown or "")
        if found is None:
            raise PortalError("the dashboard shows no Account Number in its account summary")
        return re.sub(r"\D", "", found.group(0))

    def security_pin(self) -> str:
        """Show PIN, read the account's security PIN, and hide it again.

        The caller holds a secret from here on: it must tell the evidence recorder at once
        and never log or show it. Hiding it again keeps it out of later screenshots.
        """
        self.heading.wait_for(state="visible")
        if not self.hide_pin.is_visible():
            click(self.show_pin)
        try:
            self.page.wait_for_function(_PIN_SHOWN_JS, arg=self.main.element_handle())
        except PlaywrightTimeoutError as error:
            raise PortalError("Show PIN did not show the account's security PIN") from error
        found = _PIN_VALUE.search(self._summary_value(SECURITY_PIN) or "")
        if self.hide_pin.is_visible():
            click(self.hide_pin)
        if found is None:
            raise PortalError("the account summary's Security PIN is not four digits")
        return found.group(0)
