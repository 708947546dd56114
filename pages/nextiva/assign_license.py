"""Assign: search users and tick the checkbox of each user who should hold the licence."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from pages.feedback import perform
from pages.widgets import button, click, search, search_box, set_checked


class AssignLicensePage:
    """The Assign screen of one licence."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.search_box = search_box(page, "Search")
        self.save_button = button(page, "Save").first

    def checkbox(self, username: str) -> Locator:
        """The checkbox labelled "<Name> (<username>)"."""
        label = re.compile(rf"\({re.escape(username)}\)$")
        return self.page.get_by_role("checkbox", name=label)

    def search(self, term: str) -> None:
        """Search users; returns once only users matching `term` are listed."""
        # A user's checkbox label ends with "(username)"; one not mentioning the term is
        # left over from before the search.
        stale = self.page.get_by_role(
            "checkbox", name=re.compile(rf"^(?!.*{re.escape(term)}).*\(.*\)$", re.IGNORECASE)
        )
        search(self.page, self.search_box, term, stale)

    def holds_license(self, username: str) -> bool | None:
        """Whether `username` holds the licence; None when the search does not list them."""
        box = self.checkbox(username)
        if box.count() == 0:
            return None
        return box.first.is_checked()

    def tick(self, username: str) -> None:
        """Tick `username`'s checkbox (Save is separate)."""
        set_checked(self.checkbox(username).first, True)

    def save(self) -> None:
        """Save the assignment. Raises BusinessError when no seat is left."""
        perform(
            self.page,
            lambda: click(self.save_button),
            what="saving the licence assignment",
            saved=True,
        )

    def assign(self, username: str) -> None:
        """Tick `username` and Save."""
        self.tick(username)
        self.save()
