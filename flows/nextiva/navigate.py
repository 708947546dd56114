"""Getting to the screen a step observes, and naming errors by step.

A step goes through the portal's own menus and links, as a person would; no URL but the
start URL is assumed. The menus are on every screen, so a step starts from wherever the
last one ended; only a screen without them (or the very screen a step must load afresh)
sends the robot back to the dashboard at the start URL. A user's page that the robot
loaded itself, with nothing failed since, serves the next step as it is.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from domain.errors import (
    BusinessError,
    ConflictError,
    PortalError,
    RobotError,
    SessionExpiredError,
)
from domain.nextiva import NewHire
from flows.nextiva.session import start_url
from pages.feedback import ensure_prepared
from pages.nextiva.dashboard import DashboardPage
from pages.nextiva.sign_in import SignInPage
from pages.nextiva.top_menu import TopMenu
from pages.nextiva.user_page import UserPage
from pages.nextiva.users_overview import UserRow, UsersOverviewPage


@dataclass(frozen=True)
class _Shown:
    """What a page shows of a hire, as the robot loaded it (or saved on it since)."""

    username: str
    row: UserRow | None  # their row in a Users Overview search; None: their own page


# With no error since, the next step observes what a page shows instead of going round again.
_shown: weakref.WeakKeyDictionary[Page, _Shown] = weakref.WeakKeyDictionary()


def step_errors(hire: NewHire, step: str, page: Page | None = None) -> AbstractContextManager[None]:
    """Name the user and the step in every error raised inside; Playwright's become PortalError.

    After an error the screen on `page` is no longer taken for what the portal holds.
    """
    return named_errors(hire.username, step, page)


@contextmanager
def named_errors(who: str, step: str, page: Page | None = None) -> Iterator[None]:
    """`step_errors` for any subject: a user, or several users saved together."""
    try:
        yield
    except RobotError as error:
        _forget_screen(page)
        if isinstance(error, BusinessError) and page is not None and SignInPage(page).is_shown():
            # What looked like a refusal (a search listing nobody, say) happened because the
            # portal had ended the session: transient, to be signed in again and retried.
            raise SessionExpiredError(
                f"the session expired during this step ({error.message})",
                user=who,
                step=step,
            ) from error
        if error.user and error.step:
            raise
        raise type(error)(error.message, user=who, step=step) from error
    except PlaywrightError as error:
        _forget_screen(page)
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PortalError(first_line, user=who, step=step) from error


def _forget_screen(page: Page | None) -> None:
    if page is not None:
        _shown.pop(page, None)


def go_to_dashboard(page: Page) -> None:
    """Open the dashboard from the start URL (raises SessionExpiredError at the sign-in screen)."""
    ensure_prepared(page)
    url = start_url(page)
    if url is not None:
        DashboardPage(page).open(url)
    elif not TopMenu(page).is_shown():
        raise PortalError("the robot is not signed in: no start URL is known for this page")


def menus_at_hand(page: Page, unless_on: Locator) -> None:
    """Make the menus usable: stay on the current screen when it shows them, unless it is
    `unless_on`, a screen the step must load afresh (choosing it from the menus while on it
    need not reload it); otherwise open the dashboard."""
    ensure_prepared(page)
    if unless_on.is_visible() or not TopMenu(page).is_shown():
        go_to_dashboard(page)


def open_users_overview(page: Page) -> UsersOverviewPage:
    """Users > Manage Users, freshly loaded."""
    overview = UsersOverviewPage(page)
    menus_at_hand(page, overview.heading)
    TopMenu(page).open_manage_users()
    return overview


def _words(name: str) -> list[str]:
    return sorted(re.sub(r"[,\s]+", " ", name).casefold().split())


def differences(row: UserRow, hire: NewHire) -> list[str]:
    """How the listed user differs from the hire in name or email (empty: same person)."""
    found = []
    if _words(row.name) != _words(hire.full_name):
        found.append(f"name {row.name!r} (roster: {hire.full_name!r})")
    if row.email.strip().casefold() != str(hire.email).casefold():
        found.append(f"email {row.email!r} (roster: {hire.email!r})")
    return found


def conflict(row: UserRow, hire: NewHire) -> ConflictError:
    """The error for a username that belongs to someone else."""
    return ConflictError(
        f"Username {hire.username} already belongs to someone else: "
        + "; ".join(differences(row, hire))
        + ". The existing user was left unchanged."
    )


def find_user(page: Page, hire: NewHire) -> tuple[UsersOverviewPage, UserRow | None]:
    """Users Overview, searched for the hire's username; the row with exactly that username."""
    _shown.pop(page, None)
    overview = open_users_overview(page)
    row = overview.find(hire.username)
    if row is not None:
        _shown[page] = _Shown(hire.username, row)
    return overview, row


def open_user_page(page: Page, hire: NewHire) -> UserPage:
    """The hire's own page: the one on screen if the robot loaded it and nothing failed
    since, else opened from their row in Users Overview (the one on screen, likewise, or a
    new search).

    Raises BusinessError when the user does not exist yet, ConflictError when the username
    belongs to someone else.
    """
    user_page = UserPage(page, hire.full_name)
    overview = UsersOverviewPage(page)
    shown = _shown.get(page)
    row = None
    if shown is not None and shown.username == hire.username:
        if shown.row is None and user_page.is_shown():
            return user_page
        if shown.row is not None and overview.is_shown() and overview.lists(hire.username):
            row = shown.row
    if row is None:
        overview, row = find_user(page, hire)
    if row is None:
        raise BusinessError(f"User {hire.username} does not exist yet: create user first.")
    if differences(row, hire):
        raise conflict(row, hire)
    overview.open_user(row, hire.full_name)
    remember_user_page(page, hire)
    return user_page


def remember_user_page(page: Page, hire: NewHire) -> None:
    """Note that `page` now shows the hire's page as the portal holds it (just loaded)."""
    _shown[page] = _Shown(hire.username, None)
