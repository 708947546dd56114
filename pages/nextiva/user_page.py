"""The user's page: collapsed sections Profile, Device, Voicemail and Security Information.

Each section opens with a button of its name; an open section is a `region` of the same
name with its own Save.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Locator, Page

from pages.feedback import open_screen, perform
from pages.nextiva.e911_address import HEADING as E911_HEADING
from pages.widgets import (
    Dropdown,
    button,
    click,
    labelled_value,
    named,
    set_checked,
    text_lines,
    text_of,
)

PIN_IS_SET = "A PIN is set."


class _Section:
    """A collapsible section of the user's page."""

    name = ""

    def __init__(self, page: Page) -> None:
        self.page = page
        # A section's button and region may carry an expand/collapse arrow in their name.
        self.toggle = page.get_by_role("button", name=named(self.name)).first
        self.region = page.get_by_role("region", name=named(self.name))
        self.save_button = button(self.region, "Save").first

    def open(self) -> None:
        """Expand the section unless it is open already."""
        if self.region.is_visible():
            return
        click(self.toggle)
        self.region.wait_for(state="visible")

    def _save(self) -> None:
        perform(
            self.page,
            lambda: click(self.save_button),
            what=f"saving the {self.name} section",
            saved=True,
        )


class ProfileSection(_Section):
    """Profile: the user's fields as text, and the E911 status."""

    name = "Profile"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.confirm_e911_button = button(self.region, "Confirm E911 Address")

    def value(self, label: str) -> str | None:
        """The value shown next to `label` (None when the profile shows no such field)."""
        self.open()
        return labelled_value(text_lines(self.region), label)

    def e911_confirmed(self) -> bool:
        """Whether the profile says E911 Status: Confirmed."""
        status = self.value("E911 Status")
        if status is None:
            return not self.confirm_e911_button.first.is_visible()
        return status.casefold().startswith("confirmed")

    def call_recording(self) -> bool | None:
        """Whether the profile says Call Recording On (None: it shows no Call Recording)."""
        shown = self.value("Call Recording")
        if shown is None:
            return None
        return shown.casefold().startswith("on")

    def open_e911_confirmation(self) -> None:
        """Confirm E911 Address: opens the E911 Address screen."""
        self.open()
        open_screen(
            self.page,
            lambda: click(self.confirm_e911_button.first),
            E911_HEADING,
            what="opening Confirm E911 Address",
        )


class DeviceSection(_Section):
    """Device: Available Devices, authentication name and password."""

    name = "Device"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.available_devices = Dropdown(self.region, "Available Devices")
        self.authentication_name = self.region.get_by_role(
            "textbox", name="Authentication Name", exact=True
        )
        # Found by label: a password field has no ARIA role.
        self.authentication_password = self.region.get_by_label(
            "Authentication Password", exact=True
        )
        self.generate = button(self.region, "Generate").first

    def device(self) -> str:
        """The device the Available Devices dropdown shows."""
        self.open()
        return self.available_devices.value()

    def available_devices_offered(self) -> list[str]:
        """The devices Available Devices offers (nothing chosen)."""
        self.open()
        return self.available_devices.offered()

    def fill(self, device: str, authentication_name: str) -> str:
        """Choose `device` and Generate its password (Save is separate, so evidence can be
        taken of the filled section first).

        Returns the generated password, for one use only: telling the evidence recorder what
        to scrub from traces. Nobody else needs it; never log or show it.
        """
        self.open()
        self.available_devices.choose(device)
        if not self.authentication_name.input_value().strip():
            self.authentication_name.fill(authentication_name)
        click(self.generate)
        self.page.wait_for_function(
            "(e) => e.value !== ''", arg=self.authentication_password.element_handle()
        )
        return self.authentication_password.input_value()

    def save(self) -> None:
        """Save the Device section; raises BusinessError/PortalError on a refusal/failure."""
        self._save()

    def set_up(self, device: str, authentication_name: str) -> None:
        """Choose `device`, generate a password, and Save."""
        self.fill(device, authentication_name)
        self.save()


