"""The robot's settings: where the portal is, who signs in, where evidence goes.

Read from the environment and from `.env` in the current directory (the environment
wins). The admin password is a `SecretStr`: it shows as '**********' in any repr, log or
error, and it is never taken from the command line. A missing setting fails fast and
names itself; a portal URL that would send the password in clear text is refused.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import unicodedata
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.errors import SetupError

ENV_FILE = Path(".env")


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine.

    Only `localhost` itself counts among names: a browser maps `*.localhost` to this
    machine, but Python's resolver (the webhook's) may ask DNS for it.
    """
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# A host label a browser parses as a number (WHATWG "ends in a number"): decimal, or hex
# with 0x. The browser then reads the whole host as an IPv4 address in any of its old
# forms (0x7f.1, 127.1, 2130706433, 0177.0.0.1), which Python reads as a name.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
)
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?")
_WEB_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)")


def _refuse_ambiguous_characters(url: str) -> None:
    """Refuse the characters where a browser's URL parser and Python's part ways."""
    for char in url:
        if char == "\\":
            # Chromium reads a backslash as '/': http://evil.example\.localhost/ goes to
            # evil.example, while urlsplit calls the host 'evil.example\.localhost'.
            raise ValueError(
                "holds a backslash, which a browser reads as '/': the host it would visit "
                "is not the host checked"
            )
        if char == " ":
            raise ValueError("holds a space: write the URL without one")
        if unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            # A browser drops tabs and newlines anywhere in a URL ('loc\talhost').
            raise ValueError(
                f"holds an invisible or control character (U+{ord(char):04X}) that a browser "
                "would drop or read differently"
            )


def _check_host(host: str) -> str:
    """The host in the form a browser uses it, or ValueError for one it would read apart."""
    if "%" in host:
        raise ValueError("has a percent-encoded host, which a browser decodes: write it plainly")
    if host.startswith("[") or host.endswith("]"):
        try:
            if not (host.startswith("[") and host.endswith("]")):
                raise ValueError("unbalanced brackets")
            return str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError as e:
            raise ValueError(f"is not a valid URL (bad IPv6 address: {e})") from None
    if not host.isascii():
        raise ValueError(
            "has a host with non-ASCII letters, which a browser converts: write it in ASCII "
            "(its xn-- form)"
        )
    if ".." in host or host.startswith("."):
        raise ValueError("has a host with an empty label ('..')")
    if not _HOST_NAME.fullmatch(host):
        raise ValueError("has a host with characters a browser would read differently")
    # The browser looks at the last label, or the one before a trailing dot.
    last = host.removesuffix(".").rpartition(".")[2]
    if _NUMERIC_LABEL.fullmatch(last) and not _CANONICAL_IPV4.fullmatch(host):
        raise ValueError(
            "has a numeric host in a form browsers and Python read differently (such as "
            "0x7f.1 or 127.1): write an address as four decimal numbers, like 127.0.0.1"
        )
    return host.lower()


def check_web_url(url: str, *, carrying: str) -> str:
    """The URL (ends trimmed) if `carrying` may be sent to it; raises ValueError saying why.

    HTTPS anywhere, plain HTTP only to this machine. Rather than guess how a browser would
    read an unusual URL, anything that Python's and a browser's parsers could read as two
    different hosts is refused: backslashes, user info, control characters, whitespace,
    percent-encoded, non-ASCII or non-canonical numeric hosts, an empty host.
    """
    url = url.strip(" \t\r\n")
    _refuse_ambiguous_characters(url)
    match = _WEB_URL.match(url)
    if not match or match["scheme"].lower() not in ("http", "https") or not match["authority"]:
        raise ValueError("must be a web address such as https://portal.example.com/")
    scheme, authority = match["scheme"].lower(), match["authority"]
    if "@" in authority:
        # A password in the URL would end up in logs, reports and the browser's history;
        # and 'http://localhost@evil.example/' reads as localhost to a hurried eye.
        raise ValueError("must not hold a user name or password (user@host)")
    host, port = authority, ""
    if not authority.endswith("]") and ":" in authority:
        host, _, port = authority.rpartition(":")
        if not port.isdigit() or not 0 < int(port) <= 65535:
            raise ValueError("is not a valid URL (the port must be a number from 1 to 65535)")
    if not host:
        raise ValueError("must be a web address such as https://portal.example.com/")
    host = _check_host(host)
    # Belt and braces: Python must agree on the host it will be checked by.
    try:
        parts = urlsplit(url)
        python_host = parts.hostname or ""
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as e:
        raise ValueError(f"is not a valid URL ({e})") from None
    if not _same_host(python_host, host):
        raise ValueError("is ambiguous: a browser and Python would read different hosts in it")
    if scheme != "https" and not is_loopback(host):
        raise ValueError(
            f"must use https: {carrying} would cross the network in clear text "
            "(plain http is allowed only for this machine: localhost, 127.0.0.1, ::1)"
        )
    return url


