"""Onboarding past one machine: jobs on a PostgreSQL queue, worker processes, kills.

Each test starts a throwaway PostgreSQL cluster in a temporary folder (as the `postgres`
user when run as root: the server refuses root), two mock portals standing for two
customer accounts, and `onboard worker` processes; it asserts on the portals' oracles and
on the evidence, never only on what the robot printed.
"""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from robots.browser import launch_options
from robots.evidence import verify_run
from robots.fleet_local import LocalFleet, free_port, local_fleet, postgres_bin
from tests.conftest import Portal
from tests.robot_runs import (
    duplicates,
    files_holding,
    incomplete_users,
    onboard,
    robot_env,
    roster_rows,
    write_roster,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        postgres_bin() is None,
        reason="PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql",
    ),
]

# Short enough for a test: a dead worker is noticed within about 3 s.
FAST = {
    "stalled_after_seconds": 3,
    "recover_every_seconds": 1,
    "backoff_seconds": 1,
    "session_wait_seconds": 5,
    "keep_warm_seconds": 10,
    # The portal forgets an idle session after 20 s: a killed worker's session closes its
    # slot about that long.
    "session_idle_seconds": 20,
}


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[LocalFleet]:
    with local_fleet(tmp_path, ("acme", "globex"), sessions=1, **FAST) as running:
        yield running


