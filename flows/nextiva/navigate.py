"""Getting to the screen a step observes, and naming errors by step.

A step goes through the portal's own menus and links, as a person would; no URL but the
start URL is assumed. The menus are on every screen, so a step starts from wherever the
last one ended; only a screen without them (or the very screen a step must load afresh)
sends the robot back to the dashboard at the start URL. A user's page that the robot
loaded itself, with nothing failed since, serves the next step as it is: the session says
so in its notes, which every failure clears.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator

from domain.errors import (
    BusinessError,
    ConflictError,
    PortalError,
    RobotError,
    SessionExpiredError,
)
from domain.nextiva import NewHire
from domain.steps import Session
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


# The session's note of what its page shows of a hire: with no error since, the next step
# observes it instead of going round again.
_SHOWN = "hire shown"


def _shown(session: Session) -> _Shown | None:
    shown = session.notes.get(_SHOWN)
    return shown if isinstance(shown, _Shown) else None


def step_errors(hire: NewHire, step: str, session: Session) -> AbstractContextManager[None]:
    """Name the user and the step in every error raised inside; Playwright's become PortalError.

    After an error the screen on the session's page is no longer taken for what the portal
    holds.
    """
    return named_errors(hire.username, step, session)


@contextmanager
def named_errors(who: str, step: str, session: Session) -> Iterator[None]:
    """`step_errors` for any subject: a user, or several users saved together."""
    try:
        yield
    except RobotError as error:
        session.forget()
        if isinstance(error, BusinessError) and SignInPage(session.page).is_shown():
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
        session.forget()
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PortalError(first_line, user=who, step=step) from error


def go_to_dashboard(session: Session) -> None:
    """Open the dashboard from the start URL (raises SessionExpiredError at the sign-in screen)."""
    page = session.page
    if session.start_url is not None:
        DashboardPage(page).open(session.start_url)
    elif not TopMenu(page).is_shown():
        raise PortalError("the robot is not signed in: no start URL is known for this page")


def menus_at_hand(session: Session, unless_on: Locator) -> None:
    """Make the menus usable: stay on the current screen when it shows them, unless it is
    `unless_on`, a screen the step must load afresh (choosing it from the menus while on it
    need not reload it); otherwise open the dashboard."""
    if unless_on.is_visible() or not TopMenu(session.page).is_shown():
        go_to_dashboard(session)


def open_users_overview(session: Session) -> UsersOverviewPage:
    """Users > Manage Users, freshly loaded."""
    overview = UsersOverviewPage(session.page)
    menus_at_hand(session, overview.heading)
    TopMenu(session.page).open_manage_users()
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


def find_user(session: Session, hire: NewHire) -> tuple[UsersOverviewPage, UserRow | None]:
    """Users Overview, searched for the hire's username; the row with exactly that username."""
    session.notes.pop(_SHOWN, None)
    overview = open_users_overview(session)
    row = overview.find(hire.username)
    if row is not None:
        session.notes[_SHOWN] = _Shown(hire.username, row)
    return overview, row


def open_user_page(session: Session, hire: NewHire) -> UserPage:
    """The hire's own page: the one on screen if the robot loaded it and nothing failed
    since, else opened from their row in Users Overview (the one on screen, likewise, or a
    new search).

    Raises BusinessError when the user does not exist yet, ConflictError when the username
    belongs to someone else.
    """
    user_page = UserPage(session.page, hire.full_name)
    overview = UsersOverviewPage(session.page)
    shown = _shown(session)
    row = None
    if shown is not None and shown.username == hire.username:
        if shown.row is None and user_page.is_shown():
            return user_page
        if shown.row is not None and overview.is_shown() and overview.lists(hire.username):
            row = shown.row
    if row is None:
        overview, row = find_user(session, hire)
    if row is None:
        raise BusinessError(f"User {hire.username} does not exist yet: create user first.")
    if differences(row, hire):
        raise conflict(row, hire)
    overview.open_user(row, hire.full_name)
    remember_user_page(session, hire)
    return user_page


def remember_user_page(session: Session, hire: NewHire) -> None:
    """Note that the session's page now shows the hire's page as the portal holds it (just
    loaded)."""
    session.notes[_SHOWN] = _Shown(hire.username, None)
