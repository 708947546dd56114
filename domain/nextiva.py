"""A new hire as the robot onboards them, checked against the portal's own rules.

The rules are those the Create User screen enforces (PORTAL.md, seed 001), so a row
the portal would refuse is refused here first, before any browser starts.
"""

from __future__ import annotations

import re

from anyascii import anyascii
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

DEFAULT_PACKAGE = "NextOSAdditionalLineLocal"
DEFAULT_DEVICE = "Generic SIP Phone"
DEFAULT_LICENSE = "NextOS Pro Plus Upgrade"

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9.\-:\[\]]")
RESERVED_EXTENSIONS = frozenset({"211", "311", "411", "511", "611", "711", "811", "911"})


def default_username(first_name: str, last_name: str) -> str:
    """first.last, lower case, transliterated to ASCII and reduced to the characters the portal
    allows: 'José Núñez' -> 'jose.nunez', 'Seán O'Brien-Smith' -> 'sean.obrien-smith'."""
    # Transliterate rather than drop what Unicode cannot decompose: 'Łukasz Strauß' must
    # become 'lukasz.strauss', not 'ukasz.strau'.
    folded = anyascii(f"{first_name.strip()}.{last_name.strip()}").lower()
    return _NOT_USERNAME.sub("", folded.replace(" ", "-"))


def digits(phone_number: str) -> str:
    """The digits of a phone number as people write it: '(602) 555-0143' -> '6025550143'."""
    only = re.sub(r"\D", "", phone_number)
    return only[1:] if len(only) == 11 and only.startswith("1") else only


class NewHire(BaseModel):
    """One employee to onboard: the Create User fields plus the settings of later steps."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")

    first_name: str = Field(min_length=1, max_length=30)
    last_name: str = Field(min_length=1, max_length=30)
    email: EmailStr = Field(max_length=80)
    location: str = Field(min_length=1, max_length=100)
    username: str = Field(default="", max_length=80)
    phone_number: str | None = None
    extension: str | None = None
    package: str = Field(default=DEFAULT_PACKAGE, min_length=1, max_length=100)
    device: str = Field(default=DEFAULT_DEVICE, min_length=1, max_length=100)
    voicemail_to_email: bool = True
    send_attachment: bool = True
    license: str | None = DEFAULT_LICENSE
    welcome_email: bool = False

    @field_validator("username")
    @classmethod
    def _username_allowed(cls, value: str) -> str:
        if value and not USERNAME_PATTERN.fullmatch(value):
            raise ValueError(
                "Username contains invalid characters. Use letters, numbers, periods, "
                "hyphens, colons and square brackets only."
            )
        return value

    @field_validator("phone_number")
    @classmethod
    def _phone_is_ten_digits(cls, value: str | None) -> str | None:
        if not value:
            return None
        number = digits(value)
        if len(number) != 10:
            raise ValueError("Phone number must have 10 digits (area code and number).")
        return number

    @field_validator("extension")
    @classmethod
    def _extension_allowed(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.isdigit() or not 2 <= len(value) <= 6:
            raise ValueError("Extension must be 2 to 6 digits.")
        if value in RESERVED_EXTENSIONS:
            raise ValueError(f"Extension {value} is reserved for service codes.")
        return value

    @model_validator(mode="after")
    def _fill_username(self) -> NewHire:
        if not self.username:
            username = default_username(self.first_name, self.last_name)
            if not username.strip(".-"):
                raise ValueError("username: cannot be derived from the name; give one.")
            object.__setattr__(self, "username", username)
        return self

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def license_label(self) -> str:
        """The Assign screen's checkbox label for this user, e.g. 'Dana Smith (dana.smith)'."""
        return f"{self.full_name} ({self.username})"
