"""The dialog Delete asks in: "Delete <first> <last>?" with buttons Delete and Cancel."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from pages.widgets import button, click, text_of
from pages.xima.answer import perform
from pages.xima.users import USER_DELETED

# Matched by the browser too: JavaScript has no `(?P<...>)`, so the name is group 1.
_NAMED = re.compile(r"^\s*Delete\s+(.+?)\s*\?\s*$")


class DeleteDialog:
    """The delete confirmation, named "Delete <first> <last>?"."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialog = (
            page.get_by_role("dialog", name=_NAMED)
            .or_(page.get_by_role("alertdialog", name=_NAMED))
            .filter(visible=True)
            .first
        )
        self.heading = self.dialog.get_by_role("heading").first
        self.delete = button(self.dialog, "Delete").first
        self.cancel_button = button(self.dialog, "Cancel").first

    def names(self) -> str:
        """Whom the dialog asks about: "Nora Quinn" of "Delete Nora Quinn?"."""
        self.dialog.wait_for()
        asked = _NAMED.match(text_of(self.heading))
        return " ".join(asked[1].split()) if asked else ""

    def confirm(self) -> str:
        """Press Delete and wait for the portal's answer; returns its status text."""
        return perform(self.page, lambda: click(self.delete), what="deleting", status=USER_DELETED)

    def cancel(self) -> None:
        """Press Cancel; the dialog closes and nothing is deleted."""
        click(self.cancel_button)
        self.dialog.wait_for(state="hidden")
