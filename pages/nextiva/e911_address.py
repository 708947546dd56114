"""E911 Address: the second Save & Continue, which confirms the user's emergency address."""

from __future__ import annotations

from playwright.sync_api import Page

from pages.feedback import perform
from pages.widgets import button, click

HEADING = "E911 Address"


class E911AddressPage:
    """The E911 Address screen, pre-filled with the location's address."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        self.save_and_continue_button = button(page, "Save & Continue").first

    def is_shown(self) -> bool:
        """Whether the E911 Address screen is on screen."""
        return self.heading.is_visible()

    def confirm(self, user_heading: str) -> None:
        """Save & Continue: confirms the address and opens the user's page (`user_heading`)."""
        perform(
            self.page,
            lambda: click(self.save_and_continue_button),
            what="confirming the E911 address",
            heading=user_heading,
        )
