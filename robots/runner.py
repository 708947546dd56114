"""The run loop: sign in, then every roster entry through its portal's steps (or planned).

The loop knows no step by name: it reads the portal's list (`PortalKind.steps`). A user's
failure never stops the others: a business error is reported with the portal's own words;
a transient one is retried from observation (robots/retry.py) and, after a session expiry,
the robot signs in again first. Wrong admin credentials stop the whole run after one
attempt, as does a portal that keeps failing for several users in a row.

A step that batches (`Step.batch`) is left for the worker's batch: each worker does the
earlier steps for up to `batch_size` users, then the batch step for all of them with one
save, then the later steps. An `exclusive` step is done by one worker of the run at a time.
A once-per-run step (`Step.per_run`) is done last, by the last worker still going, once for
all the users it applies to whose other steps succeeded (planned, in a plan).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from playwright.sync_api import Error as PlaywrightError
from tenacity import Retrying

from domain.errors import (
    BusinessError,
    ConflictError,
    PortalError,
    RobotError,
    SetupError,
    SignInError,
)
from domain.portal import PortalKind
from domain.steps import (
    BLOCKED,
    CONFLICT,
    RunContext,
    RunOutcome,
    Session,
    Step,
    StepCall,
    StepOutcome,
    StepPlan,
    apply_steps,
    plan_steps,
)
from robots.evidence import (
    AuditEvent,
    EvidenceRecorder,
    Redactor,
    elapsed_ms,
    sha256_file,
    signing_key,
)
from robots.guard import DeletionGuard
from robots.lock import run_lock
from robots.narrator import Narrator
from robots.pool import run_workers
from robots.results import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_NOT_STARTED,
    EXIT_OK,
    NEEDS_PERSON,
    NOT_DONE,
    RunResult,
    UserResult,
    make_run_dir,
    new_run_id,
    write_summary,
)
from robots.retry import RetryPolicy
from robots.roster import RosterEntry
from robots.settings import Settings
from robots.startup import Browser, WarmBrowser, lend_browser, start_browser
from robots.witness import BatchStepWitness, ProgressHook, RunStepWitness, UserWitness

__all__ = [
    "EXIT_FAILURES",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_STARTED",
    "EXIT_OK",
    "RunOptions",
    "RunResult",
    "Runner",
    "UserResult",
    "write_summary",
]

log = structlog.get_logger("onboard")


@dataclass
class RunOptions:
    headed: bool = False
    slow_mo: float = 0
    only: Sequence[str] = ()
    trace: str = "retain-on-failure"  # "on" | "off" | "retain-on-failure"
    workers: int = 1
    # Users per save of a step that batches (Nextiva's licence); 1: one at a time.
    license_batch: int = 10
    screenshots: bool = True
    breaker_threshold: int = 3
    # Deletions the admin allowed by number, past the deletion guard's limit.
    allow_deletes: int | None = None


class RunInterruptedError(RobotError):
    """The admin or the system asked the run to stop; raised between two steps."""


@dataclass
class _Deferred:
    """A user whose steps before the batch step are done, waiting for their worker's batch."""

    entry: RosterEntry
    user: UserResult


@dataclass
class _Worker:
    """One worker's browser and signed-in session."""

    browser: Browser
    session: Session


@dataclass
class _RunState:
    """What the workers of one run share."""

    result: RunResult
    recorder: EvidenceRecorder
    mode: str
    jobs: queue.SimpleQueue[tuple[RosterEntry, UserResult]]
    entries: Sequence[RosterEntry]
    portal_shared: Any = None
    first_signed_in: threading.Event = field(default_factory=threading.Event)
    portal_failures_in_a_row: int = 0
    # What the portal's dropdowns and lists offer, read once by the first worker.
    offered: Any = None
    # Users whose deletion the guard refused: their reason.
    guarded: dict[str, str] = field(default_factory=dict)
    # Each entry with its result, in roster order (for the once-per-run steps).
    pairs: list[tuple[RosterEntry, UserResult]] = field(default_factory=list)
    # Workers still taking users: the last one out does the once-per-run steps.
    workers_left: int = 1
    per_run_done: bool = False


