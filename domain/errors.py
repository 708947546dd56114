"""The robot's error hierarchy: business errors are permanent, portal errors are transient.

A `BusinessError` (username taken, no seats, a roster row the portal would refuse) is
reported to the admin and never retried. A `PortalError` (timeout, HTTP 5xx, an expired
session) is retried after the robot has observed the portal again.
"""

from __future__ import annotations


class RobotError(Exception):
    """Base of every error the robot raises on purpose."""

    def __init__(self, message: str, *, user: str | None = None, step: str | None = None) -> None:
        self.message = message
        self.user = user
        self.step = step
        super().__init__(self._render())

    def _render(self) -> str:
        where = " / ".join(part for part in (self.user, self.step) if part)
        return f"{where}: {self.message}" if where else self.message


class BusinessError(RobotError):
    """The portal (or the roster) refuses this user: permanent, not retried."""


class ConflictError(BusinessError):
    """The username exists but belongs to someone else: reported, never overwritten."""


class PortalError(RobotError):
    """A transient failure of the portal: timeout, HTTP 5xx, endless spinner. Retried."""


class SessionExpiredError(PortalError):
    """The portal sent the robot back to sign-in; sign in again and redo the step."""


class SignInError(RobotError):
    """The portal refused the admin's credentials. Never retried: it could lock the account."""


class SetupError(RobotError):
    """The run cannot start: missing settings, no browser, unreadable roster file."""
