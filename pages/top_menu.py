"""The top menu bar (the `navigation` landmark) and its Users menu."""

from __future__ import annotations

import weakref

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pages.feedback import open_screen
from pages.widgets import click

# A menu that opens on hover opens within a moment of the pointer arriving; after this
# long without it the menu is taken to be one that opens on click. Generous, because a
# loaded machine is slow to answer a hover, and paid once per page (see _click_menus).
_HOVER_GRACE_MS = 3000

# Menus (by their trigger) found to open on click rather than hover, per page.
_click_menus: weakref.WeakKeyDictionary[Page, set[str]] = weakref.WeakKeyDictionary()


def menu_entry(page: Page, name: str) -> Locator:
    """A visible entry of an open menu, whether the portal made it a menu item or a link."""
    return (
        page.get_by_role("menuitem", name=name, exact=True)
        .or_(page.get_by_role("link", name=name, exact=True))
        .or_(page.get_by_role("button", name=name, exact=True))
        .filter(visible=True)
        .first
    )


def open_menu(page: Page, trigger: Locator, entry: Locator, landed: Locator | None = None) -> bool:
    """Open the menu behind `trigger` (hover or click, whichever it answers to).

    Returns False when clicking the trigger went straight to a screen (`landed` showed)
    instead of opening a menu, as a plain link would.
    """
    trigger.wait_for(state="visible")
    if entry.is_visible():
        return True
    opens_on_click = _click_menus.setdefault(page, set())
    key = str(trigger)
    if key not in opens_on_click:
        trigger.hover()
        try:
            entry.wait_for(state="visible", timeout=_HOVER_GRACE_MS)
            return True
        except PlaywrightTimeoutError:
            pass
    click(trigger)
    either = entry if landed is None else entry.or_(landed).first
    either.wait_for(state="visible")
    if entry.is_visible():
        # Remembered, so later visits on this page skip the wait for a hover.
        opens_on_click.add(key)
        return True
    return False


class TopMenu:
    """The top menu bar: Users > Manage Users / Add Users."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.bar = page.get_by_role("navigation")
        # Users may be a link, a button or a menubar's menu item.
        self.users = (
            self.bar.get_by_role("menuitem", name="Users", exact=True)
            .or_(self.bar.get_by_role("button", name="Users", exact=True))
            .or_(self.bar.get_by_role("link", name="Users", exact=True))
            .first
        )

    def is_shown(self) -> bool:
        """Whether the menu bar with Users is on screen."""
        return self.users.is_visible()

    def _choose(self, entry_name: str, heading: str) -> None:
        entry = menu_entry(self.page, entry_name)
        landed = self.page.get_by_role("heading", name=heading, exact=True)
        if open_menu(self.page, self.users, entry, landed):
            open_screen(self.page, lambda: click(entry), heading, what=f"opening {entry_name}")

    def open_manage_users(self) -> None:
        """Users > Manage Users: opens Users Overview."""
        self._choose("Manage Users", "Users Overview")

    def open_add_users(self) -> None:
        """Users > Add Users: opens Create User."""
        self._choose("Add Users", "Create User")
