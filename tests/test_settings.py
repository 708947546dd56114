"""Settings: each missing one named, the password never shown, no clear-text portal URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import SetupError
from robots.settings import check_portal_url, env_file_warning, is_loopback, load_settings

PASSWORD = "correct-horse-battery-staple"
NAMES = (
    "PORTAL_URL",
    "PORTAL_USERNAME",
    "PORTAL_PASSWORD",
    "BROWSER_EXECUTABLE",
    "RECORDINGS_DIR",
    "STEP_TIMEOUT_MS",
    "MAX_ATTEMPTS",
    "HEADLESS",
    "SLOW_MO_MS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the machine, and .env is looked for in an empty directory."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _set_all(monkeypatch: pytest.MonkeyPatch, url: str = "https://portal.example.com/") -> None:
    monkeypatch.setenv("PORTAL_URL", url)
    monkeypatch.setenv("PORTAL_USERNAME", "admin@example.com")
    monkeypatch.setenv("PORTAL_PASSWORD", PASSWORD)


def test_each_missing_setting_is_named() -> None:
    """With nothing set, the error names all three settings and where to put them."""
    with pytest.raises(SetupError) as raised:
        load_settings()
    assert str(raised.value).splitlines() == [
        f"{name} is not set: put it in the environment or .env"
        for name in ("PORTAL_URL", "PORTAL_USERNAME", "PORTAL_PASSWORD")
    ]


def test_an_empty_password_line_counts_as_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PORTAL_PASSWORD=` in .env is a blank left to fill, not a password."""
    _set_all(monkeypatch)
    monkeypatch.setenv("PORTAL_PASSWORD", "")
    with pytest.raises(SetupError, match="PORTAL_PASSWORD is not set"):
        load_settings()


def test_settings_come_from_env_file_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    """.env in the current directory fills what the environment does not set."""
    (clean_environment / ".env").write_text(
        "PORTAL_URL=https://from-file.example.com/\n"
        "PORTAL_USERNAME=file-admin@example.com\n"
        f"PORTAL_PASSWORD={PASSWORD}\n"
        "STEP_TIMEOUT_MS=20000\n"
        "SOMETHING_ELSE=ignored\n"
    )
    monkeypatch.setenv("PORTAL_USERNAME", "env-admin@example.com")
    settings = load_settings()
    assert settings.portal_url == "https://from-file.example.com/"
    assert settings.portal_username == "env-admin@example.com"
    assert settings.portal_password.get_secret_value() == PASSWORD
    assert settings.step_timeout_ms == 20000
    assert settings.recordings_dir == Path("recordings")
    assert settings.browser_executable is None


def test_a_portal_url_argument_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--portal-url` on the command line beats PORTAL_URL."""
    _set_all(monkeypatch)
    assert load_settings("http://127.0.0.1:5000/").portal_url == "http://127.0.0.1:5000/"


def test_the_password_never_shows_in_repr_str_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Printing the settings, or failing on another one, never reveals the password."""
    _set_all(monkeypatch)
    settings = load_settings()
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings)
    monkeypatch.setenv("PORTAL_URL", f"http://admin:{PASSWORD}@portal.example.com/")
    with pytest.raises(SetupError) as raised:
        load_settings()
    assert PASSWORD not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    "url",
    [
        "https://portal.example.com/",
        "https://10.0.0.8:8443/login",
        "http://127.0.0.1:5000/",
        "http://127.9.9.9/",
        "http://localhost:8080/",
        "http://LOCALHOST/",
        "http://[::1]:5000/",
    ],
)
def test_https_or_this_machine_is_accepted(url: str) -> None:
    """HTTPS anywhere; plain HTTP only to loopback, where the password never leaves."""
    assert check_portal_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://portal.example.com/", "must use https"),
        ("http://10.0.0.8/", "must use https"),
        ("http://128.0.0.1/", "must use https"),
        ("http://localhost.example.com/", "must use https"),
        ("https://admin:pw@portal.example.com/", "must not hold a user name or password"),
        ("ftp://portal.example.com/", "must be a web address"),
        ("portal.example.com", "must be a web address"),
        ("https://portal.example.com:99999/", "is not a valid URL"),
    ],
)
def test_unsafe_or_broken_portal_urls_are_refused(url: str, reason: str) -> None:
    """A URL that would send the password in clear text, or none at all, is refused."""
    with pytest.raises(ValueError, match=reason):
        check_portal_url(url)


def test_a_refused_url_is_named_in_the_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin learns which setting to fix."""
    _set_all(monkeypatch, url="http://portal.example.com/")
    with pytest.raises(SetupError, match=r"^PORTAL_URL: must use https"):
        load_settings()


def test_a_bad_number_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """STEP_TIMEOUT_MS=abc fails fast and names the setting."""
    _set_all(monkeypatch)
    monkeypatch.setenv("STEP_TIMEOUT_MS", "abc")
    with pytest.raises(SetupError, match=r"^STEP_TIMEOUT_MS: "):
        load_settings()


def test_loopback_covers_the_whole_127_network_and_ipv6() -> None:
    """127.0.0.0/8, ::1 and localhost are this machine; nothing else is."""
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.255.0.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "example.com", "::2"))


def test_a_world_readable_env_file_is_warned_about(clean_environment: Path) -> None:
    """A .env others can read exposes the admin password: say so, with the fix."""
    env = clean_environment / ".env"
    assert env_file_warning() is None
    env.write_text(f"PORTAL_PASSWORD={PASSWORD}\n")
    env.chmod(0o644)
    warning = env_file_warning()
    assert warning is not None
    assert "chmod 600" in warning
    assert PASSWORD not in warning
    env.chmod(0o640)
    assert env_file_warning() is not None
    env.chmod(0o600)
    assert env_file_warning() is None
