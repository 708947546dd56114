"""A fleet worker's browsers, each kept open and signed in between jobs.

Starting a browser and signing in for every job cost a fleet worker twice the CPU of
`onboard run` per hire. So each of a worker's browsers is a *lane*: a thread of its own
(Playwright's sync API keeps an object to the thread that made it) that owns one browser
for the worker's life and at most one signed-in session, of one account, at a time.

A session counts against its account's limit from sign-in until the portal ends it, so a
lane's session holds one of the account's session *slots*:

- the slot is a PostgreSQL advisory lock on the lane's own connection, so a killed
  worker's slots are freed with its connection;
- and a *lease* in `onboard_fleet_sessions`: the moment until which the portal may still
  count the session. The worker renews it while it holds the session; a lane that signs
  out deletes it. A worker killed while signed in leaves its lease to run out (the
  account's `session_idle_seconds`, the portal's idle limit), so its slot stays closed
  until the session it left behind has expired at the portal.

A lane gives its session up (signs out, closes its context, frees the slot) when a job of
another account comes to it, when it has been idle `keep_warm_seconds`, as soon as a job
of another worker waits for one of its account's slots, after a job that stopped (the
browser or the sign-in failed), and when the worker stops.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from domain.errors import PortalError, SetupError
from robots.fleet_settings import Account

if TYPE_CHECKING:
    import psycopg
    from playwright.sync_api import Browser, Playwright

    from robots.fleet import WorkerState
    from robots.startup import WarmBrowser

log = structlog.get_logger("onboard.fleet")

# An idle lane whose account another job waits for gives its session up after this long.
_IDLE_MOMENT_SECONDS = 2.0

SESSIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS onboard_fleet_sessions (
    account text NOT NULL,
    slot integer NOT NULL,
    -- The worker renewing the lease; NULL once no live worker holds the session.
    worker text,
    -- Until when the portal may still count the session.
    live_until timestamptz NOT NULL,
    PRIMARY KEY (account, slot)
);
"""


class SessionsBusy(Exception):
    """Every session the account allows is in use: try again at `retry_at`, or soon."""

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


def session_key(account: str) -> int:
    """The advisory lock key of the account's session slots (the slot is the second key)."""
    from robots.fleet import lock_key

    return lock_key("session", account)


# -- one lane ---------------------------------------------------------------------------
@dataclass
class _Held:
    """The session a lane holds: its account, its slot and its browser context."""

    account: Account
    slot: int
    warm: WarmBrowser


