"""The jobs behind `onboard run`, `onboard plan` and `onboard demo`.

A job reads the roster, runs the robot with a progress display on stderr, writes the
evidence (summary.json, report.html, junit.xml), notifies a webhook on failures, prunes old
runs, and returns the exit code. stdout gets one summary line and the report's path, so a
nightly job's output stays short; the structured log goes to stderr.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

import structlog
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.errors import SetupError
from domain.portal import PortalKind
from robots.lock import open_private_file, run_lock
from robots.results import (
    EXIT_FAILURES,
    EXIT_NOT_STARTED,
    EXIT_OK,
    RunResult,
    UserResult,
    write_summary,
)
from robots.roster import Roster, RosterEntry
from robots.runner import Runner, RunOptions
from robots.settings import Settings, forget_secrets

log = structlog.get_logger("onboard")


def configure_logging(log_file: Path | None = None) -> None:
    """JSON lines on stderr (or in a file) for log collectors.

    The file is created 0600 whatever the umask (the log names users and the portal), and
    never opened through a symbolic link; SetupError says why it cannot be used.
    """
    stream: TextIO = sys.stderr
    if log_file:
        fd = open_private_file(log_file, os.O_WRONLY | os.O_APPEND, "the log file")
        # A FIFO or a collector's pipe must block, not fail, when it is full.
        os.set_blocking(fd, True)
        stream = os.fdopen(fd, "a", encoding="utf-8")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )


@dataclass
class JobOptions:
    run: RunOptions
    strict: bool = False
    keep_days: int | None = None
    notify_url: str | None = None


@contextmanager
def _graceful_stop(runner: Runner) -> Iterator[None]:
    """SIGINT/SIGTERM: the current step ends, then the run stops; a second signal stops now."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        if runner.interrupted:
            raise KeyboardInterrupt
        runner.interrupted = True
        log.warning("stopping after the current step", signal=signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _progress_console() -> Console:
    return Console(stderr=True)


def execute(
    settings: Settings,
    roster: Roster,
    options: JobOptions,
    *,
    mode: str = "run",
    out: Console | None = None,
    kind: PortalKind | None = None,
) -> int:
    """Run or plan the roster for `kind` of portal (default: the roster's); print the
    outcome; return the exit code."""
    out = out or Console()
    # The settings hold the secrets now; the browser driver started below inherits this
    # process's environment, so none may be left in it.
    forget_secrets()
    if options.strict and (roster.problems or roster.warnings):
        out.print("Stopped: the roster has problems and --strict is on. Nothing was done.")
        return EXIT_FAILURES
    entries: Sequence[RosterEntry] = roster.entries
    if not entries:
        out.print("Nothing to do: no valid rows in the roster.")
        return EXIT_FAILURES if roster.problems else EXIT_OK

    kind = kind or roster.kind
    if kind is None:
        raise SetupError("the roster does not say which kind of portal it is for")
    console = _progress_console()
    with ExitStack() as held:
        # The lock is held from before the run until after its report and pruning: old runs
        # are pruned only while no other run can be going.
        try:
            held.enter_context(run_lock(Path(settings.recordings_dir), f"(starting {mode})"))
        except SetupError as error:
            out.print(f"[red]Could not start:[/] {escape(str(error))}")
            return EXIT_NOT_STARTED
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("signing in", total=len(entries))

            def on_progress(user: UserResult, what: str) -> None:
                # The description is read as markup: a username like '[/b]x' would crash it.
                progress.update(task, description=escape(f"{user.username}: {what}"))
                if what not in ("starting",) and not what.startswith("step "):
                    progress.advance(task)

            runner = Runner(settings, options.run, kind, progress=on_progress)
            with _graceful_stop(runner):
                try:
                    result = runner.run(entries, mode=mode)
                except SetupError as error:
                    out.print(f"[red]Could not start:[/] {escape(str(error))}")
                    return EXIT_NOT_STARTED
        return _finish(result, runner, roster, options, out)


def _finish(
    result: RunResult, runner: Runner, roster: Roster, options: JobOptions, out: Console
) -> int:
    from robots.evidence import seal_run
    from robots.housekeeping import notify, prune_runs
    from robots.report import write_junit, write_report

    summary_path = write_summary(result)
    report = write_report(result, runner.redactor)
    write_junit(result, runner.redactor)
    # Last of the evidence: the closing audit line seals summary, report, junit and traces.
    seal_run(result.run_dir, result.run_id, result.audit, runner.evidence_key)
    code = result.exit_code
    if code == EXIT_OK and roster.problems:
        code = EXIT_FAILURES
    if options.notify_url and code != EXIT_OK:
        import json

        notify(options.notify_url, json.loads(summary_path.read_text(encoding="utf-8")))
    if options.keep_days is not None:
        prune_runs(Path(runner.settings.recordings_dir), options.keep_days, keep=result.run_dir)

    for user in result.users:
        for note in user.notes:
            # Complete, with what someone else does next: shown, never left to the report.
            out.print(
                f"[yellow]{escape(user.status)}[/] "
                + escape(f"row {user.row} {user.username}: {note}"),
                highlight=False,
            )
        if user.error:
            # Names, errors and the portal's words are text, never Rich markup: a last
            # name such as '[/b]Smith' would otherwise end the run without its summary.
            out.print(
                f"[red]{escape(user.status)}[/] "
                + escape(f"row {user.row} {user.username}: {user.error}"),
                highlight=False,
            )
        for plan in user.plans:
            out.print(
                escape(
                    f"  {user.username}: {plan.step}: {plan.action}"
                    + (f" ({plan.detail})" if plan.detail else "")
                ),
                highlight=False,
            )
    counts = result.status_counts()
    if roster.refused:
        counts["refused by roster check"] = roster.refused
    tally = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no users"
    for note in result.notes:
        out.print(f"[red]Refused:[/] {escape(note)}" if result.mode == "run" else escape(note))
    for line in result.follow_ups:
        out.print(f"[yellow]Follow-up:[/] {escape(line)}")
    for title in result.texts:
        out.print(escape(f"{title}: in the report and the run folder"))
    if result.stopped:
        out.print(f"[red]Run stopped:[/] {escape(result.stopped)}")
    out.print(escape(f"{result.mode} {result.run_id}: {tally}. Report: {report}"))
    return code


def demo(
    out: Console | None = None, roster_path: Path | None = None, kind: PortalKind | None = None
) -> int:
    """Start `kind`'s mock portal on a free port, run its example roster into it, stop it."""
    from pydantic import SecretStr

    from mock_portal.server import PortalServer
    from robots.portals import default_kind
    from robots.roster import read_roster

    out = out or Console()
    kind = kind or default_kind()
    roster_path = roster_path or _example_roster(kind.mock.demo_roster)
    app, username, password = kind.mock.app(None, None)
    with PortalServer(app) as server:
        out.print(f"{kind.title} mock portal running at {server.url}")
        settings = Settings(
            portal_url=server.url,
            portal_username=username,
            portal_password=SecretStr(password),
        )
        roster = read_roster(roster_path, kind)
        code = execute(settings, roster, JobOptions(run=RunOptions()), out=out, kind=kind)
        out.print("Evidence: report.html, audit.jsonl and screenshots in the run folder above.")
    out.print("Mock portal stopped.")
    return code


def _example_roster(name: str) -> Path:
    here = Path(__file__).resolve().parent.parent / "examples" / name
    if here.is_file():
        return here
    fallback = Path(os.getcwd()) / "examples" / name
    if fallback.is_file():
        return fallback
    raise SetupError(f"examples/{name} was not found; pass a roster to `onboard run`.")
