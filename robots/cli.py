"""The `onboard` command: the admin's and the nightly scheduler's way into the robot.

`onboard --help` must answer at once, so this module imports only Typer at load time;
Playwright, Flask, pydantic and Rich are imported inside the commands that use them.

Exit codes, the same for every command (a scheduler and a shell script rely on them):
0 everything done, 1 some users failed or were refused, 2 the run could not start
(settings, browser, sign-in, unreadable roster; also Typer's own usage errors),
130 interrupted.

Adding a command: a function under `@app.command()` that takes the shared arguments and
options below, does its work inside `with exit_codes():`, calls `kind_for(kind)` and
`settings_for(portal_url, portal)` if it drives a portal, and ends with `raise
typer.Exit(code)` for anything but success. No command names a kind of portal: they are
the installed portal packages (robots/portals.py), chosen with `--kind` or PORTAL_KIND.
Passwords and PINs come only from the environment or `.env`, never from an option.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from robots import fleet_cli

if TYPE_CHECKING:
    from rich.console import Console

    from domain.portal import PortalKind, RequestBook
    from robots.roster import Roster
    from robots.settings import Settings


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    CANNOT_START = 2
    INTERRUPTED = 130


app = typer.Typer(
    name="onboard",
    help="Onboard new employees into hosted phone-system admin portals (Nextiva Voice, "
    "Xima UCaaS) from a roster CSV.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help wraps to the terminal; Rich's option table cut option names and
    # values at 80 columns ('--portal,--porta…', 'retain-on-failu…').
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Shared arguments and options: every command that takes a roster or drives the portal
# spells them the same way.
RosterArgument = Annotated[
    Path,
    typer.Argument(
        help="The roster CSV, one new hire per row (see examples/roster.csv).",
        metavar="ROSTER",
        show_default=False,
    ),
]
PortalUrlOption = Annotated[
    str | None,
    typer.Option(
        "--portal",
        "--portal-url",
        help="The portal's start URL; overrides PORTAL_URL.",
        metavar="URL",
        show_default=False,
    ),
]
KindOption = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="Which kind of portal the roster is for (nextiva, xima); overrides PORTAL_KIND "
        "(default nextiva).",
        metavar="KIND",
        show_default=False,
    ),
]
HeadedOption = Annotated[
    bool, typer.Option("--headed", help="Show the browser, for an admin watching the run.")
]
SlowMoOption = Annotated[
    int,
    typer.Option(
        "--slowmo",
        "--slow-mo",
        min=0,
        max=10_000,
        metavar="MS",
        help="Pause this many ms between actions.",
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Treat warnings (for example a non-UTF-8 file) as problems."),
]


@cache
def console() -> Console:
    """Standard output, for results."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def err_console() -> Console:
    """Standard error, for warnings and why a command stopped."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


@cache
def load_env(*, secrets: bool = False) -> None:
    """Load `.env` from the current directory into the environment, once, secrets left out.

    The settings read `.env` by themselves; other parts (the browser finder's
    BROWSER_EXECUTABLE, RECORDINGS_DIR) read the environment directly. A secret (the admin
    password, the webhook, the evidence key) is never put there: every child process, the
    browser's driver and Chromium included, would inherit it. `secrets=True` is for the mock
    portal alone, whose own admin password is a test account's and which starts no browser.
    """
    from dotenv import dotenv_values

    from robots.settings import ENV_FILE, env_file_warning, is_secret_name

    for name, value in dotenv_values(ENV_FILE).items():
        if value is not None and name not in os.environ and (secrets or not is_secret_name(name)):
            os.environ[name] = value
    warning = env_file_warning()
    if warning:
        say_warning(warning)


def env_value(name: str) -> str | None:
    """A setting from the environment or else `.env`, without putting it in the environment."""
    from dotenv import dotenv_values

    from robots.settings import ENV_FILE

    return os.environ.get(name) or dotenv_values(ENV_FILE).get(name) or None


def kind_for(name: str | None) -> PortalKind:
    """The portal kind named by `--kind`, else PORTAL_KIND (environment or .env), else the
    default; SetupError (exit code 2) naming the installed kinds when there is none such."""
    from robots.portals import default_kind_name, portal_kind

    return portal_kind(name or env_value("PORTAL_KIND") or default_kind_name())


def settings_for(portal_url: str | None = None, kind: PortalKind | None = None) -> Settings:
    """The run's settings (after `.env`); a missing one stops the command with exit code 2.

    Once read, the secrets live in the settings alone: they are removed from this process's
    environment (where the admin may have exported them), so that no child process started
    afterwards, Playwright's driver and the browser above all, inherits one.
    """
    from robots.settings import forget_secrets
    from robots.settings import load_settings as load

    load_env()
    names = None
    if kind is not None:
        names = {
            "portal_url": kind.settings.url,
            "portal_username": kind.settings.username,
            "portal_password": kind.settings.password,
        }
    try:
        return load(portal_url, names=names, run_settings=kind.run_settings if kind else ())
    finally:
        forget_secrets()


def say_warning(text: str) -> None:
    from rich.markup import escape

    err_console().print(f"[yellow]Warning:[/] {escape(text)}")


@contextmanager
def exit_codes() -> Iterator[None]:
    """Turn the ways a command can stop into the exit-code convention, with one plain line."""
    from domain.errors import SetupError, SignInError

    try:
        yield
    except (SetupError, SignInError) as e:
        from rich.markup import escape

        err_console().print(f"[red]Cannot start:[/] {escape(str(e))}")
        raise typer.Exit(ExitCode.CANNOT_START) from None
    except KeyboardInterrupt:
        err_console().print("[red]Interrupted.[/]")
        raise typer.Exit(ExitCode.INTERRUPTED) from None


def read_roster(path: Path, kind: PortalKind | None = None) -> Roster:
    """The roster at `path`; an unreadable file stops the command with exit code 2.

    A roster that holds secrets (security PINs) is treated like `.env`: a warning when
    other users of the machine can read or change it.
    """
    from robots.roster import read_roster as read

    roster = read(path, kind)
    if _holds_secrets(roster):
        from robots.settings import roster_file_warning

        warning = roster_file_warning(roster.path)
        if warning:
            say_warning(warning)
    return roster


def _holds_secrets(roster: Roster) -> bool:
    """Whether any row of the roster, refused rows too, has a value in a secret column."""
    kind = roster.kind
    if kind is None:
        return False
    if any(kind.secrets(entry.record) for entry in roster.entries):
        return True
    return any(problem.column in kind.columns.secret for problem in roster.problems)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def show_roster(roster: Roster, *, strict: bool = False, accepted: bool = True) -> None:
    """The roster in row order, one line each: what the robot will do with a row, or why
    it refuses it (`row 4, column email: reason`). File-wide findings come first."""
    from rich.markup import escape

    refused = "[red]refused[/]"
    lines: list[tuple[int, str]] = []
    if accepted and roster.kind is not None:
        for entry in roster.entries:
            text = f"row {entry.row}: {roster.kind.describe(entry.record)}"
            lines.append((entry.row, f"[green]ok[/]       {escape(text)}"))
    lines.extend((p.row or 0, f"{refused}  {escape(str(p))}") for p in roster.problems)
    label = refused if strict else "[yellow]warning[/]"
    lines.extend((w.row or 0, f"{label}  {escape(str(w))}") for w in roster.warnings)
    # sorted() is stable: within a row, problems keep their column order.
    for _, line in sorted(lines, key=lambda item: item[0]):
        console().print(line)


@app.command(short_help="Check a roster offline, row by row.")
def check(
    roster: RosterArgument,
    kind: KindOption = None,
    strict: StrictOption = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Show only problems and the summary.")
    ] = False,
) -> None:
    """Check a roster offline: every row the portal would refuse, with row, column and reason."""
    with exit_codes():
        load_env()
        result = read_roster(roster, kind_for(kind))
        show_roster(result, strict=strict, accepted=not quiet)
        summary = f"{plural(len(result.entries), 'row')} ok, {result.refused} refused"
        if result.warnings:
            summary += f", {plural(len(result.warnings), 'warning')}"
        failed = not result.ok or (strict and bool(result.warnings))
        console().print(summary, style="red" if failed else "green")
        if failed:
            raise typer.Exit(ExitCode.FAILED)


@app.command(short_help="Run the mock portal on this machine.")
def portal(
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="N", help="Port; 0 picks a free one.")
    ] = 0,
    faults: Annotated[
        str,
        typer.Option(
            metavar="PROFILE", help="Fault profile (slow pages, errors, expired sessions)."
        ),
    ] = "none",
    variant: Annotated[
        str, typer.Option(metavar="VARIANT", help="UI variant of the mock portal.")
    ] = "a",
    kind: KindOption = None,
) -> None:
    """Run the mock portal of a kind on this machine, for demos and trying the robot safely."""
    with exit_codes():
        load_env(secrets=True)  # the mock's admin account may be set in .env (MOCK_ADMIN_*)
        kind_for(kind).mock.serve(host, port, faults, variant)


OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        help="Only these usernames of the roster (repeat, or separate with commas).",
        metavar="USERNAME",
        show_default=False,
    ),
]
TraceOption = Annotated[
    str,
    typer.Option(
        metavar="[on|off|retain-on-failure]",
        help="Playwright traces (default: kept for failed users only).",
        show_default=False,
    ),
]
# Refused, not removed without a word: a video's frames cannot be masked the way screenshots
# are, so a generated SIP password or PIN could show in them (see docs/evidence.md).
VideoOption = Annotated[bool, typer.Option("--video", hidden=True)]
KeepDaysOption = Annotated[
    int | None,
    typer.Option(
        "--keep-days",
        min=0,
        metavar="N",
        help="Remove run folders older than N days.",
        show_default=False,
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option("--workers", min=1, max=16, metavar="N", help="Onboard N users at once."),
]
LicenseBatchOption = Annotated[
    int,
    typer.Option(
        "--license-batch",
        min=1,
        max=100,
        metavar="N",
        help="Assign the licence to this many users per Save on the Assign screen "
        "(1: one user at a time).",
    ),
]
ScreenshotsOption = Annotated[
    bool,
    typer.Option(
        "--screenshots/--no-screenshots",
        help="Screenshot every step for the evidence (the audit log is always written).",
    ),
]
LogFileOption = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        metavar="PATH",
        help="Write the JSON log here instead of stderr.",
        show_default=False,
    ),
]


AllowDeletesOption = Annotated[
    int | None,
    typer.Option(
        "--allow-deletes",
        min=0,
        metavar="N",
        help="Allow a roster that deletes up to N users, past the deletion guard's limit.",
        show_default=False,
    ),
]


def _job(
    mode: str,
    roster: Path,
    portal_url: str | None,
    *,
    kind: str | None = None,
    allow_deletes: int | None = None,
    headed: bool = False,
    slow_mo: int = 0,
    only: list[str] | None = None,
    strict: bool = False,
    trace: str = "retain-on-failure",
    keep_days: int | None = None,
    workers: int = 1,
    license_batch: int = 10,
    screenshots: bool = True,
    log_file: Path | None = None,
) -> None:
    """What `run` and `plan` share: settings, roster, the robot, the exit code."""
    import os
    import sys

    if trace not in ("on", "off", "retain-on-failure"):
        raise typer.BadParameter("must be on, off or retain-on-failure", param_hint="--trace")
    with exit_codes():
        from robots.jobs import JobOptions, configure_logging, execute
        from robots.runner import RunOptions

        configure_logging(log_file)
        portal = kind_for(kind)
        settings = settings_for(portal_url, portal)
        result = read_roster(roster, portal)
        show_roster(result, strict=strict, accepted=False)
        if headed and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            say_warning("no display to show the browser on: running headless")
            headed = False
        names = [name.strip() for item in only or [] for name in item.split(",") if name.strip()]
        options = RunOptions(
            headed=headed or not settings.headless,
            slow_mo=slow_mo or settings.slow_mo_ms,
            only=names,
            trace=trace,
            workers=workers,
            license_batch=license_batch,
            screenshots=screenshots,
            allow_deletes=allow_deletes,
        )
        job = JobOptions(
            run=options,
            strict=strict,
            keep_days=keep_days,
            notify_url=settings.notify_webhook_url,
        )
        code = execute(settings, result, job, mode=mode, out=console(), kind=portal)
    if code:
        raise typer.Exit(code)


@app.command(short_help="Onboard every new hire of the roster.")
def run(
    roster: RosterArgument,
    portal_url: PortalUrlOption = None,
    kind: KindOption = None,
    headed: HeadedOption = False,
    slow_mo: SlowMoOption = 0,
    only: OnlyOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Do nothing at all if any roster row is refused.")
    ] = False,
    trace: TraceOption = "retain-on-failure",
    video: VideoOption = False,
    keep_days: KeepDaysOption = None,
    workers: WorkersOption = 1,
    license_batch: LicenseBatchOption = 10,
    screenshots: ScreenshotsOption = True,
    log_file: LogFileOption = None,
    allow_deletes: AllowDeletesOption = None,
) -> None:
    """Onboard every user of the roster through the portal's steps (Nextiva: create, E911,
    device, voicemail, licence; Xima: add or edit, delete)."""
    if video:
        raise typer.BadParameter(
            "video recording is not offered: its frames cannot be masked, and a generated "
            "SIP password or PIN would show in them; the screenshots (masked) and the traces "
            "of failed users are the evidence",
            param_hint="--video",
        )
    _job(
        "run",
        roster,
        portal_url,
        kind=kind,
        allow_deletes=allow_deletes,
        headed=headed,
        slow_mo=slow_mo,
        only=only,
        strict=strict,
        trace=trace,
        keep_days=keep_days,
        workers=workers,
        license_batch=license_batch,
        screenshots=screenshots,
        log_file=log_file,
    )


@app.command(short_help="Show what a run would do; writes nothing.")
def plan(
    roster: RosterArgument,
    portal_url: PortalUrlOption = None,
    kind: KindOption = None,
    only: OnlyOption = None,
    log_file: LogFileOption = None,
    allow_deletes: AllowDeletesOption = None,
) -> None:
    """Sign in and read only: per user and step, what a run would do (every deletion
    listed, and whether the deletion guard would refuse them). Writes nothing."""
    _job(
        "plan",
        roster,
        portal_url,
        kind=kind,
        allow_deletes=allow_deletes,
        only=only,
        trace="off",
        log_file=log_file,
    )


@app.command(short_help="Onboard the example roster into the mock portal.")
def demo(kind: KindOption = None) -> None:
    """Start the mock portal of a kind, onboard its example roster (examples/) into it, show
    where the evidence is."""
    with exit_codes():
        # The mock's admin account may be set in .env; the job removes every secret from
        # the environment once the mock has read it, before the browser starts.
        load_env(secrets=True)
        from robots.jobs import configure_logging
        from robots.jobs import demo as run_demo

        configure_logging()
        code = run_demo(console(), kind=kind_for(kind))
    if code:
        raise typer.Exit(code)


@app.command(short_help="Check a run's evidence.")
def verify(
    run_folder: Annotated[
        str, typer.Argument(help="A run id or its folder (recordings/<run-id>).", metavar="RUN")
    ],
) -> None:
    """Check a run's evidence: the audit chain, every screenshot, the files the run sealed at
    its end (summary, report, junit, traces) and, with EVIDENCE_KEY set, every signature."""
    import os

    from rich.markup import escape

    from domain.errors import SetupError
    from robots.evidence import signing_key, verify_run

    with exit_codes():
        load_env()
        try:
            key = signing_key(env_value("EVIDENCE_KEY"))
        except ValueError as error:
            raise SetupError(f"EVIDENCE_KEY: {error}") from None
        try:
            path = Path(run_folder)
            if not path.is_dir():
                path = Path(os.environ.get("RECORDINGS_DIR", "recordings")) / run_folder
            found = path.is_dir()
        except (OSError, ValueError):
            found = False
        if not found:
            raise SetupError(f"no run folder {escape(repr(run_folder)[:80])}")
        result = verify_run(path, key)
    for note in result.notes:
        say_warning(note)
    shown = escape(str(path))
    if result.ok:
        signed = (
            "every line's signature matches EVIDENCE_KEY"
            if result.signed
            else "not checked against a key (no EVIDENCE_KEY)"
        )
        console().print(
            f"[green]verified[/] {shown}: {plural(result.lines, 'audit line')}, chain whole, "
            f"screenshots and sealed files unaltered; {signed}"
        )
        return
    for problem in result.problems:
        console().print(f"[red]broken[/] {escape(problem)}")
    if not result.problems and not result.finished:
        console().print(
            f"[yellow]unfinished[/] {shown}: {plural(result.lines, 'audit line')} whole, but the "
            "log has no closing line: the run was killed before it ended, or the end of the "
            "log was cut off; nothing after the last line, nor summary.json, report.html or "
            "junit.xml, is proven"
        )
    raise typer.Exit(ExitCode.FAILED)


requests_app = typer.Typer(
    name="requests",
    help="The requests a run filed with the portal's people (Nextiva: call recording asked "
    "of Support), kept in the state directory (STATE_DIR, default RECORDINGS_DIR/.state).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(requests_app, name="requests", short_help="List or clear filed requests.")


def _state_dir() -> Path:
    """STATE_DIR, else `.state` in RECORDINGS_DIR (environment or .env), as runs use it."""
    from robots.settings import default_state_dir

    load_env()
    state = env_value("STATE_DIR")
    recordings = Path(env_value("RECORDINGS_DIR") or "recordings")
    return Path(state) if state else default_state_dir(recordings)


def _book(kind: PortalKind) -> RequestBook:
    """The kind's requests; SetupError (exit code 2) for a portal that files none."""
    from domain.errors import SetupError

    if kind.requests is None:
        raise SetupError(f"{kind.title} files no requests with its people")
    return kind.requests


