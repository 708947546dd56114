"""A new hire as the robot onboards them, checked against the portal's own rules.

The rules are those the Create User screen enforces (PORTAL.md, seed 001), so a row
the portal would refuse is refused here first, before any browser starts.

`authorized_user` is yes (True), no (False) or left empty (None: the portal's setting is
left as it is). `pin` is the authorized user's four-digit security PIN, a secret from the
moment the roster is read: in no repr, comparison or error message. `call_recording` asks
Nextiva Support for call recording (seed 000), in one chat per run.
"""

from __future__ import annotations

import re

from anyascii import anyascii
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

DEFAULT_PACKAGE = "NextOSAdditionalLineLocal"
DEFAULT_DEVICE = "Generic SIP Phone"
DEFAULT_LICENSE = "NextOS Pro Plus Upgrade"

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9.\-:\[\]]")
RESERVED_EXTENSIONS = frozenset({"211", "311", "411", "511", "611", "711", "811", "911"})
PIN_MESSAGE = "PIN must be 4 digits."
_YES = frozenset({"yes", "y", "true", "1", "on"})
_NO = frozenset({"no", "n", "false", "0", "off"})


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

    # No input in error messages: a refused row may hold a PIN.
    model_config = ConfigDict(
        frozen=True, str_strip_whitespace=True, extra="forbid", hide_input_in_errors=True
    )

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
    authorized_user: bool | None = None
    pin: SecretStr | None = Field(default=None, repr=False)
    call_recording: bool = False

    @field_validator("authorized_user", "call_recording", mode="before")
    @classmethod
    def _yes_no(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            word = value.strip().lower()
            if not word:
                # Empty: authorized_user is left as the portal has it; call_recording is no.
                return None if info.field_name == "authorized_user" else False
            if word in _YES:
                return True
            if word in _NO:
                return False
            raise ValueError("must be yes or no")
        return value

    @field_validator("pin", mode="before")
    @classmethod
    def _pin_is_four_digits(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str) or not re.fullmatch(r"\d{4}", raw.strip()):
            # The value itself is never echoed: it is a secret.
            raise ValueError(PIN_MESSAGE)
        return SecretStr(raw.strip())

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
    def _pin_with_authorization(self) -> NewHire:
        if self.authorized_user and self.pin is None:
            raise ValueError("pin: is required when authorized_user is yes (4 digits)")
        if self.pin is not None and not self.authorized_user:
            raise ValueError("pin: is given but authorized_user is not yes; give both or neither")
        return self

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
