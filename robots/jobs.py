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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import structlog
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from robots.errors import SetupError
from robots.roster import Roster, RosterEntry
from robots.runner import (
    EXIT_FAILURES,
    EXIT_NOT_STARTED,
    EXIT_OK,
    Runner,
    RunOptions,
    RunResult,
    UserResult,
    write_summary,
)
from robots.settings import Settings

log = structlog.get_logger("onboard")


def configure_logging(log_file: Path | None = None) -> None:
    """JSON lines on stderr (or in a file) for log collectors."""
    stream = log_file.open("a", encoding="utf-8") if log_file else sys.stderr
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
) -> int:
    """Run or plan the roster; print the outcome; return the exit code."""
    out = out or Console()
    if options.strict and (roster.problems or roster.warnings):
        out.print("Stopped: the roster has problems and --strict is on. Nothing was done.")
        return EXIT_FAILURES
    entries: Sequence[RosterEntry] = roster.entries
    if not entries:
        out.print("Nothing to do: no valid rows in the roster.")
        return EXIT_FAILURES if roster.problems else EXIT_OK

    console = _progress_console()
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
            progress.update(task, description=f"{user.username}: {what}")
            if what not in ("starting",) and not what.startswith("step "):
                progress.advance(task)

        runner = Runner(settings, options.run, progress=on_progress)
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
        if user.error:
            out.print(
                f"[red]{user.status}[/] row {user.row} {user.username}: {user.error}",
                highlight=False,
            )
        for plan in user.plans:
            out.print(
                f"  {user.username}: {plan.step}: {plan.action}"
                + (f" ({plan.detail})" if plan.detail else ""),
                highlight=False,
            )
    counts = result.status_counts()
    if roster.refused:
        counts["refused by roster check"] = roster.refused
    tally = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no users"
    if result.stopped:
        out.print(f"[red]Run stopped:[/] {escape(result.stopped)}")
    out.print(escape(f"{result.mode} {result.run_id}: {tally}. Report: {report}"))
    return code


def demo(out: Console | None = None, roster_path: Path | None = None) -> int:
    """Start the mock portal on a free port, onboard the example roster into it, stop it."""
    from pydantic import SecretStr

    from mock_portal import create_app
    from mock_portal.config import PortalConfig
    from mock_portal.server import PortalServer
    from robots.roster import read_roster

    out = out or Console()
    roster_path = roster_path or _example_roster()
    config = PortalConfig.from_env()
    with PortalServer(create_app(config)) as server:
        out.print(f"Mock portal running at {server.url}")
        settings = Settings(
            portal_url=server.url,
            portal_username=config.admin_username,
            portal_password=SecretStr(config.admin_password),
        )
        code = execute(settings, read_roster(roster_path), JobOptions(run=RunOptions()), out=out)
        out.print("Evidence: report.html, audit.jsonl and screenshots in the run folder above.")
    out.print("Mock portal stopped.")
    return code


def _example_roster() -> Path:
    here = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
    if here.is_file():
        return here
    fallback = Path(os.getcwd()) / "examples" / "roster.csv"
    if fallback.is_file():
        return fallback
    raise SetupError("examples/roster.csv was not found; pass a roster to `onboard run`.")
