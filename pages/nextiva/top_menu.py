"""The top menu bar (the `navigation` landmark) and its Users menu."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from pages.feedback import open_screen
from pages.widgets import click

# What a menu's trigger announces: whether it opens a menu, whether that menu is open, and
# whether a person perceives the trigger as a link (clicking it goes to its screen).
_TRIGGER_JS = """
(elements) => {
  const e = elements[0];
  const popup = e.getAttribute('aria-haspopup');
  return {
    menu: popup !== null && popup !== 'false',
    expanded: e.getAttribute('aria-expanded') === 'true',
    link: (e.getAttribute('role') || (e.matches('a[href]') ? 'link' : '')) === 'link',
  };
}
"""


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
    """Open the menu behind `trigger`, whether it opens on hover or on click.

    The pointer goes to the trigger first, as a person's would; a menu that opens on hover
    shows at once. Otherwise the trigger's own state decides, with no wait on time: open
    (aria-expanded="true") is a menu still drawing itself; a link with a menu is waited on
    (clicking it would leave the screen); any other trigger, a button that stayed closed or
    one that announces no menu, is clicked. Returns False when that click went straight to
    a screen (`landed` showed) instead of opening a menu, as a plain link would.
    """
    if entry.is_visible():
        return True
    trigger.hover()
    if entry.is_visible():
        return True
    announced = trigger.evaluate_all(_TRIGGER_JS)
    if announced["menu"] and (announced["expanded"] or announced["link"]):
        entry.wait_for(state="visible")
        return True
    click(trigger)
    either = entry if landed is None else entry.or_(landed).first
    either.wait_for(state="visible")
    return entry.is_visible()


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
