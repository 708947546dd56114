"""Users Overview: the users table, its server-side search and its pages of 10."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page

from domain.errors import PortalError
from pages.feedback import open_screen
from pages.widgets import (
    button,
    click,
    same_name,
    search,
    search_box,
    wait_until_idle,
    with_text_of,
)

HEADING = "Users Overview"
COLUMNS = ("Name", "Username", "Email", "Extension", "Phone Number", "Location")

# Every data row's cell texts in column order, as the page's text gives them; the name
# column may be a row header. A table may be a <table> or elements with ARIA roles.
_ROWS_JS = with_text_of("""
(rows) => { /*TEXT_OF*/
  return rows.map((row) => {
    const cells = row.cells ? [...row.cells] : [...row.querySelectorAll(
        '[role=cell], [role=gridcell], [role=rowheader]')];
    return cells.map((cell) => textOf(cell, false));
  });
}
""")
_HEADERS_JS = with_text_of("""
(headers) => { /*TEXT_OF*/ return headers.map((header) => textOf(header, false)); }
""")


@dataclass(frozen=True)
class UserRow:
    """One user as the Users table lists them."""

    name: str
    username: str
    email: str
    extension: str
    phone_number: str
    location: str


class UsersOverviewPage:
    """The Users Overview screen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        self.add_users = (
            page.get_by_role("link", name="Add Users", exact=True)
            .or_(page.get_by_role("button", name="Add Users", exact=True))
            .filter(visible=True)
            .first
        )
        self.search_box = search_box(page, "Search users")
        self.table = (
            page.get_by_role("table")
            .or_(page.get_by_role("grid"))
            .or_(page.get_by_role("treegrid"))
            .filter(has=page.get_by_role("columnheader", name=re.compile(r"^\W*Username\b")))
            .first
        )
        # Data rows are those with a name link; header and "no results" rows have none.
        self.rows = self.table.get_by_role("row").filter(has=page.get_by_role("link"))
        self.next = button(page, "Next").first
        self.previous = button(page, "Previous").first

    def is_shown(self) -> bool:
        """Whether Users Overview is on screen."""
        return self.heading.is_visible()

    def _column_indexes(self) -> dict[str, int]:
        self.table.wait_for(state="visible")
        # A header may carry a sort arrow or icon beside its name.
        headers = [
            re.sub(r"^\W+|\W+$", "", text)
            for text in self.table.get_by_role("columnheader").evaluate_all(_HEADERS_JS)
        ]
        indexes = {}
        for name in COLUMNS:
            found = [i for i, header in enumerate(headers) if same_name(header, name)]
            if found:
                indexes[name] = found[0]
        missing = [name for name in COLUMNS if name not in indexes]
        if missing:
            raise PortalError(
                f"the Users table has no column {', '.join(missing)} "
                f"(its headers: {', '.join(headers) or 'none'})"
            )
        return indexes

    def listed(self) -> list[UserRow]:
        """The users listed on the current page of the table."""
        wait_until_idle(self.page)
        columns = self._column_indexes()
        users = []
        for cells in self.rows.evaluate_all(_ROWS_JS):
            if len(cells) < len(columns):
                continue
            users.append(UserRow(**{_field(name): cells[i] for name, i in columns.items()}))
        return users

    def search(self, term: str) -> None:
        """Search users; returns once the table shows the portal's results for `term`."""
        search(self.page, self.search_box, term, self.rows.filter(has_not_text=term))

    def has_next_page(self) -> bool:
        """Whether a Next page of results exists."""
        if not self.next.is_visible():
            return False
        return self.next.is_enabled() and self.next.get_attribute("aria-disabled") != "true"

    def next_page(self) -> None:
        """Show the next page of results."""
        current = self.listed()
        click(self.next)
        if current:
            # Usernames are unique, so the page has turned once the first one is gone.
            gone = self._cell(current[0].username)
            gone.first.wait_for(state="detached")
        wait_until_idle(self.page)

    def find(self, username: str, term: str | None = None) -> UserRow | None:
        """Search (for `term`, by default the username) and return the row whose Username is
        exactly `username`, paging through the results as needed."""
        self.search(term or username)
        while True:
            for user in self.listed():
                if user.username == username:
                    return user
            if not self.has_next_page():
                return None
            self.next_page()

    def _cell(self, text: str) -> Locator:
        """A cell of the table (a table cell or a grid cell) whose name is `text`."""
        return self.table.get_by_role("cell", name=text, exact=True).or_(
            self.table.get_by_role("gridcell", name=text, exact=True)
        )

    def _row_of(self, username: str) -> Locator:
        cell = self.page.get_by_role("cell", name=username, exact=True).or_(
            self.page.get_by_role("gridcell", name=username, exact=True)
        )
        return self.rows.filter(has=cell)

    def lists(self, username: str) -> bool:
        """Whether the table lists `username` now (no wait)."""
        return self._row_of(username).count() > 0

    def open_user(self, user: UserRow, heading: str | None = None) -> None:
        """Open the user's page from their name link; its heading is `heading` or the name."""
        link = self._row_of(user.username).first.get_by_role("link").first
        open_screen(
            self.page, lambda: click(link), heading or user.name, what=f"opening {user.name}"
        )

    def open_add_users(self) -> None:
        """Add Users: opens Create User."""
        open_screen(
            self.page, lambda: click(self.add_users), "Create User", what="opening Add Users"
        )


def _field(column: str) -> str:
    return column.lower().replace(" ", "_")
