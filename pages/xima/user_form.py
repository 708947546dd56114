"""Add User and Edit User: one form, filled in on Edit User.

Fields (PORTAL.md): textboxes First Name, Last Name, Extension, Email Address; dropdowns
Department, Site, Emergency Address (with Add Address: Street, City, State, ZIP Code, Save
Address), Area Code, Caller ID, Emergency Caller ID; radio buttons User's Scope; checkboxes
Enable Voicemail and Add Phone Extension; password fields New Password, Confirm Password and
Voicemail Pin (blank on Edit User: blank keeps them); buttons Add User or Save, and Cancel.

Each dropdown may be a native `<select>` or an ARIA combobox whose listbox sits anywhere in
the document (`pages.widgets.Dropdown` drives both). Choosing an Area Code loads its free
numbers into the two caller ID lists in the background, so they are set after it.

Values are the domain's (`domain.xima.XimaUser.portal_values` keys): phone numbers as ten
digits, the emergency address as its label, the checkboxes as booleans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from pydantic import SecretStr

from domain.errors import PortalError
from domain.xima import LABELS, SCOPES, EmergencyAddress, FieldValue, phone_digits
from pages.widgets import (
    Dropdown,
    NotOfferedError,
    button,
    click,
    set_checked,
    text_of,
    with_text_of,
)
from pages.xima.answer import perform
from pages.xima.users import USER_ADDED, USER_UPDATED

ADD_HEADING = "Add User"
EDIT_HEADING = "Edit User"
ADDRESS_SAVED = "Address saved."
_TEXTBOXES = ("first_name", "last_name", "extension", "email")
_DROPDOWNS = ("department", "site", "area_code")
_NUMBERS = ("caller_id", "emergency_caller_id")
_CHECKBOXES = ("voicemail", "phone_extension")
# The order a person fills the form in: a caller ID is chosen after its area code.
ORDER = (
    "first_name",
    "last_name",
    "extension",
    "department",
    "site",
    "email",
    "emergency_address",
    "scope",
    "area_code",
    "caller_id",
    "emergency_caller_id",
    "voicemail",
    "phone_extension",
)
# A dropdown's shown text that is no choice: a placeholder, or a list still loading.
_NO_CHOICE = re.compile(r"^(--|select\b|choose\b|please\b|loading\b|no \w+ available)", re.I)

# Each invalid field's accessible name and the error standing beside it (its description).
_FIELD_ERRORS_JS = with_text_of("""
(fields) => { /*TEXT_OF*/
  const byIds = (ids) => (ids || '').split(/\\s+/).map((id) => document.getElementById(id))
    .filter(Boolean).map((e) => textOf(e, false)).join(' ').trim();
  const label = (e) => byIds(e.getAttribute('aria-labelledby')) || e.getAttribute('aria-label')
    || [...(e.labels || [])].map((l) => textOf(l, false)).join(' ').trim()
    || (e.querySelector('legend') ? textOf(e.querySelector('legend'), false) : '');
  return fields.map((e) => [label(e), byIds(e.getAttribute('aria-describedby'))])
    .filter(([, message]) => message);
}
""")


class UserFormPage:
    """The Add User or Edit User form."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.add_heading = page.get_by_role("heading", name=ADD_HEADING, exact=True)
        self.edit_heading = page.get_by_role("heading", name=EDIT_HEADING, exact=True)
        self.textboxes = {
            name: page.get_by_role("textbox", name=LABELS[name], exact=True) for name in _TEXTBOXES
        }
        self.dropdowns = {
            name: Dropdown(page, LABELS[name])
            for name in (*_DROPDOWNS, "emergency_address", *_NUMBERS)
        }
        self.scope = page.get_by_role("radiogroup", name=LABELS["scope"], exact=True)
        self.checkboxes = {
            name: page.get_by_role("checkbox", name=LABELS[name], exact=True)
            for name in _CHECKBOXES
        }
        # Password fields have no ARIA role: found by label.
        self.voicemail_pin = page.get_by_label("Voicemail Pin", exact=True)
        self.add_address_button = button(page, "Add Address").first
        self.address_fields = {
            part: page.get_by_role("textbox", name=label, exact=True)
            for part, label in (
                ("street", "Street"),
                ("city", "City"),
                ("state", "State"),
                ("zip_code", "ZIP Code"),
            )
        }
        self.save_address_button = button(page, "Save Address").first
        self.add_button = page.get_by_role("button", name=ADD_HEADING, exact=True).first
        self.save_button = page.get_by_role("button", name="Save", exact=True).first
        self.cancel_button = button(page, "Cancel").first
        self.alert = page.get_by_role("alert")

    def is_adding(self) -> bool:
        """Whether this is Add User (else Edit User)."""
        return self.add_heading.is_visible()

    # ---------- reading ----------

    def _choice(self, name: str) -> str:
        shown = self.dropdowns[name].value()
        return "" if _NO_CHOICE.match(shown) else shown

    def _scope(self) -> str:
        for scope in SCOPES:
            if self.scope.get_by_role("radio", name=scope, exact=True).is_checked():
                return scope
        return ""

    def read(self) -> dict[str, FieldValue]:
        """The values the form shows now (what Edit User holds for the user).

        The passwords and the Voicemail Pin are not read: the portal shows them blank.
        """
        self.edit_heading.or_(self.add_heading).first.wait_for()
        values: dict[str, FieldValue] = {
            name: box.input_value().strip() for name, box in self.textboxes.items()
        }
        for name in (*_DROPDOWNS, "emergency_address"):
            values[name] = self._choice(name)
        for name in _NUMBERS:
            values[name] = phone_digits(self._choice(name))
        values["scope"] = self._scope()
        for name, box in self.checkboxes.items():
            values[name] = box.is_checked()
        return values

    def addresses(self) -> list[str]:
        """The account's emergency addresses the dropdown offers."""
        return self.dropdowns["emergency_address"].offered()

    def numbers(self, name: str = "caller_id") -> list[str]:
        """The numbers a caller ID list offers now (ten digits each), in the portal's order:
        the free numbers of the chosen area code (and on Edit User the user's own)."""
        offered = self.dropdowns[name].offered()
        return [d for d in (phone_digits(text) for text in offered) if len(d) == 10]

    def field_errors(self) -> dict[str, str]:
        """The errors standing beside fields: field label -> message."""
        invalid = self.page.get_by_role("textbox").or_(self.page.get_by_role("combobox"))
        invalid = invalid.or_(self.page.get_by_role("radiogroup")).or_(
            self.page.get_by_label(re.compile(r"Password|Voicemail Pin"))
        )
        found: list[list[str]] = invalid.evaluate_all(_FIELD_ERRORS_JS)
        return {" ".join(label.split()): " ".join(message.split()) for label, message in found}

    def alert_text(self) -> str:
        """The alert the form shows (every refused field's message), or ""."""
        shown = self.alert.filter(visible=True)
        return " ".join(text_of(shown.nth(i)) for i in range(shown.count()))

    # ---------- filling ----------

    def add_address(self, address: EmergencyAddress) -> None:
        """Add Address: type its parts and Save Address; the portal selects it.

        Raises BusinessError with the portal's words when it refuses the address.
        """
        if self.add_address_button.get_attribute("aria-expanded") != "true":
            click(self.add_address_button)
        self.address_fields["street"].wait_for()
        for part, box in self.address_fields.items():
            box.fill(getattr(address, part))
        perform(
            self.page,
            lambda: click(self.save_address_button),
            what="saving the emergency address",
            status=ADDRESS_SAVED,
        )

    def has_address(self, address: EmergencyAddress) -> str | None:
        """The label under which the account lists `address` (case and spacing aside)."""
        return next((label for label in self.addresses() if address.matches(label)), None)

    def choose_address(self, address: EmergencyAddress) -> None:
        """Choose `address` in Emergency Address; NotOfferedError when the account lacks it."""
        offered = self.addresses()
        label = next((text for text in offered if address.matches(text)), None)
        if label is None:
            raise NotOfferedError.of(LABELS["emergency_address"], address.label, offered)
        self.dropdowns["emergency_address"].choose(label)

    def choose_number(self, name: str, number: str) -> None:
        """Choose `number` (ten digits) in the caller ID list `name`."""
        offered = self.dropdowns[name].offered()
        label = next((text for text in offered if phone_digits(text) == number), None)
        if label is None:
            raise NotOfferedError.of(LABELS[name], number, offered)
        self.dropdowns[name].choose(label)

    def first_free_number(self, pick: Callable[[Sequence[str]], str] | None = None) -> str:
        """The first number Caller ID offers (or the one `pick` takes of them).

        Raises BusinessError when the area code has no number left.
        """
        numbers = self.numbers("caller_id")
        if not numbers:
            raise NotOfferedError.of(LABELS["caller_id"], "a free number", [])
        return pick(numbers) if pick else numbers[0]

    def set_values(self, values: Mapping[str, FieldValue]) -> None:
        """Set the given fields (keys of `ORDER`) in the form's order; others are untouched.

        The emergency address must be one the account has (`add_address` first); caller IDs
        are ten digits, and are set after the area code whose numbers they wait for.
        """
        unknown = set(values) - set(ORDER)
        if unknown:
            raise ValueError(f"no such fields on the user form: {sorted(unknown)}")
        for name in ORDER:
            if name not in values:
                continue
            value = values[name]
            if name in _TEXTBOXES:
                self.textboxes[name].fill(str(value))
            elif name in _DROPDOWNS:
                self.dropdowns[name].choose(str(value))
            elif name == "emergency_address":
                self.choose_address(EmergencyAddress.parse(str(value)))
            elif name in _NUMBERS:
                self.choose_number(name, str(value))
            elif name == "scope":
                set_checked(self.scope.get_by_role("radio", name=str(value), exact=True), True)
            else:
                set_checked(self.checkboxes[name], bool(value))

    def set_voicemail_pin(self, pin: SecretStr) -> None:
        """Type the Voicemail Pin. A failure says so without the value."""
        try:
            self.voicemail_pin.fill(pin.get_secret_value())
        except PlaywrightError:
            # `from None`: Playwright's message could quote the call and its value.
            raise PortalError("the Voicemail Pin field could not be filled in") from None

    def submit(self) -> str:
        """Press Add User (or Save on Edit User) and wait for the portal's answer on Users.

        Returns the status ("User added." / "User updated."). Raises BusinessError with the
        portal's words when it refuses the form, PortalError or SessionExpiredError when
        the answer is transient or ambiguous.
        """
        adding = self.is_adding()
        target: Locator = self.add_button if adding else self.save_button
        return perform(
            self.page,
            lambda: click(target),
            what="adding the user" if adding else "saving the user",
            status=USER_ADDED if adding else USER_UPDATED,
        )
