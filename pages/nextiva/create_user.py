"""Create User: the form that brings a new user into the portal (first Save & Continue)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import BusinessError, PortalError
from domain.nextiva import NewHire, digits
from pages.feedback import perform
from pages.nextiva.e911_address import HEADING as E911_HEADING
from pages.widgets import Dropdown, button, click, set_checked

HEADING = "Create User"
WELCOME_EMAIL = "Send a Welcome email with login credentials to the user"
# A phone number however the portal writes it: (602) 555-0143, 602-555-0143, 6025550143.
PHONE_OPTION = re.compile(r"\d{3}\D{0,3}\d{3}\D{0,2}\d{4}")


def _first(numbers: Sequence[str]) -> str:
    return numbers[0]


@dataclass(frozen=True)
class CreatedUser:
    """What the form was saved with, beyond the hire's own fields."""

    phone_number: str
    extension: str


class CreateUserPage:
    """The Create User form."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name=HEADING, exact=True)
        self.first_name = page.get_by_role("textbox", name="First Name", exact=True)
        self.last_name = page.get_by_role("textbox", name="Last Name", exact=True)
        self.username = page.get_by_role("textbox", name="Username", exact=True)
        self.email = page.get_by_role("textbox", name="Email", exact=True)
        self.extension = page.get_by_role("textbox", name="Extension", exact=True)
        self.voicemail_to_email = page.get_by_role(
            "checkbox", name="Enable Voicemail to Email", exact=True
        )
        self.welcome_email = page.get_by_role("checkbox", name=WELCOME_EMAIL, exact=True)
        self.location = Dropdown(page, "Location")
        self.phone_number = Dropdown(page, "Phone Number")
        self.package = Dropdown(page, "Package")
        self.save_and_continue_button = button(page, "Save & Continue").first
        self.authorized_user = page.get_by_role("checkbox", name="Authorized User", exact=True)
        # Found by label within the form's screen: a PIN field may be a password field,
        # which has no ARIA role, and the chat panel beside it has a PIN field of its own.
        self.pin = page.get_by_role("main").get_by_label("PIN", exact=True)

    def is_shown(self) -> bool:
        """Whether the Create User form is on screen."""
        return self.heading.is_visible()

    def free_numbers(self) -> list[str]:
        """The free numbers of the chosen location, once the portal has loaded them."""
        try:
            offered = self.phone_number.options(PHONE_OPTION)
        except PlaywrightTimeoutError as error:
            offered = self.phone_number.options()
            if any(text.strip() for text in offered) and self.phone_number.control.is_enabled():
                raise BusinessError(
                    "No free phone number at this location: " + "; ".join(offered)
                ) from error
            raise PortalError("the location's phone numbers did not load") from error
        return [text for text in offered if len(digits(text)) == 10]

    def fill(self, hire: NewHire, pick: Callable[[Sequence[str]], str] = _first) -> CreatedUser:
        """Fill the form for `hire`; returns the number and extension it will be saved with.

        A hire without a number of their own gets the free number `pick` chooses among
        those offered (the first, unless told otherwise). Raises BusinessError when the
        hire's number is not free at their location.
        """
        # Choosing the location sets the time zone and loads its free numbers, which takes
        # a while: the other fields are filled meanwhile.
        self.location.choose(hire.location)
        self.first_name.fill(hire.first_name)
        self.last_name.fill(hire.last_name)
        self.username.fill(hire.username)
        self.email.fill(hire.email)
        set_checked(self.voicemail_to_email, hire.voicemail_to_email)
        numbers = self.free_numbers()
        if hire.phone_number:
            wanted = [text for text in numbers if digits(text) == hire.phone_number]
            if not wanted:
                raise BusinessError(
                    f"Phone number {hire.phone_number} is not free at {hire.location}."
                )
            number = wanted[0]
        elif numbers:
            number = pick(numbers)
        else:
            raise BusinessError(f"No free phone number at {hire.location}.")
        self.phone_number.choose(number)
        # The number fills Extension with its last four digits; wait for that, so the
        # hire's own extension (if any) is typed after it and not overwritten by it.
        self.page.wait_for_function(
            "(e) => e.value.trim() !== ''", arg=self.extension.element_handle()
        )
        if hire.extension:
            self.extension.fill(hire.extension)
        self.package.choose(hire.package)
        set_checked(self.welcome_email, hire.welcome_email)
        return CreatedUser(phone_number=digits(number), extension=self.extension.input_value())

    def set_authorized(self, pin: str | None) -> None:
        """Tick Authorized User and type `pin` into the PIN field it reveals; None clears
        the box. The PIN is typed into the portal and nowhere else: never logged."""
        if pin is None:
            set_checked(self.authorized_user, False)
            return
        set_checked(self.authorized_user, True)
        self.pin.wait_for(state="visible")
        self.pin.fill(pin)

    def save_and_continue(self) -> None:
        """Save & Continue: creates the user and opens the E911 Address screen.

        Raises BusinessError with the portal's words when it refuses the form.
        """
        perform(
            self.page,
            lambda: click(self.save_and_continue_button),
            what="saving Create User",
            heading=E911_HEADING,
        )
