"""Fleet benchmark: hires per hour through the queue against `onboard run --workers N`.

On this machine, in one run and on the same roster size: `onboard run --workers N` into
one mock account, then the same number of hires queued and done by N `onboard worker`
processes (one browser each) against another mock account with N sessions allowed. Prints
hires per hour for both, their ratio, CPU seconds per hire (the robot's process trees:
Python, Playwright's driver, Chromium; and PostgreSQL's, for the queue), and a projection
for K worker machines with its assumptions.

    .venv/bin/python benchmarks/fleet.py                 # 16 hires, 2 workers
    .venv/bin/python benchmarks/fleet.py --hires 8 --workers 2 --json fleet.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from robots.fleet_local import LocalFleet, local_fleet, tally
from tests.robot_runs import roster_rows, write_roster


def children_cpu() -> float:
    """CPU seconds of every finished child process tree of this one (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu(fleet: LocalFleet) -> float:
    """CPU seconds so far of the cluster's server processes."""
    total = 0.0
    folder = str(fleet.database.data)
    for process in psutil.process_iter(["cmdline", "cpu_times"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["cpu_times"] is None:
            continue
        if (folder in cmdline or "postgres:" in cmdline) and _in_cluster(process, folder):
            times = process.info["cpu_times"]
            total += times.user + times.system
    return total


def _in_cluster(process: psutil.Process, folder: str) -> bool:
    try:
        chain = [process, *process.parents()]
        return any(folder in " ".join(p.cmdline()) for p in chain)
    except psutil.Error:
        return False


def run_direct(fleet: LocalFleet, hires: int, workers: int) -> dict[str, float]:
    """`onboard run --workers N` into the first account."""
    account = fleet.accounts[0]
    roster = write_roster(fleet.folder / "direct.csv", roster_rows(hires, prefix="d"))
    user_env, password_env = account.env_names()
    env = fleet.env()
    del env["QUEUE_DATABASE_URL"]  # `onboard run` needs no queue
    env.update(
        PORTAL_URL=account.url,
        PORTAL_USERNAME=env[user_env],
        PORTAL_PASSWORD=env[password_env],
        RECORDINGS_DIR=str(fleet.folder / "direct-recordings"),
    )
    import subprocess

    cpu, started = children_cpu(), time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("onboard")), "run", str(roster),
         "--workers", str(workers)],
        cwd=fleet.folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall, cpu = time.monotonic() - started, children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"onboard run failed: {done.stdout[-2000:]}")
    return {"wall_s": wall, "cpu_s": cpu}


def run_queue(fleet: LocalFleet, hires: int, workers: int) -> dict[str, float]:
    """The same number of hires through the queue into the second account."""
    account = fleet.accounts[1]
    rows = roster_rows(hires, prefix="q")
    roster = write_roster(fleet.folder / "queue.csv", rows)
    enqueued = fleet.onboard("enqueue", str(roster), "--account", account.name)
    if enqueued.returncode != 0:
        raise SystemExit(enqueued.stdout + enqueued.stderr)
    cpu, database = children_cpu(), postgres_cpu(fleet)
    started = time.monotonic()
    for _ in range(workers):
        fleet.start_worker(browsers=1)
    fleet.wait_until_done(timeout=3600, every=1.0)
    wall = time.monotonic() - started
    fleet.stop_workers()
    complete, duplicates = tally([account], {account.name: [r["username"] for r in rows]})
    if complete != hires or duplicates:
        raise SystemExit(f"queue run: {complete}/{hires} complete, {duplicates} duplicates")
    return {
        "wall_s": wall,
        "cpu_s": children_cpu() - cpu,
        "postgres_cpu_s": postgres_cpu(fleet) - database,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hires", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="onboard-fleet-bench-") as scratch,
        local_fleet(Path(scratch), ("direct", "queued"), sessions=args.workers) as fleet,
    ):
        direct = run_direct(fleet, args.hires, args.workers)
        queued = run_queue(fleet, args.hires, args.workers)
    figures: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "load_1m_at_end": os.getloadavg()[0]},
        "hires": args.hires,
        "workers": args.workers,
        "direct": direct,
        "queue": queued,
    }
    per_hour = {name: 3600 * args.hires / figures[name]["wall_s"] for name in ("direct", "queue")}
    cpu_per_hire = {name: figures[name]["cpu_s"] / args.hires for name in ("direct", "queue")}
    database_per_hire = queued["postgres_cpu_s"] / args.hires
    figures.update(
        hires_per_hour=per_hour,
        ratio_queue_to_direct=per_hour["queue"] / per_hour["direct"],
        cpu_s_per_hire=cpu_per_hire,
        postgres_cpu_s_per_hire=database_per_hire,
    )
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the end")
    print(f"{args.hires} hires, {args.workers} workers (one browser each)")
    print("| path | wall s | hires/hour | CPU s/hire |")
    print("|---|---|---|---|")
    for name, label in (("direct", f"onboard run --workers {args.workers}"), ("queue", "queue")):
        print(
            f"| {label} | {figures[name]['wall_s']:.0f} | {per_hour[name]:.0f} "
            f"| {cpu_per_hire[name]:.1f} |"
        )
    print(f"ratio queue / direct: {figures['ratio_queue_to_direct']:.2f}")
    print(f"PostgreSQL CPU per hire: {database_per_hire * 1000:.0f} ms")
    # Projection: a worker machine of this size does what the queue did here; K of them
    # scale linearly until a shared limit binds: the database (one core of it), or the
    # accounts' session limits (each session does one hire per the per-hire wall time).
    machine = per_hour["queue"]
    database_limit = 3600 / database_per_hire if database_per_hire > 0 else float("inf")
    for k in (1, 4, 16):
        print(f"K={k}: about {machine * k:.0f} hires/hour (database bound: {database_limit:.0f})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
