"""Licences assigned in batches: one Save on the Assign screen for several new hires.

The `onboard` command runs for real against the test session's mock portal; what counts is
the portal's state (the oracle), the run's summary and its audit log.
"""

from __future__ import annotations

import json
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
    write_roster,
)
from tests.test_reliability import (
    _assign_save,
    at_first_request,
    counter,
    output_of,
    sigterm_when,
    start_run,
    summary_of,
)

pytestmark = pytest.mark.browser

PRO_PLUS = "NextOS Pro Plus Upgrade"


def holders(portal: Portal, license_name: str) -> list[str]:
    return next(x for x in portal.state()["licenses"] if x["name"] == license_name)["assigned"]


def audit_lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]


def test_a_batched_run_saves_each_batch_once_with_evidence_for_every_user(
    portal: Portal, tmp_path: Path
) -> None:
    """Four hires in batches of three: two licence Saves, every user complete, and each
    user's audit lines point at the one screenshot of their batch's Save."""
    rows = roster_rows(4, prefix="b")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)
    saves = counter(portal, "saves")

    run = onboard(portal, tmp_path, "run", "roster.csv", "--license-batch", "3")

    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    state = portal.state()
    assert incomplete_users(state, names) == {}
    assert duplicates(state) == []
    # create, E911, device and voicemail are one save each; the licences two in all
    assert counter(portal, "saves") == saves + 4 * len(names) + 2
    [folder] = run_folders(tmp_path)
    writes = [
        line
        for line in audit_lines(folder)
        if line["step"] == "license" and line["action"] == "about to write"
    ]
    assert [line["user"] for line in writes] == names
    shots = [line["screenshot"] for line in writes]
    assert shots[0] == shots[1] == shots[2] != shots[3]
    assert all((folder / str(shot)).is_file() for shot in shots)
    summary = summary_of(folder)
    assert [u["status"] for u in summary["users"]] == ["complete"] * 4
    assert onboard(portal, tmp_path, "verify", str(folder)).returncode == 0


@pytest.mark.reliability
def test_seats_for_part_of_a_batch_onboard_those_and_refuse_the_rest(
    portal: Portal, portal_server: PortalServer, tmp_path: Path
) -> None:
    """Two seats left for three hires: the portal refuses the batch's Save, the robot
    assigns one by one in roster order, and the third hire is refused in the portal's words."""
    essential = "NextOS Voice Essential"
    store = portal_server.app.extensions["mock_portal"].store
    with store.lock:
        next(x for x in store.data.licenses if x.name == essential).seats_total = 2
    rows = [{**row, "license": essential} for row in roster_rows(3, prefix="s")]
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)

    run = onboard(portal, tmp_path, "run", "roster.csv", "--license-batch", "3")

    assert run.returncode == 1, run.stdout + run.stderr[-3000:]
    assert holders(portal, essential) == names[:2]
    users = summary_of(run_folders(tmp_path)[-1])["users"]
    assert [u["status"] for u in users] == ["complete", "complete", "refused"]
    assert "No licenses available." in users[2]["error"]
    assert names[2] in run.stdout


@pytest.mark.reliability
def test_a_run_killed_at_its_licence_batch_resumes_without_duplicates(
    portal: Portal, portal_server: PortalServer, tmp_path: Path
) -> None:
    """SIGKILL as the batch's Save reaches the portal: the rerun finds every other step
    done, saves the licences still missing, and a third run saves nothing at all."""
    rows = roster_rows(3, prefix="kb")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)
    seats_before = len(holders(portal, PRO_PLUS))

    robot: list[subprocess.Popen[str]] = []
    with at_first_request(portal_server, _assign_save, lambda: robot[0].kill()) as killed_at:
        robot.append(start_run(portal, tmp_path, "roster.csv", "--license-batch", "3"))
        robot[0].wait(timeout=180)
    assert killed_at, f"the batch's Save never came\n{output_of(tmp_path)}"

    rerun = onboard(portal, tmp_path, "run", "roster.csv", "--license-batch", "3")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-3000:]
    state = portal.state()
    assert incomplete_users(state, names) == {}
    assert duplicates(state) == []
    assert len(holders(portal, PRO_PLUS)) == seats_before + len(names)
    saves = counter(portal, "saves")
    final = onboard(portal, tmp_path, "run", "roster.csv", "--license-batch", "3")
    assert final.returncode == 0, final.stdout
    assert counter(portal, "saves") == saves, "the third run had nothing left to save"


def test_sigterm_still_saves_the_licences_of_users_waiting_for_their_batch(
    portal: Portal, tmp_path: Path
) -> None:
    """SIGTERM once the first hire's voicemail is saved (only their licence left, waiting
    for the batch): the run stops with 130, and that hire is complete in the portal and in
    the summary, not left without a licence."""
    rows = roster_rows(3, prefix="tb")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)

    def voicemail_saved() -> bool:
        user = portal.user(names[0])
        return bool(user and (user.get("voicemail") or {}).get("send_attachment"))

    robot = start_run(portal, tmp_path, "roster.csv", "--license-batch", "3")
    code = sigterm_when(
        robot, voicemail_saved, what=f"{names[0]}'s voicemail to be saved", workdir=tmp_path
    )

    assert code == 130, output_of(tmp_path)
    assert incomplete_users(portal.state(), names[:1]) == {}
    [folder] = run_folders(tmp_path)
    statuses = [user["status"] for user in summary_of(folder)["users"]]
    assert statuses[0] == "complete", statuses
    assert set(statuses[1:]) <= {"interrupted", "skipped", "complete"}, statuses
    assert "complete" not in statuses[2:], "nothing new starts after the stop request"
    assert onboard(portal, tmp_path, "verify", str(folder)).returncode == 0
