"""The account menu at the top right, named with the signed-in admin's display name."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from pages.feedback import open_screen
from pages.nextiva.top_menu import menu_entry, open_menu
from pages.widgets import click, text_of

# The robot does not know the admin's display name, so the button is found as PORTAL.md
# places it: the banner's last menu-opening element outside its navigation.
_LAST_MENU_BUTTON_JS = """
(elements) => {
  const outside = elements.filter((e) => !e.closest('nav, [role=navigation]'));
  return outside.length ? elements.indexOf(outside[outside.length - 1]) : -1;
}
"""


class AccountMenu:
    """The admin's account menu: My Account and Sign out."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.banner = page.get_by_role("banner")
        self._openers = self.banner.locator("[aria-haspopup=menu], [aria-haspopup=true]")

    def button(self) -> Locator:
        """The account menu button (waits for the banner to show it)."""
        self._openers.first.wait_for(state="attached")
        index = self._openers.evaluate_all(_LAST_MENU_BUTTON_JS)
        if index < 0:
            return self.banner.get_by_role("button").last
        return self._openers.nth(int(index))

    def display_name(self) -> str:
        """The signed-in admin's display name: the button's accessible name."""
        # The button may hold an avatar's initials besides the name; its accessible name,
        # as the accessibility snapshot gives it, is what a person hears.
        snapshot = self.button().aria_snapshot()
        match = re.match(r'^- \w+ "((?:[^"\\]|\\.)*)"', snapshot)
        return match.group(1) if match else text_of(self.button())

    def open_my_account(self) -> None:
        """Account menu > My Account: opens My Account Overview."""
        entry = menu_entry(self.page, "My Account")
        open_menu(self.page, self.button(), entry)
        open_screen(
            self.page, lambda: click(entry), "My Account Overview", what="opening My Account"
        )

    def sign_out(self) -> None:
        """Account menu > Sign out: back to the sign-in screen."""
        entry = menu_entry(self.page, "Sign out")
        open_menu(self.page, self.button(), entry)
        click(entry)
        self.page.get_by_role("textbox", name="Username or Email", exact=True).wait_for()
