"""Signing the admin in, once per run and again after the portal ends the session.

The password is typed into the portal and nowhere else: no log line, error message or
exception chain carries it, and it is typed only on a page at the portal's own origin or
one the admin allowed for single sign-on.

What is safe to retry is retried: loading the sign-in screen again before anything was
typed (a busy machine or portal may be merely slow, so each try waits longer). Typing the
credentials is done once: wrong credentials typed twice could lock the account.

Where the admin signed in is the session's to know (`domain.steps.Session.start_url`, set
by whoever makes the session): these functions are told the URL each time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from domain.errors import BusinessError, PortalError, SignInError
from domain.origins import origin_of
from pages.feedback import DEFAULT_TIMEOUT_MS, prepare
from pages.nextiva.account_menu import AccountMenu
from pages.nextiva.dashboard import DashboardPage
from pages.nextiva.sign_in import SignInPage

log = structlog.get_logger("onboard")

# How often the sign-in screen is loaded before giving up; try n waits n times the timeout.
LOAD_ATTEMPTS = 3


def trusted_origins(portal_url: str, sso_origins: Sequence[str] = ()) -> frozenset[str]:
    """The origins credentials may be typed at: the portal's and the allowed SSO ones."""
    return frozenset(o for o in (origin_of(u) for u in (portal_url, *sso_origins)) if o)


def open_start(page: Page, portal_url: str, timeout_ms: int) -> SignInPage:
    """Load the start URL until the sign-in screen or the dashboard shows.

    Nothing is typed here, so a load that failed or was slow is simply tried again, each
    time waiting longer. Raises PortalError after LOAD_ATTEMPTS tries.
    """
    screen = SignInPage(page)
    why = ""
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        try:
            screen.open(portal_url, timeout_ms=timeout_ms * attempt)
            return screen
        except PortalError as failed:
            why = failed.message
        except PlaywrightError:
            why = f"it did not show within {timeout_ms * attempt // 1000} s"
        if attempt < LOAD_ATTEMPTS:
            log.warning("loading the sign-in screen again", attempt=attempt + 1, reason=why)
            # A load left hanging would cut the next one short: end it on a blank page.
            with contextlib.suppress(PlaywrightError):
                page.goto("about:blank")
    raise PortalError(f"the sign-in screen did not load in {LOAD_ATTEMPTS} tries: {why}")


def sign_in(
    page: Page,
    portal_url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    sso_origins: Sequence[str] = (),
) -> None:
    """Sign in at the start URL (one-step or two-step form); the credentials once only.

    Raises SignInError when the portal refuses the credentials (a retry could lock the
    account) or the sign-in screen is at an origin not trusted with them, PortalError when
    the portal does not answer.
    """
    prepare(page, timeout_ms)
    trusted = trusted_origins(portal_url, sso_origins)
    # `from None` throughout: a chained Playwright error could quote the call that typed
    # the password.
    try:
        screen = open_start(page, portal_url, timeout_ms)
    except PortalError as failed:
        raise PortalError(f"Signing in failed: {failed.message}") from None
    try:
        if not screen.is_shown():
            return
        screen.sign_in(username, password, trusted)
    except SignInError as untrusted:
        raise SignInError(f"Signing in stopped: {untrusted.message}") from None
    except BusinessError as refused:
        raise SignInError(f"The portal refused the sign-in: {refused.message}") from None
    except PortalError as failed:
        raise PortalError(f"Signing in failed: {failed.message}") from None
    except PlaywrightError:
        raise PortalError("Signing in failed: the sign-in screen did not respond in time") from None


def ensure_signed_in(
    page: Page,
    portal_url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    sso_origins: Sequence[str] = (),
) -> bool:
    """Make sure the admin is signed in, e.g. after SessionExpiredError.

    Returns True when it had to sign in again, False when the session was still alive.
    `timeout_ms` is the one the page was signed in with.
    """
    prepare(page, timeout_ms)
    try:
        open_start(page, portal_url, timeout_ms)
    except PortalError as failed:
        raise PortalError(f"The start page did not load: {failed.message}") from None
    if DashboardPage(page).is_shown():
        return False
    sign_in(
        page,
        portal_url,
        username,
        password,
        timeout_ms=timeout_ms,
        sso_origins=sso_origins,
    )
    return True


def sign_out(page: Page, portal_url: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """End the admin's session: Account menu > Sign out, from the dashboard.

    A session the portal has already ended needs nothing more. Raises PortalError when the
    portal does not answer."""
    prepare(page, timeout_ms)
    try:
        open_start(page, portal_url, timeout_ms)
        if not DashboardPage(page).is_shown():
            return
        AccountMenu(page).sign_out()
    except PlaywrightError:
        raise PortalError("Signing out failed: the portal did not respond in time") from None
