"""The robot's settings: where the portal is, who signs in, where evidence goes.

Read from the environment and from `.env` in the current directory (the environment
wins). The admin password is a `SecretStr`: it shows as '**********' in any repr, log or
error, and it is never taken from the command line. A missing setting fails fast and
names itself; a portal URL that would send the password in clear text is refused.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from robots.errors import SetupError

ENV_FILE = Path(".env")


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_portal_url(url: str) -> str:
    """The URL if the admin password may be sent to it; raises ValueError saying why not."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as e:
        raise ValueError(f"is not a valid URL ({e})") from e
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("must be a web address such as https://portal.example.com/")
    if parts.username or parts.password:
        # A password in the URL would end up in logs, reports and the browser's history.
        raise ValueError("must not hold a user name or password: use PORTAL_USERNAME/PASSWORD")
    if parts.scheme != "https" and not is_loopback(host):
        raise ValueError(
            "must use https: the admin password would cross the network in clear text "
            "(plain http is allowed only for this machine: localhost, 127.0.0.1, ::1)"
        )
    return url


class Settings(BaseSettings):
    """Everything a run needs that is not in the roster."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        # An empty `PORTAL_PASSWORD=` line is a setting left blank, not a password.
        env_ignore_empty=True,
    )

    portal_url: str
    portal_username: str = Field(min_length=1)
    portal_password: SecretStr
    browser_executable: Path | None = None
    recordings_dir: Path = Path("recordings")
    step_timeout_ms: int = Field(default=15_000, ge=1_000, le=600_000)
    # How often a transient portal failure (timeout, 5xx, expired session) is tried in all.
    max_attempts: int = Field(default=3, ge=1, le=10)
    headless: bool = True
    slow_mo_ms: int = Field(default=0, ge=0, le=10_000)
    # Told about runs that end with failures (JSON summary, POST).
    notify_webhook_url: str | None = None

    @field_validator("portal_url")
    @classmethod
    def _portal_url_safe(cls, value: str) -> str:
        return check_portal_url(value)

    @field_validator("portal_password")
    @classmethod
    def _password_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value


def load_settings(portal_url: str | None = None) -> Settings:
    """The settings, with `portal_url` (from the command line) over the environment's.

    Raises SetupError naming each setting that is missing or wrong, never its value.
    """
    overrides: dict[str, Any] = {"portal_url": portal_url} if portal_url else {}
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise SetupError("\n".join(_explain(error) for error in e.errors())) from None


def _explain(error: Any) -> str:
    """One line per bad setting. Never the input: it may be the password."""
    name = str(error["loc"][0]).upper() if error.get("loc") else "A setting"
    if error.get("type") == "missing":
        return f"{name} is not set: put it in the environment or .env"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if error.get("type") == "string_too_short":
        message = "is empty"
    return f"{name}: {message}"


def env_file_warning(path: Path = ENV_FILE) -> str | None:
    """A warning when the .env file (which holds the admin password) is readable by others."""
    if os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return (
            f"{path} is readable by other users of this machine (mode {stat.S_IMODE(mode):o}) "
            f"and holds the admin password: run `chmod 600 {path}`"
        )
    return None
