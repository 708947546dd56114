"""The Nextiva Voice Admin Dashboard: the screen a signed-in admin starts from."""

from __future__ import annotations

from playwright.sync_api import Page

from pages.feedback import open_screen
from pages.nextiva.account_menu import AccountMenu
from pages.nextiva.top_menu import TopMenu
from pages.widgets import click

HEADING = "Nextiva Voice Admin Dashboard"


class DashboardPage:
    """The dashboard: top menu, account menu and the Users tile."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        self.top_menu = TopMenu(page)
        self.account_menu = AccountMenu(page)
        # The Users tile's Add is the dashboard's only link named exactly "Add".
        self.users_tile_add = page.get_by_role("link", name="Add", exact=True).first

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
