"""Onboarding jobs shared by many workers, through Procrastinate on PostgreSQL.

PostgreSQL is the system of record and Procrastinate the queue engine; this module only
says what a job is and how a worker runs one, leaning on the engine for the rest:

- one job per hire, deduplicated by Procrastinate's *queueing lock* (account, portal
  kind, the hire's identity): enqueuing a roster twice queues each hire once;
- the same key as the job's *lock*: no two workers ever work on the same hire at once;
- *retries* through a retry strategy: transient failures wait with exponential backoff,
  business failures (the portal refused a value) are not retried;
- *stalled jobs*: every worker sends a heartbeat, and a *periodic task* puts the jobs of a
  worker whose heartbeat stopped (killed, machine lost) back in the queue;
- per account, at most N signed-in sessions at once and the Assign screen held by one
  worker: PostgreSQL advisory locks, held on the connection of the worker's browser that
  runs the job, so a killed worker's locks go with its connection (and a lease keeps the
  slot of a session it left signed in closed until the portal forgets that session: see
  robots/fleet_lanes.py, where a worker's browsers stay signed in between jobs);
- an account whose portal keeps failing is quarantined: its jobs wait (retried at the
  quarantine's end) with the reason in `onboard status`, instead of failing one by one.

A job runs the hire through the same machinery as `onboard run` (`process_hires`, the one
place that calls the runner), and leaves its evidence in EVIDENCE_DIR/<account>/<job-id>/
(one run folder per attempt, each verifiable with `onboard verify`) and a line in
EVIDENCE_DIR/<account>/index.jsonl and in the table onboard_fleet_jobs.

Job payloads hold the hire's roster values (names, email, location), never a secret: the
roster's only secrets would be PIN columns, and a row that holds one is refused at enqueue.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import socket
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from domain.errors import SetupError
from robots.fleet_lanes import SESSIONS_SCHEMA, Lane, Lanes, SessionsBusy
from robots.fleet_settings import Account, FleetSettings, account_settings

if TYPE_CHECKING:
    import procrastinate
    import psycopg

    from robots.roster import Roster, RosterEntry
    from robots.runner import RunResult
    from robots.settings import Settings
    from robots.startup import WarmBrowser

log = structlog.get_logger("onboard.fleet")

QUEUE = "onboard"
MAINTENANCE_QUEUE = "onboard-maintenance"
HIRE_TASK = "onboard_hire"
RECOVER_TASK = "recover_stalled_jobs"

# Our own tables: the job index an auditor searches and the accounts' failure streaks,
# created beside Procrastinate's schema.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS onboard_fleet_jobs (
    job_id bigint PRIMARY KEY,
    account text NOT NULL,
    kind text NOT NULL,
    hire text NOT NULL,
    roster_row integer NOT NULL,
    state text NOT NULL,
    error text,
    transient_failures integer NOT NULL DEFAULT 0,
    evidence text,
    worker text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS onboard_fleet_jobs_account ON onboard_fleet_jobs (account, hire);
CREATE TABLE IF NOT EXISTS onboard_fleet_accounts (
    account text PRIMARY KEY,
    failures_in_a_row integer NOT NULL DEFAULT 0,
    quarantined_until timestamptz,
    reason text
);
"""
# Held while the schema is checked and created, so that two workers starting at once do not
# both create it.
_SCHEMA_LOCK = 0x6F6E6230


# -- what a job ends in -----------------------------------------------------------------
class BusinessFailure(Exception):
    """The portal refused the hire (or the job cannot be done as asked): not retried."""


class TransientFailure(Exception):
    """The portal failed for a reason that may pass (timeouts, 5xx, sign-in page down)."""

    def __init__(self, message: str, failures: int) -> None:
        super().__init__(message)
        self.failures = failures


class AccountQuarantined(Exception):
    """The account's portal keeps failing: the job waits until the quarantine ends."""

    def __init__(self, account: str, until: datetime, reason: str) -> None:
        super().__init__(f"account {account} quarantined until {until:%H:%M:%S}Z: {reason}")
        self.until = until


