"""What every business step shares: the Step protocol, its outcome and plan, the session it
works in, and the evidence hooks.

A portal lists its steps once, in order (`flows/<portal>/__init__.py`); `apply_steps` and
`plan_steps` are the one loop that runs or plans them, and the runner reads the same list.
A step may be `per_run`: done once per run, after every other step, for all the records
whose earlier steps succeeded (one request to the portal's support naming them all); the
runner calls its `apply_run` or `observe_run`, and the per-record loops pass it by.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from playwright.sync_api import Page
from pydantic import SecretStr

from domain.errors import RobotError

# Nextiva's step names in order (its package lists the steps themselves).
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
    `follow_up`: the robot did all it can and someone else acts next (Support files a
    case); the record still counts as complete, and the admin is shown this line.
    `needs_person`: the robot could not finish and will not guess (an agent who left, a
    request whose answer was lost); the record does not count as complete.
    """

    step: str
    action: str
    before: dict[str, object] = field(default_factory=dict)
    after: dict[str, object] = field(default_factory=dict)
    detail: str = ""
    follow_up: str = ""
    needs_person: bool = False


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


class RunWitness(BatchWitness, Protocol):
    """Evidence hooks of a once-per-run step: a batch witness that also keeps secrets out of
    the evidence and shows the admin what the robot is waiting for."""

    def secret(self, value: str) -> None:
        """Told a secret the step came to hold (an account PIN read from the portal)."""
        ...

    def waiting(self, page: Page, doing: str) -> None:
        """The step waits on someone (an agent to join): shown in progress and captions."""
        ...


@dataclass(frozen=True)
class RunContext:
    """What a once-per-run step knows of its run.

    `run_dir` is the run's evidence folder (a step may write a file there, owner-only);
    `state_dir` outlives runs (a ledger of requests); `admin_username` signed in;
    `admin_email` and `patience_s` are the admin's settings for talking to the portal's
    people; `settings` holds the values of the settings the portal names in
    `PortalKind.run_settings` that were set, each a secret.
    """

    run_id: str
    run_dir: Path
    state_dir: Path
    admin_username: str = ""
    admin_email: str | None = None
    patience_s: float = 600.0
    settings: Mapping[str, SecretStr] = field(default_factory=dict)


@dataclass
class RunOutcome:
    """What a once-per-run step did: outcomes (or errors) by record key, and what the admin
    must read about the run as a whole: `notes` (open requests and their follow-up),
    `texts` (titled texts for the report, such as a chat's transcript) and `files` the
    step wrote into the run folder."""

    done: dict[str, StepOutcome] = field(default_factory=dict)
    errors: dict[str, RobotError] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


@dataclass
class RunPlan:
    """What a once-per-run step would do: plans by record key, and notes on the run."""

    plans: dict[str, StepPlan] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Claims:
    """Run-wide claims on values the portal offers to whoever asks first (free numbers).

    Two workers filling a form for the same area at once are offered the same free values;
    each takes the first that no other worker of the run has claimed, instead of both taking
    the first and one being refused. Shared by every session of a run.
    """

    def __init__(self, normalise: Callable[[str], str] = lambda value: value) -> None:
        self._lock = threading.Lock()
        self._chosen: set[str] = set()
        self._normalise = normalise

    def pick(self, offered: Sequence[str]) -> str:
        """The first offered value nobody in this run has claimed (else the first)."""
        with self._lock:
            for value in offered:
                if self._normalise(value) not in self._chosen:
                    self._chosen.add(self._normalise(value))
                    return value
        return offered[0]


@dataclass
class Session:
    """One signed-in page and what belongs to it, passed explicitly to every step.

    `page` is the browser tab; `shared` is what the run's sessions share (claims on free
    numbers, made once per run by the portal); `notes` is what the last step left open on
    this page, for the next step to continue from (a step writes and reads its own keys;
    it is cleared whenever a step fails, since the screen is then no longer known);
    `start_url` is where the admin signed in, the way back to the portal's first screen.
    """

    page: Page
    shared: Any = None
    notes: dict[str, object] = field(default_factory=dict)
    start_url: str | None = None

    def forget(self) -> None:
        """The screen is no longer known (after an error): nothing is continued from it."""
        self.notes.clear()


