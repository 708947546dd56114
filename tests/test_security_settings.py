"""What the robot's settings, files and child processes give away: URLs a browser would read
differently, a webhook in clear text, a `.env` others can change, files that follow links
or take their mode from the umask, and secrets in the environment of the browser."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.errors import SetupError
from robots import settings as robot_settings
from robots.settings import check_portal_url, env_file_warning, load_settings
from tests.conftest import Portal
from tests.robot_runs import roster_rows, start_onboard, write_roster

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the machine, and .env is looked for in an empty directory."""
    for name in list(os.environ):
        if name.startswith(("PORTAL_", "NOTIFY_", "MOCK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 000: whatever the robot creates without an explicit mode is world-writable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# -- URLs a browser reads differently than Python ---------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://evil.example\\.localhost/", "backslash"),
        ("https://portal.example.com\\@evil.example/", "backslash"),
        ("http://evil.example@localhost/", "user name or password"),
        ("http://localhost@evil.example/", "user name or password"),
        ("http://:pw@127.0.0.1/", "user name or password"),
        ("http://loc\talhost/", "control character"),
        ("http://local host/", "space"),
        ("http://localhost/\x00", "control character"),
        ("http://127.0.0.1\u200b/", "control character"),
        ("http://%6cocalhost/", "percent"),
        ("http://0x7f.1/", "four decimal numbers"),
        ("http://127.1/", "four decimal numbers"),
        ("http://2130706433/", "four decimal numbers"),
        ("http://0177.0.0.1/", "four decimal numbers"),
        ("http://127.0.0.01/", "four decimal numbers"),
        ("http://127.0.0.1./", "four decimal numbers"),
        ("http://evil.0x7f/", "four decimal numbers"),
        ("http://\uff4cocalhost/", "ASCII"),  # a full-width l
        ("http://evil.localhost/", "must use https"),
        ("http:///127.0.0.1/", "must be a web address"),
        ("http:/127.0.0.1/", "must be a web address"),
        ("https:///", "must be a web address"),
        ("http://[::1%25lo]/", "percent"),
        ("http://[::1/", "is not a valid URL"),
        ("http://127.0.0.1:/", "is not a valid URL"),
        ("http://127.0.0.1:8o/", "is not a valid URL"),
        ("http://a..b/", "empty label"),
    ],
)
def test_a_url_a_browser_would_read_differently_is_refused(url: str, reason: str) -> None:
    """Backslashes, user info, control characters, odd hosts: refused before any browser."""
    with pytest.raises(ValueError, match=reason):
        check_portal_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://Portal.Example.com/login?next=/users#top",
        "http://127.0.0.1:5000/",
        "http://localhost/",
        "http://[::1]:8080/",
        "http://[0:0:0:0:0:0:0:1]/",
        "https://xn--bcher-kva.example/",
        "https://10.0.0.8:8443/",
        " https://portal.example.com/ ",
    ],
)
def test_plain_urls_still_pass(url: str) -> None:
    """What a browser and Python read alike stays accepted (ends trimmed, as a browser does)."""
    assert check_portal_url(url) == url.strip()


def test_an_ambiguous_portal_url_is_named_in_the_setup_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The admin is told which setting to fix and why, never the URL's user info."""
    monkeypatch.setenv("PORTAL_URL", "http://evil.example\\.localhost/")
    monkeypatch.setenv("PORTAL_USERNAME", "admin@example.com")
    monkeypatch.setenv("PORTAL_PASSWORD", PASSWORD)
    with pytest.raises(SetupError, match=r"^PORTAL_URL: .*backslash"):
        load_settings()


# -- the failure webhook ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/run-failed", "must use https"),
        ("file:///etc/passwd", "must be a web address"),
        ("ftp://hooks.example.com/", "must be a web address"),
        ("https://hooks.example.com\\@evil.example/", "backslash"),
        ("hooks.example.com/x", "must be a web address"),
    ],
)
def test_a_webhook_in_clear_text_or_not_on_the_web_is_refused(url: str, reason: str) -> None:
    """The run's summary goes over HTTPS, or plain HTTP to this machine only."""
    with pytest.raises(ValueError, match=reason):
        robot_settings.check_webhook_url(url)