def wait_for(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    """Poll `check` until it returns something true (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def query(fleet: LocalFleet, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(fleet.database.url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def enqueue_rosters(fleet: LocalFleet, per_account: int) -> dict[str, list[str]]:
    """`per_account` distinct hires for each account, each roster enqueued twice."""
    wanted = {}
    for account in fleet.accounts:
        rows = roster_rows(per_account, prefix=account.name[:2])
        path = write_roster(fleet.folder / f"{account.name}.csv", rows)
        wanted[account.name] = [row["username"] for row in rows]
        first = fleet.onboard("enqueue", str(path), "--account", account.name)
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"{per_account} new, 0 already queued, 0 refused" in first.stdout
        again = fleet.onboard("enqueue", str(path), "--account", account.name)
        assert f"0 new, {per_account} already queued" in again.stdout, again.stdout
    return wanted


def running_job_with_steps(fleet: LocalFleet, steps: int) -> tuple[int, str] | None:
    """(job id, worker) of a job under way whose evidence holds `steps` audit lines."""
    rows = query(
        fleet,
        "SELECT f.job_id, f.account, f.worker FROM onboard_fleet_jobs f"
        " JOIN procrastinate_jobs j ON j.id = f.job_id"
        " WHERE f.state = 'running' AND j.status = 'doing'",
    )
    for job_id, account, worker in rows:
        folder = fleet.evidence_dir / account / str(job_id)
        audits = list(folder.glob("*/audit.jsonl"))
        if any(len(a.read_text().splitlines()) >= steps for a in audits):
            return job_id, worker
    return None


def kill_worker_of(fleet: LocalFleet, worker: str) -> None:
    pid = int(worker.rsplit("-", 1)[1])
    [process] = [p for p in fleet.workers if p.pid == pid]
    fleet.kill(process)


def assert_every_hire_once(fleet: LocalFleet, wanted: dict[str, list[str]]) -> None:
    for account in fleet.accounts:
        state = account.state()
        assert incomplete_users(state, wanted[account.name]) == {}, account.name
        assert duplicates(state) == [], account.name
        # The portal's own count, a session left by a killed worker included until it expired.
        assert account.sessions_counted()["most_at_once"] <= account.sessions, account.name


def assert_evidence_verifies(fleet: LocalFleet) -> int:
    """Every finished attempt's folder verifies; a killed attempt's is whole but unfinished.
    Returns how many jobs ended complete."""
    complete = 0
    for account in fleet.accounts:
        index = fleet.evidence_dir / account.name / "index.jsonl"
        lines = [json.loads(line) for line in index.read_text().splitlines()]
        finished = {line["evidence"] for line in lines}
        complete += sum(1 for line in lines if line["status"] == "complete")
        for folder in (fleet.evidence_dir / account.name).glob("*/*"):
            if not folder.is_dir():
                continue
            result = verify_run(folder)
            assert result.problems == [], (folder, result.problems)
            relative = str(folder.relative_to(fleet.evidence_dir))
            assert result.ok == (relative in finished), (folder, result)
    return complete


@pytest.mark.reliability
def test_workers_share_two_accounts_and_a_killed_workers_job_finishes_once(
    fleet: LocalFleet,
) -> None:
    """Eight hires over two accounts, three workers, one killed mid-job: every hire complete
    exactly once in both portals, never more sessions than allowed, evidence verifies."""
    wanted = enqueue_rosters(fleet, 4)
    for _ in range(3):
        fleet.start_worker(browsers=1)

    job_id, worker = wait_for("a job two steps in", lambda: running_job_with_steps(fleet, 2))
    kill_worker_of(fleet, worker)
    fleet.wait_until_done(timeout=240)

    status = fleet.onboard("status")
    assert "succeeded" in status.stdout
    assert query(fleet, "SELECT status::text, count(*) FROM procrastinate_jobs"
                 " WHERE task_name = 'onboard_hire' GROUP BY 1") == [("succeeded", 8)]  # fmt: skip
    [(finisher,)] = query(fleet, "SELECT worker FROM onboard_fleet_jobs WHERE job_id = %s", job_id)
    assert finisher != worker
    assert_every_hire_once(fleet, wanted)
    assert assert_evidence_verifies(fleet) == 8
    secrets = [fleet.database.password] + [a.password for a in fleet.accounts]
    assert files_holding(fleet.folder / "evidence", secrets) == []
    assert files_holding(fleet.folder / "logs", secrets) == []
    assert files_holding(fleet.folder, [fleet.database.password]) == []


def test_a_portal_that_keeps_failing_quarantines_its_account_with_the_reason(
    tmp_path: Path,
) -> None:
    """An account whose portal cannot be reached: after two failures in a row its jobs
    wait, quarantined with the reason shown; none is failed."""
    with local_fleet(tmp_path, ("down",), quarantine_after=2, **FAST) as fleet:
        fleet.accounts[0].server.stop()  # nothing listens on its port any more
        rows = roster_rows(3, prefix="q")
        path = write_roster(tmp_path / "down.csv", rows)
        assert fleet.onboard("enqueue", str(path), "--account", "down").returncode == 0
        fleet.start_worker(browsers=1)

        wait_for(
            "the account's quarantine",
            lambda: query(
                fleet, "SELECT reason FROM onboard_fleet_accounts WHERE quarantined_until > now()"
            ),
        )
        status = fleet.onboard("status")
        fleet.stop_workers()

    assert "quarantined down until" in status.stdout, status.stdout
    assert "the portal failed for 2 jobs in a row" in status.stdout
    line = next(x for x in status.stdout.splitlines() if x.startswith("down "))
    counts = dict(zip(status.stdout.split()[1:8], map(int, line.split()[1:8]), strict=True))
    assert counts["failed"] == 0 and counts["succeeded"] == 0
    assert counts["todo"] + counts["waiting"] + counts["doing"] == 3


def test_a_refused_hire_is_not_retried_and_shows_the_reason(fleet: LocalFleet) -> None:
    """A hire at a location the account lacks fails once, with the reason in status."""
    rows = roster_rows(1, prefix="r")
    rows[0]["location"] = "Lunar Base"
    path = write_roster(fleet.folder / "acme.csv", rows)
    assert fleet.onboard("enqueue", str(path), "--account", "acme").returncode == 0
    fleet.start_worker(browsers=1)
    fleet.wait_until_done(timeout=120)

    [(status, attempts)] = query(
        fleet, "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = %s",
        "onboard_hire",
    )  # fmt: skip
    assert (status, attempts) == ("failed", 1)
    shown = fleet.onboard("status").stdout
    assert "Lunar Base" in shown and "row 2" in shown, shown


def test_a_worker_signs_in_once_for_its_jobs_of_an_account_and_signs_out_when_it_stops(
    fleet: LocalFleet,
) -> None:
    """One worker, three hires of one account: the portal saw one session for all three
    (the browser stayed signed in between jobs), and none is left once the worker stops."""
    [acme, _] = fleet.accounts
    rows = roster_rows(3, prefix="wm")
    write_roster(fleet.folder / "acme.csv", rows)
    assert fleet.onboard("enqueue", "acme.csv", "--account", "acme").returncode == 0
    fleet.start_worker(browsers=1)
    fleet.wait_until_done(timeout=180)
    assert acme.sessions_counted()["now"] == 1  # still signed in, waiting for more work
    fleet.stop_workers()

    assert incomplete_users(acme.state(), [row["username"] for row in rows]) == {}
    counter = acme.server.app.extensions["mock_portal"].sessions.counter
    assert counter.counts() == {"now": 0, "most_at_once": 1}
    assert len(counter.ended()) == 1  # one sign-in, ended by signing out
    index = fleet.evidence_dir / "acme" / "index.jsonl"
    jobs = [json.loads(line) for line in index.read_text().splitlines()]
    assert [job["status"] for job in jobs] == ["complete"] * 3


@pytest.mark.reliability
def test_forty_hires_three_workers_and_random_kills_end_complete_once(tmp_path: Path) -> None:
    """Forty hires over two accounts, three workers, at least five workers killed at random
    moments (each replaced): every hire complete once, sessions within the limit."""
    rng = random.Random(13)
    with local_fleet(tmp_path, ("acme", "globex"), sessions=2, **FAST) as fleet:
        wanted = enqueue_rosters(fleet, 20)
        for _ in range(3):
            fleet.start_worker(browsers=1)
        kills = 0
        while kills < 6:
            steps = rng.randint(1, 6)
            found = wait_for(
                "a job under way", functools.partial(running_job_with_steps, fleet, steps)
            )
            kill_worker_of(fleet, found[1])
            kills += 1
            fleet.start_worker(browsers=1)
        fleet.wait_until_done(timeout=1500)
        print(fleet.onboard("status").stdout)
        assert_every_hire_once(fleet, wanted)
        assert assert_evidence_verifies(fleet) == 40


def test_a_browser_served_by_another_machine_onboards_as_a_local_one(
    portal: Portal, tmp_path: Path
) -> None:
    """With BROWSER_WS_ENDPOINT, `onboard run` drives a browser that Playwright's browser
    server launched (here on loopback, as through an SSH tunnel): the hire ends complete."""
    port = free_port()
    config = tmp_path / "server.json"
    ours = launch_options()
    served = {"headless": True, "args": ours["args"], "port": port, "host": "127.0.0.1"}
    if ours.get("executable_path"):
        served["executablePath"] = ours["executable_path"]
    config.write_text(json.dumps({**served, "wsPath": "/browser"}))
    playwright = Path(sys.executable).with_name("playwright")
    server = subprocess.Popen(
        [str(playwright), "launch-server", "--browser", "chromium", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()  # the server says where it listens
        assert endpoint == f"ws://127.0.0.1:{port}/browser"
        rows = roster_rows(1, prefix="ws")
        write_roster(tmp_path / "roster.csv", rows)
        env = robot_env(portal, tmp_path, BROWSER_WS_ENDPOINT=endpoint)
        run = onboard(portal, tmp_path, "run", "roster.csv", env=env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert incomplete_users(portal.state(), [rows[0]["username"]]) == {}