def _same_host(python_host: str, host: str) -> bool:
    if python_host == host:
        return True
    try:
        return ipaddress.ip_address(python_host) == ipaddress.ip_address(host)
    except ValueError:
        return False


def check_portal_url(url: str) -> str:
    """The URL if the admin password may be sent to it; raises ValueError saying why not."""
    return check_web_url(url, carrying="the admin password")


def check_webhook_url(url: str) -> str:
    """The URL if the run's summary may be posted to it; raises ValueError saying why not."""
    return check_web_url(url, carrying="the run's summary (names, emails, errors)")


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
    # Origins besides the portal's where the sign-in may type the admin's credentials
    # (single sign-on), comma-separated: "https://login.example.com,https://sso.example.com".
    sso_origins: str = ""
    # The kind of portal a roster is for when the command line does not say (`--kind`):
    # the name of an installed portal package (see docs/architecture.md).
    portal_kind: str = Field(default="nextiva", min_length=1, max_length=40)
    # The deletion guard: a run deletes at most this many users, and at most this share of
    # the account's users (whichever is smaller), unless the admin allows more by number.
    delete_guard_users: int = Field(default=5, ge=0, le=100_000)
    delete_guard_percent: float = Field(default=10.0, ge=0, le=100)
    # What outlives a run (the request ledger of call recording); default RECORDINGS_DIR/.state.
    state_dir: Path | None = None
    # The admin's email where a portal's people ask for it (Chat With an Expert); default:
    # the portal username when it is an email address.
    admin_email: str | None = Field(default=None, max_length=254)
    # How long a step waits for the portal's people (an agent joining a chat): bounded, so
    # that a nightly run always ends.
    chat_patience_seconds: int = Field(default=600, ge=10, le=3600)
    # The portal's own per-run settings (PortalKind.run_settings), each a secret.
    _run_settings: dict[str, SecretStr] = PrivateAttr(default_factory=dict)

    @property
    def state_path(self) -> Path:
        """The state directory: STATE_DIR, else `.state` in the recordings folder."""
        return self.state_dir or default_state_dir(self.recordings_dir)

    @property
    def run_settings(self) -> dict[str, SecretStr]:
        """The values of the portal's per-run settings that are set, by name."""
        return dict(self._run_settings)

    @field_validator("admin_email")
    @classmethod
    def _admin_email_is_an_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value.strip()):
            raise ValueError("must be an email address, such as admin@example.com")
        return value.strip() if value else value

    @property
    def sso_origin_list(self) -> list[str]:
        """SSO_ORIGINS, one origin each."""
        return [part.strip() for part in self.sso_origins.split(",") if part.strip()]

    @field_validator("sso_origins")
    @classmethod
    def _sso_origins_safe(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                check_portal_url(part)
        return value

    # Signs every audit line (HMAC-SHA-256) so `onboard verify` with the same key catches a
    # rewrite of the whole log; see docs/evidence.md.
    evidence_key: SecretStr | None = None

    @field_validator("portal_url")
    @classmethod
    def _portal_url_safe(cls, value: str) -> str:
        return check_portal_url(value)

    @field_validator("notify_webhook_url")
    @classmethod
    def _webhook_url_safe(cls, value: str | None) -> str | None:
        return None if value is None else check_webhook_url(value)

    @field_validator("evidence_key")
    @classmethod
    def _evidence_key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        from robots.evidence import MIN_KEY_LENGTH

        if value is not None and len(value.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(f"is too short: at least {MIN_KEY_LENGTH} characters")
        return value

    @field_validator("portal_password")
    @classmethod
    def _password_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value


def default_state_dir(recordings: Path) -> Path:
    """Where state that outlives runs goes when STATE_DIR is not set."""
    return recordings / ".state"


def load_settings(
    portal_url: str | None = None,
    *,
    names: Mapping[str, str] | None = None,
    run_settings: tuple[str, ...] = (),
) -> Settings:
    """The settings, with `portal_url` (from the command line) over the environment's.

    `names` maps the fields portal_url, portal_username and portal_password to the names
    a kind of portal reads them from (XIMA_URL for one, PORTAL_URL for another): one
    machine can hold the settings of several portals. `run_settings` names a portal's own
    settings (an account PIN), read as secrets. Raises SetupError naming each setting
    that is missing or wrong, never its value.
    """
    overrides: dict[str, Any] = {}
    renamed = {
        field: name for field, name in (names or {}).items() if name.upper() != field.upper()
    }
    missing = []
    for field, name in renamed.items():
        value = _named_setting(name)
        if value is not None:
            overrides[field] = value
        elif not (field == "portal_url" and portal_url):
            missing.append(f"{name} is not set: put it in the environment or .env")
    if portal_url:
        overrides["portal_url"] = portal_url
    if missing:
        raise SetupError("\n".join(missing))
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        raise SetupError("\n".join(_explain(error, renamed) for error in e.errors())) from None
    for name in run_settings:
        value = _named_setting(name)
        if value is not None:
            settings._run_settings[name] = SecretStr(value.strip())
    return settings


def _named_setting(name: str) -> str | None:
    """A setting under a portal's own name, from the environment or else `.env`."""
    from dotenv import dotenv_values

    value = os.environ.get(name)
    if value is None or not value.strip():
        value = dotenv_values(ENV_FILE).get(name) if ENV_FILE.is_file() else None
    return value if value is not None and value.strip() else None


def _explain(error: Any, renamed: Mapping[str, str] | None = None) -> str:
    """One line per bad setting. Never the input: it may be the password."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    name = (renamed or {}).get(field, field.upper()) if field else "A setting"
    if error.get("type") == "missing":
        return f"{name} is not set: put it in the environment or .env"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if error.get("type") == "string_too_short":
        message = "is empty"
    return f"{name}: {message}"


def roster_file_warning(path: Path) -> str | None:
    """A warning when a roster holding secrets (security PINs) is not the admin's alone, as
    for `.env`: others reading it learn the PINs; others writing it choose who the robot
    makes an authorized user, and with which PIN."""
    if os.name != "posix":
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid():
        return (
            f"the roster {path} belongs to user {info.st_uid}, not to the user running the "
            f"robot ({os.geteuid()}), and holds security PINs: they can read and change it; "
            f"take it over (`chown` it to yourself) and run `chmod 600 {path}`"
        )
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"the roster {path} can be changed by other users of this machine (mode "
            f"{mode:o}) and holds security PINs and who gets them: run `chmod 600 {path}`"
        )
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return (
            f"the roster {path} is readable by other users of this machine (mode {mode:o}) "
            f"and holds security PINs: run `chmod 600 {path}`"
        )
    return None


def env_file_warning(path: Path = ENV_FILE) -> str | None:
    """A warning when the .env file (which holds the admin password) is not the admin's alone.

    Others reading it learn the password; others writing it (or owning it, which lets them
    change its mode) can point the robot at a portal of theirs and collect the password there.
    """
    if os.name != "posix":
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid():
        return (
            f"{path} belongs to user {info.st_uid}, not to the user running the robot "
            f"({os.geteuid()}), and holds the admin password: they can read and change it; "
            f"take it over (`chown` it to yourself) and run `chmod 600 {path}`"
        )
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} can be changed by other users of this machine (mode {mode:o}) and holds "
            f"the admin password and the portal's address: run `chmod 600 {path}`"
        )
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return (
            f"{path} is readable by other users of this machine (mode {mode:o}) "
            f"and holds the admin password: run `chmod 600 {path}`"
        )
    return None


# The settings that are secrets, and the words that make any variable's name one: none of
# them may reach a child process (the browser driver, Chromium), whose environment other
# processes of the same user can read in /proc/<pid>/environ, and which crash reporters copy.
SECRET_NAMES = frozenset(
    {
        "PORTAL_PASSWORD",
        "NOTIFY_WEBHOOK_URL",
        "EVIDENCE_KEY",
        "MOCK_ADMIN_PASSWORD",
        # The fleet's queue database; its URL may carry the database password.
        "QUEUE_DATABASE_URL",
    }
)
_SECRET_WORDS = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|COOKIE|(?:^|_)(?:KEY|PIN)(?:_|$)", re.IGNORECASE
)


def is_secret_name(name: str) -> bool:
    """True for an environment variable that holds, or may hold, a secret."""
    return name.upper() in SECRET_NAMES or bool(_SECRET_WORDS.search(name))


def forget_secrets(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Remove every secret from the environment (default: this process's); returns the names.

    Called once the settings hold them: a process started afterwards (Playwright's driver,
    which inherits the whole environment, and Chromium under it) can no longer inherit one.
    """
    environ = os.environ if environ is None else environ
    names = [name for name in environ if is_secret_name(name)]
    for name in names:
        del environ[name]
    return names


def child_environment() -> dict[str, str]:
    """This process's environment without any secret: for a child process started now."""
    return {name: value for name, value in os.environ.items() if not is_secret_name(name)}