R = TypeVar("R")


@dataclass
class BatchOutcome(Generic[R]):
    """What one save for several records did: outcomes by record key, and the records it
    could not serve together, each to be applied on its own."""

    done: dict[str, StepOutcome] = field(default_factory=dict)
    one_by_one: list[R] = field(default_factory=list)


class Step(Protocol[R]):
    """One business step of a portal, as data: the runner and `plan` read only this.

    `observe` looks and says what `apply` would do (it writes nothing); `apply` looks again
    and changes only what differs, so it may be called again after any failure. A step
    with `batch` also has `apply_batch`, one save for several records (the runner gathers
    them when the admin allows batches); an `exclusive` step's screen is used by one worker
    of a run at a time (it saves the state of rows other workers may be changing); a
    `destructive` step removes something, and counts against the deletion guard.
    `blocks_later`: when its plan is "create" or "conflict", the later steps cannot be
    observed yet and are planned as blocked. A `per_run` step is done once per run after
    all the others, through `observe_run` and `apply_run` for every record it applies to
    whose other steps succeeded; `observe` and `apply` are not used for it.
    """

    @property
    def name(self) -> str: ...

    @property
    def batch(self) -> bool: ...

    @property
    def exclusive(self) -> bool: ...

    @property
    def destructive(self) -> bool: ...

    @property
    def blocks_later(self) -> bool: ...

    @property
    def per_run(self) -> bool: ...

    def applies_to(self, record: R) -> bool:
        """Whether this record goes through the step at all."""
        ...

    def observe(self, session: Session, record: R) -> StepPlan:
        """What `apply` would do for `record`. Saves nothing."""
        ...

    def apply(self, session: Session, record: R, witness: Witness) -> StepOutcome:
        """Do the step for `record` (only what differs)."""
        ...

    def apply_batch(
        self, session: Session, records: Sequence[R], witness: BatchWitness
    ) -> BatchOutcome[R]:
        """Do the step for several records with one save (only for `batch` steps)."""
        ...

    def observe_run(self, session: Session, records: Sequence[R], context: RunContext) -> RunPlan:
        """What `apply_run` would do for `records` (only for `per_run` steps). Saves nothing."""
        ...

    def apply_run(
        self, session: Session, records: Sequence[R], witness: RunWitness, context: RunContext
    ) -> RunOutcome:
        """Do the step once for all `records` (only for `per_run` steps)."""
        ...


@dataclass(frozen=True)
class FlowStep(Generic[R]):
    """A `Step` made of a flow's functions: the way a portal package lists its steps."""

    name: str
    observe_with: Callable[[Session, R], StepPlan]
    apply_with: Callable[[Session, R, Witness], StepOutcome]
    when: Callable[[R], bool] | None = None
    batch_with: Callable[[Session, Sequence[R], BatchWitness], BatchOutcome[R]] | None = None
    exclusive: bool = False
    destructive: bool = False
    blocks_later: bool = False

    @property
    def batch(self) -> bool:
        return self.batch_with is not None

    @property
    def per_run(self) -> bool:
        return False

    def applies_to(self, record: R) -> bool:
        return self.when is None or self.when(record)

    def observe(self, session: Session, record: R) -> StepPlan:
        return self.observe_with(session, record)

    def apply(self, session: Session, record: R, witness: Witness) -> StepOutcome:
        return self.apply_with(session, record, witness)

    def apply_batch(
        self, session: Session, records: Sequence[R], witness: BatchWitness
    ) -> BatchOutcome[R]:
        if self.batch_with is None:
            raise TypeError(f"the step {self.name!r} does not batch")
        return self.batch_with(session, records, witness)

    def observe_run(self, session: Session, records: Sequence[R], context: RunContext) -> RunPlan:
        raise TypeError(f"the step {self.name!r} is not once per run")

    def apply_run(
        self, session: Session, records: Sequence[R], witness: RunWitness, context: RunContext
    ) -> RunOutcome:
        raise TypeError(f"the step {self.name!r} is not once per run")