def _retry_strategy(fleet: FleetSettings) -> Any:
    """Procrastinate's retry decision for each way a job can fail."""
    from procrastinate import BaseRetryStrategy, RetryDecision

    class FleetRetry(BaseRetryStrategy):
        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if isinstance(exception, BusinessFailure):
                return None
            if isinstance(exception, AccountQuarantined):
                return RetryDecision(retry_at=exception.until)
            if isinstance(exception, SessionsBusy):
                # Back behind the other accounts' jobs (the engine fetches by priority,
                # then age), so the worker takes one of those next. A slot closed by a
                # session a dead worker left opens when that session runs out.
                priority = job.priority - 1
                if exception.retry_at is not None:
                    return RetryDecision(retry_at=exception.retry_at, priority=priority)
                return RetryDecision(
                    retry_in={"milliseconds": random.randint(200, 1000)}, priority=priority
                )
            failures = (
                exception.failures
                if isinstance(exception, TransientFailure)
                else job.attempts + 1  # an unexpected error: bounded by the job's attempts
            )
            if failures >= fleet.max_transient_failures:
                return None
            # Exponential backoff with jitter, so that many jobs failing at once for the
            # same outage do not come back at the same moment.
            wait = fleet.backoff_seconds * 2 ** (failures - 1) * random.uniform(0.8, 1.2)
            return RetryDecision(retry_in={"milliseconds": int(min(wait, 3600) * 1000)})

    return FleetRetry()


EXPECTED = (BusinessFailure, TransientFailure, AccountQuarantined, SessionsBusy)


def quiet_expected_failures(record: logging.LogRecord) -> bool:
    """A logging filter: a job that ends in one of the ways above is logged in one line,
    without a traceback (its reason is the message); anything else keeps its traceback."""
    if record.exc_info and isinstance(record.exc_info[1], EXPECTED):
        record.exc_info, record.exc_text = None, None
    return True


# -- the engine ---------------------------------------------------------------------------
def make_app(fleet: FleetSettings, *, pool_size: int = 4) -> procrastinate.App:
    """The Procrastinate app of the fleet: its connector and its two tasks."""
    import procrastinate

    connector = procrastinate.PsycopgConnector(
        conninfo=fleet.database_url.get_secret_value(),
        min_size=1,
        max_size=max(2, pool_size),
    )
    app = procrastinate.App(connector=connector)
    app.task(
        name=HIRE_TASK,
        queue=QUEUE,
        pass_context=True,
        retry=_retry_strategy(fleet),
    )(_onboard_hire_task)
    recover = app.task(
        name=RECOVER_TASK,
        queue=MAINTENANCE_QUEUE,
        pass_context=True,
        queueing_lock=RECOVER_TASK,
    )(_recover_stalled_task)
    app.periodic(cron=f"*/{fleet.recover_every_seconds} * * * * *", periodic_id="recover")(recover)
    return app


def connect(fleet: FleetSettings) -> psycopg.Connection[Any]:
    """A connection of our own (autocommit): for advisory locks and our tables."""
    import psycopg

    try:
        return psycopg.connect(fleet.database_url.get_secret_value(), autocommit=True)
    except psycopg.OperationalError as error:
        # psycopg's message names the host and user, never the password.
        raise SetupError(f"the queue's database cannot be reached: {error}") from None


def ensure_schema(fleet: FleetSettings) -> None:
    """Procrastinate's schema and ours, created once; a later call finds them and returns."""
    from procrastinate.schema import SchemaManager

    with connect(fleet) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is None or row[0] is None:
                # Procrastinate's schema, applied as `procrastinate schema --apply` does.
                conn.execute(SchemaManager.get_schema().encode())
            conn.execute(_SCHEMA.encode())
            conn.execute(SESSIONS_SCHEMA.encode())
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def job_key(account: str, kind: str, identity: str) -> str:
    """The hire's key in the queue: the queueing lock and the job lock."""
    return f"{account}:{kind}:{identity.lower()}"


def lock_key(space: str, account: str) -> int:
    """A stable 32-bit signed key for an advisory lock of `account` in `space`."""
    value = zlib.crc32(f"onboard-{space}:{account}".encode())
    return value - 2**32 if value >= 2**31 else value


# -- the portal kinds, as the queue needs them ---------------------------------------------
def hire_identity(kind: str, entry: RosterEntry) -> str:
    """How the portal finds the hire (Nextiva's username, Xima's email)."""
    from robots.portals import portal_kind

    return str(portal_kind(kind).key(entry.record))


