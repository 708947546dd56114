"""What happens around a run: old evidence removed, and a webhook told about failures."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import structlog

from domain.errors import SetupError
from robots.lock import holder_note, run_lock

log = structlog.get_logger("onboard")


def prune_runs(recordings: Path, keep_days: int, *, keep: Path | None = None) -> list[Path]:
    """Remove run folders older than keep_days (by modification time); returns what went.

    Only while holding the recordings' lock (this process may hold it already): a run that
    is going has its folder there, and a folder's age says nothing of whether its run is
    over (a long run appends to files without touching the folder). Never removed: `keep`,
    and the folder of the run the holder note names. When another process holds the lock,
    nothing is removed: that run's own pruning will come.
    """
    if keep_days < 0 or not recordings.is_dir():
        return []
    try:
        with run_lock(recordings, keep.name if keep else "pruning"):
            return _prune(recordings, keep_days, keep)
    except SetupError as error:
        log.info("old runs not pruned", reason=str(error))
        return []


def _prune(recordings: Path, keep_days: int, keep: Path | None) -> list[Path]:
    cutoff = time.time() - keep_days * 86400
    live = {str(holder_note(recordings).get("run_id", ""))}
    if keep is not None:
        live.add(keep.name)
    removed = []
    for run_dir in sorted(recordings.iterdir()):
        # is_symlink: a link planted among the runs must not make rmtree reach its target.
        if run_dir.is_symlink() or not run_dir.is_dir() or run_dir.name in live:
            continue
        if (run_dir / "audit.jsonl").exists() and run_dir.stat().st_mtime < cutoff:
            shutil.rmtree(run_dir)
            removed.append(run_dir)
    return removed


def notify(webhook_url: str, summary: dict[str, Any], *, timeout: float = 10) -> bool:
    """POST the run's summary as JSON; a failed notification is logged, never fatal."""
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(summary).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "onboard-robot"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError as error:
        log.warning("notification failed", error=str(error))
        return False
