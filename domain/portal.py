"""What makes a kind of portal: the one description the robot's core reads.

A portal is a package (`flows/<kind>/` with its `pages/<kind>/` and `mock_portal/<kind>/`)
that exposes one `PortalKind` as `PORTAL` and is named by one entry point in the group
`onboard.portals`. The robot's core (`robots/`) knows nothing else about it: the roster's
columns and record type, the settings that say where the portal is and who signs in, how
to sign in, the steps in order, and the mock an admin can try it on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from domain.steps import Session, Step

# The entry-point group every portal package registers its `PORTAL` under.
ENTRY_POINT_GROUP = "onboard.portals"


@dataclass(frozen=True)
class RosterColumns:
    """What the roster reader needs to know about a portal's rows.

    The reader (robots/roster.py) handles the file: encodings, the header, formulas,
    invisible characters, row numbers; this says which columns there are and how a row's
    cleaned values become the portal's record.
    """

    required: tuple[str, ...]
    optional: tuple[str, ...]
    # Other headers people write for a column ("Surname" for last_name).
    aliases: Mapping[str, str] = field(default_factory=dict)
    # yes/no cells, read as booleans before the record is built.
    yes_no: frozenset[str] = frozenset()
    # Phone numbers: may start with '+', and a shortened number (6.03E+09) is refused.
    phone: frozenset[str] = frozenset()
    # Digits a spreadsheet may have shortened as a number (6.03E+09).
    numeric: frozenset[str] = frozenset()
    # Cells where the word "none" means "nothing" (None).
    none_word: frozenset[str] = frozenset()
    # Cells whose value is a secret: never quoted in a message.
    secret: frozenset[str] = frozenset()
    # Columns whose values must differ from row to row (the portal would refuse the second).
    unique: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class PortalSettings:
    """The names of the settings (environment or .env) that say where a portal is and who
    signs in. `--portal URL` overrides the URL for any kind."""

    url: str
    username: str
    password: str


@dataclass(frozen=True)
class MockPortal:
    """The portal's stand-in on this machine, for `onboard portal` and `onboard demo`.

    `serve(host, port, faults, variant)` serves it in the foreground until Ctrl-C;
    `app(username, password)` builds one (its admin account from the arguments, else from
    the environment) and returns (the WSGI app, the admin's username, the admin's
    password); `demo_roster` is the example roster's file name under `examples/`.
    """

    serve: Callable[[str, int, str, str], None]
    app: Callable[[str | None, str | None], tuple[Any, str, str]]
    demo_roster: str


@dataclass(frozen=True)
class RequestBook:
    """The requests a portal's once-per-run step filed with the portal's people, kept in the
    state directory: `lines(state_dir)` describes each (for `onboard requests list`), and
    `clear(state_dir, keys)` is the admin's word that the open requests naming these
    records are not with the portal's people, so the next run asks again (returns how many
    requests it cleared)."""

    lines: Callable[[Path], list[str]]
    clear: Callable[[Path, Sequence[str]], int]


@dataclass(frozen=True)
class PortalKind:
    """One kind of portal, described for the robot's core.

    `record` is the roster row's model; `key(record)` its identity (how the portal finds
    the user: Nextiva's username, Xima's email), `display(record)` the person's name,
    `describe(record)` one line for `onboard check`, `identity(record, values)` what must
    be unique in the file (from the record, or from a refused row's raw values), and
    `secrets(record)` the values of a record that are secrets (kept out of every artifact).
    `read_options(session)` and `unoffered(record, options)`, when given, read once per
    run what the portal's lists offer and name each roster value the portal lacks.
    `account_size(session)` counts the account's users (for the deletion guard's share).
    `shared()` makes what a run's sessions share (claims on free numbers).
    `sign_out(page)`, when the portal has it, ends the admin's session (a fleet worker
    signs out when it gives up a session it kept between jobs).
    `run_settings` names the settings (environment or .env, read as secrets) the portal's
    once-per-run steps read, handed to them in `RunContext.settings`; `requests` reads and
    clears what those steps filed (`onboard requests`).
    """

    name: str
    title: str
    record: type[BaseModel]
    columns: RosterColumns
    settings: PortalSettings
    steps: Sequence[Step[Any]]
    key: Callable[[Any], str]
    display: Callable[[Any], str]
    describe: Callable[[Any], str]
    sign_in: Callable[..., None]
    ensure_signed_in: Callable[..., bool]
    mock: MockPortal
    identity: Callable[[Any, Mapping[str, Any]], dict[str, str]] | None = None
    secrets: Callable[[Any], list[str]] = lambda _record: []
    read_options: Callable[[Session], Any] | None = None
    unoffered: Callable[[Any, Any], list[str]] | None = None
    account_size: Callable[[Session], int | None] | None = None
    shared: Callable[[], Any] = lambda: None
    # The step that stands for the record as a whole in messages about it.
    first_step: str = ""
    run_settings: tuple[str, ...] = ()
    requests: RequestBook | None = None
    sign_out: Callable[..., None] | None = None

    def build(self, values: Mapping[str, Any]) -> Any:
        """The record for a row's cleaned values (raises pydantic's ValidationError)."""
        return self.record(**values)

    def step_names(self) -> list[str]:
        return [step.name for step in self.steps]
