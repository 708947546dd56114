"""The `onboard` command on Xima UCaaS end to end: a real process, a real browser, the Xima
mock's oracle. Few and lean: each run costs many seconds."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Portal
from tests.robot_runs import files_holding, onboard, run_folders, start_onboard, write_roster
from tests.robot_runs import xima_env as env

pytestmark = pytest.mark.browser

PIN = "90817263"
NEW_ADDRESS = "1600 Glenarm Pl, Denver, CO 80202"
PHOENIX = "2 N Central Ave, Phoenix, AZ 85004"


def person(first: str, last: str, extension: str, **overrides: str) -> dict[str, str]:
    """An add row for Phoenix (area code 602) with the first free number."""
    row = {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@example.com".lower(),
        "extension": extension,
        "department": "Support",
        "site": "Phoenix Office",
        "emergency_address": PHOENIX,
        "scope": "Basic User",
        "area_code": "602",
        "voicemail": "yes",
        "action": "add",
    }
    row.update(overrides)
    return row


ROSTER = [
    person(
        "Nora",
        "Quinn",
        "209",
        department="Engineering",
        site="Denver Office",
        emergency_address=NEW_ADDRESS,
        scope="Site Manager",
        area_code="720",
        voicemail="no",
        voicemail_pin=PIN,
    ),
    person("Tariq", "Aziz", "309"),
    # An edit: Zoe Baker (seeded in Engineering, Basic User) becomes a Site Manager.
    person(
        "Zoe",
        "Baker",
        "406",
        department="Engineering",
        scope="Site Manager",
        caller_id="6025550304",
        emergency_caller_id="6025550304",
        action="edit",
    ),
    {"email": "chloe.martin@example.com", "action": "delete"},
]


def run(xima: Portal, workdir: Path, *args: str) -> Any:
    return onboard(xima, workdir, *args, env=env(xima, workdir))


def missing(state: Mapping[str, Any], rows: Sequence[Mapping[str, str]]) -> list[str]:
    """What the oracle lacks of the roster's wanted state (empty: converged)."""
    users = {u["email"].casefold(): u for u in state["users"]}
    found = []
    for row in rows:
        user = users.get(row["email"].casefold())
        if row.get("action") == "delete":
            if user is not None:
                found.append(f"{row['email']} not deleted")
            continue
        if user is None:
            found.append(f"{row['email']} missing")
            continue
        for name in ("first_name", "last_name", "extension", "department", "site", "scope"):
            if user[name] != row[name]:
                found.append(f"{row['email']} {name} {user[name]!r} != {row[name]!r}")
        if user["emergency_address"].casefold() != row["emergency_address"].casefold():
            found.append(f"{row['email']} address {user['emergency_address']!r}")
        if user["caller_id"][:3] != row["area_code"]:
            found.append(f"{row['email']} caller ID {user['caller_id']}")
        if user["emergency_caller_id"] != user["caller_id"]:
            found.append(f"{row['email']} emergency caller ID {user['emergency_caller_id']}")
        if user["voicemail"] != (row.get("voicemail", "yes") == "yes"):
            found.append(f"{row['email']} voicemail {user['voicemail']}")
    return found


def duplicates(state: Mapping[str, Any]) -> list[str]:
    """An email, extension or caller ID held by two users."""
    found = []
    for key in ("email", "extension", "caller_id"):
        values = [str(u[key]).casefold() for u in state["users"] if u.get(key)]
        found += [f"{key} {v}" for v in sorted(set(values)) if values.count(v) > 1]
    return found


