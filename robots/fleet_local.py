"""A whole fleet on this machine: a throwaway PostgreSQL, mock accounts, worker processes.

`make scale-demo` runs `python -m robots.fleet_local`; the fleet's tests and benchmark use
the same parts. Nothing here is for production: the database lives in a temporary folder
with fsync off, and the mock portals are the robot's stand-ins.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user
(its files in a folder of its own, started with `runuser`); as anyone else it is yours.
It listens on 127.0.0.1 only, on a free port, with a random password.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
ONBOARD = Path(sys.executable).with_name("onboard")


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None if absent."""
    import glob

    for found in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        if (Path(found) / "initdb").is_file():
            return Path(found)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalDatabase:
    """A PostgreSQL cluster in a temporary folder, on loopback, removed on stop."""

    def __init__(self) -> None:
        found = postgres_bin()
        if found is None:
            raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        self.bin = found
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        self.folder = Path(tempfile.mkdtemp(prefix="onboard-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://onboard:{self.password}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> LocalDatabase:
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        password_file.chmod(0o600)
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(password_file, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "onboard", "-A", "scram-sha-256",
            f"--pwfile={password_file}", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100"
        )
        log = self.folder / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")
        return self

    def stop(self) -> None:
        with suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalDatabase:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class MockAccount:
    """A customer account stood in for by a mock Nextiva portal on this machine."""

    name: str
    username: str
    password: str
    server: Any
    sessions: int = 2
    # The portal's idle limit (the mock's and the fleet's setting for the account).
    idle_seconds: float = 900

    @property
    def url(self) -> str:
        return str(self.server.url)

    def env_names(self) -> tuple[str, str]:
        prefix = self.name.upper().replace("-", "_")
        return f"{prefix}_PORTAL_USERNAME", f"{prefix}_PORTAL_PASSWORD"

    def state(self) -> dict[str, Any]:
        import json
        import urllib.request

        with urllib.request.urlopen(self.url + "__mock__/state", timeout=10) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    def sessions_counted(self) -> dict[str, int]:
        """The portal's own count of signed-in sessions: live now, and most at once."""
        import json
        import urllib.request

        with urllib.request.urlopen(self.url + "__mock__/sessions", timeout=10) as response:
            data: dict[str, int] = json.loads(response.read())
        return data

    def set_faults(self, profile: str = "none", **overrides: Any) -> None:
        import json
        import urllib.request

        request = urllib.request.Request(
            self.url + "__mock__/faults",
            data=json.dumps({"profile": profile, **overrides}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()


def start_accounts(
    names: Sequence[str], *, sessions: int = 2, idle_seconds: float = 900
) -> list[MockAccount]:
    """One mock portal per account name, each with its own admin and idle limit."""
    from mock_portal.server import PortalServer
    from robots.portals import portal_kind

    mock = portal_kind("nextiva").mock
    accounts = []
    for name in names:
        app, username, password = mock.app(f"admin@{name}.example.com", secrets.token_urlsafe(16))
        server = PortalServer(app).start()
        account = MockAccount(name, username, password, server, sessions, idle_seconds)
        if idle_seconds != 900:
            account.set_faults(session_idle_seconds=idle_seconds)
        accounts.append(account)
    return accounts


@dataclass
class LocalFleet:
    """The settings file, environment and worker processes of a fleet on this machine."""

    folder: Path
    database: LocalDatabase
    accounts: list[MockAccount]
    policy: Mapping[str, float | int] = field(default_factory=dict)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def settings_file(self) -> Path:
        return self.folder / "fleet.toml"

    @property
    def evidence_dir(self) -> Path:
        return self.folder / "evidence"

    def write_settings(self) -> Path:
        lines = [f'evidence_dir = "{self.evidence_dir}"']
        lines += [f"{key} = {value}" for key, value in self.policy.items()]
        for account in self.accounts:
            user_env, password_env = account.env_names()
            lines += [
                "",
                f"[accounts.{account.name}]",
                'kind = "nextiva"',
                f'url = "{account.url}"',
                f'username_env = "{user_env}"',
                f'password_env = "{password_env}"',
                f"sessions = {account.sessions}",
                f"session_idle_seconds = {account.idle_seconds}",
            ]
        self.settings_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.settings_file

    def env(self) -> dict[str, str]:
        from robots.settings import child_environment

        env = child_environment()
        for name in list(env):
            if name.startswith(("PORTAL_", "MOCK_", "NOTIFY_", "FLEET_", "BROWSER_WS")):
                del env[name]
        env["QUEUE_DATABASE_URL"] = self.database.url
        env["FLEET_SETTINGS"] = str(self.settings_file)
        for account in self.accounts:
            user_env, password_env = account.env_names()
            env[user_env], env[password_env] = account.username, account.password
        return env

    def onboard(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ONBOARD), *args],
            cwd=self.folder,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_worker(self, browsers: int = 1) -> subprocess.Popen[bytes]:
        logs = self.folder / "logs"
        logs.mkdir(exist_ok=True)
        number = len(self.workers)
        with (logs / f"worker-{number}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(ONBOARD), "worker", "--browsers", str(browsers)],
                cwd=self.folder,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: a kill reaches its browser too, as losing the
                # machine would.
                start_new_session=True,
            )
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker and its browser, as a crash or a power cut would."""
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_workers(self) -> None:
        """SIGTERM every worker still running (they finish their jobs), then wait."""
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def wait_until_done(self, timeout: float, *, every: float = 0.5) -> Any:
        """Poll the queue until no job is waiting or running (bounded by `timeout`)."""
        from robots.fleet import read_status

        settings = self.fleet_settings()
        deadline = time.monotonic() + timeout
        while True:
            status = read_status(settings)
            if status.unfinished == 0 and status.waiting == 0:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"the queue was not empty after {timeout:.0f} s: {status}")
            time.sleep(every)

    def fleet_settings(self) -> Any:
        from robots.fleet_settings import load_fleet_settings

        return load_fleet_settings(self.settings_file, database_url=self.database.url)

    def stop(self) -> None:
        self.stop_workers()
        for account in self.accounts:
            account.server.stop()


def demo_rosters(folder: Path, accounts: Iterable[MockAccount]) -> dict[str, Path]:
    """The example roster, once per account."""
    here = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
    rosters = {}
    for account in accounts:
        path = folder / f"{account.name}.csv"
        shutil.copy(here, path)
        rosters[account.name] = path
    return rosters


def tally(accounts: Iterable[MockAccount], wanted: Mapping[str, Sequence[str]]) -> tuple[int, int]:
    """(hires complete in their portal's oracle, duplicates found in any oracle)."""
    complete = duplicates = 0
    for account in accounts:
        state = account.state()
        users = state["users"]
        holders = {name for lic in state["licenses"] for name in lic["assigned"]}
        for username in wanted.get(account.name, ()):
            matching = [u for u in users if u["username"] == username]
            if (
                len(matching) == 1
                and matching[0].get("e911_confirmed")
                and (matching[0].get("device") or {}).get("has_password")
                and username in holders
            ):
                complete += 1
        for key in ("username", "phone_number", "extension"):
            values = [str(u[key]).lower() for u in users if u.get(key)]
            duplicates += len(values) - len(set(values))
        for lic in state["licenses"]:
            duplicates += len(lic["assigned"]) - len(set(lic["assigned"]))
    return complete, duplicates


def _usernames(roster: Path) -> list[str]:
    from robots.portals import portal_kind
    from robots.roster import read_roster

    kind = portal_kind("nextiva")
    return [str(kind.key(entry.record)) for entry in read_roster(roster, kind).entries]


@dataclass
class _Clock:
    started: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        return f"{time.monotonic() - self.started:5.1f}s"


@contextmanager
def local_fleet(
    folder: Path, names: Sequence[str] = ("acme", "globex"), **policy: float | int
) -> Iterator[LocalFleet]:
    """Database, mock accounts and settings; workers are started by the caller."""
    with LocalDatabase() as database:
        accounts = start_accounts(
            names,
            sessions=int(policy.pop("sessions", 2)),
            idle_seconds=float(policy.pop("session_idle_seconds", 900)),
        )
        fleet = LocalFleet(folder, database, accounts, policy)
        fleet.write_settings()
        try:
            yield fleet
        finally:
            fleet.stop()


def demo(workers: int = 3) -> int:
    """The newcomer's tour: engine, two mock accounts, three workers, the demo rosters."""
    clock = _Clock()
    with tempfile.TemporaryDirectory(prefix="onboard-scale-demo-") as scratch:
        folder = Path(scratch)
        with local_fleet(folder, stalled_after_seconds=6, recover_every_seconds=2) as fleet:
            print(f"[{clock}] PostgreSQL on 127.0.0.1:{fleet.database.port} (throwaway)")
            for account in fleet.accounts:
                print(f"[{clock}] account {account.name}: mock portal at {account.url}")
            rosters = demo_rosters(folder, fleet.accounts)
            wanted = {name: _usernames(path) for name, path in rosters.items()}
            for name, path in rosters.items():
                for _ in range(2):  # the second time queues nothing: each hire once
                    done = fleet.onboard("enqueue", str(path), "--account", name)
                    print(f"[{clock}] enqueue {path.name} --account {name}: {done.stdout.strip()}")
            for _ in range(workers):
                fleet.start_worker(browsers=1)
            print(f"[{clock}] {workers} workers started; waiting until the queue is empty")
            fleet.wait_until_done(timeout=600)
            print(fleet.onboard("status").stdout.rstrip())
            fleet.stop_workers()
            for account in fleet.accounts:
                most = account.sessions_counted()["most_at_once"]
                print(f"[{clock}] {account.name}: at most {most} of {account.sessions} sessions")
            complete, duplicates = tally(fleet.accounts, wanted)
            total = sum(len(names) for names in wanted.values())
            print(f"[{clock}] evidence in {fleet.evidence_dir} (removed at the end of the demo)")
            print(f"{complete}/{total} hires complete, {duplicates} duplicates")
            return 0 if complete == total and duplicates == 0 else 1


def ensure_postgres() -> str:
    """Find PostgreSQL's server programs, installing Debian's package if they are missing
    (the fleet's tests and `make scale-demo` start a throwaway cluster with them)."""
    from robots.browser import apt_install

    found = postgres_bin()
    if found is None and apt_install("postgresql"):
        found = postgres_bin()
    return str(found) if found else "not available"


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        print(f"postgresql: {ensure_postgres()}")
        sys.exit(0)
    sys.exit(demo())
