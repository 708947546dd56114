"""The Nextiva Voice portal as the robot's core sees it: `PORTAL`, named by the entry point
`nextiva = "flows.nextiva:PORTAL"` in the group `onboard.portals`.

Its roster columns, record (`NewHire`, keyed by username), settings (PORTAL_URL,
PORTAL_USERNAME, PORTAL_PASSWORD; NEXTIVA_ACCOUNT_PIN for the call-recording chat), sign-in,
the offered-values check, the steps (`flows.nextiva.onboard.STEPS`), the request ledger
of call recording and the mock portal. A hire's security PIN is a secret from the moment
the roster is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playwright.sync_api import Page

from domain.nextiva import NewHire, default_username, digits
from domain.portal import MockPortal, PortalKind, PortalSettings, RequestBook, RosterColumns
from domain.steps import Session
from flows.nextiva import session as _session
from flows.nextiva.call_recording import ACCOUNT_PIN_SETTING
from flows.nextiva.offered import read_options, unoffered
from flows.nextiva.onboard import STEPS
from flows.nextiva.requests import clear_in, request_lines
from flows.nextiva.users import CREATE_USER, NumberClaims

COLUMNS = RosterColumns(
    required=("first_name", "last_name", "email", "location"),
    optional=(
        "username",
        "phone_number",
        "extension",
        "package",
        "device",
        "voicemail_to_email",
        "send_attachment",
        "license",
        "welcome_email",
        "authorized_user",
        "pin",
        "call_recording",
    ),
    aliases={
        "first": "first_name",
        "firstname": "first_name",
        "given_name": "first_name",
        "last": "last_name",
        "lastname": "last_name",
        "surname": "last_name",
        "family_name": "last_name",
        "e_mail": "email",
        "email_address": "email",
        "user_name": "username",
        "user_id": "username",
        "phone": "phone_number",
        "number": "phone_number",
        "ext": "extension",
        "licence": "license",
        "voicemail_to_e_mail": "voicemail_to_email",
        "send_a_welcome_email": "welcome_email",
        "authorized": "authorized_user",
        "security_pin": "pin",
        "recording": "call_recording",
    },
    yes_no=frozenset({"voicemail_to_email", "send_attachment", "welcome_email", "call_recording"}),
    phone=frozenset({"phone_number"}),
    # A PIN of 0042 in a spreadsheet may have lost its zeros or been shortened.
    numeric=frozenset({"extension", "pin"}),
    none_word=frozenset({"license"}),
    secret=frozenset({"pin"}),
    unique=("username", "email", "phone_number", "extension"),
)
# A username the robot made from the name is shown as such in a duplicate's message.
MADE = " (made from the name)"


def identity(hire: NewHire | None, values: Mapping[str, Any]) -> dict[str, str]:
    """What must be unique in the file, taken from a refused row too: then the admin sees
    a duplicate in the same pass as the row's other problems, not after fixing them."""
    if hire is not None:
        found = {column: getattr(hire, column) for column in COLUMNS.unique}
        if hire.username == default_username(hire.first_name, hire.last_name):
            found["username"] = f"{hire.username}{MADE}"
        return {column: str(value) for column, value in found.items() if value}
    made_up = {
        column: str(values[column]).strip()
        for column in ("username", "email", "extension")
        if values.get(column)
    }
    if "username" not in made_up and values.get("first_name") and values.get("last_name"):
        made = default_username(values["first_name"], values["last_name"])
        if made.strip(".-"):
            made_up["username"] = f"{made}{MADE}"
    if values.get("phone_number") and len(digits(values["phone_number"])) == 10:
        made_up["phone_number"] = digits(values["phone_number"])
    return made_up


def describe(hire: NewHire) -> str:
    """One line for `onboard check`: who, where, which number."""
    line = hire.phone_number or "first free number"
    if hire.extension:
        line += f" x{hire.extension}"
    # Whether a PIN is given, never the PIN.
    if hire.authorized_user:
        line += ", authorized user (PIN given)"
    elif hire.authorized_user is False:
        line += ", not an authorized user"
    if hire.call_recording:
        line += ", call recording"
    return f"{hire.username} ({hire.full_name}, {hire.email}), {hire.location}, {line}"


def _secrets(hire: NewHire) -> list[str]:
    return [hire.pin.get_secret_value()] if hire.pin is not None else []


def _sign_in(
    page: Page,
    url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int,
    sso_origins: tuple[str, ...] = (),
) -> None:
    _session.sign_in(page, url, username, password, timeout_ms=timeout_ms, sso_origins=sso_origins)


def _ensure_signed_in(
    page: Page,
    url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int,
    sso_origins: tuple[str, ...] = (),
) -> bool:
    return _session.ensure_signed_in(
        page, url, username, password, timeout_ms=timeout_ms, sso_origins=sso_origins
    )


def _read_options(session: Session) -> Any:
    return read_options(session)


def _serve(host: str, port: int, faults: str, variant: str) -> None:
    from mock_portal.nextiva.serve import run

    run(host, port, faults, variant)


def _mock_app(username: str | None = None, password: str | None = None) -> tuple[Any, str, str]:
    from dataclasses import replace

    from mock_portal.nextiva import create_app
    from mock_portal.nextiva.config import PortalConfig

    config = PortalConfig.from_env()
    if username and password:
        config = replace(config, admin_username=username, admin_password=password)
    return create_app(config), config.admin_username, config.admin_password


PORTAL = PortalKind(
    name="nextiva",
    title="Nextiva Voice",
    record=NewHire,
    columns=COLUMNS,
    settings=PortalSettings(
        url="PORTAL_URL", username="PORTAL_USERNAME", password="PORTAL_PASSWORD"
    ),
    steps=STEPS,
    key=lambda hire: hire.username,
    display=lambda hire: hire.full_name,
    describe=describe,
    identity=identity,
    sign_in=_sign_in,
    ensure_signed_in=_ensure_signed_in,
    read_options=_read_options,
    unoffered=unoffered,
    shared=NumberClaims,
    mock=MockPortal(serve=_serve, app=_mock_app, demo_roster="roster.csv"),
    first_step=CREATE_USER,
    secrets=_secrets,
    run_settings=(ACCOUNT_PIN_SETTING,),
    requests=RequestBook(lines=request_lines, clear=clear_in),
    sign_out=_session.sign_out,
)