def hire_secrets(kind: str, entry: RosterEntry) -> list[str]:
    """The secrets of the hire's row (a PIN): such a row is not queued. Besides what the
    portal names, any secret field of the record with a value counts."""
    from pydantic import SecretStr

    from robots.portals import portal_kind

    found = [value for value in portal_kind(kind).secrets(entry.record) if value]
    for value in dict(entry.record).values():
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.append(value.get_secret_value())
    return found


def hire_payload(entry: RosterEntry) -> dict[str, Any]:
    """The roster values a worker needs to onboard the hire (JSON, no secret)."""
    data: dict[str, Any] = entry.record.model_dump(mode="json")
    return data


def entry_from_payload(kind: str, row: int, payload: Mapping[str, Any]) -> RosterEntry:
    """The roster entry again, checked by the same rules as the roster reader."""
    from robots.portals import portal_kind
    from robots.roster import RosterEntry

    return RosterEntry(row=row, record=portal_kind(kind).build(payload))


# -- enqueue ------------------------------------------------------------------------------
@dataclass
class EnqueueCounts:
    new: int = 0
    already_queued: int = 0
    # Rows holding a secret (a PIN): onboard them with `onboard run` instead.
    refused_rows: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)


def enqueue(fleet: FleetSettings, roster: Roster, account_name: str, kind: str) -> EnqueueCounts:
    """One job per good row; a hire already waiting or in progress is not queued again."""
    from procrastinate.exceptions import AlreadyEnqueued

    account = _account(fleet, account_name)
    if account.kind != kind:
        raise SetupError(f"account {account.name} is a {account.kind} account, not {kind}")
    counts = EnqueueCounts()
    ensure_schema(fleet)
    app = make_app(fleet)
    with app.open():
        for entry in roster.entries:
            if hire_secrets(kind, entry):
                # The queue's payloads are readable by whoever reads its database.
                counts.refused_rows.append(entry.row)
                continue
            key = job_key(account.name, kind, hire_identity(kind, entry))
            in_progress = app.job_manager.list_jobs(queueing_lock=key, status="doing")
            if in_progress:
                counts.already_queued += 1
                continue
            try:
                job_id = app.configure_task(HIRE_TASK, lock=key, queueing_lock=key).defer(
                    account=account.name,
                    kind=kind,
                    row=entry.row,
                    roster=roster.path.name,
                    hire=hire_payload(entry),
                )
            except AlreadyEnqueued:
                counts.already_queued += 1
                continue
            counts.new += 1
            counts.jobs.append(job_id)
    log.info("enqueued", account=account.name, kind=kind, new=counts.new)
    return counts


def _account(fleet: FleetSettings, name: str) -> Account:
    try:
        return fleet.accounts[name]
    except KeyError:
        known = ", ".join(sorted(fleet.accounts))
        raise SetupError(f"no account {name!r} in the fleet settings (known: {known})") from None


# -- status -------------------------------------------------------------------------------
@dataclass
class Status:
    # (account, state) -> count; state is Procrastinate's, or "waiting" for a todo job
    # scheduled later (a retry's backoff or a quarantine).
    counts: dict[tuple[str, str], int]
    quarantined: list[tuple[str, datetime, str]]
    errors: list[dict[str, Any]]

    @property
    def unfinished(self) -> int:
        return sum(n for (_, state), n in self.counts.items() if state in ("todo", "doing"))

    @property
    def waiting(self) -> int:
        return sum(n for (_, state), n in self.counts.items() if state == "waiting")


def read_status(fleet: FleetSettings) -> Status:
    """Jobs by account and state, quarantined accounts, and the last errors in the portal's
    words (read from Procrastinate's job table and ours)."""
    ensure_schema(fleet)
    with connect(fleet) as conn:
        rows = conn.execute(
            """
            SELECT args->>'account',
                   CASE WHEN status = 'todo' AND scheduled_at > now() THEN 'waiting'
                        ELSE status::text END,
                   count(*)
              FROM procrastinate_jobs WHERE task_name = %s GROUP BY 1, 2 ORDER BY 1, 2
            """,
            (HIRE_TASK,),
        ).fetchall()
        quarantined = conn.execute(
            "SELECT account, quarantined_until, coalesce(reason, '') FROM onboard_fleet_accounts"
            " WHERE quarantined_until > now() ORDER BY account"
        ).fetchall()
        errors = conn.execute(
            """
            SELECT f.job_id, f.account, f.hire, f.roster_row, f.state, f.error, f.evidence,
                   j.status::text
              FROM onboard_fleet_jobs f JOIN procrastinate_jobs j ON j.id = f.job_id
             WHERE f.error IS NOT NULL AND j.status <> 'succeeded'
             ORDER BY f.account, f.roster_row, f.job_id
            """
        ).fetchall()
    columns = ("job", "account", "hire", "row", "state", "error", "evidence", "status")
    return Status(
        counts={(account, state): count for account, state, count in rows},
        quarantined=[(a, until, reason) for a, until, reason in quarantined],
        errors=[dict(zip(columns, row, strict=True)) for row in errors],
    )


