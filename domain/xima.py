"""One Xima UCaaS roster row, checked by the portal's own rules before any browser starts.

The rules are those of the Add User form (PORTAL.md, "Xima UCaaS portal"; seed 004). A row
the portal would refuse is refused here, with a message naming the field and the reason.

`email` is the identity key: a user is found by it, case ignored. `action` says what the
row wants: `add` and `edit` both mean "the user ends with these values" (created when
missing, edited where different), `delete` that the user must not exist; a delete row needs
only the email.

Caller IDs may be left empty: the Caller ID is then the first free number of the area
code, and the Emergency Caller ID the same number as the Caller ID (the way the account's
users are set up: the number emergency services call back is the user's own). On an
existing user an empty Caller ID keeps the one the user has while it is in the area code.

The voicemail PIN is a secret (`SecretStr`): it is in no repr, no comparison and no value
returned by `portal_values`. The portal never shows it again once set, so the robot writes
it when it adds the user and never on an edit (a rerun could not tell it apart).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

Scope = Literal["Basic User", "Site Manager", "Office Manager"]
Action = Literal["add", "edit", "delete"]
SCOPES: tuple[Scope, ...] = ("Basic User", "Site Manager", "Office Manager")
ADD: Action = "add"
EDIT: Action = "edit"
DELETE: Action = "delete"

NAME_LIMIT = 50
# The portal's labels of the fields `portal_values` gives, for messages an admin reads.
LABELS: Mapping[str, str] = {
    "first_name": "First Name",
    "last_name": "Last Name",
    "extension": "Extension",
    "department": "Department",
    "site": "Site",
    "email": "Email Address",
    "emergency_address": "Emergency Address",
    "scope": "User's Scope",
    "area_code": "Area Code",
    "caller_id": "Caller ID",
    "emergency_caller_id": "Emergency Caller ID",
    "voicemail": "Enable Voicemail",
    "phone_extension": "Add Phone Extension",
}
FieldValue = str | bool

_YES = frozenset({"yes", "y", "true", "1", "on"})
_NO = frozenset({"no", "n", "false", "0", "off"})
_STATE_ZIP = re.compile(r"^(?P<state>[A-Za-z]{2})\s+(?P<zip>\d{5}(?:-\d{4})?)$")


def phone_digits(number: str) -> str:
    """The ten digits of a phone number as people write it: '(801) 555-0115' -> '8015550115'.

    A leading country code 1 is dropped; anything else is returned as its digits.
    """
    only = re.sub(r"\D", "", number)
    return only[1:] if len(only) == 11 and only.startswith("1") else only


def same_text(a: str, b: str) -> bool:
    """Equal apart from case and runs of whitespace (how the portal matches addresses)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class EmergencyAddress(BaseModel):
    """An emergency address in the parts Add Address asks for."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    street: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    zip_code: str = Field(pattern=r"^\d{5}(-\d{4})?$")

    @classmethod
    def parse(cls, text: str) -> EmergencyAddress:
        """'3300 N Triumph Blvd, Lehi, UT 84043' -> its parts; ValueError for any other shape.

        The street may hold commas itself ('Suite 4, 12 Main St'): the city is the part
        before the last comma, the street everything before that.
        """
        parts = [part.strip() for part in text.split(",")]
        if len(parts) < 3 or not all(parts):
            raise ValueError(
                f"must read 'Street, City, ST ZIP' (for example "
                f"'3300 N Triumph Blvd, Lehi, UT 84043'), not {text!r}"
            )
        found = _STATE_ZIP.match(parts[-1])
        if not found:
            raise ValueError(
                f"must end with a 2-letter state and a 5-digit ZIP code ('UT 84043'), "
                f"not {parts[-1]!r}"
            )
        return cls(
            street=", ".join(parts[:-2]),
            city=parts[-2],
            state=found["state"].upper(),
            zip_code=found["zip"],
        )

    @property
    def label(self) -> str:
        """The address as the portal lists it: 'Street, City, ST ZIP'."""
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"

    def matches(self, label: str) -> bool:
        """Whether the portal's `label` is this address (case and spacing aside)."""
        try:
            other = EmergencyAddress.parse(label)
        except ValueError:
            return False
        return all(
            same_text(mine, theirs)
            for mine, theirs in (
                (self.street, other.street),
                (self.city, other.city),
                (self.state, other.state),
                (self.zip_code, other.zip_code),
            )
        )


