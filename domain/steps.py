"""What every business step shares: its outcome, its plan, and the evidence hooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from playwright.sync_api import Page

STEPS = ("create user", "E911 address", "device", "voicemail", "license")

CREATED = "created"
CHANGED = "changed"
ALREADY_DONE = "already done"

CREATE = "create"
CHANGE = "change"
CONFLICT = "conflict"
BLOCKED = "blocked"


@dataclass(frozen=True)
class StepOutcome:
    """What one step did: "created", "changed" or "already done", with the state around it.

    `before` and `after` hold what the step observed; never a password or PIN.
    """

    step: str
    action: str
    before: dict[str, object] = field(default_factory=dict)
    after: dict[str, object] = field(default_factory=dict)
    detail: str = ""


@dataclass(frozen=True)
class StepPlan:
    """What one step would do: "create", "change", "already done", "conflict" or "blocked"."""

    step: str
    action: str
    detail: str = ""


class Witness(Protocol):
    """Evidence hooks: the runner passes a recorder; the default does nothing."""

    def before_write(self, page: Page, step: str, description: str) -> None:
        """Called just before the robot saves anything on the portal."""
        ...

    def after_step(self, page: Page, outcome: StepOutcome) -> None:
        """Called once a step has finished, with what it did."""
        ...

    def secret(self, value: str) -> None:
        """Told a secret the robot came to hold (a generated password), so that evidence
        can be scrubbed of it. Must never record the value itself."""
        ...


class NoWitness:
    """A witness that records nothing."""

    def before_write(self, page: Page, step: str, description: str) -> None:
        """Record nothing."""

    def after_step(self, page: Page, outcome: StepOutcome) -> None:
        """Record nothing."""

    def secret(self, value: str) -> None:
        """Keep nothing."""


class BatchWitness(Protocol):
    """Evidence hooks for one save that serves several users (the licence batch)."""

    def before_write(
        self, page: Page, step: str, description: str, usernames: Sequence[str]
    ) -> None:
        """Called just before the one save that writes for `usernames`."""
        ...

    def after_steps(self, page: Page, outcomes: Mapping[str, StepOutcome]) -> None:
        """Called once the save is done, with what it did for each username."""
        ...


class NoBatchWitness:
    """A batch witness that records nothing."""

    def before_write(
        self, page: Page, step: str, description: str, usernames: Sequence[str]
    ) -> None:
        """Record nothing."""

    def after_steps(self, page: Page, outcomes: Mapping[str, StepOutcome]) -> None:
        """Record nothing."""
