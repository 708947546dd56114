"""The run machinery: one browser, one sign-in, every roster entry onboarded or planned.

A user's failure never stops the others: a business error is reported with the portal's
own words; a transient one is retried from observation (tenacity) and, after a session
expiry, the robot signs in again first. Wrong admin credentials stop the whole run after
one attempt, as does a portal that keeps failing for several users in a row.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog
from playwright.sync_api import BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from domain.errors import (
    BusinessError,
    ConflictError,
    PortalError,
    RobotError,
    SetupError,
    SignInError,
)
from domain.steps import StepOutcome, StepPlan
from flows.nextiva.licensing import LICENSE, assign_license, assign_licenses
from flows.nextiva.offered import PortalOptions, read_options, unoffered
from flows.nextiva.onboard import onboard_user, plan_user
from flows.nextiva.session import ensure_signed_in, sign_in
from flows.nextiva.users import CREATE_USER, NumberClaims
from pages.widgets import on_use
from robots.browser import launch_options
from robots.evidence import (
    AuditEvent,
    EvidenceRecorder,
    Redactor,
    TraceRecorder,
    elapsed_ms,
    signing_key,
)
from robots.lock import run_lock
from robots.narrator import Narrator
from robots.roster import RosterEntry
from robots.settings import Settings

log = structlog.get_logger("onboard")

EXIT_OK, EXIT_FAILURES, EXIT_NOT_STARTED, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class RunOptions:
    headed: bool = False
    slow_mo: float = 0
    only: Sequence[str] = ()
    trace: str = "retain-on-failure"  # "on" | "off" | "retain-on-failure"
    workers: int = 1
    license_batch: int = 10  # users per Save on the Assign screen; 1: one at a time
    screenshots: bool = True
    breaker_threshold: int = 3


@dataclass
class UserResult:
    row: int
    username: str
    name: str
    status: str = "pending"  # complete | failed | refused | conflict | planned | skipped
    outcomes: list[StepOutcome] = field(default_factory=list)
    plans: list[StepPlan] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    screenshot: str | None = None
    trace: str | None = None
    attempts: int = 0
    duration_ms: int = 0


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    mode: str
    portal_url: str
    started: str
    users: list[UserResult] = field(default_factory=list)
    finished: str = ""
    stopped: str | None = None  # why the run stopped early, if it did
    not_started: bool = False  # no browser or no sign-in: nothing was tried
    sign_ins: int = 0
    re_sign_ins: int = 0
    retries: int = 0
    audit: dict[str, object] = field(default_factory=dict)

    def status_counts(self) -> dict[str, int]:
        """How many users ended in each status, in the order they first occur."""
        counts: dict[str, int] = {}
        for user in self.users:
            counts[user.status] = counts.get(user.status, 0) + 1
        return counts

    @property
    def exit_code(self) -> int:
        if self.stopped == "interrupted":
            return EXIT_INTERRUPTED
        if self.not_started:
            return EXIT_NOT_STARTED
        bad = [u for u in self.users if u.status not in ("complete", "planned")]
        return EXIT_FAILURES if bad or self.stopped else EXIT_OK


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def make_run_dir(recordings: Path, run_id: str) -> Path:
    recordings.mkdir(parents=True, exist_ok=True)
    run_dir = recordings / run_id
    run_dir.mkdir(mode=0o700)
    os.chmod(run_dir, 0o700)  # mkdir's mode is filtered by umask
    return run_dir


class RunInterruptedError(RobotError):
    """The admin or the system asked the run to stop; raised between two steps."""


class UserWitness:
    """Feeds one user's step events to the evidence recorder (the flows' Witness)."""

    def __init__(
        self,
        recorder: EvidenceRecorder,
        result: UserResult,
        *,
        progress: Callable[[UserResult, str], None] = lambda _user, _what: None,
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


class LicenseBatchWitness:
    """Feeds one licence Save made for several users to the evidence (the flows' BatchWitness).

    One screenshot serves them all: each user's audit lines point to the same file.
    """

    def __init__(
        self,
        recorder: EvidenceRecorder,
        users: Mapping[str, UserWitness],
        *,
        narrator: Narrator | None = None,
    ) -> None:
        self._recorder = recorder
        self._users = users
        self._narrator = narrator or Narrator(enabled=False)

    def before_write(
        self, page: Page, step: str, description: str, usernames: Sequence[str]
    ) -> None:
        self._narrator.caption(page, f"{len(usernames)} users: {step}: saving ({description})")
        shot = self._recorder.screenshot(page, "batch", f"before {step}")
        for username in usernames:
            self._users[username].record_write(step, description, shot)

    def after_steps(self, page: Page, outcomes: Mapping[str, StepOutcome]) -> None:
        shot = self._recorder.screenshot(page, "batch", LICENSE)
        for username, outcome in outcomes.items():
            detail = f"one Save for {len(self._users)} users"
            self._users[username].record_step(outcome, shot, detail=detail)
        self._narrator.caption(page, f"{len(outcomes)} users: {LICENSE}: done")


@dataclass
class _Deferred:
    """A user whose steps are done but the licence, waiting for their worker's batch."""

    entry: RosterEntry
    user: UserResult


ProgressHook = Callable[[UserResult, str], None]


@dataclass
class _RunState:
    """What the workers of one run share."""

    result: RunResult
    recorder: EvidenceRecorder
    mode: str
    jobs: queue.SimpleQueue[tuple[RosterEntry, UserResult]]
    first_signed_in: threading.Event = field(default_factory=threading.Event)
    portal_failures_in_a_row: int = 0
    # What the portal's dropdowns and lists offer, read once by the first worker.
    offered: PortalOptions | None = None


class Runner:
    """Drives one run: sign in once, then each entry in turn."""

    def __init__(
        self,
        settings: Settings,
        options: RunOptions,
        *,
        progress: ProgressHook | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.progress = progress or (lambda _user, _what: None)
        self.redactor = Redactor([settings.portal_password.get_secret_value()])
        key = settings.evidence_key
        self.evidence_key = signing_key(key.get_secret_value() if key else None)
        # Each worker thread's traces; the retry hook pauses them around a sign-in.
        self._worker_local = threading.local()
        self.interrupted = False
        self._counting = threading.Lock()
        # The Assign screen saves the state of every checkbox it lists, not just the ones
        # ticked: two workers saving it at once would each undo the other's new licences.
        # Each worker holds this from loading the screen to its Save.
        self._assign_screen = threading.Lock()
        self._numbers = NumberClaims()
        self.narrator = Narrator(enabled=options.headed)

    # -- public -----------------------------------------------------------------
    def run(self, entries: Sequence[RosterEntry], *, mode: str = "run") -> RunResult:
        """Onboard (or, with mode="plan", only observe) the entries. Raises SetupError when
        another run holds the lock; everything after that ends in the returned result."""
        run_id = new_run_id()
        recordings = Path(self.settings.recordings_dir)
        with run_lock(recordings, run_id):
            return self._run(entries, mode, run_id, make_run_dir(recordings, run_id))

    def _run(
        self, entries: Sequence[RosterEntry], mode: str, run_id: str, run_dir: Path
    ) -> RunResult:
        result = RunResult(
            run_id=run_id,
            run_dir=run_dir,
            mode=mode,
            portal_url=self.settings.portal_url,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        recorder = EvidenceRecorder(
            run_dir,
            run_id,
            self.redactor,
            screenshots=self.options.screenshots,
            hide_narration=self.narrator.enabled,
            key=self.evidence_key,
        )
        wanted = [
            e for e in entries if not self.options.only or e.hire.username in self.options.only
        ]
        jobs: queue.SimpleQueue[tuple[RosterEntry, UserResult]] = queue.SimpleQueue()
        for entry in wanted:
            user = UserResult(
                row=entry.row, username=entry.hire.username, name=entry.hire.full_name
            )
            result.users.append(user)
            jobs.put((entry, user))
        shared = _RunState(result=result, recorder=recorder, mode=mode, jobs=jobs)
        workers = max(1, min(self.options.workers, len(wanted)))
        try:
            if workers == 1:
                self._worker(shared, first=True)
            else:
                self._pool(shared, workers)
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

    def _pool(self, shared: _RunState, workers: int) -> None:
        """N workers, each with its own browser and session. All start their browsers at
        once; the first signs in alone and the others only once it has succeeded, so wrong
        credentials are tried once, never once per worker."""
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="worker") as pool:
            futures = [pool.submit(self._worker, shared, first=n == 0) for n in range(workers)]
            for future in futures:
                future.result()

    # -- browser and session ------------------------------------------------------
    @contextmanager
    def _browser(self, run_dir: Path) -> Iterator[BrowserContext]:
        """The worker's browser. No video: its frames cannot be masked the way screenshots
        are, and a generated SIP password or PIN would show in them. Tracing starts per user,
        after sign-in (see TraceRecorder)."""
        with sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch(
                    **launch_options(headless=not self.options.headed, slow_mo=self.options.slow_mo)
                )
            except PlaywrightError as error:
                raise SetupError(f"the browser could not start: {error.message}") from error
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            self.narrator.install(context)
            self._worker_local.tracer = TraceRecorder(
                context, self.options.trace, run_dir / "traces", self.redactor
            )
            try:
                yield context
            finally:
                self._worker_local.tracer = None
                context.close()
                browser.close()

    def _tracer(self) -> TraceRecorder | None:
        """This worker's traces (None outside a worker's browser)."""
        tracer: TraceRecorder | None = getattr(self._worker_local, "tracer", None)
        return tracer

    @contextmanager
    def _untraced(self) -> Iterator[None]:
        """Keep a sign-in (the password typed, the new session cookie) out of every trace."""
        tracer = self._tracer()
        if tracer is None:
            yield
            return
        with tracer.paused():
            yield

    def _sign_in(self, page: Page, result: RunResult) -> None:
        sign_in(
            page,
            self.settings.portal_url,
            self.settings.portal_username,
            self.settings.portal_password.get_secret_value(),
            timeout_ms=self.settings.step_timeout_ms,
            sso_origins=self.settings.sso_origin_list,
        )
        with self._counting:
            result.sign_ins += 1
        log.info("signed in", portal=self.settings.portal_url)

    def _read_offered(self, page: Page, result: RunResult) -> PortalOptions | None:
        """What the portal offers, read once per run (None, and a warning, if it cannot be
        read: each dropdown then still refuses a value it lacks, at the user's step)."""
        try:
            for trial in self._retrying(page, "portal", result):
                with trial:
                    return read_options(page)
        except (PortalError, PlaywrightError) as error:
            log.warning("the portal's options could not be read", error=str(error))
        return None

    def _refuse_unoffered(
        self, entry: RosterEntry, user: UserResult, problems: Sequence[str], shared: _RunState
    ) -> None:
        """Refuse a user whose roster values the portal does not offer, before any write."""
        user.status, user.error_kind = "refused", "business"
        user.error = self.redactor.text("; ".join(f"row {entry.row}, {p}" for p in problems))
        shared.recorder.record(
            AuditEvent(
                user=user.username,
                step=CREATE_USER,
                action="stopped",
                outcome="refused",
                detail=user.error,
            )
        )
        self._settle(user, shared)

    # -- users -----------------------------------------------------------------
    def _worker(self, shared: _RunState, *, first: bool = False) -> None:
        """Take users from the queue until it is empty or the run stops."""
        result = shared.result
        try:
            with self._browser(result.run_dir) as context:
                page = context.new_page()
                page.set_default_timeout(self.settings.step_timeout_ms)
                if self.narrator.enabled:
                    on_use(page, self.narrator.point_at)
                if not first:
                    shared.first_signed_in.wait()
                if first or not result.stopped:
                    self._sign_in(page, result)
                if first:
                    shared.offered = self._read_offered(page, result)
                    shared.first_signed_in.set()
                waiting: list[_Deferred] = []
                try:
                    while not result.stopped:
                        try:
                            entry, user = shared.jobs.get_nowait()
                        except queue.Empty:
                            break
                        deferred = self._one_user(context, page, entry, user, shared)
                        if deferred is not None:
                            waiting.append(deferred)
                        if len(waiting) >= self.options.license_batch:
                            self._license_batch(context, page, waiting, shared)
                            waiting = []
                    if waiting:
                        self._license_batch(context, page, waiting, shared)
                        waiting = []
                finally:
                    for deferred in waiting:  # the browser failed before their batch
                        self._unfinished(deferred.user, shared)
        except (SignInError, SetupError, PortalError) as error:
            # PortalError here can only come from signing in: users catch their own.
            result.stopped = self.redactor.text(str(error))
            result.not_started = first and result.sign_ins == 0
        except PlaywrightError as error:
            result.stopped = self.redactor.text(f"the browser failed: {error.message}")
            result.not_started = first and result.sign_ins == 0
        finally:
            if first:  # signed in or failed: either way the others may go on
                shared.first_signed_in.set()

    def _one_user(
        self,
        context: BrowserContext,
        page: Page,
        entry: RosterEntry,
        user: UserResult,
        shared: _RunState,
    ) -> _Deferred | None:
        """Onboard (or plan) one user. Returns them when only their licence is left, for
        the worker's next licence batch; otherwise they are finished."""
        result = shared.result
        if self.interrupted:
            result.stopped = "interrupted"
            return None
        problems = unoffered(entry.hire, shared.offered) if shared.offered else []
        if problems:
            self._refuse_unoffered(entry, user, problems, shared)
            return None
        self.progress(user, "starting")
        started = time.monotonic()
        tracer = self._tracer()
        if tracer is not None:
            tracer.begin(user.username)
        deferred = None
        if shared.mode == "plan":
            self._plan_one(page, entry, user, result)
        else:
            defer = self.options.license_batch > 1 and entry.hire.license is not None
            if self._onboard_one(page, entry, user, result, shared.recorder, defer=defer):
                deferred = _Deferred(entry, user)
        user.duration_ms = elapsed_ms(started)
        if self.interrupted:
            result.stopped = "interrupted"
        self._finish_trace(context, result.run_dir, user.username, [user])
        if deferred is None:
            self._settle(user, shared)
        return deferred

    def _license_batch(
        self, context: BrowserContext, page: Page, waiting: Sequence[_Deferred], shared: _RunState
    ) -> None:
        """One visit to the Assign screen and one Save for the waiting users' licences (one
        per licence). A user it cannot serve is assigned on their own.

        A stop request still lets this Save happen: it is the one step left for users whose
        other steps are done. A run stopped for a failing portal leaves it undone."""
        result = shared.result
        if result.stopped and not self.interrupted:
            for deferred in waiting:
                self._unfinished(deferred.user, shared)
            return
        started = time.monotonic()
        tracer = self._tracer()
        if tracer is not None:
            tracer.begin(f"{LICENSE} batch")
        by_license: dict[str, list[_Deferred]] = {}
        for deferred in waiting:
            by_license.setdefault(deferred.entry.hire.license or "", []).append(deferred)
        for license_name, group in by_license.items():
            self._assign_group(page, license_name, group, shared)
        share = elapsed_ms(started) // len(waiting)
        users = [deferred.user for deferred in waiting]
        for user in users:
            user.duration_ms += share
        first = users[0].username
        self._finish_trace(context, result.run_dir, f"{LICENSE}-batch-{first}", users)
        for user in users:
            self._settle(user, shared)

    def _assign_group(
        self, page: Page, license_name: str, group: Sequence[_Deferred], shared: _RunState
    ) -> None:
        result, recorder = shared.result, shared.recorder
        users = {deferred.user.username: deferred.user for deferred in group}
        witnesses = {
            name: UserWitness(recorder, user, progress=self.progress, narrator=self.narrator)
            for name, user in users.items()
        }
        witness = LicenseBatchWitness(recorder, witnesses, narrator=self.narrator)
        hires = [deferred.entry.hire for deferred in group]
        who = ", ".join(users)
        try:
            for trial in self._retrying(page, who, result):
                with trial:
                    for user in users.values():
                        user.attempts += 1
                    with self._assign_screen:
                        batch = assign_licenses(page, license_name, hires, witness)
        except BusinessError as error:
            for user in users.values():
                self._failed(page, user, recorder, "refused", "business", error)
            return
        except (PortalError, PlaywrightError) as error:
            for user in users.values():
                self._failed(page, user, recorder, "failed", "portal", error)
            return
        for username in batch.done:
            users[username].status = "complete"
        for deferred in group:
            if deferred.entry.hire in batch.one_by_one:
                self._onboard_one(
                    page, deferred.entry, deferred.user, result, recorder, license_only=True
                )

    def _unfinished(self, user: UserResult, shared: _RunState) -> None:
        """A user left waiting for their licence when the run stopped."""
        if self.interrupted:
            user.status = "interrupted"
            user.error = f"stopped on request before {LICENSE}"
        else:
            user.status, user.error_kind = "failed", "portal"
            user.error = f"{LICENSE} not assigned: the run stopped: {shared.result.stopped}"
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

    def _retrying(self, page: Page, who: str, result: RunResult) -> Retrying:
        def before_retry(state: RetryCallState) -> None:
            with self._counting:
                result.retries += 1
            error = state.outcome.exception() if state.outcome else None
            log.warning("retrying", user=who, error=self.redactor.text(str(error)))
            with self._untraced():
                signed_in_again = ensure_signed_in(
                    page,
                    self.settings.portal_url,
                    self.settings.portal_username,
                    self.settings.portal_password.get_secret_value(),
                    sso_origins=self.settings.sso_origin_list,
                )
            if signed_in_again:
                with self._counting:
                    result.sign_ins += 1
                    result.re_sign_ins += 1

        return Retrying(
            retry=retry_if_exception_type((PortalError, PlaywrightError)),
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential(multiplier=0.5, max=8),
            before_sleep=before_retry,
            reraise=True,
        )

    def _onboard_one(
        self,
        page: Page,
        entry: RosterEntry,
        user: UserResult,
        result: RunResult,
        recorder: EvidenceRecorder,
        *,
        defer: bool = False,
        license_only: bool = False,
    ) -> bool:
        """Run the user's steps; True when all but the licence are done (with `defer`).

        `license_only`: just the licence step, for a user their batch could not serve."""
        witness = UserWitness(
            recorder,
            user,
            progress=self.progress,
            narrator=self.narrator,
        )
        self.narrator.caption(page, f"{user.name} ({user.username}): starting")

        def attempt(step: str, call: Callable[[], StepOutcome]) -> StepOutcome:
            # Checked between steps: a step under way finishes, a user whose last step
            # finished is complete, and nothing new starts once a stop was asked for.
            if self.interrupted:
                raise RunInterruptedError(f"stopped on request before {step}", user=user.username)
            screen = self._assign_screen if step == LICENSE else contextlib.nullcontext()
            for trial in self._retrying(page, user.username, result):
                with trial, screen:
                    user.attempts += 1
                    outcome = call()
            return outcome

        try:
            if license_only:
                attempt(LICENSE, functools.partial(assign_license, page, entry.hire, witness))
            else:
                onboard_user(
                    page,
                    entry.hire,
                    witness,
                    attempt=attempt,
                    defer_license=defer,
                    numbers=self._numbers,
                )
                if defer:
                    return True
            user.status = "complete"
        except RunInterruptedError as error:
            user.status, user.error = "interrupted", str(error)
        except ConflictError as error:
            self._failed(page, user, recorder, "conflict", "business", error)
        except BusinessError as error:
            self._failed(page, user, recorder, "refused", "business", error)
        except SignInError:
            raise
        except (PortalError, PlaywrightError) as error:
            self._failed(page, user, recorder, "failed", "portal", error)
        return False

    def _plan_one(
        self, page: Page, entry: RosterEntry, user: UserResult, result: RunResult
    ) -> None:
        try:
            for attempt in self._retrying(page, user.username, result):
                with attempt:
                    user.attempts += 1
                    user.plans = plan_user(page, entry.hire)
            user.status = "planned"
        except BusinessError as error:
            user.status, user.error_kind = "refused", "business"
            user.error = self.redactor.text(str(error))
        except (PortalError, PlaywrightError) as error:
            user.status, user.error_kind = "failed", "portal"
            user.error = self.redactor.text(str(error))

    def _failed(
        self,
        page: Page,
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
        user.screenshot = recorder.screenshot(page, user.username, f"failed {step}")
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

    def _finish_trace(
        self, context: BrowserContext, run_dir: Path, name: str, users: Sequence[UserResult]
    ) -> None:
        """End the trace that served `users`; keep it when asked or one of them failed."""
        tracer = self._tracer()
        if tracer is None:
            return
        failed = [u for u in users if u.status in ("failed", "refused", "conflict")]
        kept = tracer.end(name, failed=bool(failed))
        if kept is not None:
            for user in failed or users:
                user.trace = user.trace or kept


def write_summary(result: RunResult) -> Path:
    """summary.json: the run as data, for dashboards and for the report."""
    path = result.run_dir / "summary.json"
    data = {
        "run_id": result.run_id,
        "mode": result.mode,
        "portal_url": result.portal_url,
        "started": result.started,
        "finished": result.finished,
        "stopped": result.stopped,
        "exit_code": result.exit_code,
        "sign_ins": result.sign_ins,
        "retries": result.retries,
        "re_sign_ins": result.re_sign_ins,
        "audit": result.audit,
        "users": [
            {
                "row": u.row,
                "username": u.username,
                "name": u.name,
                "status": u.status,
                "error": u.error,
                "error_kind": u.error_kind,
                "attempts": u.attempts,
                "duration_ms": u.duration_ms,
                "screenshot": u.screenshot,
                "trace": u.trace,
                "steps": [
                    {"step": o.step, "action": o.action, "detail": o.detail} for o in u.outcomes
                ],
                "plan": [{"step": p.step, "action": p.action, "detail": p.detail} for p in u.plans],
            }
            for u in result.users
        ],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.chmod(path, 0o600)
    return path
