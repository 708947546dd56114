"""Speed benchmark: how fast the robot onboards, measured on the built-in mock portal.

Runs the real `onboard` command against a local mock portal and prints a table:
- seconds per user, 1 worker, no injected latency, screenshots on and off;
- a roster with 200 ms latency per request: wall time for 1, 2, 4 and 8 workers and the
  speed-up over 1;
- sign-ins per run, peak memory of the robot with its browsers;
- `onboard --help` start-up time.

    .venv/bin/python benchmarks/speed.py            # the full benchmark (about 20 minutes)
    .venv/bin/python benchmarks/speed.py --quick    # a smaller roster, for a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from mock_portal import create_app
from mock_portal.config import PortalConfig
from mock_portal.server import PortalServer

ONBOARD = Path(sys.executable).with_name("onboard")
LOCATIONS = ("Phoenix HQ", "Denver Office", "Austin Office")


@dataclass
class Measured:
    wall_s: float
    per_user_s: float
    sign_ins: int
    peak_mb: float
    exit_code: int
    complete: int


def _oracle(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _roster(path: Path, count: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["first_name", "last_name", "email", "location"])
        for n in range(count):
            writer.writerow(
                [f"Bench{n}", "Hire", f"bench{n}.hire@example.com", LOCATIONS[n % len(LOCATIONS)]]
            )
    return path


def _tree_rss(process: psutil.Process) -> int:
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total


def run_once(
    portal: PortalServer,
    config: PortalConfig,
    users: int,
    *,
    workers: int = 1,
    latency_ms: int = 0,
    screenshots: bool = True,
) -> Measured:
    """Reset the portal, onboard `users` new hires, and measure it."""
    _oracle(portal.url, "__mock__/reset", {})
    _oracle(portal.url, "__mock__/faults", {"profile": "none", "latency_ms": latency_ms})
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        _roster(work / "roster.csv", users)
        env = {
            **os.environ,
            "PORTAL_URL": portal.url,
            "PORTAL_USERNAME": config.admin_username,
            "PORTAL_PASSWORD": config.admin_password,
            "RECORDINGS_DIR": str(work / "recordings"),
        }
        args = [str(ONBOARD), "run", "roster.csv", f"--workers={workers}", "--trace=off"]
        if not screenshots:
            args.append("--no-screenshots")
        started = time.perf_counter()
        robot = subprocess.Popen(
            args, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        watched = psutil.Process(robot.pid)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.25):
                peak = max(peak, _tree_rss(watched))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        robot.communicate()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        summary = json.loads(next((work / "recordings").glob("*/summary.json")).read_text())
    complete = sum(u["status"] == "complete" for u in summary["users"])
    busy = sum(u["duration_ms"] for u in summary["users"]) / 1000
    return Measured(
        wall_s=wall,
        per_user_s=busy / max(users, 1),
        sign_ins=summary["sign_ins"],
        peak_mb=peak / 2**20,
        exit_code=robot.returncode,
        complete=complete,
    )


def help_startup(times: int = 7) -> float:
    runs = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run([str(ONBOARD), "--help"], capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller roster (8 users)")
    parser.add_argument("--users", type=int, help="users in the latency roster (default 40)")
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts to compare")
    options = parser.parse_args()
    latency_users = options.users or (8 if options.quick else 40)
    plain_users = 3 if options.quick else 5
    worker_counts = [int(n) for n in options.workers.split(",")]

    console = Console()
    config = PortalConfig()
    rows: list[tuple[str, str]] = []
    with PortalServer(create_app(config)) as portal:
        console.print(
            f"[bold]Machine:[/] {platform.platform()}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python "
            f"{platform.python_version()}"
        )
        for screenshots in (True, False):
            m = run_once(portal, config, plain_users, screenshots=screenshots)
            label = "on" if screenshots else "off"
            console.print(
                f"screenshots {label}: {m.per_user_s:.2f} s/user "
                f"({m.complete}/{plain_users} complete, wall {m.wall_s:.1f} s)"
            )
            rows.append(
                (
                    f"s/user, 1 worker, no latency, screenshots {label}",
                    f"{m.per_user_s:.2f} s (wall {m.wall_s:.1f} s for {plain_users})",
                )
            )
        walls: dict[int, Measured] = {}
        for workers in worker_counts:
            m = run_once(portal, config, latency_users, workers=workers, latency_ms=200)
            walls[workers] = m
            console.print(
                f"{latency_users} users, 200 ms, {workers} worker(s): {m.wall_s:.1f} s, "
                f"{m.sign_ins} sign-ins, peak {m.peak_mb:.0f} MB, "
                f"{m.complete}/{latency_users} complete"
            )
        base = walls[worker_counts[0]].wall_s
        for workers, m in walls.items():
            rows.append(
                (
                    f"{latency_users} users, 200 ms latency, {workers} worker(s)",
                    f"{m.wall_s:.1f} s, x{base / m.wall_s:.2f}, {m.sign_ins} sign-ins, "
                    f"peak {m.peak_mb:.0f} MB, {m.complete}/{latency_users} complete",
                )
            )
    rows.append(("`onboard --help` start-up (median of 7)", f"{help_startup():.3f} s"))

    table = Table(title="Onboarding robot speed on the mock portal")
    table.add_column("measure")
    table.add_column("result")
    for measure, result in rows:
        table.add_row(measure, result)
    console.print(table)


if __name__ == "__main__":
    main()
