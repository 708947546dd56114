"""Licensing: the licences table with seats used of total and an Assign button per row."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from pages.feedback import reach
from pages.widgets import button, click, search_box, text_of, with_text_of

# A licence row's name: the text of its first cell (PORTAL.md: "name, seats used of total,
# and a button Assign on each row").
_FIRST_CELL_JS = with_text_of("""
(rows) => { /*TEXT_OF*/
  return rows.map((row) => {
    const cells = row.cells ? [...row.cells] : [...row.querySelectorAll(
        '[role=cell], [role=gridcell], [role=rowheader]')];
    return cells.length ? textOf(cells[0], false) : '';
  });
}
""")


class LicensingPage:
    """The Licensing screen of My Account."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.rows = page.get_by_role("row")

    def assignable(self) -> Locator:
        """The rows with an Assign button: one per licence."""
        return self.rows.filter(has=button(self.page, "Assign"))

    def licenses(self) -> list[str]:
        """The names of the licences listed."""
        self.assignable().first.wait_for()
        names: list[str] = self.assignable().evaluate_all(_FIRST_CELL_JS)
        return [name for name in names if name]

    def row(self, license_name: str) -> Locator:
        """The table row of `license_name`."""
        return self.rows.filter(has=self.page.get_by_text(license_name, exact=True)).first

    def seats(self, license_name: str) -> tuple[int, int] | None:
        """(used, total) seats of `license_name`, or None when the row shows no such count."""
        text = text_of(self.row(license_name))
        match = re.search(r"(\d+)\s*(?:of|/)\s*(\d+)", text)
        return (int(match.group(1)), int(match.group(2))) if match else None

    def open_assign(self, license_name: str) -> None:
        """Assign on the licence's row: opens the Assign screen."""
        assign = button(self.row(license_name), "Assign")
        search = search_box(self.page, "Search")
        reach(self.page, lambda: click(assign.first), search, what="opening Assign")