@dataclass(frozen=True)
class FlowRunStep(Generic[R]):
    """A once-per-run `Step` made of a flow's functions: done after every other step, for
    all the records it applies to at once (`per_run`)."""

    name: str
    observe_run_with: Callable[[Session, Sequence[R], RunContext], RunPlan]
    run_with: Callable[[Session, Sequence[R], RunWitness, RunContext], RunOutcome]
    when: Callable[[R], bool] | None = None
    batch: bool = False
    exclusive: bool = False
    destructive: bool = False
    blocks_later: bool = False

    @property
    def per_run(self) -> bool:
        return True

    def applies_to(self, record: R) -> bool:
        return self.when is None or self.when(record)

    def observe(self, session: Session, record: R) -> StepPlan:
        raise TypeError(f"the step {self.name!r} is observed once per run (observe_run)")

    def apply(self, session: Session, record: R, witness: Witness) -> StepOutcome:
        raise TypeError(f"the step {self.name!r} is applied once per run (apply_run)")

    def apply_batch(
        self, session: Session, records: Sequence[R], witness: BatchWitness
    ) -> BatchOutcome[R]:
        raise TypeError(f"the step {self.name!r} does not batch")

    def observe_run(self, session: Session, records: Sequence[R], context: RunContext) -> RunPlan:
        return self.observe_run_with(session, records, context)

    def apply_run(
        self, session: Session, records: Sequence[R], witness: RunWitness, context: RunContext
    ) -> RunOutcome:
        return self.run_with(session, records, witness, context)


StepCall = Callable[[], StepOutcome]
# Runs one step's call (the runner's retries, the stop check); the default calls it once.
Attempt = Callable[["Step[Any]", StepCall], StepOutcome]


def once(_step: Step[Any], call: StepCall) -> StepOutcome:
    """Run the call once: no retry."""
    return call()


def apply_steps(
    steps: Sequence[Step[R]],
    session: Session,
    record: R,
    witness: Witness | None = None,
    *,
    attempt: Attempt = once,
    defer: Callable[[Step[R]], bool] = lambda _step: False,
) -> list[StepOutcome]:
    """Apply every step that applies to `record`, in order; returns what each did.

    Stops at the first step `defer` names (left for a batch): the caller does it and the
    steps after it. Once-per-run steps are passed by (the caller does them for all records
    at the end). Raises the first step's error.
    """
    witness = witness or NoWitness()
    outcomes: list[StepOutcome] = []
    for step in steps:
        if step.per_run or not step.applies_to(record):
            continue
        if defer(step):
            break
        outcomes.append(attempt(step, functools.partial(step.apply, session, record, witness)))
    return outcomes


def plan_steps(steps: Sequence[Step[R]], session: Session, record: R) -> list[StepPlan]:
    """What `apply_steps` would do for `record`, step by step. Observes only.

    After a step that blocks later ones plans "create" or "conflict", the later steps are
    planned as blocked: what they would find does not exist yet. Once-per-run steps are
    passed by (planned by the caller for all records).
    """
    plans: list[StepPlan] = []
    blocked: str | None = None
    for step in steps:
        if step.per_run or not step.applies_to(record):
            continue
        if blocked is not None:
            plans.append(StepPlan(step.name, BLOCKED, blocked))
            continue
        plan = step.observe(session, record)
        plans.append(plan)
        if step.blocks_later and plan.action == CREATE:
            blocked = f"after {step.name}"
        elif step.blocks_later and plan.action == CONFLICT:
            blocked = f"{step.name}: conflict"
    return plans
