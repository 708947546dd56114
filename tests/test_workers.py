"""Several workers at once: every user once, one sign-in per worker, one audit chain per run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mock_portal.server import PortalServer
from tests.conftest import Portal
from tests.robot_runs import (
    duplicates,
    incomplete_users,
    onboard,
    roster_rows,
    run_folders,
    start_onboard,
    write_roster,
)
from tests.test_reliability import (
    _assign_save,
    at_first_request,
    counter,
    output_of,
    summary_of,
    usernames,
)

pytestmark = pytest.mark.browser


def test_three_workers_onboard_every_user_once_signing_in_once_each(
    portal: Portal, tmp_path: Path
) -> None:
    """Six hires over three workers: all complete in the portal, no duplicate, three
    sign-ins, the summary in roster order, and the run's one audit log verifies."""
    seed_users = usernames(portal.state())
    rows = roster_rows(6, prefix="w")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)
    sign_ins = counter(portal, "sign_ins")

    run = onboard(portal, tmp_path, "run", "roster.csv", "--workers", "3", "--license-batch", "2")

    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    state = portal.state()
    assert incomplete_users(state, names) == {}
    assert duplicates(state) == []
    assert usernames(state) == seed_users | set(names)
    assert counter(portal, "sign_ins") == sign_ins + 3
    [folder] = run_folders(tmp_path)
    summary = summary_of(folder)
    assert summary["sign_ins"] == 3
    assert [u["username"] for u in summary["users"]] == names
    assert {u["status"] for u in summary["users"]} == {"complete"}
    assert onboard(portal, tmp_path, "verify", str(folder)).returncode == 0


@pytest.mark.reliability
def test_workers_killed_at_the_first_licence_batch_resume_without_duplicates(
    portal: Portal, portal_server: PortalServer, tmp_path: Path
) -> None:
    """SIGKILL as the first batch's Save arrives, with two workers busy: a rerun with two
    workers leaves every hire complete once, and a third run saves nothing."""
    rows = roster_rows(4, prefix="wk")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)
    args = ("run", "roster.csv", "--workers", "2", "--license-batch", "2")

    robot: list[subprocess.Popen[str]] = []
    with at_first_request(portal_server, _assign_save, lambda: robot[0].kill()) as killed_at:
        robot.append(start_onboard(portal, tmp_path, *args))
        robot[0].wait(timeout=180)
    assert killed_at, f"no licence batch was saved\n{output_of(tmp_path)}"

    rerun = onboard(portal, tmp_path, *args)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-3000:]
    state = portal.state()
    assert incomplete_users(state, names) == {}
    assert duplicates(state) == []
    saves = counter(portal, "saves")
    final = onboard(portal, tmp_path, *args)
    assert final.returncode == 0, final.stdout
    assert counter(portal, "saves") == saves, "the third run had nothing left to save"


@pytest.mark.reliability
def test_workers_creating_users_at_one_location_take_different_free_numbers(
    portal: Portal, tmp_path: Path
) -> None:
    """Three workers adding hires at the same location at the same moment are offered the
    same free numbers: each takes another, and no hire is refused for a number."""
    rows = [{**row, "location": "Denver Office"} for row in roster_rows(6, prefix="n")]
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)

    run = onboard(portal, tmp_path, "run", "roster.csv", "--workers", "3")

    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    state = portal.state()
    assert incomplete_users(state, names) == {}
    assert duplicates(state) == []
    assert summary_of(run_folders(tmp_path)[-1])["retries"] == 0
