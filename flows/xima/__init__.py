"""The Xima UCaaS portal as the robot's core sees it: `PORTAL`, named by the entry point
`xima = "flows.xima:PORTAL"` in the group `onboard.portals` (seed 004).

A roster row is a `XimaUser`, keyed by email. Its steps: "user" (add or edit, converging
on the row's values) for `add` and `edit` rows, and "delete user" for `delete` rows, the
one step that counts against the deletion guard. Settings: XIMA_URL, XIMA_USERNAME and
XIMA_PASSWORD. The voicemail PIN is a secret: the runner adds it to what it scrubs before
any browser starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playwright.sync_api import Page

from domain.portal import MockPortal, PortalKind, PortalSettings, RosterColumns
from domain.steps import Claims, FlowStep, Session, Step, StepOutcome, StepPlan, Witness
from domain.xima import DELETE, XimaUser, phone_digits
from flows.xima import session as _session
from flows.xima.users import DELETE_STEP, USER_STEP, delete_user, ensure_user, plan_user
from pages.xima.users import UsersPage

COLUMNS = RosterColumns(
    required=("email",),
    optional=(
        "first_name",
        "last_name",
        "extension",
        "department",
        "site",
        "emergency_address",
        "scope",
        "area_code",
        "caller_id",
        "emergency_caller_id",
        "voicemail",
        "phone_extension",
        "voicemail_pin",
        "action",
    ),
    aliases={
        "first": "first_name",
        "firstname": "first_name",
        "given_name": "first_name",
        "last": "last_name",
        "lastname": "last_name",
        "surname": "last_name",
        "e_mail": "email",
        "email_address": "email",
        "ext": "extension",
        "user_s_scope": "scope",
        "users_scope": "scope",
        "enable_voicemail": "voicemail",
        "add_phone_extension": "phone_extension",
        "voicemail_password": "voicemail_pin",
    },
    yes_no=frozenset({"voicemail", "phone_extension"}),
    phone=frozenset({"caller_id", "emergency_caller_id"}),
    numeric=frozenset({"extension", "area_code", "voicemail_pin"}),
    secret=frozenset({"voicemail_pin"}),
    unique=("email", "extension", "caller_id"),
)


def identity(user: XimaUser | None, values: Mapping[str, Any]) -> dict[str, str]:
    """What must be unique in the file: the email (the identity), extension, Caller ID."""
    if user is not None:
        found = {"email": user.email, "extension": user.extension, "caller_id": user.caller_id}
    else:
        found = {column: str(values.get(column) or "").strip() for column in COLUMNS.unique}
        found["caller_id"] = phone_digits(found["caller_id"]) if found["caller_id"] else ""
    return {column: value for column, value in found.items() if value}


def describe(user: XimaUser) -> str:
    """One line for `onboard check`: what the row wants for whom."""
    if user.action == DELETE:
        return f"{user.email}: delete"
    caller = user.caller_id or f"first free number of {user.area_code}"
    return (
        f"{user.email} ({user.full_name}), {user.action}, x{user.extension}, {user.site}, "
        f"{user.scope}, {caller}"
    )


def _claims(session: Session) -> Claims | None:
    return session.shared if isinstance(session.shared, Claims) else None


def _ensure(session: Session, user: XimaUser, witness: Witness) -> StepOutcome:
    claims = _claims(session)
    return ensure_user(
        session.page, user, witness, pick_number=claims.pick if claims is not None else None
    )


def _observe(session: Session, user: XimaUser) -> StepPlan:
    return plan_user(session.page, user)[0]


STEPS: tuple[Step[XimaUser], ...] = (
    FlowStep(USER_STEP, _observe, _ensure, when=lambda user: user.action != DELETE),
    FlowStep(
        DELETE_STEP,
        _observe,
        lambda s, user, w: delete_user(s.page, user, w),
        when=lambda user: user.action == DELETE,
        destructive=True,
    ),
)


def _sign_in(
    page: Page,
    url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int,
    sso_origins: tuple[str, ...] = (),
) -> None:
    # Xima's credentials are typed only at the start URL's origin: no single sign-on.
    del sso_origins
    _session.sign_in(page, url, username, password, timeout_ms=timeout_ms)


def _ensure_signed_in(
    page: Page,
    url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int,
    sso_origins: tuple[str, ...] = (),
) -> bool:
    del sso_origins
    return _session.ensure_signed_in(page, url, username, password, timeout_ms=timeout_ms)


def _account_size(session: Session) -> int:
    users = UsersPage(session.page)
    users.open()
    return users.count()


def _serve(host: str, port: int, faults: str, variant: str) -> None:
    # The Xima mock has one look: the variant is Nextiva's alone.
    del variant
    from mock_portal.xima.serve import run

    run(host, port, faults)


def _mock_app(username: str | None = None, password: str | None = None) -> tuple[Any, str, str]:
    from dataclasses import replace

    from mock_portal.xima import XimaConfig, create_app

    config = XimaConfig.from_env()
    if username and password:
        config = replace(config, admin_email=username, admin_password=password)
    return create_app(config), config.admin_email, config.admin_password


PORTAL = PortalKind(
    name="xima",
    title="Xima UCaaS",
    record=XimaUser,
    columns=COLUMNS,
    settings=PortalSettings(url="XIMA_URL", username="XIMA_USERNAME", password="XIMA_PASSWORD"),
    steps=STEPS,
    key=lambda user: user.key,
    display=lambda user: user.full_name.strip() or user.email,
    describe=describe,
    identity=identity,
    secrets=lambda user: [user.voicemail_pin.get_secret_value()] if user.voicemail_pin else [],
    sign_in=_sign_in,
    ensure_signed_in=_ensure_signed_in,
    account_size=_account_size,
    shared=lambda: Claims(phone_digits),
    mock=MockPortal(serve=_serve, app=_mock_app, demo_roster="xima-roster.csv"),
    first_step=USER_STEP,
)
