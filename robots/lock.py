"""One run at a time: a lock beside the recordings that says who holds it.

The lock is an OS file lock (flock), so a run that dies, even by SIGKILL, releases it and
the next run takes it over; a note beside it names the holder for the refusal message.

Files here are created owner-only whatever the umask, and never through a symbolic link:
a link planted as the holder note would otherwise make the robot overwrite its target.
The lock is re-entrant within one process, so a job can hold it across the run and what
follows it (the report, pruning old runs) while the runner takes it for the run itself.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.errors import SetupError

LOCK_NAME = ".onboard.lock"
HOLDER_NAME = ".onboard.lock.holder"


@dataclass
class _Held:
    fd: int
    depth: int


# Locks this process holds, by the recordings folder's real path.
_held: dict[str, _Held] = {}
_held_guard = threading.Lock()


def make_private_dir(path: Path) -> None:
    """Create `path` and its missing parents as 0700 (umask or not); refuse a symlink."""
    if path.is_symlink() and not path.is_dir():
        raise SetupError(f"{path} is a symbolic link to nothing: remove it or point it elsewhere")
    if path.is_dir():
        return
    if path.parent != path:
        make_private_dir(path.parent)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        if not path.is_dir():
            raise SetupError(f"{path} exists and is not a folder") from None
        return
    except OSError as e:
        raise SetupError(f"cannot create the folder {path}: {e.strerror}") from None
    # mkdir's mode is filtered by the umask; a umask such as 0o277 would leave it unusable.
    os.chmod(path, 0o700)


def open_private_file(path: Path, flags: int, what: str) -> int:
    """Open (creating as 0600) a regular file without following a symbolic link at `path`.

    Raises SetupError naming the file and the reason for a link, a non-regular file, a
    file with other names (hard links) or one another user owns.
    """
    if path.is_symlink():
        raise SetupError(f"{what} {path} is a symbolic link: refusing to write through it")
    flags |= os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:  # a link planted between the check and the open
            raise SetupError(
                f"{what} {path} is a symbolic link: refusing to write through it"
            ) from None
        raise SetupError(f"cannot open {what} {path}: {e.strerror}") from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_nlink != 1:
        problem = "has other names (hard links): refusing to write through them"
    elif info.st_uid != os.geteuid():
        problem = f"belongs to user {info.st_uid}"
    if problem:
        os.close(fd)
        raise SetupError(f"{what} {path} {problem}")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.fchmod(fd, 0o600)
    return fd


@contextmanager
def run_lock(recordings: Path, run_id: str) -> Iterator[None]:
    """Hold the recordings' lock; raises SetupError naming the holder when another has it.

    Taken again in the same process (a job around its run), it is the same lock, and the
    holder note names the innermost run.
    """
    make_private_dir(recordings)
    key = os.path.realpath(recordings)
    holder = recordings / HOLDER_NAME
    with _held_guard:
        held = _held.get(key)
        if held:
            held.depth += 1
        else:
            held = _Held(fd=_acquire(recordings, holder), depth=1)
            _held[key] = held
    try:
        _write_holder(holder, run_id)
        yield
    finally:
        with _held_guard:
            held.depth -= 1
            if held.depth == 0:
                del _held[key]
                holder.unlink(missing_ok=True)
                os.close(held.fd)  # closing the last descriptor releases the flock


def _acquire(recordings: Path, holder: Path) -> int:
    fd = open_private_file(recordings / LOCK_NAME, os.O_RDWR, "the lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SetupError(f"another run is going: {_describe(holder)}") from None
    except OSError as e:
        os.close(fd)
        raise SetupError(f"cannot lock {recordings / LOCK_NAME}: {e.strerror}") from None
    return fd


def _write_holder(holder: Path, run_id: str) -> None:
    note = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "run_id": run_id,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    fd = open_private_file(holder, os.O_WRONLY, "the lock's holder note")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(note).encode())
    finally:
        os.close(fd)


def holder_note(recordings: Path) -> dict[str, object]:
    """The holder note as written by the run holding the lock; {} when there is none."""
    holder = recordings / HOLDER_NAME
    if holder.is_symlink():
        return {}
    try:
        info = json.loads(holder.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _describe(holder: Path) -> str:
    info = holder_note(holder.parent)
    if not info:
        return "its holder left no note"
    return (
        f"run {info.get('run_id')} by process {info.get('pid')} on {info.get('host')} "
        f"since {info.get('since')}"
    )