class Runner:
    """Drives one run of one kind of portal: sign in once per worker, then each entry."""

    def __init__(
        self,
        settings: Settings,
        options: RunOptions,
        kind: PortalKind | None = None,
        *,
        progress: ProgressHook | None = None,
        warm: WarmBrowser | None = None,
    ) -> None:
        if warm is not None and options.workers != 1:
            raise ValueError("a warm browser serves a run of one worker")
        if kind is None:
            from robots.portals import portal_kind

            kind = portal_kind(settings.portal_kind)
        self.settings = settings
        self.options = options
        self.kind = kind
        self.progress = progress or (lambda _user, _what: None)
        # A fleet worker's browser, open and signed in between its jobs (robots/fleet.py).
        self.warm = warm
        self.redactor = Redactor([settings.portal_password.get_secret_value()])
        key = settings.evidence_key
        self.evidence_key = signing_key(key.get_secret_value() if key else None)
        self.interrupted = False
        self._counting = threading.Lock()
        # One lock per exclusive step: its screen is used by one worker at a time.
        self._exclusive = {step.name: threading.Lock() for step in kind.steps if step.exclusive}
        self._retry = RetryPolicy(settings, kind, self.redactor, self._counting)
        self.narrator = Narrator(enabled=options.headed)
        self.guard = DeletionGuard(
            max_users=settings.delete_guard_users,
            max_percent=settings.delete_guard_percent,
            allowed=options.allow_deletes,
        )
        # Each worker thread's browser; the retry hook pauses its trace around a sign-in.
        self._local = threading.local()

    # -- public -----------------------------------------------------------------
    def run(self, entries: Sequence[RosterEntry], *, mode: str = "run") -> RunResult:
        """Do (or, with mode="plan", only observe) the entries. Raises SetupError when
        another run holds the lock; everything after that ends in the returned result."""
        run_id = new_run_id()
        recordings = Path(self.settings.recordings_dir)
        with run_lock(recordings, run_id):
            return self._run(entries, mode, run_id, make_run_dir(recordings, run_id))

    def _key(self, entry: RosterEntry) -> str:
        return self.kind.key(entry.record)

    def _run(
        self, entries: Sequence[RosterEntry], mode: str, run_id: str, run_dir: Path
    ) -> RunResult:
        result = RunResult(
            run_id=run_id,
            run_dir=run_dir,
            mode=mode,
            kind=self.kind.name,
            portal_url=self.settings.portal_url,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        # A record's secrets (a voicemail PIN) are scrubbed from every artifact from the
        # start: before any step could quote one in an error.
        for entry in entries:
            for secret in self.kind.secrets(entry.record):
                self.redactor.add(secret)
        for value in self.settings.run_settings.values():
            self.redactor.add(value.get_secret_value())
        recorder = EvidenceRecorder(
            run_dir,
            run_id,
            self.redactor,
            screenshots=self.options.screenshots,
            hide_narration=self.narrator.enabled,
            key=self.evidence_key,
        )
        only = {name.casefold() for name in self.options.only}
        wanted = [e for e in entries if not only or self._key(e).casefold() in only]
        jobs: queue.SimpleQueue[tuple[RosterEntry, UserResult]] = queue.SimpleQueue()
        pairs = []
        for entry in wanted:
            user = UserResult(
                row=entry.row, username=self._key(entry), name=self.kind.display(entry.record)
            )
            result.users.append(user)
            jobs.put((entry, user))
            pairs.append((entry, user))
        workers = max(1, min(self.options.workers, len(wanted)))
        shared = _RunState(
            result=result,
            recorder=recorder,
            mode=mode,
            jobs=jobs,
            entries=wanted,
            portal_shared=self.kind.shared(),
            pairs=pairs,
            workers_left=workers,
        )
        try:
            run_workers(lambda first: self._worker(shared, first=first), workers)
            if not shared.per_run_done:
                # The last worker out had lost its browser or session.
                self._per_run_undone(shared)
        except KeyboardInterrupt:
            result.stopped = "interrupted"
        finally:
            for user in result.users:
                if user.status == "pending":
                    user.status = "skipped"
                    user.error = f"the run stopped before this user: {result.stopped}"
            result.finished = datetime.now(UTC).isoformat(timespec="seconds")
            result.audit = recorder.head
            recorder.close()
        return result

    # -- browser and session ------------------------------------------------------
    def _browser(self) -> Browser | None:
        browser: Browser | None = getattr(self._local, "browser", None)
        return browser

    @contextmanager
    def _untraced(self) -> Iterator[None]:
        """Keep a sign-in (the password typed, the new session cookie) out of every trace."""
        browser = self._browser()
        if browser is None:
            yield
            return
        with browser.tracer.paused():
            yield

    def _retrying(self, session: Session, who: str, result: RunResult) -> Retrying:
        return self._retry.retrying(session.page, who, result, self._untraced)

    def _open_browser(self, result: RunResult) -> AbstractContextManager[Browser]:
        if self.warm is not None:
            return lend_browser(
                self.warm, trace=self.options.trace, run_dir=result.run_dir, redactor=self.redactor
            )
        return start_browser(
            headed=self.options.headed,
            slow_mo=self.options.slow_mo,
            trace=self.options.trace,
            run_dir=result.run_dir,
            redactor=self.redactor,
            narrator=self.narrator,
        )

    def _start_session(self, session: Session, result: RunResult) -> None:
        """Sign in; on a warm browser, only when its session has ended since."""
        warm = self.warm
        if warm is None or not warm.signed_in:
            if warm is not None:
                # From the first keystroke the portal may hold a session, even if signing
                # in fails after: the worker then signs out before it frees the session.
                warm.signed_in = True
            self._sign_in(session, result)
        elif self._retry.sign_in_again(session.page):
            with self._counting:
                result.sign_ins += 1
                result.re_sign_ins += 1

    def _sign_in(self, session: Session, result: RunResult) -> None:
        settings = self.settings
        self.kind.sign_in(
            session.page,
            settings.portal_url,
            settings.portal_username,
            settings.portal_password.get_secret_value(),
            timeout_ms=settings.step_timeout_ms,
            sso_origins=tuple(settings.sso_origin_list),
        )
        with self._counting:
            result.sign_ins += 1
        log.info("signed in", portal=settings.portal_url, kind=self.kind.name)

    def _offered(self, session: Session, result: RunResult) -> Any:
        """What the portal offers: as the warm browser last read it, else read now."""
        kept = self.warm.fresh_offered() if self.warm is not None else None
        if kept is not None:
            return kept
        offered = self._read_offered(session, result)
        if self.warm is not None and offered is not None:
            self.warm.keep_offered(offered)
        return offered

    def _read_offered(self, session: Session, result: RunResult) -> Any:
        """What the portal offers, read once per run (None, and a warning, if it cannot be
        read: each dropdown then still refuses a value it lacks, at the user's step)."""
        if self.kind.read_options is None:
            return None
        try:
            for trial in self._retrying(session, "portal", result):
                with trial:
                    return self.kind.read_options(session)
        except (PortalError, PlaywrightError) as error:
            log.warning("the portal's options could not be read", error=str(error))
        return None

    def _check_deletions(self, session: Session, shared: _RunState) -> None:
        """The deletion guard, once per run before any user: refuse every deletion of a
        roster that deletes too many, or note (in a plan) that a run would."""
        destructive = [step for step in self.kind.steps if step.destructive]
        deleting = [
            entry
            for entry in shared.entries
            if any(step.applies_to(entry.record) for step in destructive)
        ]
        if not deleting:
            return
        size: int | None = None
        if self.kind.account_size is not None:
            try:
                for trial in self._retrying(session, "portal", shared.result):
                    with trial:
                        size = self.kind.account_size(session)
            except (PortalError, PlaywrightError) as error:
                log.warning("the account's users could not be counted", error=str(error))
        refusal = self.guard.refusal(len(deleting), size)
        if refusal is None:
            return
        if shared.mode == "plan":
            shared.result.notes.append(f"a run would refuse: {refusal}")
            return
        shared.result.notes.append(refusal)
        for entry in deleting:
            shared.guarded[self._key(entry)] = refusal

    # -- users -----------------------------------------------------------------
    def _worker(self, shared: _RunState, *, first: bool = False) -> None:
        """Take users from the queue until it is empty or the run stops."""
        result = shared.result
        left = False
        try:
            with self._open_browser(result) as browser:
                self._local.browser = browser
                page = self.warm.page if self.warm else browser.context.new_page()
                page.set_default_timeout(self.settings.step_timeout_ms)
                session = Session(
                    page, shared=shared.portal_shared, start_url=self.settings.portal_url
                )
                worker = _Worker(browser, session)
                if not first:
                    shared.first_signed_in.wait()
                if first or not result.stopped:
                    self._start_session(worker.session, result)
                if first:
                    shared.offered = self._offered(worker.session, result)
                    self._check_deletions(worker.session, shared)
                    shared.first_signed_in.set()
                self._take_jobs(worker, shared)
                left = True
                if self._leave(shared):
                    self._per_run(worker, shared)
        except (SignInError, SetupError, PortalError) as error:
            # PortalError here can only come from signing in: users catch their own.
            result.stopped = self.redactor.text(str(error))
            result.not_started = first and result.sign_ins == 0
        except PlaywrightError as error:
            result.stopped = self.redactor.text(f"the browser failed: {error.message}")
            result.not_started = first and result.sign_ins == 0
        finally:
            self._local.browser = None
            if not left:
                self._leave(shared)
            if first:  # signed in or failed: either way the others may go on
                shared.first_signed_in.set()

    def _leave(self, shared: _RunState) -> bool:
        """A worker has no more users to take; True for the last one."""
        with self._counting:
            shared.workers_left -= 1
            return shared.workers_left == 0

    def _batch_step(self) -> Step[Any] | None:
        """The step left for the worker's batch, if batches are on."""
        if self.options.license_batch <= 1:
            return None
        return next((step for step in self.kind.steps if step.batch), None)

    def _take_jobs(self, worker: _Worker, shared: _RunState) -> None:
        result = shared.result
        batch_step = self._batch_step()
        waiting: list[_Deferred] = []
        try:
            while not result.stopped:
                try:
                    entry, user = shared.jobs.get_nowait()
                except queue.Empty:
                    break
                deferred = self._one_user(worker, entry, user, shared, batch_step)
                if deferred is not None:
                    waiting.append(deferred)
                if batch_step is not None and len(waiting) >= self.options.license_batch:
                    self._batch(worker, batch_step, waiting, shared)
                    waiting = []
            if waiting and batch_step is not None:
                self._batch(worker, batch_step, waiting, shared)
                waiting = []
        finally:
            for deferred in waiting:  # the browser failed before their batch
                self._unfinished(deferred.user, shared, batch_step)

    def _one_user(
        self,
        worker: _Worker,
        entry: RosterEntry,
        user: UserResult,
        shared: _RunState,
        batch_step: Step[Any] | None,
    ) -> _Deferred | None:
        """Do (or plan) one user. Returns them when the batch step is next for them, for the
        worker's next batch; otherwise they are finished."""
        result = shared.result
        if self.interrupted:
            result.stopped = "interrupted"
            return None
        problems: list[str] = []
        if shared.offered is not None and self.kind.unoffered is not None:
            problems = self.kind.unoffered(entry.record, shared.offered)
        if problems:
            reason = "; ".join(f"row {entry.row}, {p}" for p in problems)
            self._refuse(user, reason, self.kind.first_step, shared)
            return None
        if user.username in shared.guarded:
            step = next((s.name for s in self.kind.steps if s.destructive), "")
            self._refuse(user, shared.guarded[user.username], step, shared)
            return None
        self.progress(user, "starting")
        started = time.monotonic()
        browser = worker.browser
        browser.tracer.begin(user.username)
        deferred = None
        if shared.mode == "plan":
            self._plan_one(worker.session, entry, user, result)
        else:
            defer = batch_step is not None and batch_step.applies_to(entry.record)
            if self._apply(worker, entry, user, shared, until=batch_step if defer else None):
                deferred = _Deferred(entry, user)
        user.duration_ms = elapsed_ms(started)
        if self.interrupted:
            result.stopped = "interrupted"
        self._finish_trace(browser, user.username, [user])
        if deferred is None:
            self._settle(user, shared)
        return deferred

    def _refuse(self, user: UserResult, reason: str, step: str, shared: _RunState) -> None:
        """Refuse a user before any write (a value the portal lacks, a guarded deletion)."""
        user.status, user.error_kind = "refused", "business"
        user.error = self.redactor.text(reason)
        shared.recorder.record(
            AuditEvent(
                user=user.username,
                step=step,
                action="stopped",
                outcome="refused",
                detail=user.error,
            )
        )
        self._settle(user, shared)

    def _attempt(self, session: Session, user: UserResult, result: RunResult) -> Any:
        """How one step runs: not after a stop request, alone if exclusive, retried."""

        def attempt(step: Step[Any], call: StepCall) -> StepOutcome:
            # Checked between steps: a step under way finishes, a user whose last step
            # finished is complete, and nothing new starts once a stop was asked for.
            if self.interrupted:
                raise RunInterruptedError(
                    f"stopped on request before {step.name}", user=user.username
                )
            for trial in self._retrying(session, user.username, result):
                with trial, self._alone(step):
                    user.attempts += 1
                    try:
                        outcome = call()
                    except (RobotError, PlaywrightError):
                        session.forget()
                        raise
            return outcome

        return attempt

    def _alone(self, step: Step[Any]) -> AbstractContextManager[object]:
        lock = self._exclusive.get(step.name)
        return lock if lock is not None else contextlib.nullcontext()

    def _apply(
        self,
        worker: _Worker,
        entry: RosterEntry,
        user: UserResult,
        shared: _RunState,
        *,
        until: Step[Any] | None = None,
        steps: Sequence[Step[Any]] | None = None,
    ) -> bool:
        """Run the user's steps (`steps`, default all); True when stopped at `until`, the
        batch step, with every earlier step done."""
        session = worker.session
        witness = UserWitness(shared.recorder, user, progress=self.progress, narrator=self.narrator)
        self.narrator.caption(session.page, f"{user.name} ({user.username}): starting")
        try:
            apply_steps(
                self.kind.steps if steps is None else steps,
                session,
                entry.record,
                witness,
                attempt=self._attempt(session, user, shared.result),
                defer=lambda step: step is until,
            )
            if until is not None:
                return True
            user.status = "complete"
        except RunInterruptedError as error:
            user.status, user.error = "interrupted", str(error)
        except ConflictError as error:
            self._failed(session, user, shared.recorder, "conflict", "business", error)
        except BusinessError as error:
            self._failed(session, user, shared.recorder, "refused", "business", error)
        except SignInError:
            raise
        except (PortalError, PlaywrightError) as error:
            self._failed(session, user, shared.recorder, "failed", "portal", error)
        return False

    def _batch(
        self, worker: _Worker, step: Step[Any], waiting: Sequence[_Deferred], shared: _RunState
    ) -> None:
        """One save of the batch step for the waiting users, then their later steps. A user
        the batch cannot serve is done on their own.

        A stop request still lets this save happen: it is the step the waiting users' other
        steps led up to. A run stopped for a failing portal leaves it undone."""
        result = shared.result
        if result.stopped and not self.interrupted:
            for deferred in waiting:
                self._unfinished(deferred.user, shared, step)
            return
        started = time.monotonic()
        worker.browser.tracer.begin(f"{step.name} batch")
        session, recorder = worker.session, shared.recorder
        users = {deferred.user.username: deferred for deferred in waiting}
        witnesses = {
            name: UserWitness(recorder, d.user, progress=self.progress, narrator=self.narrator)
            for name, d in users.items()
        }
        witness = BatchStepWitness(recorder, witnesses, step.name, narrator=self.narrator)
        who = ", ".join(users)
        later = list(self.kind.steps)[list(self.kind.steps).index(step) + 1 :]
        alone: list[_Deferred] = []
        try:
            for trial in self._retrying(session, who, result):
                with trial, self._alone(step):
                    for deferred in waiting:
                        deferred.user.attempts += 1
                    try:
                        batch = step.apply_batch(
                            session, [d.entry.record for d in waiting], witness
                        )
                    except (RobotError, PlaywrightError):
                        session.forget()
                        raise
        except BusinessError as error:
            for deferred in waiting:
                self._failed(session, deferred.user, recorder, "refused", "business", error)
        except (PortalError, PlaywrightError) as error:
            for deferred in waiting:
                self._failed(session, deferred.user, recorder, "failed", "portal", error)
        else:
            by_key = {self.kind.key(record) for record in batch.one_by_one}
            for deferred in waiting:
                if deferred.user.username in by_key:
                    alone.append(deferred)
                elif deferred.user.username in batch.done:
                    if not later:
                        deferred.user.status = "complete"
                    else:
                        self._apply(worker, deferred.entry, deferred.user, shared, steps=later)
            for deferred in alone:
                rest = [step, *later]
                self._apply(worker, deferred.entry, deferred.user, shared, steps=rest)
        share = elapsed_ms(started) // len(waiting)
        for deferred in waiting:
            deferred.user.duration_ms += share
        first = waiting[0].user.username
        self._finish_trace(worker.browser, f"{step.name}-batch-{first}", [d.user for d in waiting])
        for deferred in waiting:
            self._settle(deferred.user, shared)

    def _unfinished(self, user: UserResult, shared: _RunState, step: Step[Any] | None) -> None:
        """A user left waiting for their batch when the run stopped."""
        name = step.name if step is not None else "the last step"
        if self.interrupted:
            user.status = "interrupted"
            user.error = f"stopped on request before {name}"
        else:
            user.status, user.error_kind = "failed", "portal"
            user.error = f"{name} not done: the run stopped: {shared.result.stopped}"
        self._settle(user, shared)

    def _settle(self, user: UserResult, shared: _RunState) -> None:
        """A user is finished: tell the admin, and count portal failures in a row."""
        result = shared.result
        self.progress(user, user.status)
        with self._counting:
            if user.error_kind == "portal":
                shared.portal_failures_in_a_row += 1
                if shared.portal_failures_in_a_row >= self.options.breaker_threshold:
                    result.stopped = (
                        f"the portal failed for {shared.portal_failures_in_a_row} users in a "
                        "row; stopped to avoid hammering it. Last error: " + (user.error or "")
                    )
            else:
                shared.portal_failures_in_a_row = 0
        log.info(
            "user finished",
            user=user.username,
            status=user.status,
            error=user.error,
            duration_ms=user.duration_ms,
        )

    def _plan_one(
        self, session: Session, entry: RosterEntry, user: UserResult, result: RunResult
    ) -> None:
        try:
            for attempt in self._retrying(session, user.username, result):
                with attempt:
                    user.attempts += 1
                    try:
                        user.plans = plan_steps(self.kind.steps, session, entry.record)
                    except (RobotError, PlaywrightError):
                        session.forget()
                        raise
            user.status = "planned"
        except BusinessError as error:
            user.status, user.error_kind = "refused", "business"
            user.error = self.redactor.text(str(error))
        except (PortalError, PlaywrightError) as error:
            user.status, user.error_kind = "failed", "portal"
            user.error = self.redactor.text(str(error))

    def _failed(
        self,
        session: Session,
        user: UserResult,
        recorder: EvidenceRecorder,
        status: str,
        kind: str,
        error: RobotError | PlaywrightError,
    ) -> None:
        message = error.message if isinstance(error, PlaywrightError) else str(error)
        if isinstance(error, PlaywrightError):
            message = f"{user.username}: the portal did not respond as expected: {message}"
        user.status, user.error_kind = status, kind
        user.error = self.redactor.text(message.splitlines()[0])
        step = getattr(error, "step", None) or "unknown step"
        user.screenshot = recorder.screenshot(session.page, user.username, f"failed {step}")
        recorder.record(
            AuditEvent(
                user=user.username,
                step=step,
                action="stopped",
                outcome=status,
                detail=user.error,
                screenshot=user.screenshot,
            )
        )

    def _finish_trace(self, browser: Browser, name: str, users: Sequence[UserResult]) -> None:
        """End the trace that served `users`; keep it when asked or one of them failed."""
        failed = [u for u in users if u.status in NOT_DONE]
        kept = browser.tracer.end(name, failed=bool(failed))
        if kept is not None:
            for user in failed or users:
                user.trace = user.trace or kept

    # -- once per run --------------------------------------------------------------
    def _context(self, result: RunResult) -> RunContext:
        settings = self.settings
        return RunContext(
            run_id=result.run_id,
            run_dir=result.run_dir,
            state_dir=Path(settings.state_path),
            admin_username=settings.portal_username,
            admin_email=settings.admin_email,
            patience_s=float(settings.chat_patience_seconds),
            settings=settings.run_settings,
        )

    def _per_run_pairs(
        self, step: Step[Any], shared: _RunState
    ) -> list[tuple[RosterEntry, UserResult]]:
        return [(e, u) for e, u in shared.pairs if step.applies_to(e.record)]

    def _per_run(self, worker: _Worker, shared: _RunState) -> None:
        """The once-per-run steps, in order, after every user's other steps."""
        shared.per_run_done = True
        for step in self.kind.steps:
            if not step.per_run:
                continue
            pairs = self._per_run_pairs(step, shared)
            if not pairs:
                continue
            if shared.mode == "plan":
                self._plan_run(worker, step, pairs, shared)
            else:
                self._apply_run(worker, step, pairs, shared)

    def _per_run_undone(self, shared: _RunState) -> None:
        """No worker was left to do the once-per-run steps: their users are not finished."""
        for step in self.kind.steps:
            if step.per_run and shared.mode != "plan":
                for _entry, user in self._per_run_pairs(step, shared):
                    if user.status == "complete":
                        self._unfinished(user, shared, step)

    def _plan_run(
        self,
        worker: _Worker,
        step: Step[Any],
        pairs: Sequence[tuple[RosterEntry, UserResult]],
        shared: _RunState,
    ) -> None:
        """What the step would do once for the users whose other steps could be observed."""
        result, session = shared.result, worker.session
        ready = []
        for entry, user in pairs:
            if user.status != "planned":
                continue
            if any(plan.action in (BLOCKED, CONFLICT) for plan in user.plans):
                user.plans.append(StepPlan(step.name, BLOCKED, "after the user's other steps"))
            else:
                ready.append((entry, user))
        if not ready:
            return
        who = ", ".join(user.username for _, user in ready)
        try:
            for trial in self._retrying(session, who, result):
                with trial:
                    try:
                        plan = step.observe_run(
                            session, [entry.record for entry, _ in ready], self._context(result)
                        )
                    except (RobotError, PlaywrightError):
                        session.forget()
                        raise
        except (RobotError, PlaywrightError) as error:
            message = error.message if isinstance(error, PlaywrightError) else str(error)
            detail = self.redactor.text(message.splitlines()[0])
            for _, user in ready:
                user.plans.append(StepPlan(step.name, BLOCKED, detail))
            result.follow_ups.append(f"{step.name}: could not be planned: {detail}")
            return
        for _, user in ready:
            if user.username in plan.plans:
                user.plans.append(plan.plans[user.username])
        result.follow_ups.extend(self.redactor.text(note) for note in plan.notes)

    def _apply_run(
        self,
        worker: _Worker,
        step: Step[Any],
        pairs: Sequence[tuple[RosterEntry, UserResult]],
        shared: _RunState,
    ) -> None:
        """Do the step once for every user of `pairs` whose other steps succeeded."""
        result, recorder, session = shared.result, shared.recorder, worker.session
        eligible = [(entry, user) for entry, user in pairs if user.status == "complete"]
        if not eligible:
            return
        if self.interrupted or result.stopped:
            for _entry, user in eligible:
                self._unfinished(user, shared, step)
            return
        users = {user.username: (entry, user) for entry, user in eligible}
        who = ", ".join(users)
        witnesses = {
            name: UserWitness(recorder, user, progress=self.progress, narrator=self.narrator)
            for name, (_, user) in users.items()
        }
        # The progress display's line for the step as a whole, not for one user.
        everyone = UserResult(row=0, username=f"{len(users)} users", name=who)
        heard: set[str] = set()

        def waiting(doing: str) -> None:
            self.progress(everyone, f"step {step.name}: {doing}")
            kind = doing.split(" (", 1)[0]
            if kind not in heard:  # the log hears each kind of wait once, not every poll
                heard.add(kind)
                log.info("waiting", step=step.name, doing=kind, users=list(users))

        witness = RunStepWitness(
            recorder, witnesses, step.name, narrator=self.narrator, waiting=waiting
        )
        self.narrator.caption(session.page, f"{len(users)} users: {step.name}: starting")
        self.progress(everyone, f"step {step.name}: starting")
        started = time.monotonic()
        worker.browser.tracer.begin(step.name)
        outcome: RunOutcome | None = None
        try:
            for trial in self._retrying(session, who, result):
                with trial, self._alone(step):
                    for _, user in users.values():
                        user.attempts += 1
                    try:
                        outcome = step.apply_run(
                            session,
                            [entry.record for entry, _ in users.values()],
                            witness,
                            self._context(result),
                        )
                    except (RobotError, PlaywrightError):
                        session.forget()
                        raise
        except BusinessError as error:
            for _, user in users.values():
                self._failed(session, user, recorder, "refused", "business", error)
        except (PortalError, PlaywrightError) as error:
            for _, user in users.values():
                self._failed(session, user, recorder, "failed", "portal", error)
        if outcome is not None:
            self._took(session, step, outcome, users, shared)
        share = elapsed_ms(started) // len(users)
        for _, user in users.values():
            user.duration_ms += share
        slug = step.name.replace(" ", "-")
        self._finish_trace(worker.browser, slug, [user for _, user in users.values()])
        for _, user in users.values():
            log.info("user finished", user=user.username, status=user.status, error=user.error)

    def _took(
        self,
        session: Session,
        step: Step[Any],
        outcome: RunOutcome,
        users: dict[str, tuple[RosterEntry, UserResult]],
        shared: _RunState,
    ) -> None:
        """What a once-per-run step did, into each user's result and the run's."""
        result, recorder = shared.result, shared.recorder
        for name, done in outcome.done.items():
            if name not in users:
                continue
            user = users[name][1]
            if done.needs_person:
                user.status, user.error_kind = NEEDS_PERSON, "person"
                user.error = self.redactor.text(f"{name} / {step.name}: {done.detail}")
            if done.follow_up:
                user.notes.append(self.redactor.text(done.follow_up))
        for name, error in outcome.errors.items():
            if name in users:
                status, kind = ("refused", "business")
                if not isinstance(error, BusinessError):
                    status, kind = ("failed", "portal")
                self._failed(session, users[name][1], recorder, status, kind, error)
        result.follow_ups.extend(self.redactor.text(note) for note in outcome.notes)
        for title, lines in outcome.texts.items():
            result.texts[title] = [self.redactor.text(line) for line in lines]
        for path in outcome.files:
            # Scrubbed of every secret the run knows, owner-only, and chained into the audit
            # log by its hash, so `onboard verify` readers can trust it as evidence.
            path.write_text(self.redactor.text(path.read_text(encoding="utf-8")), "utf-8")
            path.chmod(0o600)
            try:
                shown = str(path.relative_to(result.run_dir))
            except ValueError:
                shown = str(path)
            recorder.record(
                AuditEvent(
                    user="run",
                    step=step.name,
                    action="wrote",
                    outcome="ok",
                    after={"file": shown, "sha256": sha256_file(path)},
                    detail=f"{step.name}: {shown}",
                )
            )