class Lane:
    """One browser of a worker on its own thread, and the session it keeps warm."""

    def __init__(self, index: int, state: WorkerState) -> None:
        self._state = state
        self._inbox: queue.SimpleQueue[tuple[Callable[[Lane], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._conn: psycopg.Connection[Any] | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.held: _Held | None = None
        # A job is on the lane; or it has been told to give its session up.
        self.busy = False
        self.releasing = False
        self.idle_since = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=f"browser-{index}", daemon=True)
        self._thread.start()

    # -- called from other threads ------------------------------------------------------
    def submit(self, work: Callable[[Lane], Any]) -> Future[Any]:
        """Run `work(lane)` on the lane's thread; its result or error in the future."""
        future: Future[Any] = Future()
        self._inbox.put((work, future))
        return future

    def stop(self) -> None:
        """Sign out, close the browser and end the thread (after the work already given)."""
        self._inbox.put(None)
        self._thread.join(timeout=120)

    @property
    def account(self) -> str | None:
        held = self.held
        return held.account.name if held else None

    # -- the lane's own thread --------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while (item := self._inbox.get()) is not None:
                work, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(work(self))
                except BaseException as error:  # handed to the job that waits for it
                    future.set_exception(error)
        finally:
            self.release()
            self._close_browser()
            if self._playwright is not None:
                with contextlib.suppress(Exception):
                    self._playwright.stop()
            if self._conn is not None:
                self._conn.close()

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The lane's database connection: its slot's and its screens' locks live on it."""
        from robots.fleet import connect

        if self._conn is None or self._conn.closed or self._conn.broken:
            # A lost connection took its locks with it: the session is no longer covered.
            self._forget_session()
            self._conn = connect(self._state.fleet)
        return self._conn

    def hold(self, account: Account) -> WarmBrowser:
        """A browser context for `account`, signed in already if this lane's last job was
        for it; otherwise the old session is given up and a slot of `account` taken.
        Raises SessionsBusy when every slot of the account stays in use."""
        conn = self.conn
        held = self.held
        if held is not None and held.account.name == account.name and self._browser_alive():
            return held.warm
        self.release()
        slot = take_slot(conn, account, self._state.fleet.session_wait_seconds, self._state)
        try:
            context = self._open_browser().new_context(viewport={"width": 1366, "height": 900})
        except Exception:
            free_slot(conn, account, slot, signed_out=True)
            raise
        from robots.startup import WarmBrowser

        self.held = _Held(account, slot, WarmBrowser(context, context.new_page()))
        return self.held.warm

    def _browser_alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def release(self) -> None:
        """Sign out of the session held (if any), close its context and free its slot."""
        held, self.held = self.held, None
        if held is None:
            return
        signed_out = not held.warm.signed_in or self._sign_out(held)
        with contextlib.suppress(Exception):
            held.warm.context.close()
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            free_slot(self._conn, held.account, held.slot, signed_out=signed_out)
        log.info("session given up", account=held.account.name, signed_out=signed_out)

    def _sign_out(self, held: _Held) -> bool:
        from playwright.sync_api import Error as PlaywrightError

        from robots.portals import portal_kind

        sign_out = portal_kind(held.account.kind).sign_out
        if sign_out is None:
            return False  # the portal has no sign-out: the session runs out by itself
        settings = self._state.accounts[held.account.name]
        try:
            sign_out(held.warm.page, settings.portal_url, timeout_ms=settings.step_timeout_ms)
        except (PortalError, PlaywrightError) as error:
            log.warning("signing out failed", account=held.account.name, error=str(error))
            return False
        return True

    def _forget_session(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            with contextlib.suppress(Exception):
                held.warm.context.close()

    def _open_browser(self) -> Browser:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        from robots.browser import launch_options

        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self._close_browser()
        remote = self._state.ws_endpoint
        try:
            if self._playwright is None:
                # Started on the lane's thread, the only one that may use it.
                self._playwright = sync_playwright().start()
            if remote:
                self._browser = self._playwright.chromium.connect(remote)
            else:
                self._browser = self._playwright.chromium.launch(**launch_options())
        except PlaywrightError as error:
            raise SetupError(f"the browser could not start: {error.message}") from error
        return self._browser

    def _close_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()


# -- slots ------------------------------------------------------------------------------
def take_slot(
    conn: psycopg.Connection[Any], account: Account, wait: float, state: WorkerState
) -> int:
    """A session slot of the account, its advisory lock held on `conn` and its lease
    renewed by this worker. A slot whose lease has not run out is skipped: a worker that
    died signed in left a session the portal still counts.

    When no slot is free and no other account's job is ready, the job waits (up to `wait`
    seconds) on one held by another job, and PostgreSQL hands it over the moment its holder
    frees it, rather than the job polling. Raises SessionsBusy when none came free."""
    import psycopg

    key = session_key(account.name)
    leased_until: list[datetime] = []
    locked: list[int] = []
    for slot in _shuffled(account.sessions):
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (key, slot)).fetchone()
        if not (row and row[0]):
            locked.append(slot)
            continue
        until = _lease(conn, account, slot, state)
        if until is None:
            return slot
        leased_until.append(until)
    if locked and not _free_elsewhere(conn, account, state):
        conn.execute(f"SET lock_timeout = '{max(1, int(wait * 1000))}ms'")
        try:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (key, locked[0]))
        except psycopg.errors.LockNotAvailable:
            pass
        else:
            until = _lease(conn, account, locked[0], state)
            if until is None:
                return locked[0]
            leased_until.append(until)
            locked.pop(0)  # freed by its holder, but still leased
        finally:
            conn.execute("SET lock_timeout = 0")
    # Held by live workers: try again soon; else when the first lease runs out.
    retry_at = min(leased_until) if leased_until and not locked else None
    raise SessionsBusy(f"account {account.name}: every session is in use", retry_at)


def _free_elsewhere(conn: psycopg.Connection[Any], account: Account, state: WorkerState) -> bool:
    """Whether another account has jobs ready and a session free for them: then a job
    whose account has none goes back at once, and the worker takes one of those instead
    of waiting. (Every session held, or left behind by a killed worker, has a live lease.)"""
    from robots.fleet import HIRE_TASK

    # Each account with jobs ready, and its sessions still live at the portal.
    rows = conn.execute(
        """
        SELECT ready.account, count(s.slot) FROM (
            SELECT DISTINCT args->>'account' AS account FROM procrastinate_jobs
             WHERE task_name = %s AND status = 'todo' AND args->>'account' <> %s
               AND (scheduled_at IS NULL OR scheduled_at <= now())) ready
        LEFT JOIN onboard_fleet_sessions s
               ON s.account = ready.account AND s.live_until > now()
        GROUP BY ready.account
        """,
        (HIRE_TASK, account.name),
    ).fetchall()
    accounts = state.fleet.accounts
    return any(name in accounts and live < accounts[name].sessions for name, live in rows)


def _lease(
    conn: psycopg.Connection[Any], account: Account, slot: int, state: WorkerState
) -> datetime | None:
    """Take the slot's lease (its advisory lock is held); None when taken, else the
    moment an earlier session in it runs out at the portal (the lock is then let go)."""
    row = conn.execute(
        """
        INSERT INTO onboard_fleet_sessions (account, slot, worker, live_until)
        VALUES (%(account)s, %(slot)s, %(worker)s, now() + make_interval(secs => %(live)s))
        ON CONFLICT (account, slot) DO UPDATE
           SET worker = EXCLUDED.worker, live_until = EXCLUDED.live_until
         WHERE onboard_fleet_sessions.live_until <= now()
        RETURNING NULL
        """,
        {
            "account": account.name,
            "slot": slot,
            "worker": state.name,
            "live": _live(account, state),
        },
    ).fetchone()
    if row is not None:
        return None
    found = conn.execute(
        "SELECT live_until FROM onboard_fleet_sessions WHERE account = %s AND slot = %s",
        (account.name, slot),
    ).fetchone()
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (session_key(account.name), slot))
    return found[0] if found else None