@dataclass(frozen=True)
class VoicemailSettings:
    """The voicemail settings the editor shows."""

    email: str
    send_attachment: bool


class VoicemailSection(_Section):
    """Voicemail: the pencil editor with Email Address and Send Attachment Of Message."""

    name = "Voicemail"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        # A pencil drawn by CSS or an icon may stand beside the name.
        self.edit = button(self.region, named("Edit Voicemail")).first
        self.email = self.region.get_by_role("textbox", name="Email Address", exact=True)
        self.send_attachment = self.region.get_by_role(
            "checkbox", name="Send Attachment Of Message", exact=True
        )

    def open_editor(self) -> None:
        """Open the section and its pencil editor."""
        self.open()
        if not self.email.is_visible():
            click(self.edit)
            self.email.wait_for(state="visible")

    def settings(self) -> VoicemailSettings:
        """The current settings, read from the editor (opened, nothing saved)."""
        self.open_editor()
        return VoicemailSettings(
            email=self.email.input_value().strip(),
            send_attachment=self.send_attachment.is_checked(),
        )

    def fill(self, settings: VoicemailSettings) -> None:
        """Set the editor's fields to `settings` (Save is separate)."""
        self.open_editor()
        self.email.fill(settings.email)
        set_checked(self.send_attachment, settings.send_attachment)

    def save(self) -> None:
        """Save the Voicemail section; raises BusinessError/PortalError on a refusal/failure."""
        self._save()

    def change(self, settings: VoicemailSettings) -> None:
        """Set the editor's fields to `settings` and Save."""
        self.fill(settings)
        self.save()


@dataclass(frozen=True)
class SecurityState:
    """What Security Information shows: Authorized User, and whether "A PIN is set."."""

    authorized: bool
    pin_set: bool


class SecuritySection(_Section):
    """Security Information: Authorized User and the Security PIN.

    A saved PIN is never shown again: the section says "A PIN is set." instead, and a blank
    Security PIN on Save keeps it.
    """

    name = "Security Information"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.authorized_user = self.region.get_by_role(
            "checkbox", name="Authorized User", exact=True
        )
        # Found by label: a PIN field may be a password field, which has no ARIA role.
        self.security_pin = self.region.get_by_label("Security PIN", exact=True)

    def is_authorized(self) -> bool:
        """Whether the user is an authorized user."""
        self.open()
        return self.authorized_user.is_checked()

    def state(self) -> SecurityState:
        """Authorized User as ticked, and whether the section says a PIN is set."""
        self.open()
        return SecurityState(
            authorized=self.authorized_user.is_checked(),
            pin_set=PIN_IS_SET.casefold() in text_of(self.region).casefold(),
        )

    def fill_authorized(self, pin: str) -> None:
        """Tick Authorized User and type `pin` (Save is separate). The PIN is never logged."""
        self.open()
        set_checked(self.authorized_user, True)
        self.security_pin.fill(pin)

    def fill_not_authorized(self) -> None:
        """Clear Authorized User (Save is separate); saving it removes the PIN."""
        self.open()
        set_checked(self.authorized_user, False)

    def save(self) -> None:
        """Save the section; raises BusinessError/PortalError on a refusal/failure."""
        self._save()

    def authorize(self, pin: str) -> None:
        """Make the user an authorized user with `pin`, and Save. The PIN is never logged."""
        self.fill_authorized(pin)
        self._save()


class UserPage:
    """A user's page, headed with their first and last name."""

    def __init__(self, page: Page, full_name: str) -> None:
        self.page = page
        self.heading: Locator = page.get_by_role("heading", name=full_name, exact=True)
        self.profile = ProfileSection(page)
        self.device = DeviceSection(page)
        self.voicemail = VoicemailSection(page)
        self.security = SecuritySection(page)

    def is_shown(self) -> bool:
        """Whether this user's page is on screen."""
        return self.heading.is_visible()
