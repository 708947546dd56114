"""The `onboard` command end to end: a real process, a real browser, the mock's oracle."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import Portal
from tests.robot_runs import (
    duplicates,
    files_holding,
    incomplete_users,
    onboard,
    roster_rows,
    run_folders,
    start_onboard,
    write_roster,
)

pytestmark = pytest.mark.browser


def _wait_for_saves(portal: Portal, above: int, deadline: float) -> int:
    """Poll the oracle until it has accepted more than `above` saves; returns the count."""
    pause = threading.Event()
    while time.monotonic() < deadline:
        saves = portal.state()["counters"]["saves"]
        if saves > above:
            return saves
        pause.wait(0.02)
    raise AssertionError(f"the portal saw no save beyond {above} in time")


@pytest.mark.parametrize("variant", ["c"])
def test_a_roster_run_leaves_every_user_complete_and_a_second_run_changes_nothing(
    portal_of_variant: Portal, tmp_path: Path
) -> None:
    """Two users end complete in the portal; the same roster again makes no save at all."""
    portal = portal_of_variant
    rows = roster_rows(2)
    write_roster(tmp_path / "roster.csv", rows)

    first = onboard(portal, tmp_path, "run", "roster.csv")
    assert first.returncode == 0, first.stdout + first.stderr
    state = portal.state()
    assert incomplete_users(state, [r["username"] for r in rows]) == {}
    assert duplicates(state) == []
    last_line = first.stdout.strip().splitlines()[-1]
    assert re.search(r"2 complete\. Report: .*report\.html$", last_line), last_line

    before = state["counters"]
    second = onboard(portal, tmp_path, "run", "roster.csv")
    assert second.returncode == 0, second.stdout + second.stderr
    after = portal.state()["counters"]
    assert (after["saves"], after["writes"]) == (before["saves"], before["writes"])
    summary = json.loads((run_folders(tmp_path)[-1] / "summary.json").read_text())
    actions = {step["action"] for user in summary["users"] for step in user["steps"]}
    assert actions == {"already done"}


@pytest.mark.reliability
def test_a_run_killed_after_each_save_resumes_without_duplicates(
    portal: Portal, tmp_path: Path
) -> None:
    """Killed with SIGKILL right after each of the five saves, reruns finish the user once."""
    rows = roster_rows(1, prefix="k")
    write_roster(tmp_path / "roster.csv", rows)
    deadline = time.monotonic() + 240
    saves = portal.state()["counters"]["saves"]
    kills = 0
    while kills < 5:
        robot = start_onboard(portal, tmp_path, "run", "roster.csv")
        try:
            saves = _wait_for_saves(portal, saves, deadline)
        finally:
            robot.kill()
            robot.wait()
        kills += 1
    state = portal.state()
    assert incomplete_users(state, [rows[0]["username"]]) == {}, "five saves make a complete user"

    final = onboard(portal, tmp_path, "run", "roster.csv")
    assert final.returncode == 0, final.stdout + final.stderr
    state = portal.state()
    assert state["counters"]["saves"] == saves, "the finishing run had nothing left to save"
    assert duplicates(state) == []
    assert sum(u["username"] == rows[0]["username"] for u in state["users"]) == 1


@pytest.mark.parametrize("variant", ["b"])
def test_a_username_held_by_someone_else_is_refused_and_the_others_go_on(
    portal_of_variant: Portal, tmp_path: Path
) -> None:
    """dana.smith exists with another email: reported as a conflict, left untouched; the
    next row is onboarded."""
    portal = portal_of_variant
    good = roster_rows(1, prefix="c")[0]
    clash = dict(
        good,
        first_name="Dana",
        last_name="Smith",
        username="dana.smith",
        email="dana.smith@elsewhere.example",
    )
    write_roster(tmp_path / "roster.csv", [clash, good])
    dana_before = portal.user("dana.smith")

    result = onboard(portal, tmp_path, "run", "roster.csv")

    assert result.returncode == 1
    assert re.search(
        r"conflict row 2 dana\.smith: dana\.smith / create user: .*email", result.stdout
    ), result.stdout
    assert portal.user("dana.smith") == dana_before
    assert incomplete_users(portal.state(), [good["username"]]) == {}


@pytest.mark.parametrize("variant", ["b"])
def test_plan_reads_the_portal_and_writes_nothing(
    portal_of_variant: Portal, tmp_path: Path
) -> None:
    """plan says create for a new hire and already done for a complete one, saving nothing."""
    portal = portal_of_variant
    rows = roster_rows(2, prefix="p")
    write_roster(tmp_path / "done.csv", rows[:1])
    assert onboard(portal, tmp_path, "run", "done.csv").returncode == 0
    write_roster(tmp_path / "roster.csv", rows)
    saves = portal.state()["counters"]["saves"]

    result = onboard(portal, tmp_path, "plan", "roster.csv")

    assert result.returncode == 0, result.stdout + result.stderr
    assert portal.state()["counters"]["saves"] == saves
    done, new = rows[0]["username"], rows[1]["username"]
    assert f"{done}: license: already done" in result.stdout
    assert f"{new}: create user: create" in result.stdout
    assert f"{new}: device: blocked" in result.stdout


def test_wrong_admin_password_stops_the_run_at_once(portal: Portal, tmp_path: Path) -> None:
    """A refused sign-in is exit 2 with a plain message, nothing saved, no password shown."""
    write_roster(tmp_path / "roster.csv", roster_rows(2, prefix="w"))
    from tests.robot_runs import robot_env

    env = robot_env(portal, tmp_path, PORTAL_PASSWORD="not-the-password-123")
    result = onboard(portal, tmp_path, "run", "roster.csv", env=env)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Invalid username or password." in result.stdout + result.stderr
    assert "not-the-password-123" not in result.stdout + result.stderr
    assert portal.state()["counters"]["saves"] == 0


def test_an_auditor_sees_every_step_the_failure_and_its_trace_and_no_secret(
    portal: Portal, tmp_path: Path
) -> None:
    """One user complete, one refused for lack of a free number: the report shows both,
    the refusal carries its trace, the log verifies, and no secret is in any file."""
    rows = roster_rows(2, prefix="a")
    rows[1]["phone_number"] = "(999) 555-0100"  # not a number of that location
    write_roster(tmp_path / "roster.csv", rows)

    result = onboard(portal, tmp_path, "run", "roster.csv")

    assert result.returncode == 1, result.stdout + result.stderr
    run_dir = run_folders(tmp_path)[-1]
    report = (run_dir / "report.html").read_text()
    for row in rows:
        assert row["username"] in report
    for step in ("create user", "E911 address", "device", "voicemail", "license"):
        assert f"<td>{step}</td>" in report
    assert "traces/" + rows[1]["username"] + ".zip" in report
    assert (run_dir / "traces" / f"{rows[1]['username']}.zip").is_file()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [u["status"] for u in summary["users"]] == ["complete", "refused"]
    verified = onboard(portal, tmp_path, "verify", str(run_dir))
    assert verified.returncode == 0, verified.stdout
    assert files_holding(tmp_path, portal.secrets()) == []
    assert oct(run_dir.stat().st_mode & 0o777) == "0o700"


def test_sigterm_finishes_the_step_writes_the_report_and_exits_130(
    portal: Portal, tmp_path: Path
) -> None:
    """Stopped by SIGTERM after the first save, the run ends cleanly with its evidence."""
    write_roster(tmp_path / "roster.csv", roster_rows(2, prefix="t"))
    robot = start_onboard(portal, tmp_path, "run", "roster.csv")
    try:
        _wait_for_saves(portal, 0, time.monotonic() + 120)
        robot.send_signal(signal.SIGTERM)
        robot.wait(timeout=120)
    finally:
        if robot.poll() is None:
            robot.kill()
    assert robot.returncode == 130
    run_dir = run_folders(tmp_path)[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stopped"] == "interrupted"
    assert {u["status"] for u in summary["users"]} <= {"interrupted", "skipped", "complete"}
    assert (run_dir / "report.html").is_file()
    assert onboard(portal, tmp_path, "verify", str(run_dir)).returncode == 0


@pytest.mark.parametrize("variant", ["c"])
def test_values_the_portal_does_not_offer_are_refused_before_any_write_and_planned_as_such(
    portal_of_variant: Portal, tmp_path: Path
) -> None:
    """A location and a device the portal lacks pass the offline check; run refuses those
    rows, by row, column and value with the options offered, before creating anyone, and
    without retries; the good row completes. plan says the same."""
    portal = portal_of_variant
    good, tampa, phone = roster_rows(3, prefix="o")
    tampa["location"] = "Tampa"
    phone["device"] = "Polycom VVX 450"
    write_roster(tmp_path / "roster.csv", [good, tampa, phone])
    offices = "Phoenix HQ, Denver Office, Austin Office"
    tampa_refused = f'row 3, location: "Tampa" is not offered by the portal (offered: {offices})'

    result = onboard(portal, tmp_path, "run", "roster.csv")

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"refused row 3 {tampa['username']}: {tampa_refused}" in result.stdout
    assert re.search(
        rf'refused row 4 {re.escape(phone["username"])}: row 4, device: "Polycom VVX 450" '
        r"is not offered by the portal \(offered: [^)]*Generic SIP Phone",
        result.stdout,
    ), result.stdout
    state = portal.state()
    assert portal.user(tampa["username"]) is None and portal.user(phone["username"]) is None
    assert incomplete_users(state, [good["username"]]) == {}
    summary = json.loads((run_folders(tmp_path)[-1] / "summary.json").read_text())
    attempts = {u["username"]: u["attempts"] for u in summary["users"]}
    assert attempts[tampa["username"]] == attempts[phone["username"]] == 0, "never tried"

    write_roster(tmp_path / "plan.csv", [tampa])
    saves = state["counters"]["saves"]
    planned = onboard(portal, tmp_path, "plan", "plan.csv")

    assert planned.returncode == 1, planned.stdout + planned.stderr
    assert f"refused row 2 {tampa['username']}: " + tampa_refused.replace("row 3", "row 2") in (
        planned.stdout
    )
    assert f"{tampa['username']}: create user: create" not in planned.stdout
    assert portal.state()["counters"]["saves"] == saves