def _live(account: Account, state: WorkerState) -> float:
    """How long after its last renewal a session may still be alive at the portal."""
    return account.session_idle_seconds + 2 * state.fleet.heartbeat_seconds


def free_slot(
    conn: psycopg.Connection[Any], account: Account, slot: int, *, signed_out: bool
) -> None:
    """Free the slot: its lease ends now when the session was signed out, else when the
    portal's idle limit ends it (no worker renews it any more)."""
    if signed_out:
        conn.execute(
            "DELETE FROM onboard_fleet_sessions WHERE account = %s AND slot = %s",
            (account.name, slot),
        )
    else:
        conn.execute(
            "UPDATE onboard_fleet_sessions SET worker = NULL,"
            " live_until = now() + make_interval(secs => %s) WHERE account = %s AND slot = %s",
            (account.session_idle_seconds, account.name, slot),
        )
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (session_key(account.name), slot))


def _shuffled(count: int) -> list[int]:
    import random

    return random.sample(range(count), count)


# -- the lanes of one worker ------------------------------------------------------------------
class Lanes:
    """A worker's lanes, handed to jobs: the one already signed in to the job's account
    first. A keeper thread renews the worker's leases and tells an idle lane to give its
    session up when it has waited long enough or another job waits for its slot."""

    def __init__(self, state: WorkerState, count: int) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._lanes = [Lane(index, state) for index in range(count)]
        self._stopping = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="lane-keeper", daemon=True)
        self._keeper.start()

    @contextlib.contextmanager
    def lane_for(self, account: str) -> Iterator[Lane]:
        """An idle lane for a job of `account`, busy until the job ends.

        The engine runs no more jobs at once than the worker has lanes, so one is always
        idle; one giving its session up takes the job after that."""
        with self._lock:
            idle = [lane for lane in self._lanes if not lane.busy]
            warm = [lane for lane in idle if lane.account == account and not lane.releasing]
            cold = [lane for lane in idle if lane.account is None and not lane.releasing]
            oldest = sorted(idle, key=lambda lane: (lane.releasing, lane.idle_since))
            lane = (warm or cold or oldest)[0]
            lane.busy = True
        try:
            yield lane
        finally:
            with self._lock:
                lane.busy = False
                lane.idle_since = time.monotonic()

    def stop(self) -> None:
        self._stopping.set()
        for lane in self._lanes:
            lane.stop()
        self._keeper.join(timeout=10)

    def _keep(self) -> None:
        from robots.fleet import connect

        renewed = 0.0
        conn: psycopg.Connection[Any] | None = None
        while not self._stopping.wait(1.0):
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = connect(self._state.fleet)
                if time.monotonic() - renewed >= self._state.fleet.heartbeat_seconds:
                    self._renew(conn)
                    renewed = time.monotonic()
                self._release_idle(conn)
            except Exception as error:  # the database is away: try again next second
                log.warning("the lanes' keeper failed", error=str(error))
        if conn is not None:
            conn.close()

    def _renew(self, conn: psycopg.Connection[Any]) -> None:
        """Every held session's lease: alive for the portal's idle limit from now."""
        for lane in self._lanes:
            held = lane.held
            if held is None:
                continue
            conn.execute(
                "UPDATE onboard_fleet_sessions SET live_until = now() + make_interval(secs => %s)"
                " WHERE account = %s AND slot = %s AND worker = %s",
                (_live(held.account, self._state), held.account.name, held.slot, self._state.name),
            )

    def _release_idle(self, conn: psycopg.Connection[Any]) -> None:
        keep = self._state.fleet.keep_warm_seconds
        for lane in self._lanes:
            with self._lock:
                held = lane.held
                if lane.busy or lane.releasing or held is None:
                    continue
            idle = time.monotonic() - lane.idle_since
            # Given up to a job elsewhere that waits for the account, once this lane has
            # had no job for a moment: its worker has nothing more to give it.
            if idle < keep and not (idle >= _IDLE_MOMENT_SECONDS and _waited_for(conn, held)):
                continue
            with self._lock:
                if lane.busy or lane.held is not held:
                    continue  # a job came to it meanwhile
                lane.releasing = True  # jobs go to other lanes while it signs out
            lane.submit(self._release_if_idle(held))

    def _release_if_idle(self, held: _Held) -> Callable[[Lane], None]:
        def work(lane: Lane) -> None:
            try:
                if lane.held is held:
                    lane.release()
            finally:
                with self._lock:
                    lane.releasing = False

        return work


def _waited_for(conn: psycopg.Connection[Any], held: _Held) -> bool:
    """Whether a job (of any worker) waits for a session slot of the held account."""
    key = session_key(held.account.name) & 0xFFFFFFFF  # pg_locks shows it as an oid
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
        " AND NOT granted AND classid = %s::bigint::oid AND objsubid = 2)",
        (key,),
    ).fetchone()
    return bool(row and row[0])
