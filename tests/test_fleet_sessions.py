"""The fleet's session slots, on a throwaway PostgreSQL and without a browser.

A slot is an advisory lock and a lease: these tests hold slots on separate connections, as
separate workers would, and check what a worker would rely on: never more sessions than
the account allows, a session left signed in by a killed worker closing its slot until
the portal has forgotten it, and a job going back at once when other work can be done.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from robots.fleet import HIRE_TASK, WorkerState, ensure_schema, make_app
from robots.fleet_lanes import SessionsBusy, free_slot, take_slot
from robots.fleet_local import LocalDatabase, postgres_bin
from robots.fleet_settings import Account, FleetSettings

pytestmark = pytest.mark.skipif(
    postgres_bin() is None, reason="PostgreSQL's server programs are not installed"
)

ACME = Account("acme", "nextiva", "http://127.0.0.1:1/", "A_USER", "A_PASS", sessions=2)
GLOBEX = Account("globex", "nextiva", "http://127.0.0.1:2/", "G_USER", "G_PASS", sessions=1)


@pytest.fixture(scope="module")
def database() -> Iterator[LocalDatabase]:
    with LocalDatabase() as db:
        yield db


@pytest.fixture
def state(database: LocalDatabase, tmp_path: Path) -> Iterator[WorkerState]:
    fleet = FleetSettings(
        accounts={"acme": ACME, "globex": GLOBEX},
        evidence_dir=tmp_path,
        database_url=SecretStr(database.url),
        session_wait_seconds=0.3,
    )
    ensure_schema(fleet)
    yield WorkerState(fleet=fleet, accounts={}, name="test-worker")
    with psycopg.connect(database.url, autocommit=True) as conn:
        conn.execute("DELETE FROM onboard_fleet_sessions")
        conn.execute("DELETE FROM procrastinate_jobs")


def worker(database: LocalDatabase) -> psycopg.Connection[Any]:
    """A connection of its own, as one worker's lane has."""
    return psycopg.connect(database.url, autocommit=True)


def test_an_account_never_has_more_sessions_than_its_limit(
    database: LocalDatabase, state: WorkerState
) -> None:
    first, second, third = worker(database), worker(database), worker(database)
    slot = take_slot(first, ACME, 0.3, state)
    assert {slot, take_slot(second, ACME, 0.3, state)} == {0, 1}
    with pytest.raises(SessionsBusy) as busy:
        take_slot(third, ACME, 0.3, state)
    assert busy.value.retry_at is None  # held by live workers: try again soon
    free_slot(first, ACME, slot, signed_out=True)
    assert take_slot(third, ACME, 0.3, state) == slot
    for conn in (first, second, third):
        conn.close()


def test_a_killed_workers_session_closes_its_slot_until_the_portal_forgets_it(
    database: LocalDatabase, state: WorkerState
) -> None:
    killed, other = worker(database), worker(database)
    assert take_slot(killed, GLOBEX, 0.3, state) == 0
    killed.close()  # the worker dies signed in: its lock goes, its lease stays
    with pytest.raises(SessionsBusy) as busy:
        take_slot(other, GLOBEX, 0.3, state)
    retry_at = busy.value.retry_at
    assert retry_at is not None
    expected = datetime.now(UTC) + timedelta(seconds=GLOBEX.session_idle_seconds)
    assert abs((retry_at - expected).total_seconds()) < 60
    # Once the portal has forgotten that session, the slot opens.
    other.execute("UPDATE onboard_fleet_sessions SET live_until = now() - interval '1 s'")
    assert take_slot(other, GLOBEX, 0.3, state) == 0
    other.close()


def test_a_session_not_signed_out_keeps_its_slot_closed_after_it_is_freed(
    database: LocalDatabase, state: WorkerState
) -> None:
    first, second = worker(database), worker(database)
    take_slot(first, GLOBEX, 0.3, state)
    free_slot(first, GLOBEX, 0, signed_out=False)  # a portal without a sign-out
    with pytest.raises(SessionsBusy) as busy:
        take_slot(second, GLOBEX, 0.3, state)
    assert busy.value.retry_at is not None
    first.close()
    second.close()


def test_a_job_goes_back_at_once_when_another_account_has_work_and_a_free_session(
    database: LocalDatabase, state: WorkerState
) -> None:
    import time

    holder, waiter = worker(database), worker(database)
    take_slot(holder, GLOBEX, 0.3, state)
    slow = state.fleet.session_wait_seconds
    # Nothing else to do: the job waits for the session (up to session_wait_seconds).
    started = time.monotonic()
    with pytest.raises(SessionsBusy):
        take_slot(waiter, GLOBEX, slow, state)
    assert time.monotonic() - started >= slow
    # An acme hire is ready and acme has a free session: the job goes back without waiting.
    app = make_app(state.fleet)
    with app.open():
        app.configure_task(HIRE_TASK).defer(
            account="acme", kind="nextiva", row=2, roster="r", hire={}
        )
    started = time.monotonic()
    with pytest.raises(SessionsBusy):
        take_slot(waiter, GLOBEX, 5.0, state)
    assert time.monotonic() - started < 2.0
    holder.close()
    waiter.close()
