"""The unsupported-browser banner that may sit on any page, closed whenever it shows."""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def banner_close_button(page: Page) -> Locator:
    """The banner's "close" button (lower case, as the portal names it)."""
    return page.get_by_role("button", name="close", exact=True)


def watch_banner(page: Page) -> None:
    """Close the banner whenever it shows before an action, so it never takes a click."""
    page.add_locator_handler(banner_close_button(page), lambda button: button.click())