# -- the worker ---------------------------------------------------------------------------
@dataclass
class WorkerState:
    """What every job of one worker process shares: settings, credentials, the browser."""

    fleet: FleetSettings
    accounts: dict[str, Settings]
    ws_endpoint: str | None = None
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")


def prepare_worker(fleet: FleetSettings) -> WorkerState:
    """Read every account's credentials, then remove every secret from the environment:
    the browsers and drivers this worker starts inherit none."""
    from robots.fleet_settings import DATABASE_URL_NAME, browser_ws_endpoint
    from robots.settings import forget_secrets

    try:
        accounts = {name: account_settings(a, fleet) for name, a in fleet.accounts.items()}
        ws_endpoint = browser_ws_endpoint()
    finally:
        os.environ.pop(DATABASE_URL_NAME, None)
        forget_secrets()
    return WorkerState(fleet=fleet, accounts=accounts, ws_endpoint=ws_endpoint)


def run_worker(state: WorkerState, *, browsers: int) -> None:
    """Run jobs until SIGTERM/SIGINT (then the jobs under way finish first)."""
    import asyncio

    ensure_schema(state.fleet)
    app = make_app(state.fleet, pool_size=browsers + 3)
    log.info("worker starting", worker=state.name, browsers=browsers)

    async def work() -> None:
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE, MAINTENANCE_QUEUE],
                concurrency=browsers,
                name=state.name,
                additional_context={"fleet": state, "lanes": lanes},
                update_heartbeat_interval=state.fleet.heartbeat_seconds,
                stalled_worker_timeout=state.fleet.stalled_after_seconds,
                fetch_job_polling_interval=1.0,
                abort_job_polling_interval=5.0,
            )

    # One lane per browser: each job runs on a lane's thread, with its browser.
    lanes = Lanes(state, browsers)
    try:
        asyncio.run(work())
    finally:
        lanes.stop()  # every session signed out, every browser closed


async def _recover_stalled_task(context: Any, timestamp: int) -> int:
    """Put the jobs of workers that stopped sending heartbeats back in the queue.

    Procrastinate's own recipe: the job, redone from a fresh look at the portal, finishes
    what the dead worker started without doing any of it twice."""
    state: WorkerState = context.additional_context["fleet"]
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=state.fleet.stalled_after_seconds
    )
    recovered = 0
    for job in stalled:
        if job.task_name != HIRE_TASK:
            continue
        await manager.retry_job(job)
        recovered += 1
        log.warning("job of a stopped worker queued again", job=job.id, lock=job.lock)
    return recovered


async def _onboard_hire_task(
    context: Any, account: str, kind: str, row: int, roster: str, hire: dict[str, Any]
) -> str:
    import asyncio

    state: WorkerState = context.additional_context["fleet"]
    lanes: Lanes = context.additional_context["lanes"]
    job_id = int(context.job.id)
    with lanes.lane_for(account) as lane:
        done = lane.submit(lambda lane: run_hire_job(state, lane, job_id, account, kind, row, hire))
        result: str = await asyncio.wrap_future(done)
        return result


