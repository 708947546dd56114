"""Users Overview: the users table, its server-side search and its pages of 10."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page

from pages.feedback import open_screen
from pages.widgets import click, search, search_box, wait_until_idle
from robots.errors import PortalError

HEADING = "Users Overview"
COLUMNS = ("Name", "Username", "Email", "Extension", "Phone Number", "Location")

# Every data row's cell texts in column order; the name column may be a row header.
_ROWS_JS = """
(rows) => rows.map((row) => {
  const cells = row.cells ? [...row.cells] : [...row.querySelectorAll(
      '[role=cell], [role=gridcell], [role=rowheader]')];
  return cells.map((cell) => cell.innerText.replace(/\\s+/g, ' ').trim());
})
"""


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
            .filter(has=page.get_by_role("columnheader", name=re.compile(r"^\s*Username")))
            .first
        )
        # Data rows are those with a name link; header and "no results" rows have none.
        self.rows = self.table.get_by_role("row").filter(has=page.get_by_role("link"))
        self.next = page.get_by_role("button", name="Next", exact=True)
        self.previous = page.get_by_role("button", name="Previous", exact=True)

    def is_shown(self) -> bool:
        """Whether Users Overview is on screen."""
        return self.heading.is_visible()

    def _column_indexes(self) -> dict[str, int]:
        self.table.wait_for(state="visible")
        headers = [
            re.sub(r"[^\w ]", "", text).strip()
            for text in self.table.get_by_role("columnheader").all_inner_texts()
        ]
        missing = [name for name in COLUMNS if name not in headers]
        if missing:
            raise PortalError(f"the Users table has no column {', '.join(missing)}")
        return {name: headers.index(name) for name in COLUMNS}

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
            gone = self.table.get_by_role("cell", name=current[0].username, exact=True)
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

    def _row_of(self, username: str) -> Locator:
        return self.rows.filter(has=self.page.get_by_role("cell", name=username, exact=True))

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
