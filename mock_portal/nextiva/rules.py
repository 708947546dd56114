"""The portal's rules for each form, with the exact messages PORTAL.md gives.

Each check takes the submitted form and the store (the caller holds its lock) and returns
either the values to apply or a mapping of field name to message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from mock_portal.nextiva.seed import DEVICE_MODELS, TIME_ZONES
from mock_portal.nextiva.store import Address, Store, User, format_phone

USERNAME = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
AUTH_NAME = re.compile(r"^[A-Za-z0-9._\-]+$")
RESERVED_EXTENSIONS = frozenset({"211", "311", "411", "511", "611", "711", "811", "911"})
PIN_MESSAGE = "PIN must be 4 digits."
AUTH_PASSWORD_REQUIRED = "Authentication password is required."

Errors = dict[str, str]


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _checked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def check_email(value: str, label: str = "Email") -> str | None:
    """The message for a bad email address, or None when it is fine."""
    if not value:
        return f"{label} is required."
    if len(value) > 80:
        return f"{label} must be 80 characters or fewer."
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "Enter a valid email address."
    return None


def _name(value: str, label: str) -> str | None:
    if not value:
        return f"{label} is required."
    if len(value) > 30:
        return f"{label} must be 30 characters or fewer."
    return None


def _pin(value: str) -> str | None:
    return None if len(value) == 4 and value.isdigit() else PIN_MESSAGE


@dataclass
class NewUserDraft:
    """A Create User form that passed every rule."""

    user: User
    welcome_email: bool


def new_user(store: Store, form: Mapping[str, str]) -> tuple[NewUserDraft | None, Errors]:
    """Check a Create User form against every rule of the portal."""
    errors: Errors = {}
    first = _text(form, "first_name")
    last = _text(form, "last_name")
    username = _text(form, "username")
    email = _text(form, "email")
    extension = _text(form, "extension")
    unreachable = re.sub(r"[\s().\-+]", "", _text(form, "unreachable_number"))
    location_name = _text(form, "location")
    time_zone = _text(form, "time_zone")
    phone = _text(form, "phone_number")
    package_name = _text(form, "package")
    authorized = _checked(form, "authorized_user")
    pin = _text(form, "pin")

    if message := _name(first, "First name"):
        errors["first_name"] = message
    if message := _name(last, "Last name"):
        errors["last_name"] = message
    if not username:
        errors["username"] = "Username is required."
    elif len(username) > 80:
        errors["username"] = "Username must be 80 characters or fewer."
    elif not USERNAME.fullmatch(username):
        errors["username"] = "Username contains invalid characters."
    elif store.username_taken(username):
        errors["username"] = "Username already exists. Please choose a different username."
    if message := check_email(email):
        errors["email"] = message

    location = store.location(location_name) if location_name else None
    if not location_name:
        errors["location"] = "Location is required."
    elif location is None:
        errors["location"] = "Choose a location from the list."
    if time_zone and time_zone not in TIME_ZONES:
        errors["time_zone"] = "Choose a time zone from the list."

    if phone and location is not None:
        if not location.free_numbers:
            errors["phone_number"] = f"No phone numbers are available at {location.name}."
        elif phone not in location.free_numbers:
            errors["phone_number"] = (
                f"Phone number {format_phone(phone)} is not available at {location.name}."
            )

    if not extension:
        errors["extension"] = "Extension is required."
    elif not extension.isdigit() or not 2 <= len(extension) <= 6:
        errors["extension"] = "Extension must be 2 to 6 digits."
    elif extension in RESERVED_EXTENSIONS:
        errors["extension"] = f"Extension {extension} is reserved for service codes."
    elif store.extension_holder(extension) is not None:
        errors["extension"] = f"Extension {extension} is already assigned to another user."

    if unreachable and not (unreachable.isdigit() and len(unreachable.removeprefix("1")) == 10):
        errors["unreachable_number"] = "Primary number unreachable must be a 10-digit number."

    package = store.package(package_name) if package_name else None
    if not package_name:
        errors["package"] = "Package is required."
    elif package is None:
        errors["package"] = "Choose a package from the list."
    elif package.lines_left <= 0:
        errors["package"] = f"No lines left in package {package.name}."

    if authorized and (message := _pin(pin)):
        errors["pin"] = message

    if errors or location is None or package is None:
        return None, errors
    user = User(
        id=0,
        username=username,
        first_name=first,
        last_name=last,
        email=email,
        extension=extension,
        phone_number=phone or None,
        location=location.name,
        time_zone=time_zone or location.time_zone,
        package=package.name,
        voicemail_to_email=_checked(form, "voicemail_to_email"),
        authorized_user=authorized,
        pin=pin if authorized else None,
        unreachable_number=unreachable.removeprefix("1")[-10:] if unreachable else None,
        welcome_email=_checked(form, "welcome_email"),
    )
    if user.voicemail_to_email:
        user.voicemail.email = email
    return NewUserDraft(user, user.welcome_email), errors


def add_user(store: Store, draft: NewUserDraft) -> User:
    """Create the user: take its number from the pool and a line from its package."""
    user = draft.user
    location = store.location(user.location)
    package = store.package(user.package)
    assert location is not None and package is not None
    if user.phone_number:
        location.free_numbers.remove(user.phone_number)
    package.lines_left -= 1
    return store.add_user(user)


def e911_address(form: Mapping[str, str]) -> tuple[Address | None, Errors]:
    errors: Errors = {}
    values = {}
    for name, label, limit in (
        ("street", "Street address", 100),
        ("city", "City", 60),
        ("state", "State", 2),
        ("zip_code", "ZIP code", 10),
    ):
        value = _text(form, name)
        if not value:
            errors[name] = f"{label} is required."
        elif len(value) > limit:
            errors[name] = f"{label} must be {limit} characters or fewer."
        values[name] = value
    if not errors and not re.fullmatch(r"\d{5}(-\d{4})?", values["zip_code"]):
        errors["zip_code"] = "ZIP code must be 5 digits."
    if errors:
        return None, errors
    address = Address(values["street"], values["city"], values["state"].upper(), values["zip_code"])
    return address, {}


@dataclass
class DeviceChange:
    device_type: str
    auth_name: str
    auth_password: str | None  # None keeps the password already set


def device(user: User, form: Mapping[str, str]) -> tuple[DeviceChange | None, Errors]:
    errors: Errors = {}
    device_type = _text(form, "device")
    auth_name = _text(form, "auth_name")
    password = form.get("auth_password") or ""
    if not device_type:
        return DeviceChange("", "", None), {}
    if device_type not in DEVICE_MODELS:
        errors["device"] = "Choose a device from the list."
    if not auth_name:
        errors["auth_name"] = "Authentication name is required."
    elif len(auth_name) > 40 or not AUTH_NAME.fullmatch(auth_name):
        errors["auth_name"] = (
            "Authentication name may contain letters, numbers, periods, hyphens and "
            "underscores only (at most 40)."
        )
    has_password = bool(user.device and user.device.auth_password)
    if not password and not has_password:
        errors["auth_password"] = AUTH_PASSWORD_REQUIRED
    elif password and not 8 <= len(password) <= 64:
        errors["auth_password"] = "Authentication password must be 8 to 64 characters."
    if errors:
        return None, errors
    return DeviceChange(device_type, auth_name, password or None), {}


def voicemail(form: Mapping[str, str]) -> tuple[tuple[str, bool] | None, Errors]:
    email = _text(form, "voicemail_email")
    attach = _checked(form, "send_attachment")
    if not email:
        return ("", False), {}
    if message := check_email(email, "Email address"):
        return None, {"voicemail_email": message}
    return (email, attach), {}


def security(user: User, form: Mapping[str, str]) -> tuple[tuple[bool, str | None] | None, Errors]:
    authorized = _checked(form, "authorized_user")
    pin = _text(form, "security_pin")
    if not authorized:
        return (False, None), {}
    if not pin and user.pin:
        return (True, user.pin), {}
    if message := _pin(pin):
        return None, {"security_pin": message}
    return (True, pin), {}