@requests_app.command("list", short_help="List every request, oldest first.")
def requests_list(kind: KindOption = None) -> None:
    """List every request filed with the portal's people: state, case number, users, times."""
    from rich.markup import escape

    with exit_codes():
        lines = _book(kind_for(kind)).lines(_state_dir())
        for line in lines:
            console().print(escape(line))
        if not lines:
            console().print("No requests filed.")


@requests_app.command("clear", short_help="Let the next run ask again for these users.")
def requests_clear(
    usernames: Annotated[
        list[str],
        typer.Argument(help="The users whose open requests are cleared.", metavar="USERNAME..."),
    ],
    kind: KindOption = None,
) -> None:
    """Clear the open requests naming these users: the admin's word that they are not with
    the portal's people (a request whose case number was never read, and which Support has
    no case for). The rows are kept, marked cleared; the next run asks again."""
    from rich.markup import escape

    from robots.lock import run_lock

    with exit_codes():
        book = _book(kind_for(kind))
        recordings = Path(env_value("RECORDINGS_DIR") or "recordings")
        # Not while a run is going: it may be filing a request for the same users.
        recordings.mkdir(parents=True, exist_ok=True)
        with run_lock(recordings, "(clearing requests)"):
            cleared = book.clear(_state_dir(), usernames)
        console().print(
            escape(f"{plural(cleared, 'open request')} cleared for {', '.join(usernames)}")
        )
        if not cleared:
            raise typer.Exit(ExitCode.FAILED)


# Past one machine: enqueue, worker, status (robots/fleet_cli.py).
fleet_cli.register(app)


def main() -> None:
    """The `onboard` console script."""
    app(prog_name="onboard")


if __name__ == "__main__":
    main()
