"""`onboard enqueue`, `onboard worker` and `onboard status`: the robot past one machine.

Registered on the `onboard` command by robots/cli.py. Like the rest of the command line,
this module imports only Typer at load time: the queue engine, the database driver and
the browser load inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        metavar="PATH",
        help="The fleet's settings (accounts, evidence location); default FLEET_SETTINGS, "
        "else fleet.toml.",
        show_default=False,
    ),
]


def enqueue(
    roster: Annotated[
        Path, typer.Argument(help="The roster CSV.", metavar="ROSTER", show_default=False)
    ],
    account: Annotated[
        str,
        typer.Option("--account", metavar="NAME", help="The account (in the fleet settings)."),
    ],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="The portal kind (default: the account's).",
            show_default=False,
        ),
    ] = None,
    settings: SettingsOption = None,
) -> None:
    """Check a roster as `check` does and queue one job per good row for the workers.

    A hire already waiting or in progress is not queued again."""
    from rich.markup import escape

    from robots import cli
    from robots.fleet import enqueue as put
    from robots.fleet_settings import load_fleet_settings
    from robots.jobs import configure_logging

    with cli.exit_codes():
        configure_logging()
        cli.load_env()
        fleet = load_fleet_settings(settings)
        if account not in fleet.accounts:
            from domain.errors import SetupError

            raise SetupError(f"no account {account!r} in {fleet.source}")
        portal = cli.kind_for(kind or fleet.accounts[account].kind)
        result = cli.read_roster(roster, portal)
        cli.show_roster(result, accepted=False)
        counts = put(fleet, result, account, portal.name)
        for row in counts.refused_rows:
            cli.console().print(
                "[red]refused[/]  "
                + escape(
                    f"row {row}: holds a secret (a PIN), which the queue does not store: "
                    "leave it empty, or onboard this row with `onboard run`"
                )
            )
        refused = result.refused + len(counts.refused_rows)
        cli.console().print(
            f"{counts.new} new, {counts.already_queued} already queued, {refused} refused "
            f"({escape(account)}, {portal.name})",
            style="red" if refused else "green",
        )
    if refused:
        raise typer.Exit(cli.ExitCode.FAILED)


def worker(
    browsers: Annotated[
        int,
        typer.Option(
            "--browsers", min=1, max=8, metavar="N", help="Onboard N hires at once (browsers)."
        ),
    ] = 2,
    settings: SettingsOption = None,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            metavar="PATH",
            help="JSON log here instead of stderr.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Take onboarding jobs from the queue until stopped (SIGTERM: the jobs under way end first)."""
    import logging
    import sys

    from robots import cli
    from robots.fleet import prepare_worker, quiet_expected_failures, run_worker
    from robots.fleet_settings import load_fleet_settings
    from robots.jobs import configure_logging

    with cli.exit_codes():
        configure_logging(log_file)
        # The engine's own log lines (jobs started, retried, failed) on stderr as well.
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(quiet_expected_failures)
        logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[handler])
        cli.load_env()
        state = prepare_worker(load_fleet_settings(settings))
        run_worker(state, browsers=browsers)


def status(settings: SettingsOption = None) -> None:
    """Jobs by account and state, quarantined accounts, and errors in the portal's words."""
    from rich.markup import escape

    from robots import cli
    from robots.fleet import read_status
    from robots.fleet_settings import load_fleet_settings

    with cli.exit_codes():
        cli.load_env()
        found = read_status(load_fleet_settings(settings))
    out = cli.console()
    accounts = sorted({account for account, _ in found.counts})
    states = ("todo", "waiting", "doing", "succeeded", "failed", "cancelled", "aborted")
    out.print(f"{'account':<20}" + "".join(f"{state:>11}" for state in states))
    for account in accounts:
        cells = "".join(f"{found.counts.get((account, state), 0):>11}" for state in states)
        out.print(escape(f"{account:<20}") + cells)
    if not accounts:
        out.print("no jobs")
    for account, until, reason in found.quarantined:
        out.print(
            f"[yellow]quarantined[/] {escape(account)} until {until:%Y-%m-%d %H:%M:%S %Z}: "
            + escape(reason)
        )
    for error in found.errors:
        out.print(
            f"[red]{escape(error['status'])}[/] "
            + escape(
                f"job {error['job']} {error['account']} row {error['row']} {error['hire']}: "
                f"{error['error']} (evidence: {error['evidence']})"
            )
        )


def register(app: typer.Typer) -> None:
    """Add the fleet's commands to the `onboard` command."""
    app.command(short_help="Queue a roster's hires for the workers.")(enqueue)
    app.command(short_help="Run queued onboarding jobs.")(worker)
    app.command(short_help="Show the queue: jobs by account and state.")(status)