def run_hire_job(
    state: WorkerState,
    lane: Lane,
    job_id: int,
    account_name: str,
    kind: str,
    row: int,
    payload: Mapping[str, Any],
) -> str:
    """One job: the account's quarantine and session limit, the hire, its evidence."""
    fleet = state.fleet
    settings = state.accounts.get(account_name)
    if settings is None:
        raise BusinessFailure(f"no account {account_name!r} in this worker's settings")
    account = fleet.accounts[account_name]
    try:
        entry = entry_from_payload(kind, row, payload)
    except ValueError as error:
        raise BusinessFailure(f"row {row}: the job's values are not valid: {error}") from None
    identity = hire_identity(kind, entry)
    conn = lane.conn
    _check_quarantine(conn, account_name)
    job_dir = fleet.evidence_dir / account_name / str(job_id)
    try:
        # The lane's session of the account, or a slot of it and a fresh browser context.
        warm = lane.hold(account)
        _record(conn, job_id, account_name, kind, identity, row, "running", worker=state.name)
        result: RunResult | None = process_hires(
            kind,
            settings,
            [entry],
            job_dir,
            exclusive=lambda step: _ExclusiveScreen(conn, account_name, step),
            license_batch=fleet.license_batch,
            warm=warm,
        )
    except SetupError as error:  # no browser, or the job's folder or lock could not be had
        result, message = None, str(error)
    if result is None or result.stopped:
        # The browser or the session failed: the next job starts from a fresh one.
        lane.release()
    user = result.users[0] if result is not None and result.users else None
    status = user.status if user is not None else "failed"
    if result is not None:
        message = (user.error if user else None) or result.stopped or ""
    evidence = str(result.run_dir.relative_to(fleet.evidence_dir)) if result else None
    where = (job_id, account_name, kind, identity, row)
    if status == "complete":
        _account_ok(conn, account_name)
        _record(conn, *where, "complete", None, evidence)
        _index(fleet, *where, "complete", None, result)
        return "complete"
    # A refusal in the portal's words is final; a run that stopped (sign-in page down,
    # browser lost) or a portal error is not.
    if user is not None and user.error_kind == "business" and not message_stopped(result):
        _account_ok(conn, account_name)
        _record(conn, *where, status, message, evidence)
        _index(fleet, *where, status, message, result)
        raise BusinessFailure(message)
    failures = _record(conn, *where, "retrying", message, evidence, transient=True)
    _account_failed(conn, fleet, account_name, message)
    _index(fleet, *where, "failed", message, result)
    raise TransientFailure(message, failures)


def message_stopped(result: RunResult | None) -> bool:
    """True when the run stopped early (no sign-in, browser lost): never a business failure."""
    return result is None or bool(result.stopped)


def _check_quarantine(conn: psycopg.Connection[Any], account: str) -> None:
    row = conn.execute(
        "SELECT quarantined_until, reason FROM onboard_fleet_accounts"
        " WHERE account = %s AND quarantined_until > now()",
        (account,),
    ).fetchone()
    if row is not None:
        raise AccountQuarantined(account, row[0], row[1] or "")


class _ExclusiveScreen:
    """A screen that must be alone (Nextiva's Assign screen), held by one worker of the
    fleet per account at a time.

    The Assign screen saves every checkbox it lists, so two workers saving it at once would
    undo each other's new licences. A lock wait is bounded: a worker stuck on it gives up
    and the step is retried as a transient failure."""

    def __init__(self, conn: psycopg.Connection[Any], account: str, step: str) -> None:
        self._conn = conn
        self._key = lock_key(f"screen:{step}", account)

    def __enter__(self) -> None:
        import psycopg

        self._conn.execute("SET lock_timeout = '300s'")
        try:
            self._conn.execute("SELECT pg_advisory_lock(%s)", (self._key,))
        except psycopg.errors.LockNotAvailable as error:
            from domain.errors import PortalError

            raise PortalError("the Assign screen stayed busy for 5 minutes") from error

    def __exit__(self, *exc: object) -> None:
        self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))


def _record(
    conn: psycopg.Connection[Any],
    job_id: int,
    account: str,
    kind: str,
    hire: str,
    row: int,
    state: str,
    error: str | None = None,
    evidence: str | None = None,
    *,
    worker: str | None = None,
    transient: bool = False,
) -> int:
    """The job's line in onboard_fleet_jobs; returns its transient failures so far."""
    found = conn.execute(
        """
        INSERT INTO onboard_fleet_jobs
            (job_id, account, kind, hire, roster_row, state, error, evidence, worker,
             transient_failures)
        VALUES (%(job)s, %(account)s, %(kind)s, %(hire)s, %(row)s, %(state)s, %(error)s,
                %(evidence)s, %(worker)s, %(transient)s)
        ON CONFLICT (job_id) DO UPDATE SET
            state = EXCLUDED.state,
            error = EXCLUDED.error,
            evidence = coalesce(EXCLUDED.evidence, onboard_fleet_jobs.evidence),
            worker = coalesce(EXCLUDED.worker, onboard_fleet_jobs.worker),
            transient_failures = onboard_fleet_jobs.transient_failures
                + EXCLUDED.transient_failures,
            updated_at = now()
        RETURNING transient_failures
        """,
        {
            "job": job_id,
            "account": account,
            "kind": kind,
            "hire": hire,
            "row": row,
            "state": state,
            "error": error,
            "evidence": evidence,
            "worker": worker,
            "transient": 1 if transient else 0,
        },
    ).fetchone()
    return int(found[0]) if found else 0


