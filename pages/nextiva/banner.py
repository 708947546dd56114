"""The unsupported-browser banner that may sit on any page, closed whenever it shows."""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def banner_close_button(page: Page) -> Locator:
    """The banner's "close" button (lower case, as the portal names it)."""
    return page.get_by_role("button", name="close", exact=True)


def watch_banner(page: Page) -> None:
    """Close the banner whenever it shows before an action, so it never takes a click.

    Replaces the handler put in place before, if any: a page is prepared at each sign-in.
    """
    close = banner_close_button(page)
    page.remove_locator_handler(close)
    page.add_locator_handler(close, lambda button: button.click())