def test_a_bad_webhook_fails_at_settings_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOTIFY_WEBHOOK_URL=file://... stops the run before it starts, naming the setting."""
    monkeypatch.setenv("PORTAL_URL", "https://portal.example.com/")
    monkeypatch.setenv("PORTAL_USERNAME", "admin@example.com")
    monkeypatch.setenv("PORTAL_PASSWORD", PASSWORD)
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "file:///etc/passwd")
    with pytest.raises(SetupError, match=r"^NOTIFY_WEBHOOK_URL: must be a web address"):
        load_settings()
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "http://hooks.example.com/x")
    with pytest.raises(SetupError, match=r"^NOTIFY_WEBHOOK_URL: must use https"):
        load_settings()
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9000/hook")
    assert load_settings().notify_webhook_url == "http://127.0.0.1:9000/hook"


# -- .env ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o660, 0o666])
def test_an_env_file_others_can_write_is_warned_about(clean_environment: Path, mode: int) -> None:
    """Whoever can change .env can point the robot at their own portal: say so, with the fix."""
    env = clean_environment / ".env"
    env.write_text(f"PORTAL_PASSWORD={PASSWORD}\n")
    env.chmod(mode)
    warning = env_file_warning()
    assert warning is not None and "chmod 600" in warning
    assert PASSWORD not in warning


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_an_env_file_of_another_user_is_warned_about(clean_environment: Path) -> None:
    """A .env that belongs to someone else is theirs to change, even at mode 600."""
    env = clean_environment / ".env"
    env.write_text(f"PORTAL_PASSWORD={PASSWORD}\n")
    env.chmod(0o600)
    assert env_file_warning() is None
    os.chown(env, 65534, 65534)
    warning = env_file_warning()
    assert warning is not None and "belongs to user 65534" in warning
    assert PASSWORD not in warning


# -- secrets out of the environment -------------------------------------------------------


def test_secret_names_are_recognised() -> None:
    """The robot's secrets and anything named like one; ordinary settings are not."""
    secret = ("PORTAL_PASSWORD", "NOTIFY_WEBHOOK_URL", "MOCK_ADMIN_PASSWORD", "EVIDENCE_KEY")
    assert all(
        robot_settings.is_secret_name(n) for n in (*secret, "API_TOKEN", "X_SECRET", "SIGNING_KEY")
    )
    plain = ("PORTAL_URL", "PORTAL_USERNAME", "BROWSER_EXECUTABLE", "PATH", "HOME", "KEYBOARD")
    assert not any(robot_settings.is_secret_name(n) for n in plain)


def test_forgetting_secrets_empties_them_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the settings are read, no child process can inherit a secret."""
    monkeypatch.setenv("PORTAL_PASSWORD", PASSWORD)
    monkeypatch.setenv("PORTAL_URL", "https://portal.example.com/")
    assert "PORTAL_PASSWORD" in robot_settings.forget_secrets()
    assert "PORTAL_PASSWORD" not in os.environ
    assert os.environ["PORTAL_URL"] == "https://portal.example.com/"
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('PORTAL_PASSWORD'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == "None"


def test_the_browser_gets_an_environment_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chromium's launch names its environment explicitly, without any secret in it."""
    from robots import browser

    monkeypatch.setenv("PORTAL_PASSWORD", PASSWORD)
    monkeypatch.setattr(browser, "find_browser", lambda **_: None)
    env = browser.launch_options()["env"]
    assert "PORTAL_PASSWORD" not in env and PASSWORD not in json.dumps(env)
    assert env["PATH"] == os.environ["PATH"]


# -- files: no links followed, owner-only modes -------------------------------------------


def test_the_lock_files_and_recordings_are_owner_only_under_umask_000(
    tmp_path: Path, open_umask: None
) -> None:
    """recordings/, the lock and its holder note are created 700/600, whatever the umask."""
    from robots.lock import run_lock

    recordings = tmp_path / "deep" / "recordings"
    with run_lock(recordings, "run-1"):
        assert stat.S_IMODE(recordings.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "deep").stat().st_mode) == 0o700
        assert stat.S_IMODE((recordings / ".onboard.lock").stat().st_mode) == 0o600
        assert stat.S_IMODE((recordings / ".onboard.lock.holder").stat().st_mode) == 0o600


