"""The request ledger: every call-recording request asked of Nextiva Support, in SQLite.

Support turns call recording on some time after the chat, so a user's Profile saying
Call Recording Off does not tell a request never made from one made and not yet done.
The ledger tells them apart: one row per request (one chat names several users), written
**before** the request is sent (state `sending`) and again **after** the agent's answer is
read: `sent` with the case number, or `needs a person` (the agent left, asked something
the robot cannot answer, or never came). A user named in a `sent` row is not asked for
again while their Profile says Off; once it says On the row is `done`.

The one window no design can close is a run that dies after pressing Send and before
reading the case number: the request may or may not have reached Support. Such a row stays
`sending`; the next run (runs hold the run lock, so no other run can be sending) turns it
into `unknown` and, rather than risk a second case, files nothing for those users and
reports "request sent, case number unknown: check the chat history or ask Support".
`clear` (the admin, once they know) removes the users from such rows so the next run asks
again; `onboard requests clear USERNAME...` is the command meant for it.

The file is the run's state directory's, owner-only, in WAL mode with full syncs: a row
written before the Send survives a crash right after it. It holds usernames, times, case
numbers and a transcript reference, never a PIN.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SENDING = "sending"
SENT = "sent"
NEEDS_PERSON = "needs a person"
UNKNOWN = "unknown"
DONE = "done"
CLEARED = "cleared"
STATES = (SENDING, SENT, NEEDS_PERSON, UNKNOWN, DONE, CLEARED)
# A user in a row of these states has a request that may still be with Support.
OPEN_STATES = (SENDING, SENT, UNKNOWN)
LEDGER_FILE = "requests.sqlite3"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    usernames TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ({", ".join(f"'{s}'" for s in STATES)})),
    case_number TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    transcript TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class Request:
    """One row of the ledger: a request naming `usernames`."""

    id: int
    account: str
    usernames: tuple[str, ...]
    state: str
    case_number: str | None
    created: str
    updated: str
    run_id: str
    transcript: str
    note: str

    @property
    def is_open(self) -> bool:
        """Whether the request may still be with Support."""
        return self.state in OPEN_STATES


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RequestLedger:
    """The ledger file at `path` (created owner-only on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_symlink():
            raise OSError(f"{path} is a symbolic link; the request ledger must be a plain file")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Created owner-only before SQLite opens it: it names users and cases.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            # A row written before the Send must survive the machine going down after it.
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _rows(
        self, db: sqlite3.Connection, where: str = "", args: Sequence[object] = ()
    ) -> list[Request]:
        found = db.execute(
            "SELECT id, account, usernames, state, case_number, created, updated, run_id,"
            f" transcript, note FROM requests {where} ORDER BY id",
            args,
        ).fetchall()
        return [
            Request(
                id=row[0],
                account=row[1],
                usernames=tuple(json.loads(row[2])),
                state=row[3],
                case_number=row[4],
                created=row[5],
                updated=row[6],
                run_id=row[7],
                transcript=row[8],
                note=row[9],
            )
            for row in found
        ]

    def requests(self) -> list[Request]:
        """Every row, oldest first."""
        with self._connect() as db:
            return self._rows(db)

    def open_requests(self, account: str) -> dict[str, Request]:
        """The latest open request naming each user of `account`, by username."""
        found: dict[str, Request] = {}
        with self._connect() as db:
            for request in self._rows(
                db, f"WHERE account = ? AND state IN {OPEN_STATES!r}", (account,)
            ):
                for username in request.usernames:
                    found[username] = request
        return found

    def settle_interrupted(self) -> list[Request]:
        """Rows a dead run left `sending` become `unknown` (see the module docstring).

        Call once at the start of the step, under the run lock: no other run is sending.
        """
        with self._connect() as db:
            stale = self._rows(db, "WHERE state = ?", (SENDING,))
            db.execute(
                "UPDATE requests SET state = ?, updated = ?, note = ? WHERE state = ?",
                (
                    UNKNOWN,
                    _now(),
                    "the run ended after sending, before the case number was read",
                    SENDING,
                ),
            )
        return stale

    def begin(self, account: str, usernames: Sequence[str], run_id: str, transcript: str) -> int:
        """Record a request about to be sent (state `sending`); returns its id."""
        now = _now()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO requests (account, usernames, state, created, updated, run_id,"
                " transcript) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (account, json.dumps(list(usernames)), SENDING, now, now, run_id, transcript),
            )
            return int(cursor.lastrowid or 0)

    def finish(
        self, request_id: int, state: str, *, case_number: str | None = None, note: str = ""
    ) -> None:
        """Record what the answer was: `sent` with its case number, `needs a person`, ..."""
        if state not in STATES:
            raise ValueError(f"unknown request state {state!r}")
        with self._connect() as db:
            db.execute(
                "UPDATE requests SET state = ?, case_number = ?, updated = ?, note = ?"
                " WHERE id = ?",
                (state, case_number, _now(), note, request_id),
            )

    def needs_person(
        self, account: str, usernames: Sequence[str], run_id: str, transcript: str, note: str
    ) -> int:
        """Record a chat that ended before a request could be filed: nothing is open."""
        request_id = self.begin(account, usernames, run_id, transcript)
        self.finish(request_id, NEEDS_PERSON, note=note)
        return request_id

    def mark_done(self, account: str, usernames: Iterable[str]) -> None:
        """The users' Profiles say Call Recording On: their open requests are done once
        every user they name is."""
        on = set(usernames)
        with self._connect() as db:
            for request in self._rows(
                db, f"WHERE account = ? AND state IN {OPEN_STATES!r}", (account,)
            ):
                if set(request.usernames) <= on:
                    db.execute(
                        "UPDATE requests SET state = ?, updated = ? WHERE id = ?",
                        (DONE, _now(), request.id),
                    )

    def clear(self, usernames: Iterable[str]) -> int:
        """The admin's word that open requests naming these users are not with Support: the
        rows are kept for the record as `cleared`, and the next run asks again. Returns how
        many rows were cleared."""
        wanted = {name.casefold() for name in usernames}
        cleared = 0
        with self._connect() as db:
            for request in self._rows(db, f"WHERE state IN {OPEN_STATES!r}"):
                if wanted & {name.casefold() for name in request.usernames}:
                    db.execute(
                        "UPDATE requests SET state = ?, updated = ?, note = ? WHERE id = ?",
                        (CLEARED, _now(), "cleared by the admin", request.id),
                    )
                    cleared += 1
        return cleared


def clear_requests(path: Path, usernames: Iterable[str]) -> int:
    """`onboard requests clear USERNAME...`: clear the open requests naming these users."""
    return RequestLedger(path).clear(usernames)


def ledger_in(state_dir: Path) -> Path:
    """Where the request ledger lives in the state directory."""
    return state_dir / LEDGER_FILE


def request_lines(state_dir: Path) -> list[str]:
    """`onboard requests list`: one line per request, newest last. Creates no ledger."""
    path = ledger_in(state_dir)
    if not path.is_file():
        return []
    lines = []
    for request in RequestLedger(path).requests():
        case = f"Case {request.case_number}" if request.case_number else "no case number"
        note = f" ({request.note})" if request.note else ""
        lines.append(
            f"#{request.id} {request.state}: {case}, account {request.account}, "
            f"{', '.join(request.usernames)}; asked {request.created}, "
            f"updated {request.updated}{note}"
        )
    return lines


def clear_in(state_dir: Path, usernames: Sequence[str]) -> int:
    """`onboard requests clear` on the state directory's ledger (none there: none cleared)."""
    path = ledger_in(state_dir)
    return clear_requests(path, usernames) if path.is_file() else 0