def _account_ok(conn: psycopg.Connection[Any], account: str) -> None:
    conn.execute(
        "UPDATE onboard_fleet_accounts SET failures_in_a_row = 0, quarantined_until = NULL,"
        " reason = NULL WHERE account = %s",
        (account,),
    )


def _account_failed(
    conn: psycopg.Connection[Any], fleet: FleetSettings, account: str, reason: str
) -> None:
    """Count a transient failure of the account's portal; quarantine it at the threshold.

    The streak is not reset by the quarantine's end: the first job after it that fails
    again puts the account back at once (a circuit breaker's half-open state)."""
    until = datetime.now(UTC) + timedelta(seconds=fleet.quarantine_seconds)
    conn.execute(
        """
        INSERT INTO onboard_fleet_accounts (account, failures_in_a_row) VALUES (%s, 1)
        ON CONFLICT (account) DO UPDATE
           SET failures_in_a_row = onboard_fleet_accounts.failures_in_a_row + 1
        """,
        (account,),
    )
    conn.execute(
        """
        UPDATE onboard_fleet_accounts
           SET quarantined_until = %s,
               reason = 'the portal failed for ' || failures_in_a_row || ' jobs in a row: ' || %s
         WHERE account = %s AND failures_in_a_row >= %s
        """,
        (until, reason[:500], account, fleet.quarantine_after),
    )


def _index(
    fleet: FleetSettings,
    job_id: int,
    account: str,
    kind: str,
    hire: str,
    row: int,
    status: str,
    error: str | None,
    result: RunResult | None,
) -> None:
    """One line per finished attempt in EVIDENCE_DIR/<account>/index.jsonl, for auditors
    (grep or jq): which job, which hire, how it ended, where its evidence is."""
    folder = fleet.evidence_dir / account
    line = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "job": job_id,
        "account": account,
        "kind": kind,
        "hire": hire,
        "row": row,
        "status": status,
        "error": error,
        "evidence": str(result.run_dir.relative_to(fleet.evidence_dir)) if result else None,
        "audit": result.audit if result else None,
        "worker": f"{socket.gethostname()}-{os.getpid()}",
    }
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "index.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # One write under an exclusive lock: lines of workers finishing at once never mix.
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)


# -- the one adapter onto the run machinery -------------------------------------------------
def process_hires(
    kind_name: str,
    settings: Settings,
    entries: Sequence[RosterEntry],
    evidence_dir: Path,
    *,
    exclusive: Callable[[str], contextlib.AbstractContextManager[Any]],
    license_batch: int = 1,
    warm: WarmBrowser | None = None,
) -> RunResult:
    """Onboard `entries` exactly as `onboard run` does (steps, retries, convergence,
    evidence), with the evidence in a run folder under `evidence_dir`.

    `exclusive(step)` is the fleet-wide lock of a step that must be alone on its screen: it
    stands in for the run's own lock, which only keeps one run's threads apart."""
    from robots.evidence import seal_run
    from robots.portals import portal_kind
    from robots.report import write_junit, write_report
    from robots.runner import Runner, RunOptions, write_summary

    kind = portal_kind(kind_name)
    run_settings = settings.model_copy(
        update={"recordings_dir": evidence_dir, "portal_kind": kind.name}
    )
    runner = Runner(
        run_settings, RunOptions(workers=1, license_batch=license_batch), kind, warm=warm
    )
    # The run's own lock of such a step keeps its threads apart; the fleet's keeps machines
    # apart. (The runner only enters it: any context manager serves.)
    runner._exclusive = {name: exclusive(name) for name in runner._exclusive}  # type: ignore[misc]
    result = runner.run(entries, mode="run")
    write_summary(result)
    write_report(result, runner.redactor)
    write_junit(result, runner.redactor)
    seal_run(result.run_dir, result.run_id, result.audit, runner.evidence_key)
    return result