class XimaUser(BaseModel):
    """One row of a Xima roster: the user the portal must end up with (or without)."""

    # No input in error messages: a refused row may hold a voicemail PIN.
    model_config = ConfigDict(
        frozen=True, str_strip_whitespace=True, extra="forbid", hide_input_in_errors=True
    )

    email: str = Field(max_length=254)
    action: Action = ADD
    first_name: str = Field(default="", max_length=NAME_LIMIT)
    last_name: str = Field(default="", max_length=NAME_LIMIT)
    extension: str = Field(default="", pattern=r"^(\d{3,6})?$")
    department: str = Field(default="", max_length=100)
    site: str = Field(default="", max_length=100)
    emergency_address: EmergencyAddress | None = None
    scope: Scope = "Basic User"
    area_code: str = Field(default="", pattern=r"^(\d{3})?$")
    caller_id: str = ""
    emergency_caller_id: str = ""
    voicemail: bool = True
    phone_extension: bool = True
    voicemail_pin: SecretStr | None = Field(default=None, repr=False)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as error:
            raise ValueError(f"not a valid email address: {error}") from None
        return value

    @field_validator("action", mode="before")
    @classmethod
    def _action_word(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() or ADD
        return value

    @field_validator("scope", mode="before")
    @classmethod
    def _scope_name(cls, value: object) -> object:
        if isinstance(value, str):
            wanted = " ".join(value.split())
            if not wanted:
                return "Basic User"
            for scope in SCOPES:
                if scope.casefold() == wanted.casefold():
                    return scope
        return value

    @field_validator("emergency_address", mode="before")
    @classmethod
    def _address_text(cls, value: object) -> object:
        if isinstance(value, str):
            return EmergencyAddress.parse(value) if value.strip() else None
        return value

    @field_validator("caller_id", "emergency_caller_id", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            return value
        if re.search(r"[^\d\s()+.\-]", value):
            raise ValueError(f"not a phone number: {value!r}")
        number = phone_digits(value)
        if len(number) != 10:
            raise ValueError(f"must be a 10-digit number, not {value!r}")
        return number

    @field_validator("voicemail", "phone_extension", mode="before")
    @classmethod
    def _yes_no(cls, value: object) -> object:
        if isinstance(value, str):
            word = value.strip().lower()
            if not word:
                return True
            if word in _YES:
                return True
            if word in _NO:
                return False
            raise ValueError(f"must be yes or no, not {value!r}")
        return value

    @field_validator("voicemail_pin", mode="before")
    @classmethod
    def _pin(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str) or not re.fullmatch(r"\d{4,10}", raw.strip()):
            # The value itself is never echoed: it is a secret.
            raise ValueError("Voicemail Pin must be 4 to 10 digits")
        return SecretStr(raw.strip())

    @model_validator(mode="after")
    def _complete(self) -> XimaUser:
        if self.action == DELETE:
            return self
        missing = [
            LABELS[name]
            for name in ("first_name", "last_name", "extension", "department", "site")
            if not getattr(self, name)
        ]
        if self.emergency_address is None:
            missing.append(LABELS["emergency_address"])
        if not self.area_code:
            missing.append(LABELS["area_code"])
        if missing:
            raise ValueError(f"required to {self.action} a user: {', '.join(missing)}")
        for name in ("caller_id", "emergency_caller_id"):
            number: str = getattr(self, name)
            if number and number[:3] != self.area_code:
                raise ValueError(
                    f"{LABELS[name]} must be a number in area code {self.area_code}, not {number}"
                )
        return self

    @property
    def key(self) -> str:
        """The identity the portal matches users by: the email, case ignored."""
        return self.email.casefold()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def portal_values(self) -> dict[str, FieldValue]:
        """The values the portal should show for this user, keyed as `LABELS` is.

        Never the PIN. Caller IDs left empty are "" (any number of the area code will do;
        see the module docstring), the emergency address is its label.
        """
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "extension": self.extension,
            "department": self.department,
            "site": self.site,
            "email": self.email,
            "emergency_address": self.emergency_address.label if self.emergency_address else "",
            "scope": self.scope,
            "area_code": self.area_code,
            "caller_id": self.caller_id,
            "emergency_caller_id": self.emergency_caller_id,
            "voicemail": self.voicemail,
            "phone_extension": self.phone_extension,
        }

    def differences(
        self, shown: Mapping[str, FieldValue]
    ) -> dict[str, tuple[FieldValue, FieldValue]]:
        """The fields where the portal's `shown` values differ from this row: name -> (shown,
        wanted). Emails and addresses compare as the portal matches them (case and spacing
        aside); an empty caller ID accepts any number of the area code, an empty emergency
        caller ID one equal to the caller ID.
        """
        wanted = self.portal_values()
        found: dict[str, tuple[FieldValue, FieldValue]] = {}
        for name, value in wanted.items():
            current = shown.get(name, "")
            if name == "email":
                same = str(current).casefold() == str(value).casefold()
            elif name == "emergency_address":
                same = self.emergency_address is not None and self.emergency_address.matches(
                    str(current)
                )
            elif name == "caller_id" and not value:
                same = str(current)[:3] == self.area_code and len(str(current)) == 10
            elif name == "emergency_caller_id" and not value:
                caller = self.caller_id or str(shown.get("caller_id", ""))
                same = current == caller and str(current)[:3] == self.area_code
            elif isinstance(value, bool):
                same = current is value
            else:
                same = str(current) == value
            if not same:
                found[name] = (current, value)
        return found
