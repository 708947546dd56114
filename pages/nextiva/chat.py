"""The "Chat With an Expert" bubble at the bottom right of every page, and its greeting."""

from __future__ import annotations

from playwright.sync_api import Page


class ChatBubble:
    """The chat bubble: its greeting card is dismissed whenever it pops up."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.button = page.get_by_role("button", name="Chat With an Expert", exact=True)
        self.dismiss_greeting = page.get_by_role("button", name="Dismiss message", exact=True)
        self.minimize = page.get_by_role("button", name="Minimize chat", exact=True)

    def watch_greeting(self) -> None:
        """Dismiss the greeting card whenever it shows before an action."""
        self.page.add_locator_handler(self.dismiss_greeting, lambda button: button.click())

    def close_panel(self) -> None:
        """Minimize the chat panel if it is open."""
        if self.minimize.is_visible():
            self.minimize.click()
            self.minimize.wait_for(state="hidden")
