"""Signing the admin in, once per run and again after the portal ends the session.

The password is typed into the portal and nowhere else: no log line, error message or
exception chain carries it.
"""

from __future__ import annotations

import weakref

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from pages.dashboard import DashboardPage
from pages.feedback import DEFAULT_TIMEOUT_MS, ensure_prepared, prepare, timeout_of
from pages.sign_in import SignInPage
from robots.errors import BusinessError, PortalError, SignInError

_start_urls: weakref.WeakKeyDictionary[Page, str] = weakref.WeakKeyDictionary()


def start_url(page: Page) -> str | None:
    """The start URL this page signed in at, if it signed in through `sign_in`."""
    return _start_urls.get(page)


def sign_in(
    page: Page,
    portal_url: str,
    username: str,
    password: str,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> None:
    """Sign in at the start URL (one-step or two-step form); one attempt only.

    Raises SignInError when the portal refuses the credentials (a retry could lock the
    account), PortalError when it does not answer.
    """
    prepare(page, timeout_ms)
    _start_urls[page] = portal_url
    screen = SignInPage(page)
    # `from None` throughout: a chained Playwright error could quote the call that typed
    # the password.
    try:
        screen.open(portal_url)
        if not screen.is_shown():
            return
        screen.sign_in(username, password)
    except BusinessError as refused:
        raise SignInError(f"The portal refused the sign-in: {refused.message}") from None
    except PortalError as failed:
        raise PortalError(f"Signing in failed: {failed.message}") from None
    except PlaywrightError:
        raise PortalError("Signing in failed: the sign-in screen did not respond in time") from None


def ensure_signed_in(page: Page, portal_url: str, username: str, password: str) -> bool:
    """Make sure the admin is signed in, e.g. after SessionExpiredError.

    Returns True when it had to sign in again, False when the session was still alive.
    """
    ensure_prepared(page)
    _start_urls[page] = portal_url
    screen = SignInPage(page)
    try:
        screen.open(portal_url)
    except PlaywrightError:
        raise PortalError("The start page did not load in time") from None
    if DashboardPage(page).is_shown():
        return False
    sign_in(page, portal_url, username, password, timeout_ms=timeout_of(page))
    return True
