"""The `onboard` command line: exit codes, what it prints, and what it refuses to take."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from robots import cli
from robots.cli import ExitCode, app
from tests.conftest import Portal
from tests.robot_runs import onboard, write_roster

ROSTERS = Path(__file__).parent / "rosters"
EXAMPLE = Path(__file__).parent.parent / "examples" / "roster.csv"
REPO = Path(__file__).parent.parent

runner = CliRunner()


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_help_lists_the_commands() -> None:
    """`onboard --help` answers, under the name the admin types."""
    done = subprocess.run(
        [sys.executable, "-m", "robots.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: onboard" in done.stdout
    assert "check" in done.stdout
    assert "portal" in done.stdout


def test_importing_the_cli_loads_no_browser_web_or_model_library() -> None:
    """--help stays fast because Playwright, Flask, pydantic and Rich load only in commands."""
    done = _python(
        "import sys, robots.cli\n"
        "heavy = ('playwright', 'flask', 'werkzeug', 'pydantic', 'pydantic_settings', 'rich',"
        " 'mock_portal', 'dotenv')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_clean_roster_exits_zero_and_shows_what_will_happen() -> None:
    """Every row of the example roster is listed with its username, and the summary is green."""
    result = runner.invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == ExitCode.OK, result.output
    assert "ok       row 2: renee.dubois (Renée Dubois, renee.dubois@example.com)" in result.stdout
    assert "ok       row 3: mjohnson" in result.stdout
    assert result.stdout.strip().endswith("5 rows ok, 0 refused")


def test_a_roster_with_problems_exits_one_and_names_row_and_column() -> None:
    """Each problem is one line a person can act on, and the summary counts both kinds."""
    result = runner.invoke(app, ["check", str(ROSTERS / "bad_email.csv")])
    assert result.exit_code == ExitCode.FAILED
    lines = result.stdout.splitlines()
    assert lines[-2].startswith("refused  row 4, column email: value is not a valid email address")
    assert lines[-1] == "2 rows ok, 1 refused"


def test_quiet_shows_only_problems_and_the_summary() -> None:
    """--quiet leaves out the accepted rows."""
    result = runner.invoke(app, ["check", "--quiet", str(ROSTERS / "duplicate_username.csv")])
    assert result.exit_code == ExitCode.FAILED
    assert result.stdout.splitlines() == [
        "refused  row 3, column username: dana.smith (made from the name) also on row 5",
        "refused  row 5, column username: Dana.Smith also on row 3",
        "2 rows ok, 2 refused",
    ]


def test_strict_refuses_what_is_otherwise_a_warning(tmp_path: Path) -> None:
    """A Windows-1252 file passes plain check with a warning, and fails --strict."""
    roster = tmp_path / "excel.csv"
    roster.write_bytes(
        "first_name,last_name,email,location\nJosé,Núñez,j@example.com,Phoenix HQ\n".encode(
            "cp1252"
        )
    )
    relaxed = runner.invoke(app, ["check", str(roster)])
    assert relaxed.exit_code == ExitCode.OK
    assert "warning  the file is not UTF-8" in relaxed.stdout
    assert "1 row ok, 0 refused, 1 warning" in relaxed.stdout
    strict = runner.invoke(app, ["check", "--strict", str(roster)])
    assert strict.exit_code == ExitCode.FAILED
    assert "refused  the file is not UTF-8" in strict.stdout


def test_an_unreadable_roster_cannot_start(tmp_path: Path) -> None:
    """A missing file is exit code 2, with the reason on standard error."""
    result = runner.invoke(app, ["check", str(tmp_path / "nowhere.csv")])
    assert result.exit_code == ExitCode.CANNOT_START
    assert "Cannot start: The roster" in result.stderr
    assert "No such file or directory" in result.stderr
    assert result.stdout == ""


def test_markup_in_a_roster_is_printed_as_text(tmp_path: Path) -> None:
    """Square brackets (allowed in usernames) are not read as Rich markup."""
    roster = tmp_path / "brackets.csv"
    roster.write_text(
        "first_name,last_name,email,location,username\n"
        "Bo,Wu,bo@example.com,Austin Office,[bold]bo\n"
    )
    result = runner.invoke(app, ["check", str(roster)])
    assert result.exit_code == ExitCode.OK
    assert "row 2: [bold]bo (Bo Wu" in result.stdout


def test_an_interrupted_command_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C is exit code 130, the shell's convention, not a traceback."""

    def interrupted(path: Path, kind: object = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("robots.roster.read_roster", interrupted)
    result = runner.invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "Interrupted." in result.stderr


def test_usage_errors_cannot_start() -> None:
    """A missing argument or an unknown option is exit code 2."""
    assert runner.invoke(app, ["check"]).exit_code == ExitCode.CANNOT_START
    assert runner.invoke(app, ["check", "--nope", str(EXAMPLE)]).exit_code == 2


def test_portal_runs_the_mock_portal_with_the_given_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`onboard portal` loads .env (the mock's admin account) and hands host, port, faults
    and variant to mock_portal.nextiva.serve.run."""
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if "MOCK" not in k})
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MOCK_ADMIN_NAME=Pat Admin\n")
    (tmp_path / ".env").chmod(0o600)
    calls: list[tuple[str, int, str, str, str]] = []

    def run(host: str, port: int, faults: str, variant: str) -> None:
        calls.append((host, port, faults, variant, os.environ.get("MOCK_ADMIN_NAME", "")))

    serve = types.ModuleType("mock_portal.nextiva.serve")
    serve.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mock_portal.nextiva.serve", serve)
    cli.load_env.cache_clear()
    try:
        assert runner.invoke(app, ["portal"]).exit_code == ExitCode.OK
        args = ["portal", "--port", "8123", "--faults", "flaky", "--variant", "b"]
        assert runner.invoke(app, args).exit_code == ExitCode.OK
    finally:
        cli.load_env.cache_clear()
    assert calls == [
        ("127.0.0.1", 0, "none", "a", "Pat Admin"),
        ("127.0.0.1", 8123, "flaky", "b", "Pat Admin"),
    ]


def test_no_command_takes_a_password_on_the_command_line() -> None:
    """Secrets come from the environment or .env: a command line shows in `ps` and history."""
    commands = getattr(typer.main.get_command(app), "commands", {})
    assert {"check", "portal"} <= set(commands)
    for name, command in commands.items():
        for param in command.params:
            text = " ".join([param.name or "", *getattr(param, "opts", [])]).lower()
            words = set(re.split(r"[^a-z]+", text))
            assert not words & {"password", "passwd", "pw", "pin", "secret"}, (
                f"onboard {name} takes {param.name}"
            )


def test_settings_for_loads_env_file_into_the_environment_but_no_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """.env reaches both the settings and, secrets left out, the environment other parts
    read (and every child process inherits), with a warning when other users could read it."""
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if "PORTAL" not in k})
    monkeypatch.chdir(tmp_path)
    env = tmp_path / ".env"
    env.write_text(
        "PORTAL_URL=http://127.0.0.1:5000/\nPORTAL_USERNAME=admin@example.com\n"
        "PORTAL_PASSWORD=s3cret-for-tests\nBROWSER_EXECUTABLE=/usr/bin/chromium\n"
    )
    env.chmod(0o644)
    cli.load_env.cache_clear()
    warnings: list[str] = []
    monkeypatch.setattr(cli, "say_warning", warnings.append)
    try:
        settings = cli.settings_for()
    finally:
        cli.load_env.cache_clear()
    assert settings.portal_url == "http://127.0.0.1:5000/"
    assert os.environ["BROWSER_EXECUTABLE"] == "/usr/bin/chromium"
    assert settings.portal_password.get_secret_value() == "s3cret-for-tests"
    assert "PORTAL_PASSWORD" not in os.environ
    assert len(warnings) == 1 and "chmod 600" in warnings[0]
    assert "s3cret-for-tests" not in warnings[0]


# Row 2's username is made from its name ('[bold]ada.[b]smith'); row 3 takes the username
# of the portal's Dana Smith with another name, so plan and run print that name back.
MARKUP_ROWS = [
    {
        "first_name": "[bold]Ada",
        "last_name": "[/b]Smith",
        "email": "ada.smith@example.com",
        "location": "Phoenix HQ",
        "username": "",
    },
    {
        "first_name": "Dana",
        "last_name": "[/b]Smith",
        "email": "dana.other@example.com",
        "location": "Denver Office",
        "username": "dana.smith",
    },
]


def test_markup_in_names_is_printed_as_text_by_check(tmp_path: Path) -> None:
    """`check` shows '[/b]Smith' and '[bold]Ada' as written, not as Rich markup."""
    roster = write_roster(tmp_path / "markup.csv", MARKUP_ROWS)
    result = runner.invoke(app, ["check", str(roster)])
    assert result.exit_code == ExitCode.OK, result.output
    assert "[bold]ada.[b]smith ([bold]Ada [/b]Smith, ada.smith@example.com)" in result.stdout
    assert "dana.smith (Dana [/b]Smith, dana.other@example.com)" in result.stdout


@pytest.mark.browser
def test_markup_in_names_neither_breaks_plan_nor_run(portal: Portal, tmp_path: Path) -> None:
    """`plan` and `run` print names and usernames with square brackets as written and end
    with their summary line; '[/b]Smith' crashed them at the end before."""
    write_roster(tmp_path / "roster.csv", MARKUP_ROWS)
    planned = onboard(portal, tmp_path, "plan", "roster.csv")
    assert "Traceback" not in planned.stderr, planned.stderr
    assert re.search(r"^plan \S+: .*Report: .*report\.html$", planned.stdout, re.M), planned
    assert "  [bold]ada.[b]smith: create user: create (add [bold]ada.[b]smith)" in planned.stdout
    assert "(roster: 'Dana [/b]Smith')" in planned.stdout

    done = onboard(portal, tmp_path, "run", "roster.csv")
    assert done.returncode == ExitCode.FAILED, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert re.search(r"^run \S+: .*Report: .*report\.html$", done.stdout, re.M), done.stdout
    # The portal takes the name as written; it refuses brackets in the device's name later.
    assert "row 2 [bold]ada.[b]smith: " in done.stdout
    assert re.search(r"row 3 dana\.smith: .*\(roster: 'Dana \[/b\]Smith'\)", done.stdout)
    created = portal.user("[bold]ada.[b]smith")
    assert created is not None and created["last_name"] == "[/b]Smith"


def _help_at_80_columns(*command: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "robots.cli", *command, "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_commands_help_reads_whole_in_80_columns() -> None:
    """At COLUMNS=80 no help is cut: no ellipsis, no line past 80 characters, and every
    option and its choices spelled out whole."""
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    for name in ["", *commands]:
        text = _help_at_80_columns(*([name] if name else []))
        assert "…" not in text, f"onboard {name} --help cuts:\n{text}"
        assert "..." not in text.replace("[ARGS]...", ""), f"onboard {name} --help cuts:\n{text}"
        assert max(len(line) for line in text.splitlines()) <= 80, text
        command = commands.get(name)
        for param in getattr(command, "params", []):
            if getattr(param, "hidden", False):
                continue
            for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
                if not opt.startswith("-"):
                    continue
                whole = rf"(?<![\w-]){re.escape(opt)}(?![\w-])"
                assert re.search(whole, text), f"onboard {name} --help: {opt} not whole\n{text}"
    assert "[on|off|retain-on-failure]" in _help_at_80_columns("run")
