"""The "Chat With an Expert" bubble at the bottom right of every page, and its chat panel.

`ChatBubble` keeps the bubble's greeting card out of the way. `ExpertChat` drives the
panel (a `dialog` named Chat With an Expert) as PORTAL.md describes it: Start Chat, Email
and PIN with Continue, one topic button at a time, then a conversation that is a `log`
(each message a line of text) with a Message box and Send, End Chat (confirmed in "End
this chat?") and Minimize chat. It reads and types; what the lines mean is the flow's
business.
"""

from __future__ import annotations

from playwright.sync_api import ElementHandle, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import BusinessError, PortalError
from pages.widgets import button, click, text_of, with_text_of

DIALOG = "Chat With an Expert"
END_CONFIRM = "End this chat?"

# The conversation's lines (one per block, as a person reads them), from the dialog's log.
_LOG_LINES = """
  const log = dialog.querySelector('[role=log]');
  const lines = log ? textOf(log, true).split('\\n').map((l) => l.trim()).filter(Boolean) : [];
"""
_MORE_LINES_JS = with_text_of(
    "({dialog, seen}) => { /*TEXT_OF*/" + _LOG_LINES + "return lines.length > seen; }"
)
_LINES_JS = with_text_of("(dialog) => { /*TEXT_OF*/" + _LOG_LINES + "return lines; }")


class ChatBubble:
    """The chat bubble: its greeting card is dismissed whenever it pops up."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.button = page.get_by_role("button", name=DIALOG, exact=True)
        self.dismiss_greeting = page.get_by_role("button", name="Dismiss message", exact=True)
        self.minimize = page.get_by_role("button", name="Minimize chat", exact=True)

    def watch_greeting(self) -> None:
        """Dismiss the greeting card whenever it shows before an action.

        Replaces the handler put in place before, if any: a page is prepared at each sign-in.
        """
        self.page.remove_locator_handler(self.dismiss_greeting)
        self.page.add_locator_handler(self.dismiss_greeting, lambda button: button.click())

    def close_panel(self) -> None:
        """Minimize the chat panel if it is open."""
        if self.minimize.is_visible():
            self.minimize.click()
            self.minimize.wait_for(state="hidden")


class ExpertChat:
    """The Chat With an Expert panel and its conversation."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.bubble = ChatBubble(page)
        self.dialog = page.get_by_role("dialog", name=DIALOG, exact=True)
        self.start_button = button(self.dialog, "Start Chat").first
        self.email = self.dialog.get_by_role("textbox", name="Email", exact=True)
        # Found by label: a PIN field may be a password field, which has no ARIA role.
        self.pin = self.dialog.get_by_label("PIN", exact=True)
        self.continue_button = button(self.dialog, "Continue").first
        self.log = self.dialog.get_by_role("log")
        self.message = self.dialog.get_by_role("textbox", name="Message", exact=True)
        self.send_button = button(self.dialog, "Send").first
        self.confirm = page.get_by_role("alertdialog", name=END_CONFIRM, exact=True)
        # The panel's own End Chat comes before the one its confirmation shows.
        self.end_button = button(self.dialog, "End Chat").first
        self.alert = self.dialog.get_by_role("alert")

    def open(self) -> None:
        """Open the panel from the bubble unless it is open already."""
        if not self.dialog.is_visible():
            click(self.bubble.button)
        self.dialog.wait_for(state="visible")

    def in_conversation(self) -> bool:
        """Whether a chat is going on in the panel (one that can be ended)."""
        return self.end_button.is_visible()

    def start(self) -> None:
        """Start Chat: the panel asks for Email and PIN."""
        click(self.start_button)
        self.email.wait_for(state="visible")

    def identify(self, email: str, pin: str) -> None:
        """Type the admin's email and the account's PIN, and Continue.

        Raises BusinessError with the portal's words ("We could not verify that PIN.").
        The PIN is typed into the portal and nowhere else: never logged.
        """
        self.email.fill(email)
        self.pin.fill(pin)
        # Taken before: once hidden, the field is out of the accessibility tree.
        field = self.email.element_handle()
        click(self.continue_button)
        # Identified, the panel moves on and the Email field goes; refused, an alert shows.
        self._moved_on(field, "identifying in Chat With an Expert")

    def choose(self, topic: str) -> None:
        """Press the topic button named `topic` and wait for the panel to move on."""
        choice = button(self.dialog, topic).first
        pressed = choice.element_handle()
        click(choice)
        self._moved_on(pressed, f"choosing {topic!r} in Chat With an Expert")

    def _moved_on(self, target: ElementHandle, what: str) -> None:
        """Wait until `target` has gone from the panel or an alert shows; raise the alert."""
        try:
            self.page.wait_for_function(
                "([target, dialog]) => !target.isConnected || !target.checkVisibility()"
                " || [...dialog.querySelectorAll('[role=alert]')].some((a) => a.checkVisibility()"
                " && a.textContent.trim() !== '')",
                arg=[target, self.dialog.element_handle()],
            )
        except PlaywrightTimeoutError as error:
            raise PortalError(f"{what}: the chat did not answer") from error
        if self.alert.first.is_visible():
            raise BusinessError(f"{what}: {text_of(self.alert.first)}")

    def lines(self) -> list[str]:
        """The conversation so far, one line per message, as the page gives its text."""
        found: list[str] = self.dialog.evaluate(_LINES_JS)
        return found

    def wait_for_more_lines(self, seen: int, timeout_ms: float) -> bool:
        """Wait up to `timeout_ms` for the conversation to have more than `seen` lines.

        Returns whether it has; a bounded wait on the page's state, never a sleep.
        """
        try:
            self.page.wait_for_function(
                _MORE_LINES_JS,
                arg={"dialog": self.dialog.element_handle(), "seen": seen},
                timeout=timeout_ms,
            )
        except PlaywrightTimeoutError:
            return False
        return True

    def send(self, text: str) -> None:
        """Type `text` into Message and Send it; raises BusinessError when refused."""
        self.message.fill(text)
        box = self.message.element_handle()
        click(self.send_button)
        try:
            self.page.wait_for_function(
                "([box, dialog]) => !box.isConnected || box.value === ''"
                " || !!dialog.querySelector('[role=alert]')",
                arg=[box, self.dialog.element_handle()],
            )
        except PlaywrightTimeoutError as error:
            raise PortalError("Chat With an Expert did not take the message") from error
        if self.alert.first.is_visible():
            raise BusinessError(f"sending in the chat: {text_of(self.alert.first)}")

    def end(self) -> None:
        """End Chat, confirmed in "End this chat?"; nothing when no chat is going on."""
        if not self.end_button.is_visible():
            return
        click(self.end_button)
        self.confirm.wait_for(state="visible")
        click(button(self.confirm, "End Chat").first)
        self.confirm.wait_for(state="hidden")
        self.end_button.wait_for(state="hidden")

    def minimize(self) -> None:
        """Minimize chat: the panel hides, the conversation goes on."""
        self.bubble.close_panel()
