"""One run at a time: a lock beside the recordings that says who holds it.

The lock is an OS file lock (filelock), so a run that dies, even by SIGKILL, releases it
and the next run takes it over; a note beside it names the holder for the refusal message.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from robots.errors import SetupError


@contextmanager
def run_lock(recordings: Path, run_id: str) -> Iterator[None]:
    recordings.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(recordings / ".onboard.lock"))
    holder = recordings / ".onboard.lock.holder"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SetupError(f"another run is going: {_describe(holder)}") from None
    try:
        holder.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "run_id": run_id,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _describe(holder: Path) -> str:
    try:
        info = json.loads(holder.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its holder left no note"
    return (
        f"run {info.get('run_id')} by process {info.get('pid')} on {info.get('host')} "
        f"since {info.get('since')}"
    )
