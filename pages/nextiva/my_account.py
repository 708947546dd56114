"""My Account Overview, reached from the account menu; it links to Licensing."""

from __future__ import annotations

from playwright.sync_api import Page

from pages.feedback import reach
from pages.nextiva.licensing import LicensingPage
from pages.widgets import click

HEADING = "My Account Overview"


class MyAccountPage:
    """The My Account Overview screen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        self.licensing = page.get_by_role("link", name="Licensing", exact=True)

    def is_shown(self) -> bool:
        """Whether My Account Overview is on screen."""
        return self.heading.is_visible()

    def open_licensing(self, license_name: str | None = None) -> None:
        """Licensing: opens the licences table, waiting for `license_name`'s row (without
        one, for any licence's row)."""
        licensing = LicensingPage(self.page)
        row = licensing.row(license_name) if license_name else licensing.assignable().first
        reach(self.page, lambda: click(self.licensing), row, what="opening Licensing")
