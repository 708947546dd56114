"""The witness: what feeds each step's events to the evidence recorder and the captions.

A flow calls `before_write` just before it saves and `after_step` when a step is done; the
witness takes the screenshots, writes the audit lines, updates the user's result and tells
the progress display. `BatchStepWitness` does the same for one save made for several users, and
`RunStepWitness` for a once-per-run step (which also keeps secrets and says what it waits for).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from playwright.sync_api import Page

from domain.steps import StepOutcome
from robots.evidence import AuditEvent, EvidenceRecorder, elapsed_ms
from robots.narrator import Narrator
from robots.results import UserResult

ProgressHook = Callable[[UserResult, str], None]


class UserWitness:
    """Feeds one user's step events to the evidence recorder (the flows' Witness)."""

    def __init__(
        self,
        recorder: EvidenceRecorder,
        result: UserResult,
        *,
        progress: ProgressHook = lambda _user, _what: None,
        narrator: Narrator | None = None,
    ) -> None:
        self._recorder = recorder
        self._result = result
        self._narrator = narrator or Narrator(enabled=False)
        self._progress = progress
        self._step_started = time.monotonic()

    def before_write(self, page: Page, step: str, description: str) -> None:
        self._narrator.caption(page, f"{self._result.name}: {step}: saving ({description})")
        shot = self._recorder.screenshot(page, self._result.username, f"before {step}")
        self.record_write(step, description, shot)

    def after_step(self, page: Page, outcome: StepOutcome) -> None:
        shot = self._recorder.screenshot(page, self._result.username, outcome.step)
        self.record_step(outcome, shot)
        self._narrator.caption(page, f"{self._result.name}: {outcome.step}: {outcome.action}")

    def secret(self, value: str) -> None:
        self._recorder.redactor.add(value)

    def record_write(self, step: str, description: str, shot: str | None) -> None:
        """The audit line of a save about to happen, with the screenshot taken for it."""
        self._recorder.record(
            AuditEvent(
                user=self._result.username,
                step=step,
                action="about to write",
                outcome="pending",
                detail=description,
                screenshot=shot,
            )
        )

    def record_step(self, outcome: StepOutcome, shot: str | None, *, detail: str = "") -> None:
        """The audit line of a finished step, and the user's result and progress."""
        self._recorder.record(
            AuditEvent(
                user=self._result.username,
                step=outcome.step,
                action=outcome.action,
                outcome="ok",
                before=outcome.before,
                after=outcome.after,
                detail=detail or outcome.detail,
                duration_ms=elapsed_ms(self._step_started),
                screenshot=shot,
            )
        )
        self._result.outcomes.append(outcome)
        self._result.screenshot = shot
        self._step_started = time.monotonic()
        self._progress(self._result, f"step {outcome.step}: {outcome.action}")


class BatchStepWitness:
    """Feeds one save made for several users to the evidence (the flows' BatchWitness).

    One screenshot serves them all: each user's audit lines point to the same file.
    """

    def __init__(
        self,
        recorder: EvidenceRecorder,
        users: Mapping[str, UserWitness],
        step: str,
        *,
        narrator: Narrator | None = None,
    ) -> None:
        self._recorder = recorder
        self._users = users
        self._step = step
        self._narrator = narrator or Narrator(enabled=False)

    def before_write(
        self, page: Page, step: str, description: str, usernames: Sequence[str]
    ) -> None:
        self._narrator.caption(page, f"{len(usernames)} users: {step}: saving ({description})")
        shot = self._recorder.screenshot(page, "batch", f"before {step}")
        for username in usernames:
            self._users[username].record_write(step, description, shot)

    def after_steps(self, page: Page, outcomes: Mapping[str, StepOutcome]) -> None:
        shot = self._recorder.screenshot(page, "batch", self._step)
        for username, outcome in outcomes.items():
            detail = f"one Save for {len(self._users)} users"
            self._users[username].record_step(outcome, shot, detail=detail)
        self._narrator.caption(page, f"{len(outcomes)} users: {self._step}: done")


class RunStepWitness(BatchStepWitness):
    """Feeds a once-per-run step's events to the evidence (the flows' RunWitness): each
    user's audit line carries the step's own detail; what the robot waits for is shown in
    the progress display, the captions of a headed run and, once per kind of wait, the log."""

    def __init__(
        self,
        recorder: EvidenceRecorder,
        users: Mapping[str, UserWitness],
        step: str,
        *,
        narrator: Narrator | None = None,
        waiting: Callable[[str], None] = lambda _doing: None,
    ) -> None:
        super().__init__(recorder, users, step, narrator=narrator)
        self._waiting = waiting

    def after_steps(self, page: Page, outcomes: Mapping[str, StepOutcome]) -> None:
        shot = self._recorder.screenshot(page, "run", self._step)
        for username, outcome in outcomes.items():
            if username in self._users:
                self._users[username].record_step(outcome, shot)
        self._narrator.caption(page, f"{len(outcomes)} users: {self._step}: done")

    def secret(self, value: str) -> None:
        self._recorder.redactor.add(value)

    def waiting(self, page: Page, doing: str) -> None:
        self._narrator.caption(page, f"{len(self._users)} users: {self._step}: {doing}")
        self._waiting(doing)
