"""Signing the admin in to Xima, once per run and again after the portal ends the session.

The password is typed into the portal and nowhere else: no log line, error message or
exception chain carries it, and it is typed only on a page at the start URL's origin
(scheme, host, port). Wrong credentials are a SignInError at once, never typed again: a
retry could lock the account.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from domain.errors import BusinessError, PortalError, SignInError
from domain.origins import origin_of
from pages.xima.answer import DEFAULT_TIMEOUT_MS, prepare
from pages.xima.sign_in import SignInPage


def sign_in(
    page: Page,
    url: str,
    email: str,
    password: str,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> None:
    """Sign in at the start URL `url`; returns on the Users screen.

    Raises SignInError when the portal refuses the credentials or the sign-in screen is at
    another origin than `url`'s, PortalError when the portal does not answer.
    """
    prepare(page, timeout_ms)
    trusted = origin_of(url)
    if not trusted:
        raise SignInError(f"the start URL {url.split('?')[0][:100]!r} has no web origin")
    screen = SignInPage(page)
    # `from None` throughout: a chained Playwright error could quote the call that typed
    # the password.
    try:
        screen.open(url)
        if not screen.is_shown():
            return  # still signed in: the start URL opened Users
        screen.sign_in(email, password, trusted)
    except SignInError as untrusted:
        raise SignInError(f"Signing in stopped: {untrusted.message}") from None
    except BusinessError as refused:
        raise SignInError(f"The portal refused the sign-in: {refused.message}") from None
    except PortalError as failed:
        raise PortalError(f"Signing in failed: {failed.message}") from None
    except PlaywrightError:
        raise PortalError("Signing in failed: the sign-in screen did not respond in time") from None


def ensure_signed_in(
    page: Page, url: str, email: str, password: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> bool:
    """Make sure the admin is signed in (after a SessionExpiredError, say).

    Returns True when it had to sign in again, False when the session was still alive.
    """
    prepare(page, timeout_ms)
    screen = SignInPage(page)
    try:
        screen.open(url)
    except PlaywrightError:
        raise PortalError("The start page did not load in time") from None
    if not screen.is_shown():
        return False
    sign_in(page, url, email, password, timeout_ms=timeout_ms)
    return True