def test_the_log_file_is_owner_only_under_umask_000(tmp_path: Path, open_umask: None) -> None:
    """--log-file is created 600: the log names users and the portal, for the admin alone."""
    from robots.jobs import configure_logging

    log_file = tmp_path / "onboard.log"
    try:
        configure_logging(log_file)
        assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    finally:
        configure_logging()


def test_a_symlinked_holder_note_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    """A link planted as the holder note would make the robot overwrite the link's target."""
    from robots.lock import run_lock

    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / ".onboard.lock.holder").symlink_to(target)
    with (
        pytest.raises(SetupError, match=r"\.onboard\.lock\.holder is a symbolic link"),
        run_lock(recordings, "run-1"),
    ):
        pass
    assert target.read_text() == "keep me\n"


def test_a_symlinked_lock_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    """A link planted as the lock is a SetupError naming it, not a traceback."""
    from robots.lock import run_lock

    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / ".onboard.lock").symlink_to(target)
    with (
        pytest.raises(SetupError, match=r"\.onboard\.lock is a symbolic link"),
        run_lock(recordings, "run-1"),
    ):
        pass
    assert target.read_text() == "keep me\n"


def test_a_symlinked_log_file_is_refused(tmp_path: Path) -> None:
    """--log-file pointing at a link is refused instead of appending to its target."""
    from robots.jobs import configure_logging

    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    link = tmp_path / "onboard.log"
    link.symlink_to(target)
    with pytest.raises(SetupError, match=r"onboard\.log is a symbolic link"):
        configure_logging(link)
    assert target.read_text() == "keep me\n"


# -- the browser's processes --------------------------------------------------------------


def _descendants_environments(pid: int, deadline: float) -> dict[str, list[bytes]]:
    """The environments of the robot's driver (node) and browser processes, read from /proc
    while they run: polls until both kinds have been read, or the deadline."""
    import psutil

    seen: dict[str, list[bytes]] = {"driver": [], "browser": []}
    pause = threading.Event()
    robot = psutil.Process(pid)
    while time.monotonic() < deadline and not (seen["driver"] and seen["browser"]):
        try:
            children = robot.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            try:
                name = child.name().lower()
                environ = Path(f"/proc/{child.pid}/environ").read_bytes()
            except (psutil.NoSuchProcess, OSError):
                continue  # it ended between the listing and the read
            kind = "driver" if "node" in name else "browser" if "chrom" in name else None
            if kind:
                seen[kind].append(environ)
        pause.wait(0.05)
    return seen


@pytest.mark.browser
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_no_secret_reaches_the_environment_of_the_driver_or_the_browser(
    portal: Portal, tmp_path: Path
) -> None:
    """The admin password exported in the shell and a webhook token in .env are in no
    environment of the processes the robot starts (/proc/<pid>/environ)."""
    hook = "http://127.0.0.1:9/hook-token-5bd1e0c7a4"
    (tmp_path / ".env").write_text(f"NOTIFY_WEBHOOK_URL={hook}\n")
    (tmp_path / ".env").chmod(0o600)
    write_roster(tmp_path / "roster.csv", roster_rows(2, prefix="env"))
    robot = start_onboard(portal, tmp_path, "run", "roster.csv")
    try:
        seen = _descendants_environments(robot.pid, time.monotonic() + 120)
    finally:
        assert robot.wait(timeout=300) == 0, (tmp_path / "logs" / "000.err").read_text()
    assert seen["driver"], "the driver process was never seen"
    assert seen["browser"], "no browser process was seen"
    for kind, environments in seen.items():
        for environ in environments:
            assert portal.password.encode() not in environ, f"the password is in a {kind}'s"
            assert b"PORTAL_PASSWORD=" not in environ, kind
            assert b"hook-token-5bd1e0c7a4" not in environ, f"the webhook is in a {kind}'s"
