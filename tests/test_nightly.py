"""Unattended runs: one at a time, old evidence pruned, failures announced."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from domain.errors import SetupError
from robots.housekeeping import notify, prune_runs
from robots.lock import run_lock

HOLDER = """
import sys
from pathlib import Path
from robots.lock import run_lock
with run_lock(Path(sys.argv[1]), "night-run-1"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_second_run_refuses_and_names_the_holder(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    """While one run holds the lock, another refuses to start and says who holds it."""
    with pytest.raises(SetupError) as refused, run_lock(tmp_path, "night-run-2"):
        pass
    message = str(refused.value)
    assert "night-run-1" in message
    assert str(lock_holder.pid) in message


def test_a_lock_left_by_a_killed_run_is_taken_over(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    """After the holder is killed with SIGKILL the next run gets the lock."""
    os.kill(lock_holder.pid, signal.SIGKILL)
    lock_holder.wait()
    with run_lock(tmp_path, "night-run-2"):
        holder = json.loads((tmp_path / ".onboard.lock.holder").read_text())
        assert holder["run_id"] == "night-run-2"


def test_runs_older_than_keep_days_are_removed(tmp_path: Path) -> None:
    """--keep-days removes old run folders and keeps recent ones and other files."""
    old, recent = tmp_path / "old-run", tmp_path / "recent-run"
    for run_dir in (old, recent):
        run_dir.mkdir()
        (run_dir / "audit.jsonl").write_text("")
    (tmp_path / "notes.txt").write_text("keep me")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    removed = prune_runs(tmp_path, keep_days=7)
    assert removed == [old]
    assert recent.is_dir() and (tmp_path / "notes.txt").is_file() and not old.exists()


def _old_run(recordings: Path, run_id: str, days: int = 10) -> Path:
    run_dir = recordings / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "audit.jsonl").write_text("")
    then = time.time() - days * 86400
    os.utime(run_dir, (then, then))
    return run_dir


def test_the_folder_of_a_run_still_going_is_not_pruned(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    """A run that started long ago and still holds the lock keeps its folder under --keep-days;
    and nothing is pruned while another run holds the lock."""
    live = _old_run(tmp_path, "night-run-1")
    other = _old_run(tmp_path, "night-run-0")
    assert prune_runs(tmp_path, keep_days=0) == []
    assert live.is_dir() and other.is_dir()
    lock_holder.communicate("\n")  # the live run ends and releases the lock
    assert prune_runs(tmp_path, keep_days=7) == [other, live]


def test_pruning_within_a_run_keeps_the_current_and_the_holders_folder(tmp_path: Path) -> None:
    """Pruning under the run's own lock removes old runs but never the run itself."""
    current, old = _old_run(tmp_path, "run-now"), _old_run(tmp_path, "run-old")
    with run_lock(tmp_path, "run-now"):
        assert prune_runs(tmp_path, keep_days=1, keep=current) == [old]
        assert json.loads((tmp_path / ".onboard.lock.holder").read_text())["run_id"] == "run-now"
    assert current.is_dir()


class _Capture(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Capture.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_webhook_receives_the_run_summary() -> None:
    """A failed run's summary arrives as JSON at the configured webhook."""
    server = HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        summary = {"run_id": "r1", "exit_code": 1, "users": [{"username": "a", "status": "failed"}]}
        assert notify(url, summary)
    finally:
        server.shutdown()
        server.server_close()
    assert _Capture.received[-1] == summary


def test_an_unreachable_webhook_does_not_break_the_run() -> None:
    """A webhook that cannot be reached is reported as not sent, without raising."""
    assert notify("http://127.0.0.1:9/hook", {"run_id": "r1"}, timeout=2) is False
