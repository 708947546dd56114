"""Headless shell against Chromium: CPU per hire of the same `onboard run`, in one run.

Debian packages two builds of the same browser: `chromium` and `chromium-headless-shell`,
the lighter build Playwright itself uses for headless runs. The robot prefers the shell
for headless runs (robots/browser.py); this measures what that saves, alternating the two
builds round by round on the same mock portal and roster size, so that a machine busier
in one moment than another weighs on both alike.

    .venv/bin/python benchmarks/headless.py                  # 8 hires, 2 workers, 3 rounds
    .venv/bin/python benchmarks/headless.py --users 16 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.speed import machine_info, machine_line, run_once
from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer

BUILDS = {
    "headless shell": "/usr/lib/chromium/chromium-headless-shell",
    "chromium": "/usr/bin/chromium",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    missing = [path for path in BUILDS.values() if not Path(path).is_file()]
    if missing:
        raise SystemExit(f"not installed: {', '.join(missing)} (apt-get install chromium "
                         "chromium-headless-shell)")  # fmt: skip
    config = PortalConfig()
    cpu: dict[str, list[float]] = {name: [] for name in BUILDS}
    wall: dict[str, list[float]] = {name: [] for name in BUILDS}
    with PortalServer(create_app(config)) as portal:
        for _ in range(args.rounds):
            for name, path in BUILDS.items():
                os.environ["BROWSER_EXECUTABLE"] = path
                measured = run_once(portal, config, args.users, workers=args.workers)
                if measured.complete != args.users:
                    raise SystemExit(f"{name}: {measured.complete}/{args.users} complete")
                cpu[name].append(measured.cpu_per_user_s)
                wall[name].append(measured.wall_s)
    print(machine_line(machine_info()))
    print(f"{args.users} hires, {args.workers} workers, {args.rounds} rounds each, alternating")
    print("| browser | CPU s/hire (median) | wall s (median) |")
    print("|---|---|---|")
    for name in BUILDS:
        print(
            f"| {name} | {statistics.median(cpu[name]):.2f} | {statistics.median(wall[name]):.1f} |"
        )
    shell, full = (statistics.median(cpu[name]) for name in BUILDS)
    print(f"CPU per hire, headless shell / chromium: {shell / full:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
