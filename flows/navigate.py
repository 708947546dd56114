"""Getting from the start URL to the screen a step observes, and naming errors by step.

Every step starts from the dashboard (the start URL) and goes on through the portal's own
menus and links, as a person would; no other URL is assumed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from flows.session import start_url
from pages.dashboard import DashboardPage
from pages.feedback import ensure_prepared
from pages.top_menu import TopMenu
from pages.user_page import UserPage
from pages.users_overview import UserRow, UsersOverviewPage
from robots.errors import BusinessError, ConflictError, PortalError, RobotError
from robots.hire import NewHire


@contextmanager
def step_errors(hire: NewHire, step: str) -> Iterator[None]:
    """Name the user and the step in every error raised inside; Playwright's become PortalError."""
    try:
        yield
    except RobotError as error:
        if error.user and error.step:
            raise
        raise type(error)(error.message, user=hire.username, step=step) from error
    except PlaywrightError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PortalError(first_line, user=hire.username, step=step) from error


def go_to_dashboard(page: Page) -> None:
    """Open the dashboard from the start URL (raises SessionExpiredError at the sign-in screen)."""
    ensure_prepared(page)
    url = start_url(page)
    if url is not None:
        DashboardPage(page).open(url)
    elif not TopMenu(page).is_shown():
        raise PortalError("the robot is not signed in: no start URL is known for this page")


def open_users_overview(page: Page) -> UsersOverviewPage:
    """Dashboard > Users > Manage Users."""
    go_to_dashboard(page)
    TopMenu(page).open_manage_users()
    return UsersOverviewPage(page)


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
    overview = open_users_overview(page)
    return overview, overview.find(hire.username)


def open_user_page(page: Page, hire: NewHire) -> UserPage:
    """The hire's own page, reached through Users Overview.

    Raises BusinessError when the user does not exist yet, ConflictError when the username
    belongs to someone else.
    """
    overview, row = find_user(page, hire)
    if row is None:
        raise BusinessError(f"User {hire.username} does not exist yet: create user first.")
    if differences(row, hire):
        raise conflict(row, hire)
    overview.open_user(row, hire.full_name)
    return UserPage(page, hire.full_name)
