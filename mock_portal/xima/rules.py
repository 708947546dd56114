"""The Xima portal's rules for each form, with the exact messages PORTAL.md gives.

Each check takes the submitted form and the store (the caller holds its lock) and returns
either the values to apply or a mapping of field name to message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from mock_portal.xima.store import SCOPES, Store, User, area_code
from mock_portal.xima.web import format_phone

Errors = dict[str, str]

NAME_LIMIT = 50
PASSWORD_MIN = 8
PASSWORD_MAX = 128
PASSWORDS_DIFFER = "Passwords do not match."
PASSWORD_TOO_SHORT = f"Password must be at least {PASSWORD_MIN} characters."
PIN_RULE = "Voicemail Pin must be 4 to 10 digits."
EMAIL_TAKEN = "A user with this email already exists."
EXTENSION_RULE = "Extension must be 3 to 6 digits."


def extension_taken(extension: str) -> str:
    return f"Extension {extension} is already in use."


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _checked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def _name(value: str, label: str) -> str | None:
    if not value:
        return f"{label} is required."
    if len(value) > NAME_LIMIT:
        return f"{label} must be {NAME_LIMIT} characters or fewer."
    return None


def _email(value: str) -> str | None:
    if not value:
        return "Email Address is required."
    if len(value) > 254:
        return "Email Address must be 254 characters or fewer."
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "Enter a valid email address."
    return None


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


# The user's fields a save sets as given; the secrets are kept when left blank.
_PLAIN_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "extension",
    "department",
    "site",
    "emergency_address",
    "scope",
    "caller_id",
    "emergency_caller_id",
    "voicemail",
    "phone_extension",
)


@dataclass
class UserValues:
    """A user form that passed every rule; None secrets keep what is set."""

    first_name: str
    last_name: str
    email: str
    extension: str
    department: str
    site: str
    emergency_address: int
    scope: str
    caller_id: str
    emergency_caller_id: str
    voicemail: bool
    phone_extension: bool
    password: str | None
    voicemail_pin: str | None

    def changes(self, user: User) -> bool:
        """Whether saving these values would change `user`."""
        if any(getattr(self, name) != getattr(user, name) for name in _PLAIN_FIELDS):
            return True
        return (self.password is not None and self.password != user.password) or (
            self.voicemail_pin is not None and self.voicemail_pin != user.voicemail_pin
        )

    def apply_to(self, user: User) -> None:
        for name in _PLAIN_FIELDS:
            setattr(user, name, getattr(self, name))
        if self.password is not None:
            user.password = self.password
        if self.voicemail_pin is not None:
            user.voicemail_pin = self.voicemail_pin

    def new_user(self) -> User:
        user = User(
            id=0,
            first_name="",
            last_name="",
            email="",
            extension="",
            department="",
            site="",
            emergency_address=0,
            scope="",
            caller_id="",
            emergency_caller_id="",
        )
        self.apply_to(user)
        return user


def _number(
    store: Store,
    errors: Errors,
    form: Mapping[str, str],
    field: str,
    label: str,
    code: str | None,
    user_id: int | None,
) -> str:
    """Check a Caller ID or Emergency Caller ID choice; returns the number."""
    number = re.sub(r"\D", "", _text(form, field))
    if not number:
        errors[field] = f"Choose a {label}."
    elif number not in store.data.numbers:
        errors[field] = f"Choose a {label} from the list."
    elif code is not None and area_code(number) != code:
        errors[field] = f"{label} must be a number in area code {code}."
    elif store.number_holder(number, besides=user_id) is not None:
        errors[field] = f"{format_phone(number)} is already used by another user."
    return number


def user_form(
    store: Store, form: Mapping[str, str], *, editing: User | None = None
) -> tuple[UserValues | None, Errors]:
    """Check an Add User or Edit User form against every rule of the portal."""
    errors: Errors = {}
    user_id = editing.id if editing else None
    first = _text(form, "first_name")
    last = _text(form, "last_name")
    extension = _text(form, "extension")
    email = _text(form, "email")
    department = _text(form, "department")
    site = _text(form, "site")
    address_id = _id(_text(form, "emergency_address"))
    scope = _text(form, "scope")
    code = _text(form, "area_code")
    password = form.get("new_password") or ""
    confirm = form.get("confirm_password") or ""
    pin = _text(form, "voicemail_pin")

    if message := _name(first, "First Name"):
        errors["first_name"] = message
    if message := _name(last, "Last Name"):
        errors["last_name"] = message
    if not extension:
        errors["extension"] = "Extension is required."
    elif not extension.isdigit() or not 3 <= len(extension) <= 6:
        errors["extension"] = EXTENSION_RULE
    elif store.extension_holder(extension, besides=user_id) is not None:
        errors["extension"] = extension_taken(extension)
    if message := _email(email):
        errors["email"] = message
    elif store.email_holder(email, besides=user_id) is not None:
        errors["email"] = EMAIL_TAKEN

    if not department:
        errors["department"] = "Choose a department."
    elif department not in store.data.departments:
        errors["department"] = "Choose a department from the list."
    if not site:
        errors["site"] = "Choose a site."
    elif site not in store.data.sites:
        errors["site"] = "Choose a site from the list."
    if not _text(form, "emergency_address"):
        errors["emergency_address"] = "Choose an emergency address."
    elif address_id is None or store.address(address_id) is None:
        errors["emergency_address"] = "Choose an emergency address from the list."
    if not scope:
        errors["scope"] = "Choose the user's scope."
    elif scope not in SCOPES:
        errors["scope"] = "Choose Basic User, Site Manager or Office Manager."

    known_code: str | None = None
    if not code:
        errors["area_code"] = "Choose an area code."
    elif code not in store.area_codes():
        errors["area_code"] = "Choose an area code from the list."
    else:
        known_code = code
    caller_id = _number(store, errors, form, "caller_id", "Caller ID", known_code, user_id)
    emergency = _number(
        store, errors, form, "emergency_caller_id", "Emergency Caller ID", known_code, user_id
    )

    if password or confirm:
        if len(password) < PASSWORD_MIN:
            errors["new_password"] = PASSWORD_TOO_SHORT
        elif len(password) > PASSWORD_MAX:
            errors["new_password"] = f"Password must be {PASSWORD_MAX} characters or fewer."
        if password != confirm:
            errors["confirm_password"] = PASSWORDS_DIFFER
    if pin and not (pin.isdigit() and 4 <= len(pin) <= 10):
        errors["voicemail_pin"] = PIN_RULE

    if errors or address_id is None:
        return None, errors
    return (
        UserValues(
            first_name=first,
            last_name=last,
            email=email,
            extension=extension,
            department=department,
            site=site,
            emergency_address=address_id,
            scope=scope,
            caller_id=caller_id,
            emergency_caller_id=emergency,
            voicemail=_checked(form, "voicemail"),
            phone_extension=_checked(form, "phone_extension"),
            # Blank keeps what is set (and sets nothing on a new user).
            password=password or None,
            voicemail_pin=pin or None,
        ),
        {},
    )


@dataclass
class AddressValues:
    street: str
    city: str
    state: str
    zip_code: str


def address_form(form: Mapping[str, str]) -> tuple[AddressValues | None, Errors]:
    """Check the Add Address fields."""
    errors: Errors = {}
    values: dict[str, str] = {}
    for name, label, limit in (
        ("street", "Street", 100),
        ("city", "City", 60),
        ("state", "State", 2),
        ("zip_code", "ZIP Code", 10),
    ):
        value = " ".join(_text(form, name).split())
        if not value:
            errors[name] = f"{label} is required."
        elif len(value) > limit and name != "state":
            errors[name] = f"{label} must be {limit} characters or fewer."
        values[name] = value
    if "state" not in errors and not re.fullmatch(r"[A-Za-z]{2}", values["state"]):
        errors["state"] = "State must be a 2-letter code."
    if "zip_code" not in errors and not re.fullmatch(r"\d{5}(-\d{4})?", values["zip_code"]):
        errors["zip_code"] = "ZIP Code must be 5 digits."
    if errors:
        return None, errors
    return AddressValues(
        values["street"], values["city"], values["state"].upper(), values["zip_code"]
    ), {}
