"""Users: the top menu's entry, the users table with its search and pages of 25, each row's
Edit and Delete, and Add User at the far right.

The table may be an HTML `<table>` or elements with ARIA table or grid roles. Its column
headers are read as the page's text gives them (a header styled in capitals by CSS still
reads "Email"), and cells whole (an email cut with an ellipsis on screen reads whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import PortalError, SessionExpiredError
from pages.widgets import (
    button,
    click,
    same_name,
    search,
    search_box,
    wait_until_idle,
    with_text_of,
)
from pages.xima.answer import perform, sign_in_heading

HEADING = "Users"
COLUMNS = ("Name", "Extension", "Email", "Department", "Site", "Scope")
USER_ADDED = "User added."
USER_UPDATED = "User updated."
USER_DELETED = "User deleted."

_ROWS_JS = with_text_of("""
(rows) => { /*TEXT_OF*/
  return rows.map((row) => {
    const cells = row.cells ? [...row.cells] : [...row.querySelectorAll(
        '[role=cell], [role=gridcell], [role=rowheader]')];
    return cells.map((cell) => textOf(cell, false));
  });
}
""")
_TEXTS_JS = with_text_of("(all) => { /*TEXT_OF*/ return all.map((e) => textOf(e, false)); }")


@dataclass(frozen=True)
class UserRow:
    """One user as the Users table lists them."""

    name: str
    extension: str
    email: str
    department: str
    site: str
    scope: str


def _column(headers: list[str], name: str) -> int:
    """The index of the column `name`: exact as the text gives it, else case aside (a
    portal may spell its headers in capitals in the text itself)."""
    for index, header in enumerate(headers):
        if same_name(header, name):
            return index
    for index, header in enumerate(headers):
        if header.strip().casefold() == name.casefold():
            return index
    raise PortalError(f"the Users table has no column {name!r} (it has {', '.join(headers)})")


class UsersPage:
    """The Users screen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        menu = page.get_by_role("navigation")
        self.menu_entry = button(menu, HEADING).or_(
            menu.get_by_role("menuitem", name=HEADING, exact=True)
        )
        self.search_box = search_box(page, "Search")
        self.table = (
            page.get_by_role("table")
            .or_(page.get_by_role("grid"))
            .filter(has=page.get_by_role("columnheader", name=re.compile(r"^\W*email\W*$", re.I)))
            .first
        )
        self.column_headers = self.table.get_by_role("columnheader")
        # Data rows hold cells; the header row holds column headers only.
        self.rows = self.table.get_by_role("row").filter(
            has=page.get_by_role("cell").or_(page.get_by_role("gridcell"))
        )
        self.next = button(page, "Next").first
        self.previous = button(page, "Previous").first
        self.add_user = button(page, "Add User").filter(visible=True).first
        self.status = page.get_by_role("status")

    def is_shown(self) -> bool:
        """Whether Users is on screen."""
        return self.heading.is_visible()

    def open(self) -> None:
        """Open Users from the top menu (raises SessionExpiredError at the sign-in screen).

        A screen without the top menu (an error page) is loaded again first, as a person
        would reload it; a GET never repeats a save.
        """
        entry = self.menu_entry.filter(visible=True).first
        if not entry.is_visible():
            if sign_in_heading(self.page).is_visible():
                raise SessionExpiredError("opening Users: the portal showed the sign-in screen")
            self.page.goto(self.page.url)
        perform(self.page, lambda: click(entry), what="opening Users", heading=HEADING)

    def headers(self) -> list[str]:
        """The column headers as the page's text gives them."""
        self.table.wait_for()
        found: list[str] = self.column_headers.evaluate_all(_TEXTS_JS)
        return [" ".join(text.split()) for text in found]

    def listed(self) -> list[UserRow]:
        """The users of the page shown, in order."""
        headers = self.headers()
        at = {name: _column(headers, name) for name in COLUMNS}
        found: list[list[str]] = self.rows.evaluate_all(_ROWS_JS)
        return [
            UserRow(**{name.lower(): cells[at[name]] for name in COLUMNS})
            for cells in found
            if len(cells) > max(at.values())
        ]

    def search(self, term: str) -> None:
        """Type `term` into Search and wait until the table lists what it found."""
        stale = self.rows.filter(has_not_text=term)
        search(self.page, self.search_box, term, stale)

    def _index_of(self, email: str) -> int | None:
        wanted = email.casefold()
        for index, row in enumerate(self.listed()):
            if row.email.strip().casefold() == wanted:
                return index
        return None

    def _next_page(self) -> bool:
        """Go to the next page of the list; False when this is the last."""
        if not self.next.is_visible() or not self.next.is_enabled():
            return False
        first = self.listed()
        click(self.next)
        try:
            if first:
                self.rows.filter(has_text=first[0].email).first.wait_for(state="detached")
            wait_until_idle(self.page)
        except PlaywrightTimeoutError as error:
            raise PortalError("the Users list did not show its next page in time") from error
        return True

    def find(self, email: str) -> UserRow | None:
        """Search for `email` and return its row (case aside), looking through every page of
        what the search found; None when nobody has it. Leaves the row on screen."""
        self.search(email)
        while True:
            index = self._index_of(email)
            if index is not None:
                return self.listed()[index]
            if not self._next_page():
                return None

    def count(self) -> int:
        """How many users the list holds, every page counted (after `open`: the account's)."""
        total = len(self.listed())
        while self._next_page():
            total += len(self.listed())
        return total

    def row_of(self, email: str) -> Locator:
        """The row of the user with `email`, on the page shown (after `find`)."""
        index = self._index_of(email)
        if index is None:
            raise PortalError(f"{email} is no longer listed on Users")
        return self.rows.nth(index)

    def open_add_user(self) -> None:
        """Press Add User and wait for the Add User form."""
        perform(
            self.page, lambda: click(self.add_user), what="opening Add User", heading="Add User"
        )

    def open_edit(self, email: str) -> None:
        """Press the pencil (Edit) of `email`'s row and wait for the Edit User form."""
        edit = button(self.row_of(email), "Edit").first
        perform(self.page, lambda: click(edit), what="opening Edit User", heading="Edit User")

    def ask_delete(self, email: str) -> None:
        """Press the X (Delete) of `email`'s row; the portal asks in a dialog."""
        click(button(self.row_of(email), "Delete").first)

    def status_text(self) -> str:
        """The status the screen shows after a save ("User added."), or ""."""
        shown = self.status.filter(visible=True)
        found: list[str] = shown.evaluate_all(_TEXTS_JS)
        return " ".join(" ".join(text.split()) for text in found)
