"""Running the `onboard` command as an admin or a scheduler would, and reading what it left.

The robot runs in its own process (the real console script) against the test session's
mock portal, in a scratch working directory so no developer's `.env` is picked up and the
evidence lands in that directory.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.conftest import Portal

ONBOARD = Path(sys.executable).with_name("onboard")
LOCATIONS = ("Phoenix HQ", "Denver Office", "Austin Office")
FIRST = ("Ada", "Bram", "Chiara", "Dmitri", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas")
LAST = ("Okafor", "Lindqvist", "Rossi", "Ivanov", "Yilmaz", "Adeyemi", "Berg", "Sato", "Sousa")


def roster_rows(count: int, *, prefix: str = "") -> list[dict[str, str]]:
    """`count` distinct new hires spread over the seeded locations."""
    rows = []
    for n in range(count):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        username = f"{prefix}{first}.{last}{n}".lower()
        rows.append(
            {
                "first_name": first,
                "last_name": f"{last}{n}" if n >= len(FIRST) * len(LAST) else last,
                "email": f"{username}@example.com",
                "location": LOCATIONS[n % len(LOCATIONS)],
                "username": username,
            }
        )
    return rows


def write_roster(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        columns = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def robot_env(portal: Portal, workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "MOCK_", "NOTIFY_"))
    }
    env.update(
        PORTAL_URL=portal.url,
        PORTAL_USERNAME=portal.username,
        PORTAL_PASSWORD=portal.password,
        RECORDINGS_DIR=str(workdir / "recordings"),
    )
    env.update(extra)
    return env


def xima_env(portal: Portal, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a Xima run: XIMA_* settings, and no Nextiva ones to fall back on."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "MOCK_", "NOTIFY_", "XIMA_"))
    }
    env.update(
        XIMA_URL=portal.url,
        XIMA_USERNAME=portal.username,
        XIMA_PASSWORD=portal.password,
        RECORDINGS_DIR=str(workdir / "recordings"),
    )
    env.update(extra)
    return env


def onboard(
    portal: Portal,
    workdir: Path,
    *args: str,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `onboard ARGS` to completion in `workdir`."""
    return subprocess.run(
        [str(ONBOARD), *args],
        cwd=workdir,
        env=dict(env or robot_env(portal, workdir)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_onboard(
    portal: Portal, workdir: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `onboard ARGS` without waiting, e.g. to kill it part way.

    Its output goes to numbered files in `workdir/logs`: a pipe nobody reads would stall a
    long run, and the logs are among the files searched for secrets.
    """
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    number = len(list(logs.glob("*.out")))
    with (
        (logs / f"{number:03d}.out").open("w") as out,
        (logs / f"{number:03d}.err").open("w") as err,
    ):
        return subprocess.Popen(
            [str(ONBOARD), *args],
            cwd=workdir,
            env=dict(env or robot_env(portal, workdir)),
            stdout=out,
            stderr=err,
            text=True,
        )


def run_folders(workdir: Path) -> list[Path]:
    recordings = workdir / "recordings"
    return sorted(p for p in recordings.iterdir() if p.is_dir()) if recordings.is_dir() else []


def files_holding(folder: Path, secrets: Iterable[str]) -> list[str]:
    """Every file under `folder` (zip members too) in which any secret occurs.

    A short number (a PIN) is looked for as a number of its own: "0739" inside a trace's
    millisecond timestamp 1796165200739, or as a part of its "timestamp": 739.0739, is chance,
    not a leak. (The tests' PINs start with 0, which no JSON number does.)"""
    needles = [
        re.compile(rb"(?<![0-9])(?<![0-9]\.)" + re.escape(s.encode()) + rb"(?![0-9])(?!\.[0-9])")
        if s.isdigit() and len(s) <= 10
        else re.compile(re.escape(s.encode()))
        for s in secrets
        if s
    ]
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        blobs: list[tuple[str, bytes]] = [(str(path), data)]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                blobs += [(f"{path}!{m}", archive.read(m)) for m in archive.namelist()]
        found += [name for name, blob in blobs if any(n.search(blob) for n in needles)]
    return found


def complete(user: Mapping[str, Any], license_holders: set[str]) -> list[str]:
    """What is missing for this oracle user to count as fully onboarded (empty: complete)."""
    missing = []
    if not user.get("e911_confirmed"):
        missing.append("E911 not confirmed")
    device = user.get("device") or {}
    if device.get("type") != "Generic SIP Phone" or not device.get("has_password"):
        missing.append(f"device {device or None}")
    voicemail = user.get("voicemail") or {}
    if not user.get("voicemail_to_email") or voicemail.get("email") != user.get("email"):
        missing.append(f"voicemail {voicemail}")
    if not voicemail.get("send_attachment"):
        missing.append("attachment off")
    if user["username"] not in license_holders:
        missing.append("no NextOS Pro Plus Upgrade licence")
    return missing


def incomplete_users(state: Mapping[str, Any], usernames: Iterable[str]) -> dict[str, list[str]]:
    """For each roster username, what the oracle says is still missing (absent users too)."""
    users = {u["username"]: u for u in state["users"]}
    holders = {
        name
        for lic in state["licenses"]
        if lic["name"] == "NextOS Pro Plus Upgrade"
        for name in lic["assigned"]
    }
    problems: dict[str, list[str]] = {}
    for username in usernames:
        user = users.get(username)
        missing = ["not created"] if user is None else complete(user, holders)
        if missing:
            problems[username] = missing
    return problems


def duplicates(state: Mapping[str, Any]) -> list[str]:
    """Anything in the oracle held twice: a username, a number, an extension, a licence seat."""
    found = []
    for key in ("username", "phone_number", "extension"):
        values = [str(u[key]).lower() for u in state["users"] if u.get(key)]
        found += [
            f"{key} {v} x{values.count(v)}" for v in sorted(set(values)) if values.count(v) > 1
        ]
    for lic in state["licenses"]:
        held = lic["assigned"]
        found += [
            f"{lic['name']} seat {u} x{held.count(u)}" for u in set(held) if held.count(u) > 1
        ]
    return found
