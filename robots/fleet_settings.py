"""Settings of a fleet of workers: the queue's database, the accounts, the evidence location.

One file (TOML, `FLEET_SETTINGS`, default `fleet.toml`) is the same on every worker machine:
it names each customer account (its portal kind, start URL, the names of the environment
variables that hold its admin's credentials, and how many signed-in sessions the portal
allows it), where the evidence goes, and the fault policy. The secrets are never in the
file: `QUEUE_DATABASE_URL` (it may carry the database password) and each account's
password come from the environment or `.env`, and are removed from the environment once
read, so no browser or driver started afterwards inherits one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from domain.errors import SetupError
from robots.portals import kind_names
from robots.settings import ENV_FILE, Settings, check_portal_url, check_web_url, is_loopback

DATABASE_URL_NAME = "QUEUE_DATABASE_URL"
SETTINGS_FILE_NAME = "FLEET_SETTINGS"
BROWSER_WS_NAME = "BROWSER_WS_ENDPOINT"
# An account's name is a folder under the evidence location and part of each job's key.
_ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")


@dataclass(frozen=True)
class Account:
    """One customer account in one portal, as the fleet drives it."""

    name: str
    kind: str
    url: str
    username_env: str
    password_env: str
    # Signed-in admin sessions the portal allows this account at once, fleet-wide.
    sessions: int = 1
    # The portal's idle limit: a session a killed worker left behind is counted by the
    # portal this long after its last use, and its slot stays closed until then.
    session_idle_seconds: float = 900


@dataclass(frozen=True)
class FleetSettings:
    """Everything a worker, `enqueue` and `status` share."""

    accounts: Mapping[str, Account]
    evidence_dir: Path
    database_url: SecretStr = field(repr=False)
    # A worker whose heartbeat is older than this is taken for dead: its jobs go back to the
    # queue. The heartbeat is sent at a third of it.
    stalled_after_seconds: float = 30
    # How often a worker looks for the jobs of dead workers.
    recover_every_seconds: int = 10
    # Transient failures of one job before it is given up (each a whole `onboard run` with
    # its own retries inside).
    max_transient_failures: int = 5
    # First wait after a transient failure; doubled each time, with jitter.
    backoff_seconds: float = 10
    # Jobs of an account that failed transiently this many times in a row wait...
    quarantine_after: int = 3
    # ...this long before one is tried again.
    quarantine_seconds: float = 900
    # How long a job waits for a free session of its account before the worker puts it
    # back and takes another.
    session_wait_seconds: float = 10
    # A worker's browser stays signed in to an account between its jobs; it signs out
    # after this long without one (or at once when another job waits for its session).
    keep_warm_seconds: float = 30
    license_batch: int = 1
    source: Path | None = None

    @property
    def heartbeat_seconds(self) -> float:
        return max(0.5, self.stalled_after_seconds / 3)


def env_value(name: str) -> str | None:
    """A setting from the environment or else `.env`, without putting it in the environment."""
    from dotenv import dotenv_values

    return os.environ.get(name) or dotenv_values(ENV_FILE).get(name) or None


def settings_path(path: Path | None = None) -> Path:
    return path or Path(env_value(SETTINGS_FILE_NAME) or "fleet.toml")


def load_fleet_settings(
    path: Path | None = None, *, database_url: str | None = None
) -> FleetSettings:
    """The fleet's settings from the file and the environment; SetupError names what is wrong.

    `database_url` stands in for QUEUE_DATABASE_URL (for a caller that holds it already)."""
    path = settings_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SetupError(
            f"the fleet settings {path} cannot be read ({error.strerror or error}): "
            f"see deploy/fleet.toml.example, or set {SETTINGS_FILE_NAME}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise SetupError(f"the fleet settings {path} are not valid TOML: {error}") from None
    url = database_url or env_value(DATABASE_URL_NAME)
    if not url:
        raise SetupError(f"{DATABASE_URL_NAME} is not set: put it in the environment or .env")
    accounts = _accounts(data.get("accounts"), path)
    evidence = data.get("evidence_dir")
    if not isinstance(evidence, str) or not evidence:
        raise SetupError(f"{path}: evidence_dir is not set (a folder every worker can write)")
    base = path.parent
    options: dict[str, Any] = {}
    for name, kind in (
        ("stalled_after_seconds", float),
        ("recover_every_seconds", int),
        ("max_transient_failures", int),
        ("backoff_seconds", float),
        ("quarantine_after", int),
        ("quarantine_seconds", float),
        ("session_wait_seconds", float),
        ("keep_warm_seconds", float),
        ("license_batch", int),
    ):
        if name in data:
            value = data[name]
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise SetupError(f"{path}: {name} must be a positive number")
            options[name] = kind(value)
    return FleetSettings(
        accounts=accounts,
        evidence_dir=(base / evidence) if not Path(evidence).is_absolute() else Path(evidence),
        database_url=SecretStr(url),
        source=path,
        **options,
    )


def _accounts(raw: object, path: Path) -> dict[str, Account]:
    if not isinstance(raw, dict) or not raw:
        raise SetupError(f"{path}: no [accounts.NAME] table: name at least one account")
    accounts = {}
    for name, table in raw.items():
        where = f"{path}: account {name!r}"
        if not _ACCOUNT_NAME.fullmatch(name):
            raise SetupError(f"{where}: a name is lower-case letters, digits, '-' and '_'")
        if not isinstance(table, dict):
            raise SetupError(f"{where}: must be a table")
        kind = table.get("kind", "nextiva")
        if kind not in kind_names():
            raise SetupError(f"{where}: kind must be one of {', '.join(kind_names())}")
        try:
            url = check_portal_url(str(table.get("url", "")))
        except ValueError as error:
            raise SetupError(f"{where}: url {error}") from None
        names = {}
        for key in ("username_env", "password_env"):
            value = table.get(key)
            if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
                raise SetupError(f"{where}: {key} must name an environment variable")
            names[key] = value
        sessions = table.get("sessions", 1)
        if not isinstance(sessions, int) or isinstance(sessions, bool) or not 1 <= sessions <= 64:
            raise SetupError(f"{where}: sessions must be a whole number from 1 to 64")
        idle = table.get("session_idle_seconds", 900)
        if not isinstance(idle, int | float) or isinstance(idle, bool) or idle <= 0:
            raise SetupError(f"{where}: session_idle_seconds must be a positive number")
        accounts[name] = Account(
            name=name,
            kind=kind,
            url=url,
            sessions=sessions,
            session_idle_seconds=float(idle),
            **names,
        )
    return accounts


def account_settings(account: Account, fleet: FleetSettings) -> Settings:
    """The robot's settings for one account: its portal, its admin, the evidence location.

    Raises SetupError naming the variable that is missing (never its value).
    """
    username = env_value(account.username_env)
    password = env_value(account.password_env)
    for name, value in ((account.username_env, username), (account.password_env, password)):
        if not value:
            raise SetupError(f"{name} (account {account.name}) is not set")
    return Settings(
        portal_url=account.url,
        portal_username=username or "",
        portal_password=SecretStr(password or ""),
        recordings_dir=fleet.evidence_dir / account.name,
    )


def browser_ws_endpoint() -> str | None:
    """BROWSER_WS_ENDPOINT, checked: the admin's password crosses that connection when the
    robot signs in, so it must be wss://, or ws:// to this machine (an SSH tunnel)."""
    value = env_value(BROWSER_WS_NAME)
    if not value:
        return None
    scheme, _, rest = value.partition("://")
    if scheme not in ("ws", "wss"):
        raise SetupError(f"{BROWSER_WS_NAME} must start with ws:// or wss://")
    try:
        check_web_url(("https" if scheme == "wss" else "http") + "://" + rest, carrying="x")
    except ValueError:
        host = rest.split("/", 1)[0].rpartition(":")[0] or rest
        if scheme == "ws" and not is_loopback(host):
            raise SetupError(
                f"{BROWSER_WS_NAME} must use wss:, or ws: to this machine (an SSH tunnel): "
                "the admin's password is typed through it"
            ) from None
        raise SetupError(f"{BROWSER_WS_NAME} is not a valid address") from None
    return value