def test_a_xima_roster_converges_and_a_second_run_writes_nothing(
    xima: Portal, tmp_path: Path
) -> None:
    """Adds (one at a new address, one with a PIN), an edit and a delete end as the roster
    says, the PIN in no file of the run; the same roster again makes no write."""
    write_roster(tmp_path / "roster.csv", ROSTER)
    before = xima.state()["counters"]

    first = run(xima, tmp_path, "run", "--kind", "xima", "roster.csv")

    assert first.returncode == 0, first.stdout + first.stderr
    state = xima.state()
    assert missing(state, ROSTER) == [] and duplicates(state) == []
    nora = next(u for u in state["users"] if u["email"] == "nora.quinn@example.com")
    assert nora["voicemail_pin_set"] is True
    counters = state["counters"]
    assert counters["users_added"] - before["users_added"] == 2
    assert counters["users_updated"] - before["users_updated"] == 1
    assert counters["users_deleted"] - before["users_deleted"] == 1
    assert counters["addresses_added"] - before["addresses_added"] == 1
    assert files_holding(tmp_path / "recordings", [PIN, xima.password]) == []
    assert PIN not in first.stdout + first.stderr

    second = run(xima, tmp_path, "run", "--kind", "xima", "roster.csv")

    assert second.returncode == 0, second.stdout + second.stderr
    after = xima.state()["counters"]
    assert (after["saves"], after["writes"]) == (counters["saves"], counters["writes"])
    summary = json.loads((run_folders(tmp_path)[-1] / "summary.json").read_text())
    assert summary["portal_kind"] == "xima"
    assert {s["action"] for u in summary["users"] for s in u["steps"]} == {"already done"}


def test_a_xima_run_killed_at_random_points_resumes_without_duplicates(
    xima: Portal, tmp_path: Path
) -> None:
    """SIGKILL after a random number of the portal's saves, three times, then a full run:
    every row converged, no user, extension or number twice."""
    write_roster(tmp_path / "roster.csv", ROSTER)
    chance = random.Random()
    pause = threading.Event()
    for _ in range(3):
        saves = xima.state()["counters"]["saves"]
        wanted = saves + chance.randint(1, 3)
        robot = start_onboard(
            xima, tmp_path, "run", "--kind", "xima", "roster.csv", env=env(xima, tmp_path)
        )
        deadline = time.monotonic() + 120
        while robot.poll() is None and time.monotonic() < deadline:
            if xima.state()["counters"]["saves"] >= wanted:
                break
            pause.wait(0.02)
        robot.send_signal(signal.SIGKILL)
        robot.wait(timeout=30)
        assert duplicates(xima.state()) == []

    last = run(xima, tmp_path, "run", "--kind", "xima", "roster.csv")

    assert last.returncode == 0, last.stdout + last.stderr
    state = xima.state()
    assert missing(state, ROSTER) == [] and duplicates(state) == []


def test_a_flaky_xima_portal_run_ends_complete(xima: Portal, tmp_path: Path) -> None:
    """Errors after saves, sessions that expire every 15 requests and a banner: the run
    still ends complete, having signed in again."""
    xima.set_faults("flaky", write_failure_rate=0.2, session_max_requests=15)
    write_roster(tmp_path / "roster.csv", ROSTER)
    flaky_env = env(xima, tmp_path, MAX_ATTEMPTS="5")

    result = onboard(xima, tmp_path, "run", "--kind", "xima", "roster.csv", env=flaky_env)

    assert result.returncode == 0, result.stdout + result.stderr
    state = xima.state()
    assert missing(state, ROSTER) == [] and duplicates(state) == []
    summary = json.loads((run_folders(tmp_path)[-1] / "summary.json").read_text())
    assert summary["re_sign_ins"] > 0, (state["counters"], summary["retries"])


def test_the_deletion_guard_refuses_too_many_deletions_unless_allowed(
    xima: Portal, tmp_path: Path
) -> None:
    """Four deletions of 30 users pass 10 %: plan lists each and warns, a run deletes none
    and says why, and with --allow-deletes 4 all four go."""
    emails = ["zoe.baker@example.com", "emily.chen@example.com", "omar.haddad@example.com"]
    emails.append("ava.johnson@example.com")
    rows = [{"email": email, "action": "delete"} for email in emails]
    rows.append(person("Tariq", "Aziz", "309"))
    write_roster(tmp_path / "roster.csv", rows)

    plan = run(xima, tmp_path, "plan", "--kind", "xima", "roster.csv")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    for email in emails:
        assert f"{email}: delete user: delete" in plan.stdout
    assert "a run would refuse: deletion guard" in plan.stdout

    refused = run(xima, tmp_path, "run", "--kind", "xima", "roster.csv")
    assert refused.returncode == 1
    assert "deletion guard: the roster deletes 4 users" in refused.stdout
    assert "--allow-deletes 4" in refused.stdout
    state = xima.state()
    assert state["counters"]["users_deleted"] == 0
    assert missing(state, rows[-1:]) == []  # the add went on

    allowed = run(xima, tmp_path, "run", "--kind", "xima", "--allow-deletes", "4", "roster.csv")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert missing(xima.state(), rows) == []
