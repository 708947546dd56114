"""Speed benchmark: how fast the robot onboards, measured on the built-in mock portal.

Runs the real `onboard` command against a local mock portal and prints a table:
- the machine: platform, cores, memory, Python and Chromium versions;
- seconds per user, 1 worker, no injected latency, screenshots on and off, and the
  evidence (screenshot) overhead as a percentage of seconds per user;
- a roster with 200 ms latency per request: wall time for 1, 2, 4 and 8 workers and the
  speed-up over 1 worker;
- for every run: sign-ins, peak memory of the robot with its Playwright driver and
  browsers (sum of PSS over the process tree, sampled every second; RSS where PSS is not
  available, and the table says which), and CPU seconds per user (user + system time of
  that process tree, the last value sampled for each process; a process's final 0.25 s
  before it exits can be missed, so this is a slight under-count);
- `onboard --help` start-up time.

    .venv/bin/python benchmarks/speed.py            # the full benchmark (about 20 minutes)
    .venv/bin/python benchmarks/speed.py --quick    # a smaller roster, for a quick look
    .venv/bin/python benchmarks/speed.py --json bench.json   # also write the figures

`--batch N` passes `--license-batch=N` to `onboard run`; `--extra` passes further
raw arguments (split like a shell would; write `--extra="--flag ..."`) for experiments.
Neither is passed by default.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer

ONBOARD = Path(sys.executable).with_name("onboard")
LOCATIONS = ("Phoenix HQ", "Denver Office", "Austin Office")
SYSTEM_CHROMIUM = "/usr/bin/chromium"
SAMPLE_EVERY_S = 0.25
LATENCY_MS = 200


@dataclass
class Measured:
    users: int
    workers: int
    latency_ms: int
    screenshots: bool
    wall_s: float
    per_user_s: float
    sign_ins: int
    peak_mb: float
    memory_kind: str  # "PSS", "RSS", or "PSS+RSS" when some processes only gave RSS
    cpu_s: float
    cpu_per_user_s: float
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


class TreeSampler:
    """Samples a process and all its descendants: peak summed memory, CPU time per process.

    Memory is the sum of PSS (shared pages split between the processes sharing them), or
    of RSS for a process whose PSS cannot be read. CPU keeps the last user + system time
    seen for each process, keyed by pid and start time so a reused pid is not confused
    with an exited one.
    """

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.peak_bytes = 0
        self.used_pss = False
        self.used_rss = False
        self._cpu: dict[tuple[int, float], float] = {}
        self._samples = 0

    def _members(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []

    def sample(self) -> None:
        # Reading PSS walks every mapping of every process (about 23 ms for a robot with
        # nine Chromium processes): memory is read every 4th sample so the sampler itself
        # takes little of the CPU it measures.
        self._samples += 1
        memory = self._samples % 4 == 1
        total = 0
        for member in self._members():
            with contextlib.suppress(
                psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied
            ):
                if memory:
                    try:
                        total += member.memory_full_info().pss
                        self.used_pss = True
                    except (psutil.AccessDenied, AttributeError):
                        total += member.memory_info().rss
                        self.used_rss = True
                with contextlib.suppress(psutil.AccessDenied):
                    times = member.cpu_times()
                    self._cpu[(member.pid, member.create_time())] = times.user + times.system
        self.peak_bytes = max(self.peak_bytes, total)

    @property
    def memory_kind(self) -> str:
        if self.used_pss and self.used_rss:
            return "PSS+RSS"
        return "RSS" if self.used_rss else "PSS"

    @property
    def cpu_s(self) -> float:
        return sum(self._cpu.values())


def run_once(
    portal: PortalServer,
    config: PortalConfig,
    users: int,
    *,
    workers: int = 1,
    latency_ms: int = 0,
    screenshots: bool = True,
    extra_args: list[str] | None = None,
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
        args.extend(extra_args or [])
        errors_path = work / "robot-stderr.txt"
        with errors_path.open("w", encoding="utf-8") as errors:
            started = time.perf_counter()
            robot = subprocess.Popen(
                args, cwd=work, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
            )
            sampler = TreeSampler(psutil.Process(robot.pid))
            done = threading.Event()

            def sample() -> None:
                sampler.sample()
                while not done.wait(SAMPLE_EVERY_S):
                    sampler.sample()

            thread = threading.Thread(target=sample, daemon=True)
            thread.start()
            robot.communicate()
            wall = time.perf_counter() - started
            done.set()
            thread.join()
        summaries = list((work / "recordings").glob("*/summary.json"))
        if not summaries:
            tail = errors_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(
                f"`{shlex.join(args)}` exited {robot.returncode} without a summary.json; "
                f"the end of its stderr:\n{tail}"
            )
        summary = json.loads(summaries[0].read_text())
    complete = sum(u["status"] == "complete" for u in summary["users"])
    busy = sum(u["duration_ms"] for u in summary["users"]) / 1000
    return Measured(
        users=users,
        workers=workers,
        latency_ms=latency_ms,
        screenshots=screenshots,
        wall_s=wall,
        per_user_s=busy / max(users, 1),
        sign_ins=summary["sign_ins"],
        peak_mb=sampler.peak_bytes / 2**20,
        memory_kind=sampler.memory_kind,
        cpu_s=sampler.cpu_s,
        cpu_per_user_s=sampler.cpu_s / max(users, 1),
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


def chromium_version() -> str:
    """The version of the Chromium the robot launches, or why it is unknown."""
    executable: str | None = None
    try:
        from robots.browser import find_browser

        executable = find_browser()
    except Exception:  # the robot cannot find a browser or cannot be imported: fall back
        executable = None
    if executable is None and Path(SYSTEM_CHROMIUM).is_file():
        executable = SYSTEM_CHROMIUM
    if executable is None:
        return "Chromium version unknown (no executable found)"
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"Chromium version unknown ({executable}: {error})"
    first = next((line.strip() for line in done.stdout.splitlines() if line.strip()), "")
    return first or f"Chromium version unknown ({executable} printed nothing)"


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "chromium": chromium_version(),
    }


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['platform']}, {machine['cores']} cores, {machine['memory_gib']:.0f} GiB, "
        f"Python {machine['python']}, {machine['chromium']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller roster (8 users)")
    parser.add_argument("--users", type=int, help="users in the latency roster (default 40)")
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts to compare")
    parser.add_argument(
        "--batch", type=int, help="pass --license-batch=N to `onboard run` (default: not passed)"
    )
    parser.add_argument(
        "--extra", default="", help='extra raw arguments for `onboard run`: --extra="--flag ..."'
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    options = parser.parse_args()
    latency_users = options.users or (8 if options.quick else 40)
    plain_users = 3 if options.quick else 5
    worker_counts = [int(n) for n in options.workers.split(",")]
    extra_args = shlex.split(options.extra)
    if options.batch is not None:
        extra_args.insert(0, f"--license-batch={options.batch}")

    console = Console()
    config = PortalConfig()
    machine = machine_info()
    console.print(f"[bold]Machine:[/] {machine_line(machine)}")
    if extra_args:
        console.print(f"[bold]Extra arguments to `onboard run`:[/] {shlex.join(extra_args)}")
    rows: list[tuple[str, str]] = [("machine", machine_line(machine))]
    if extra_args:
        rows.append(("extra arguments to `onboard run`", shlex.join(extra_args)))
    plain: dict[str, Measured] = {}
    walls: dict[int, Measured] = {}
    with PortalServer(create_app(config)) as portal:
        for screenshots in (True, False):
            m = run_once(
                portal, config, plain_users, screenshots=screenshots, extra_args=extra_args
            )
            label = "on" if screenshots else "off"
            plain[label] = m
            console.print(
                f"screenshots {label}: {m.per_user_s:.2f} s/user, "
                f"CPU {m.cpu_per_user_s:.2f} s/user, peak {m.memory_kind} {m.peak_mb:.0f} MB "
                f"({m.complete}/{plain_users} complete, wall {m.wall_s:.1f} s, "
                f"exit {m.exit_code})"
            )
            rows.append(
                (
                    f"s/user, 1 worker, no latency, screenshots {label}",
                    f"{m.per_user_s:.2f} s (wall {m.wall_s:.1f} s for {plain_users}), "
                    f"CPU {m.cpu_per_user_s:.2f} s per user, "
                    f"peak {m.memory_kind} {m.peak_mb:.0f} MB, {m.complete}/{plain_users} complete",
                )
            )
        off = plain["off"].per_user_s
        overhead_pct = (plain["on"].per_user_s - off) / off * 100 if off > 0 else None
        rows.append(
            (
                "evidence (screenshot) overhead, (on - off) / off of s/user",
                "n/a" if overhead_pct is None else f"{overhead_pct:+.0f} %",
            )
        )
        base_workers = 1 if 1 in worker_counts else worker_counts[0]
        for workers in worker_counts:
            m = run_once(
                portal,
                config,
                latency_users,
                workers=workers,
                latency_ms=LATENCY_MS,
                extra_args=extra_args,
            )
            walls[workers] = m
            speedup = (
                f", x{walls[base_workers].wall_s / m.wall_s:.2f} over {base_workers}"
                if base_workers in walls
                else ""
            )
            console.print(
                f"{latency_users} users, {LATENCY_MS} ms, {workers} worker(s): "
                f"{m.wall_s:.1f} s{speedup}, {m.sign_ins} sign-ins, "
                f"CPU {m.cpu_per_user_s:.2f} s/user, peak {m.memory_kind} {m.peak_mb:.0f} MB, "
                f"{m.complete}/{latency_users} complete, exit {m.exit_code}"
            )
    base = walls[base_workers].wall_s
    speedups = {workers: base / m.wall_s for workers, m in walls.items()}
    for workers, m in walls.items():
        rows.append(
            (
                f"{latency_users} users, {LATENCY_MS} ms latency, {workers} worker(s)",
                f"{m.wall_s:.1f} s, x{speedups[workers]:.2f} over {base_workers} worker(s), "
                f"{m.sign_ins} sign-ins, CPU {m.cpu_per_user_s:.2f} s per user, "
                f"peak {m.memory_kind} {m.peak_mb:.0f} MB, {m.complete}/{latency_users} complete",
            )
        )
    startup = help_startup()
    rows.append(("`onboard --help` start-up (median of 7)", f"{startup:.3f} s"))

    kinds = sorted({m.memory_kind for m in [*plain.values(), *walls.values()]})
    table = Table(
        title=f"Onboarding robot speed on the mock portal\n{machine_line(machine)}",
        caption=(
            f"peak memory: sum of {'/'.join(kinds)} over the robot's process tree, "
            f"sampled every {SAMPLE_EVERY_S} s; CPU: user + system s of that tree"
        ),
    )
    table.add_column("measure")
    table.add_column("result")
    for measure, result in rows:
        table.add_row(measure, result)
    console.print(table)

    if options.json:
        figures = {
            "machine": machine,
            "options": {
                "quick": options.quick,
                "plain_users": plain_users,
                "latency_users": latency_users,
                "latency_ms": LATENCY_MS,
                "workers": worker_counts,
                "batch": options.batch,
                "extra_args": extra_args,
                "sample_every_s": SAMPLE_EVERY_S,
            },
            "screenshots": {label: asdict(m) for label, m in plain.items()},
            "evidence_overhead_pct": overhead_pct,
            "latency": [
                {**asdict(m), "speedup": speedups[workers], "speedup_over_workers": base_workers}
                for workers, m in walls.items()
            ],
            "help_startup_s": startup,
        }
        options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        console.print(f"Figures written to {options.json}")


if __name__ == "__main__":
    main()
